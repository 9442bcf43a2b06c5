//! How a command fails. Handlers return a [`CommandError`] (with `?` on
//! store calls) and `Session::reply` turns it into the command's tagged
//! answer, in that one place: a refusal is `NO [code]` (RFC 9051 §7.1), a
//! command that makes no sense is `BAD` (counted, see `max_errors`), a
//! failure of ours is logged and answered `NO [SERVERBUG]`, and a lost
//! connection ends the session without an answer.

use std::borrow::Cow;

use crate::session::{Disconnect, Flow};

pub(crate) enum CommandError {
    /// `NO [code] text`: refused, as the client may be told why.
    No {
        code: Option<&'static str>,
        text: Cow<'static, str>,
    },
    /// `BAD text`: not valid here, or not understood.
    Bad(Cow<'static, str>),
    /// `BAD [code] text`: not valid, with the reason a client can act on
    /// (RFC 9586 §3.2: UIDREQUIRED).
    BadCode {
        code: &'static str,
        text: Cow<'static, str>,
    },
    /// A failure of ours (RFC 9051 §7.1: SERVERBUG).
    Server(store::Error),
    /// The connection is gone (or the client timed out, told so with BYE
    /// by `Session::read_failed`): nothing more is sent.
    Disconnect,
}

/// What a command handler returns.
pub(crate) type Reply = Result<Flow, CommandError>;

impl CommandError {
    pub fn no(code: &'static str, text: impl Into<Cow<'static, str>>) -> CommandError {
        CommandError::No {
            code: Some(code),
            text: text.into(),
        }
    }

    /// NO without a response code.
    pub fn refused(text: impl Into<Cow<'static, str>>) -> CommandError {
        CommandError::No {
            code: None,
            text: text.into(),
        }
    }

    pub fn bad(text: impl Into<Cow<'static, str>>) -> CommandError {
        CommandError::Bad(text.into())
    }

    /// BAD with a response code.
    pub fn bad_with(code: &'static str, text: impl Into<Cow<'static, str>>) -> CommandError {
        CommandError::BadCode {
            code,
            text: text.into(),
        }
    }

    /// NO [READ-ONLY] for changes to a mailbox opened with EXAMINE.
    pub fn read_only() -> CommandError {
        CommandError::no("READ-ONLY", "Mailbox is read-only")
    }

    /// NO [NONEXISTENT] for a mailbox that is not there.
    pub fn nonexistent() -> CommandError {
        CommandError::no("NONEXISTENT", "No such mailbox")
    }

    /// NO [TRYCREATE]: the target of APPEND, COPY or MOVE is not there
    /// (RFC 9051 §6.3.12, §6.4.7), and the client may CREATE it.
    pub fn try_create() -> CommandError {
        CommandError::no("TRYCREATE", "No such mailbox")
    }
}

/// The store's refusals of a mailbox name are the client's to hear, with
/// the response codes of RFC 9051 §7.1; any other store error is ours.
impl From<store::Error> for CommandError {
    fn from(error: store::Error) -> CommandError {
        match error {
            // An administrative limit.
            store::Error::MailboxLimit(reason) => CommandError::no("LIMIT", reason),
            store::Error::MailboxExists(_) => CommandError::no("ALREADYEXISTS", "Mailbox already exists"),
            store::Error::InvalidMailboxName(reason) => CommandError::no("CANNOT", reason),
            store::Error::NoSuchMailbox(_) => CommandError::nonexistent(),
            // RFC 9208 §5: nothing of the command was done.
            store::Error::OverQuota { reason, .. } => CommandError::no("OVERQUOTA", reason),
            // RFC 6154 §3: the special use cannot be given to this mailbox.
            store::Error::SpecialUseTaken(role) => {
                CommandError::no("USEATTR", format!("Another mailbox is {role} already"))
            }
            error => CommandError::Server(error),
        }
    }
}

impl From<Disconnect> for CommandError {
    fn from(Disconnect: Disconnect) -> CommandError {
        CommandError::Disconnect
    }
}
