//! Why a POP3 command failed. Handlers return [`Error`] with `?`; the
//! session turns it into the `-ERR` line in one place (`Session::handle`),
//! with the response code of RFC 2449 §8 and RFC 3206 where one applies.

use std::borrow::Cow;

use net::Disconnect;

/// A failed command.
#[derive(Debug)]
pub(crate) enum Error {
    /// Refused: `-ERR [code] text`.
    Refused {
        code: Option<&'static str>,
        text: Cow<'static, str>,
    },
    /// The store failed: logged, then `-ERR [SYS/TEMP] text` (RFC 3206 §4:
    /// the client may try again later).
    Store { text: &'static str, source: store::Error },
    /// The connection is gone; nothing more is said.
    Disconnect,
}

/// What a command handler returns.
pub(crate) type Handled = Result<net::Flow, Error>;

impl Error {
    /// `-ERR text`, without a response code.
    pub fn plain(text: impl Into<Cow<'static, str>>) -> Self {
        Error::Refused {
            code: None,
            text: text.into(),
        }
    }

    /// `-ERR [code] text`.
    pub fn coded(code: &'static str, text: impl Into<Cow<'static, str>>) -> Self {
        Error::Refused {
            code: Some(code),
            text: text.into(),
        }
    }

    /// Turns a store failure into `-ERR [SYS/TEMP] text`, for `map_err`.
    pub fn store(text: &'static str) -> impl FnOnce(store::Error) -> Self {
        move |source| Error::Store { text, source }
    }

    /// A message number that is not in the maildrop or marked deleted.
    pub fn no_such_message() -> Self {
        Error::plain("No such message")
    }
}

impl From<Disconnect> for Error {
    fn from(Disconnect: Disconnect) -> Self {
        Error::Disconnect
    }
}
