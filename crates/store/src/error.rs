use std::path::Path;

/// Everything the store can fail with. The variants that describe a wrong
/// request (unknown domain, duplicate user) carry what the administrator
/// needs to correct it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Database(DatabaseError),
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
    #[error("domain {domain} has no DKIM key {selector}")]
    NoSuchDkimKey { domain: String, selector: String },
    #[error("DKIM key {selector} of {domain} still signs mail; rotate first, then retire it")]
    DkimKeyActive { domain: String, selector: String },
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
    #[error("content {0} is missing from the content store")]
    MissingBlob(String),
    #[error("mailbox {0} does not exist")]
    NoSuchMailbox(String),
    #[error("mailbox {0} already exists")]
    MailboxExists(String),
    #[error("invalid mailbox name: {0}")]
    InvalidMailboxName(String),
    /// Over `MailboxLimits`: the name too long, or too many mailboxes.
    #[error("{0}")]
    MailboxLimit(String),
    /// Over an account's quota (RFC 9208); `permanent` when the message
    /// is larger than the whole STORAGE limit, so it can never fit.
    #[error("{reason}")]
    OverQuota { permanent: bool, reason: String },
    /// CREATE with a special use (RFC 6154 §3) another mailbox of the
    /// account has already.
    #[error("another mailbox is {0} already")]
    SpecialUseTaken(String),
    /// The commit of a batch of writes failed (see `batch`); every write in
    /// it gets the same error.
    #[error("{0}")]
    Shared(std::sync::Arc<Error>),
    #[error("the write was abandoned after its batch failed; try again")]
    WriteAbandoned,
    #[error("the read was abandoned: the server is shutting down")]
    ReadAbandoned,
    /// `store copy` will not start: the target is not empty, or the two
    /// stores' schemas differ (see `copy`).
    #[error("{0}")]
    CopyRefused(String),
    /// `store copy`'s verification found the target different from the
    /// source: the first difference, named.
    #[error("{0}")]
    CopyMismatch(String),
    /// A step of `store copy` failed: which, and why.
    #[error("{step}: {source}")]
    CopyFailed { step: String, source: Box<Error> },
}

/// A failure of the database, kept opaque: the servers and the queue
/// must not depend on which database is underneath.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(transparent)]
    Sqlite(rusqlite::Error),
    /// With its causes: tokio-postgres says "error performing TLS
    /// handshake" and keeps why (an unknown issuer, a wrong name) in its
    /// source.
    #[error("{}", with_causes(.0))]
    Postgres(tokio_postgres::Error),
    /// The store's URL (or the TLS it asks for) cannot be used.
    #[error("{0}")]
    Config(String),
    /// A statement expected to give a row gave none.
    #[error("the query returned no row")]
    NoRows,
    /// A column held something else than the store wrote there.
    #[error("column {index}: {message}")]
    Decode { index: usize, message: String },
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Error {
        match error {
            rusqlite::Error::QueryReturnedNoRows => Error::Database(DatabaseError::NoRows),
            error => Error::Database(DatabaseError::Sqlite(error)),
        }
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(error: tokio_postgres::Error) -> Error {
        Error::Database(DatabaseError::Postgres(error))
    }
}

impl Error {
    /// True when the store has no room to write: a full disk or a
    /// read-only file system, for files or for the database.
    pub fn is_storage_full(&self) -> bool {
        match self {
            Error::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::StorageFull
                    | std::io::ErrorKind::ReadOnlyFilesystem
                    | std::io::ErrorKind::QuotaExceeded
            ),
            // SQLITE_FULL and SQLITE_READONLY.
            Error::Database(DatabaseError::Sqlite(rusqlite::Error::SqliteFailure(e, _))) => {
                matches!(e.code, rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::ReadOnly)
            }
            Error::Database(DatabaseError::Postgres(e)) => {
                e.code() == Some(&tokio_postgres::error::SqlState::DISK_FULL)
            }
            Error::Shared(error) => error.is_storage_full(),
            _ => false,
        }
    }

    /// True when a write met another writer's lock, here another node's
    /// on PostgreSQL: it waited `LOCK_WAIT` in vain, or was chosen to
    /// break a deadlock, or its serializable snapshot went stale. Run
    /// again once the other has committed, it succeeds.
    pub(crate) fn is_lock_conflict(&self) -> bool {
        use tokio_postgres::error::SqlState;
        match self {
            Error::Database(DatabaseError::Postgres(e)) => matches!(
                e.code(),
                Some(
                    &SqlState::LOCK_NOT_AVAILABLE
                        | &SqlState::T_R_DEADLOCK_DETECTED
                        | &SqlState::T_R_SERIALIZATION_FAILURE
                )
            ),
            _ => false,
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// `error` and each error it came from, joined by ": ".
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let more = error.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = error.source();
    }
    text
}
