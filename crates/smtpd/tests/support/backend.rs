//! An in-memory stand-in for the store and queue behind an SMTP session:
//! one hosted domain, two accounts, and a few addresses that make the
//! backend fail, so that every reply path of the session can be reached.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

use smtpd::{AcceptError, Backend, BackendError, Client, Filing, Login, RcptVerdict};
use wire::smtp::{MailObject, RcptPath, Reply, ReversePath};

/// The hosted domain.
pub const DOMAIN: &str = "example.org";
/// The accounts, all with the password `secret`.
const USERS: [&str; 2] = ["alice@example.org", "bob@example.org"];
/// A login name whose lookup fails (454).
const BROKEN_LOGIN: &str = "broken";
/// A recipient whose lookup fails (451).
const BROKEN_RECIPIENT: &str = "lookup-fails@example.org";
/// A sender whose ownership check fails (451).
const BROKEN_SENDER: &str = "lookup-fails@example.org";
/// Recipients accepted whose messages then cannot be stored.
const STORAGE_FULL: &str = "full@example.org";
const STORE_FAILS: &str = "store-fails@example.org";

/// argon2 is slow on purpose: hash once per test process.
static HASH: LazyLock<String> = LazyLock::new(|| auth::hash_password("secret").expect("hashing works"));

#[derive(Default)]
pub struct TestBackend {
    ids: AtomicU64,
    /// Accepted messages, each rendered as its envelope and content.
    pub messages: Mutex<Vec<String>>,
}

fn failure(what: &str) -> BackendError {
    BackendError::new(format!("test backend: {what} fails"))
}

impl Backend for TestBackend {
    /// The dialogs test the session, not the checks (which postamt's
    /// end-to-end tests cover): nothing is checked.
    type SenderChecks = ();

    async fn check_sender(&self, _client: Client<'_>, _from: &ReversePath) -> Result<(), Reply> {
        Ok(())
    }

    async fn check_message(
        &self,
        _checks: Option<()>,
        _envelope: &smtpd::Envelope<'_>,
        _message: &mut Vec<u8>,
    ) -> Result<Filing, Reply> {
        Ok(Filing::Inbox)
    }

    async fn check_recipient(&self, recipient: &RcptPath, may_relay: bool) -> Result<RcptVerdict, BackendError> {
        let mailbox = match recipient {
            RcptPath::Postmaster => return Ok(RcptVerdict::Accept(format!("postmaster@{DOMAIN}"))),
            RcptPath::Mailbox(mailbox) => mailbox,
        };
        let address = mailbox.to_string().to_lowercase();
        if address == BROKEN_RECIPIENT {
            return Err(failure("recipient lookup"));
        }
        if !mailbox.domain.eq_ignore_ascii_case(DOMAIN) {
            return Ok(if may_relay {
                RcptVerdict::Accept(mailbox.to_string())
            } else {
                RcptVerdict::RelayDenied
            });
        }
        let known = USERS.contains(&address.as_str())
            || address == format!("postmaster@{DOMAIN}")
            || address == STORAGE_FULL
            || address == STORE_FAILS;
        Ok(if known {
            RcptVerdict::Accept(address)
        } else {
            RcptVerdict::UnknownUser
        })
    }

    async fn login(&self, name: &str) -> Result<Option<Login>, BackendError> {
        if name == BROKEN_LOGIN {
            return Err(failure("account lookup"));
        }
        let name = name.to_lowercase();
        Ok(USERS.contains(&name.as_str()).then(|| Login {
            address: name,
            password_hash: HASH.clone(),
        }))
    }

    async fn may_send_as(&self, user: &str, from: &ReversePath) -> Result<bool, BackendError> {
        match from {
            ReversePath::Null => Ok(true),
            ReversePath::Mailbox(m) if m.to_string() == BROKEN_SENDER => Err(failure("sender check")),
            ReversePath::Mailbox(m) => Ok(m.to_string().eq_ignore_ascii_case(user)),
        }
    }

    fn new_message_id(&self) -> String {
        format!("Q{}", self.ids.fetch_add(1, Ordering::Relaxed) + 1)
    }

    async fn accept(&self, message: MailObject) -> Result<(), AcceptError> {
        if message.recipients.iter().any(|r| r.address == STORAGE_FULL) {
            return Err(AcceptError::StorageFull(failure("storage")));
        }
        if message.recipients.iter().any(|r| r.address == STORE_FAILS) {
            return Err(AcceptError::Failed(failure("storage")));
        }
        let options = &message.options;
        let mut text = format!("MAIL FROM:<{}> BODY={}", message.reverse_path, options.body);
        if options.smtputf8 {
            text.push_str(" SMTPUTF8");
        }
        // Not SMTP parameters: the flags the queue gets (RFC 8689).
        if options.require_tls {
            text.push_str(" REQUIRETLS");
        }
        if options.tls_optional {
            text.push_str(" (TLS-Required: No)");
        }
        if let Some(ret) = options.dsn_ret {
            text.push_str(&format!(" RET={ret}"));
        }
        if let Some(envid) = &options.dsn_envid {
            text.push_str(&format!(" ENVID={envid}"));
        }
        if let Some(user) = &options.submitted_by {
            text.push_str(&format!(" AUTH={user}"));
        }
        text.push('\n');
        for r in &message.recipients {
            text.push_str(&format!("RCPT TO:<{}>", r.address));
            if let Some(notify) = &r.notify {
                text.push_str(&format!(" NOTIFY={notify}"));
            }
            if let Some(orcpt) = &r.orcpt {
                text.push_str(&format!(" ORCPT={orcpt}"));
            }
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&message.content));
        if let Ok(mut messages) = self.messages.lock() {
            messages.push(text);
        }
        Ok(())
    }
}
