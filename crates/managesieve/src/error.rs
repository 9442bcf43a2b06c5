//! Why a ManageSieve command failed. Handlers return [`Error`] with `?`;
//! the session turns it into the `NO` line in one place
//! (`Session::handle`), with the response code of RFC 5804 §1.3 where one
//! applies.

use std::borrow::Cow;

use net::Disconnect;

/// A failed command.
#[derive(Debug)]
pub(crate) enum Error {
    /// Refused: `NO (code) "text"`.
    Refused {
        code: Option<Cow<'static, str>>,
        text: Cow<'static, str>,
    },
    /// The store failed: logged, then `NO (TRYLATER) "text"` (RFC 5804
    /// §1.3: a temporary failure; the client may try again).
    Store { text: &'static str, source: store::Error },
    /// The connection is gone; nothing more is said.
    Disconnect,
}

/// What a command handler returns.
pub(crate) type Handled = Result<net::Flow, Error>;

impl Error {
    /// `NO "text"`, without a response code.
    pub fn plain(text: impl Into<Cow<'static, str>>) -> Self {
        Error::Refused {
            code: None,
            text: text.into(),
        }
    }

    /// `NO (code) "text"`.
    pub fn coded(code: &'static str, text: impl Into<Cow<'static, str>>) -> Self {
        Error::Refused {
            code: Some(Cow::Borrowed(code)),
            text: text.into(),
        }
    }

    /// Turns a store failure into `NO (TRYLATER) "text"`, for `map_err`.
    pub fn store(text: &'static str) -> impl FnOnce(store::Error) -> Self {
        move |source| Error::Store { text, source }
    }

    /// RFC 5804 §1.3 NONEXISTENT.
    pub fn no_such_script() -> Self {
        Error::coded("NONEXISTENT", "There is no script by that name")
    }
}

impl From<Disconnect> for Error {
    fn from(Disconnect: Disconnect) -> Self {
        Error::Disconnect
    }
}
