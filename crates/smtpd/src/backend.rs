//! What the SMTP server needs from the rest of the system: a verdict per
//! recipient and a durable home for each accepted message.

use std::future::Future;

use wire::smtp::{RcptPath, ReversePath};

pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// The policy answer for one RCPT TO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptVerdict {
    /// Accepted; the address to queue (for `<Postmaster>`, the real one).
    Accept(String),
    /// A hosted domain without that user: 550 5.1.1.
    UnknownUser,
    /// Not ours to deliver, and the client may not relay: 554 5.7.1.
    RelayDenied,
}

/// A message the client finished sending, with our Received header first.
#[derive(Debug)]
pub struct IncomingMessage {
    pub id: String,
    pub reverse_path: ReversePath,
    pub recipients: Vec<String>,
    pub content: Vec<u8>,
    pub received_at: i64,
}

pub trait Backend: Send + Sync + 'static {
    fn check_recipient(&self, recipient: &RcptPath) -> impl Future<Output = Result<RcptVerdict, BackendError>> + Send;

    /// A fresh queue id, shown in the Received header and the 250 reply.
    fn new_message_id(&self) -> String;

    /// Stores the message durably. Returning `Ok` is the promise behind the
    /// 250 reply: the message survives a crash from then on.
    fn accept(&self, message: IncomingMessage) -> impl Future<Output = Result<(), BackendError>> + Send;
}
