//! What the SMTP server needs from the rest of the system: a verdict per
//! recipient, the password hash behind a login, who may send as whom, the
//! checks of mail from the internet, and a durable home for each accepted
//! message.

use std::future::Future;
use std::net::IpAddr;

use wire::smtp::{MailObject, RcptPath, Reply, ReversePath};

/// A failure behind the session (the store, the queue), kept as text for
/// the log: the client only hears that it was temporary. Every error type
/// converts into it, so a backend can use `?` on its own errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendError(String);

impl BackendError {
    pub fn new(message: impl Into<String>) -> Self {
        BackendError(message.into())
    }
}

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Not itself a `std::error::Error`, so that this conversion can exist.
impl<E: std::error::Error> From<E> for BackendError {
    fn from(error: E) -> Self {
        BackendError(error.to_string())
    }
}

/// Why a message could not be stored.
#[derive(Debug)]
pub enum AcceptError {
    /// No room to store it (disk full, read-only store): 452 4.3.1, and
    /// the client tries again later (RFC 3463 X.3.1).
    StorageFull(BackendError),
    /// Anything else: 451 4.3.0.
    Failed(BackendError),
}

impl std::fmt::Display for AcceptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AcceptError::StorageFull(e) => write!(f, "no room to store the message: {e}"),
            AcceptError::Failed(e) => e.fmt(f),
        }
    }
}

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

/// An account as far as logging in is concerned.
#[derive(Debug, Clone)]
pub struct Login {
    /// The account's canonical address.
    pub address: String,
    pub password_hash: String,
}

/// A client whose mail is checked: one on the MX port that may not relay
/// (neither authenticated nor in a trusted network).
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub ip: IpAddr,
    /// The EHLO/HELO name.
    pub helo: &'a str,
}

/// The envelope and connection of a message whose data is complete, for
/// the checks at its end.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// The queue id the message will have.
    pub id: &'a str,
    pub client: Client<'a>,
    pub from: &'a ReversePath,
    pub recipients: &'a [wire::smtp::Recipient],
    /// The logged-in user, if any.
    pub user: Option<&'a str>,
}

/// Where the checks at the end of the data want a message filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filing {
    Inbox,
    /// The recipients' Junk mailbox (`MessageOptions::junk`).
    Junk,
}

pub trait Backend: Send + Sync + 'static {
    /// What [`Backend::check_sender`] found, kept with the transaction
    /// until its message is complete.
    type SenderChecks: Send + Sync + 'static;

    /// Where mail for `recipient` goes. `may_relay` says whether this
    /// client may send to domains that are not hosted here.
    fn check_recipient(
        &self,
        recipient: &RcptPath,
        may_relay: bool,
    ) -> impl Future<Output = Result<RcptVerdict, BackendError>> + Send;

    /// The account behind a login name, if there is one.
    fn login(&self, name: &str) -> impl Future<Output = Result<Option<Login>, BackendError>> + Send;

    /// Whether the authenticated `user` may use `from` as reverse-path.
    fn may_send_as(&self, user: &str, from: &ReversePath) -> impl Future<Output = Result<bool, BackendError>> + Send;

    /// Checks at MAIL FROM of mail from the internet (SPF, RFC 7208).
    /// `Err` refuses MAIL FROM with that reply.
    fn check_sender(
        &self,
        client: Client<'_>,
        from: &ReversePath,
    ) -> impl Future<Output = Result<Self::SenderChecks, Reply>> + Send;

    /// At the end of the data of every message: the checks of mail from
    /// the internet (DKIM, DMARC, ...) when `checks` holds what
    /// `check_sender` found; None for mail that is not checked (submitted,
    /// or from a network that may relay). `message` is the client's
    /// message, without our Received field: the backend may edit its
    /// header (Authentication-Results, which must not arrive under our
    /// name whether checked or not). `Err` refuses the message with that
    /// reply.
    fn check_message(
        &self,
        checks: Option<Self::SenderChecks>,
        envelope: &Envelope<'_>,
        message: &mut Vec<u8>,
    ) -> impl Future<Output = Result<Filing, Reply>> + Send;

    /// Counts `n` events toward a rate limit (see `rate_limit`) for the
    /// whole cluster, when this node shares its store with others:
    /// `Some(true)` if they fit within `limit` per `window`, `Some(false)`
    /// (nothing counted) if not. None counts on this node, in memory.
    /// `key` names the limit and the user or address.
    fn count_shared_rate(
        &self,
        key: &str,
        n: u64,
        limit: u64,
        window: std::time::Duration,
    ) -> impl Future<Output = Option<bool>> + Send {
        let _ = (key, n, limit, window);
        async { None }
    }

    /// Screens a client of the MX port as it connects (DNS blocklists),
    /// while the pregreet test runs; `Err` refuses it with that reply
    /// before the greeting. Trusted and authenticated clients are not
    /// screened.
    fn check_client(&self, ip: std::net::IpAddr) -> impl Future<Output = Result<(), Reply>> + Send {
        let _ = ip;
        async { Ok(()) }
    }

    /// A last word on one accepted recipient of mail from the internet
    /// (greylisting), for clients whose mail is checked; `Err` refuses
    /// this recipient with that reply.
    fn check_delivery(
        &self,
        client: Client<'_>,
        from: &ReversePath,
        recipient: &str,
    ) -> impl Future<Output = Result<(), Reply>> + Send {
        let _ = (client, from, recipient);
        async { Ok(()) }
    }

    /// Whether the accepted `recipient` has room for a message of `size`
    /// octets (0: not known yet, so only whether it is full already).
    /// `Err` refuses this recipient with that reply: for quotas (RFC
    /// 9208), 452 4.2.2 while the mailbox is full, 552 5.2.2 for a message
    /// larger than the whole quota (RFC 3463 X.2.2).
    fn check_quota(&self, recipient: &str, size: u64) -> impl Future<Output = Result<(), Reply>> + Send {
        let _ = (recipient, size);
        async { Ok(()) }
    }

    /// Keeps a client verdict of the pregreet test beyond a restart; the
    /// server runs it in the background and does not wait for it.
    fn remember_client(&self, remembered: crate::Remembered) -> impl Future<Output = ()> + Send {
        let _ = remembered;
        async {}
    }

    /// A fresh queue id, shown in the Received header and the 250 reply.
    fn new_message_id(&self) -> String;

    /// Stores the message durably. Returning `Ok` is the promise behind the
    /// 250 reply: the message survives a crash from then on. Its content
    /// starts with our Received header.
    fn accept(&self, message: MailObject) -> impl Future<Output = Result<(), AcceptError>> + Send;
}
