//! Mail that a hosted alias forwards to another domain leaves as a message
//! of its own, written in the same transaction that completes the alias's
//! delivery (see `Store::deliver_local`):
//!
//! - its envelope sender is an SRS address of the alias's domain (see
//!   `store::Srs`), so the destination's SPF check, which sees our
//!   address, passes for a domain that has us in its record, and a bounce
//!   still finds the original sender; the null reverse-path and senders of
//!   hosted domains stay as they are;
//! - its content gets the header fields a `Sealer` gives it: postamt's
//!   ARC set (RFC 8617 §5.1) and DKIM signatures of the alias's domain,
//!   so the destination can see who forwarded it and what we found when
//!   it arrived here;
//! - its lifetime in the queue starts at the forward.

use std::future::Future;
use std::pin::Pin;

use store::{QueueEntry, QueueRecipient, Resolution};
use wire::smtp::{MessageOptions, Recipient};

use crate::{Error, Queue};

/// What vouches for forwarded mail. Implemented where the keys are (the
/// server); the queue only asks.
pub trait Sealer: Send + Sync {
    /// The header fields to put on top of `content` as an alias of
    /// `domain` forwards it, or why they cannot be made now (the
    /// delivery is then tried again later).
    fn seal<'a>(
        &'a self,
        domain: &'a str,
        content: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>>;

    /// The DKIM-Signature fields of `domain` for a message the server
    /// writes itself (a vacation reply): empty when the domain has no
    /// keys.
    fn sign<'a>(
        &'a self,
        domain: &'a str,
        content: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>>;
}

impl Queue {
    /// The new message that carries `recipient`'s message on to the alias
    /// targets `forwards`, with its content stored.
    pub(crate) async fn forward_copy(
        &self,
        recipient: &QueueRecipient,
        forwards: &[String],
        content: &[u8],
    ) -> Result<QueueEntry, ForwardError> {
        let forwarder = recipient
            .address
            .rsplit_once('@')
            .map_or("", |(_, domain)| domain)
            .to_string();
        let sealed = match &self.sealer {
            Some(sealer) => {
                let fields = sealer.seal(&forwarder, content).await.map_err(ForwardError::Seal)?;
                let mut sealed = Vec::with_capacity(fields.len() + content.len());
                sealed.extend_from_slice(&fields);
                sealed.extend_from_slice(content);
                sealed
            }
            None => content.to_vec(),
        };
        let now = store::now();
        let entry = QueueEntry {
            id: Queue::new_id()?,
            reverse_path: self.forward_sender(&recipient.reverse_path, &forwarder, now).await?,
            recipients: forwards
                .iter()
                .map(|address| Recipient {
                    address: address.clone(),
                    // The sender still hears what it asked to hear of,
                    // through the SRS address.
                    ..recipient.recipient()
                })
                .collect(),
            options: MessageOptions {
                body: recipient.body,
                smtputf8: recipient.smtputf8,
                dsn_ret: recipient.dsn_ret,
                dsn_envid: recipient.dsn_envid.clone(),
                // RFC 8689 §4.1: a message aliased onward is tagged as it
                // was.
                require_tls: recipient.require_tls,
                tls_optional: recipient.tls_optional,
                ..MessageOptions::default()
            },
            content: self.store.put_content(sealed).await?,
            received_at: now,
        };
        Ok(entry)
    }

    /// The envelope sender of a forwarded copy: an SRS address of the
    /// forwarding domain for senders elsewhere; the sender itself when it
    /// is null (a bounce is never bounced) or of a hosted domain (whose
    /// SPF record names us anyway).
    pub(crate) async fn forward_sender(&self, sender: &str, forwarder: &str, now: i64) -> Result<String, Error> {
        let Some((local, domain)) = sender.rsplit_once('@') else {
            return Ok(sender.to_string());
        };
        if !matches!(self.store.resolve(local, domain).await?, Resolution::NotLocal) {
            return Ok(sender.to_string());
        }
        Ok(self
            .store
            .srs()
            .forward(sender, forwarder, now)
            .unwrap_or_else(|| sender.to_string()))
    }
}

/// Why a forwarded copy could not be made now.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ForwardError {
    #[error("cannot seal the forwarded copy: {0}")]
    Seal(String),
    #[error(transparent)]
    Queue(#[from] Error),
}

impl From<store::Error> for ForwardError {
    fn from(e: store::Error) -> Self {
        ForwardError::Queue(Error::Store(e))
    }
}
