//! A mail object (RFC 5321 §2.3.1): an envelope and its content, as the
//! SMTP server hands it to the queue and the queue to the store. One
//! struct for the whole way, so a field added for the next feature is
//! added once.

use super::{BodyType, DsnEvent, DsnReturn, Notify};

/// A message accepted for delivery. `C` is its content: the bytes on the
/// way in, the store's handle once they are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailObject<C = Vec<u8>> {
    /// The queue id, also named in the Received header and the 250 reply.
    pub id: String,
    /// The reverse-path without brackets; empty for `<>`.
    pub reverse_path: String,
    pub recipients: Vec<Recipient>,
    pub options: MessageOptions,
    pub content: C,
    /// When it was received, in seconds since the Unix epoch.
    pub received_at: i64,
}

impl<C> MailObject<C> {
    /// The same message with its content in another form.
    pub fn with_content<D>(self, content: D) -> MailObject<D> {
        MailObject {
            id: self.id,
            reverse_path: self.reverse_path,
            recipients: self.recipients,
            options: self.options,
            content,
            received_at: self.received_at,
        }
    }
}

/// What the client declared about the whole message, and who it was.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageOptions {
    pub body: BodyType,
    /// The envelope needs SMTPUTF8 (RFC 6531).
    pub smtputf8: bool,
    /// DSN RET (RFC 3461 §4.3).
    pub dsn_ret: Option<DsnReturn>,
    /// DSN ENVID, decoded (RFC 3461 §4.4).
    pub dsn_envid: Option<String>,
    /// The user who submitted it, when the session had authenticated.
    pub submitted_by: Option<String>,
    /// Deliver local copies into the recipients' Junk mailbox (DMARC
    /// `p=quarantine`, RFC 7489 §6.3). Set only by the server's own
    /// checks, never from anything the client sends: a header could be
    /// written by the sender, this envelope field cannot.
    pub junk: bool,
    /// MAIL FROM carried REQUIRETLS (RFC 8689 §2): every onward hop must
    /// be TLS with a verified certificate and offer REQUIRETLS, or the
    /// message is returned (§4.2, §5).
    pub require_tls: bool,
    /// The header holds `TLS-Required: No` (RFC 8689 §3) and REQUIRETLS was
    /// not given (§4.1: then the field is ignored): the sender asks that
    /// MTA-STS and DANE failures not stop delivery (§4.2.2).
    pub tls_optional: bool,
}

/// One recipient as given in RCPT TO, with its DSN requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recipient {
    pub address: String,
    /// DSN NOTIFY (RFC 3461 §4.1); `None` when not given.
    pub notify: Option<Notify>,
    /// DSN ORCPT (RFC 3461 §4.2): `addr-type;address`, decoded.
    pub orcpt: Option<String>,
}

impl Recipient {
    pub fn new(address: impl Into<String>) -> Recipient {
        Recipient {
            address: address.into(),
            ..Recipient::default()
        }
    }

    /// Whether the sender asked to hear of `event`. Without NOTIFY,
    /// failures and delays are reported (RFC 3461 §4.1 leaves DELAY to the
    /// MTA; Postfix and Exim report it).
    pub fn wants(&self, event: DsnEvent) -> bool {
        match self.notify {
            None => event != DsnEvent::Success,
            Some(notify) => notify.includes(event),
        }
    }
}
