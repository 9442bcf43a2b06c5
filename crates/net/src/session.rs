//! What every server's command loop says after a command: go on, close, or
//! give up on a broken connection.

/// Whether a session goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Close,
}

/// The connection failed or timed out; the session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnect;

/// The result of handling one command.
pub type Outcome = Result<Flow, Disconnect>;
