use std::path::Path;

/// Everything the store can fail with. The variants that describe a wrong
/// request (unknown domain, duplicate user) carry what the administrator
/// needs to correct it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("domain {0} is not hosted here")]
    NoSuchDomain(String),
    #[error("domain {0} already exists")]
    DomainExists(String),
    #[error("domain {domain} still has {accounts} user(s) and {aliases} alias(es); remove them first")]
    DomainInUse {
        domain: String,
        accounts: i64,
        aliases: i64,
    },
    #[error("user {0} does not exist")]
    NoSuchAccount(String),
    #[error("user {0} already exists")]
    AccountExists(String),
    #[error("alias {0} does not exist")]
    NoSuchAlias(String),
    #[error("alias {source_address} -> {target} already exists")]
    AliasExists { source_address: String, target: String },
    #[error("{0:?} is not a valid address")]
    InvalidAddress(String),
    #[error("user {0} has no INBOX")]
    NoInbox(String),
    #[error("blob {0} is missing from the blob store")]
    MissingBlob(String),
    #[error("mailbox {0} does not exist")]
    NoSuchMailbox(String),
    #[error("mailbox {0} already exists")]
    MailboxExists(String),
    #[error("invalid mailbox name: {0}")]
    InvalidMailboxName(String),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
