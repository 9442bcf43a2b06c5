//! Why an SMTP command failed. Handlers return [`Error`] with `?`; the
//! session sends the reply in one place (`Session::handle`): a refusal is
//! counted against the client's error limit and logged there once with
//! its reason (unless it was logged where it was decided, with more
//! detail: [`Error::Logged`]); a failure behind the session is logged and
//! is not the client's fault.

use net::Disconnect;
use wire::smtp::Reply;

use crate::backend::BackendError;

/// A failed command.
#[derive(Debug)]
pub(crate) enum Error {
    /// The client asked for something it may not have, or asked wrongly
    /// (5xx, or 503 for a bad sequence): the reply, counted and logged.
    Refused(Reply),
    /// A refusal whose reason is already in the log, written where it was
    /// decided with what the reply does not say (the rule, the user): the
    /// reply, counted, not logged again.
    Logged(Reply),
    /// The backend failed: logged, then the reply (a 4xx, RFC 5321
    /// §4.2.5: the client tries again later).
    Backend { reply: Reply, error: BackendError },
    /// The connection is gone; nothing more is said.
    Disconnect,
}

/// What a command handler returns.
pub(crate) type Handled = Result<net::Flow, Error>;

impl Error {
    /// A refusal with this code, enhanced status (RFC 3463) and text.
    pub fn refused(code: u16, status: &'static str, text: impl Into<String>) -> Self {
        Error::Refused(Reply::new(code, status, text))
    }
}

/// A lookup the session needed (recipient, sender, account) failed.
impl From<BackendError> for Error {
    fn from(error: BackendError) -> Self {
        Error::Backend {
            reply: Reply::new(451, "4.3.0", "Temporary lookup failure, try again later"),
            error,
        }
    }
}

impl From<Reply> for Error {
    fn from(reply: Reply) -> Self {
        Error::Refused(reply)
    }
}

impl From<Disconnect> for Error {
    fn from(Disconnect: Disconnect) -> Self {
        Error::Disconnect
    }
}
