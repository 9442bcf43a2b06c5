//! The change bus as its listeners see it: the id of each mailbox whose
//! messages changed, the id of each account whose mailbox list or
//! subscriptions or METADATA entries changed (for NOTIFY's MailboxName,
//! SubscriptionChange, MailboxMetadataChange and ServerMetadataChange,
//! RFC 5465 §5.4-§5.7), or, when changes may have been missed, word to
//! look at everything afresh.
//!
//! A listener that falls behind the bus gets tokio's
//! `RecvError::Lagged`, and IMAP sessions answer it by reading their
//! mailbox again from its MODSEQ and UIDs (EXISTS, EXPUNGE and FETCH FLAGS
//! all follow from that). Changes can be missed in a second way on
//! PostgreSQL: notices from other nodes are lost while the connection that
//! hears them is down (see `bus`). That is told the same way, as `Lagged`,
//! so the one path that already recovers from the first covers the second.

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::{AccountId, MailboxId};

/// What travels on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Change {
    /// The messages of this mailbox changed.
    Mailbox(MailboxId),
    /// This account's mailboxes were created, deleted or renamed, or its
    /// subscriptions or METADATA entries changed.
    Account(AccountId),
    /// Changes may have been missed: any mailbox may have changed.
    Everything,
}

/// A change as [`Changes::recv_event`] tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The messages of this mailbox changed.
    Mailbox(MailboxId),
    /// This account's mailbox list, subscriptions or METADATA entries
    /// changed.
    Account(AccountId),
}

/// A listener on the change bus ([`crate::Store::changes`]).
#[derive(Debug)]
pub struct Changes {
    receiver: broadcast::Receiver<Change>,
}

/// The `Lagged` count of a resynchronisation: no notices were counted as
/// skipped, they were lost before reaching the bus.
const MISSED_UNCOUNTED: u64 = 0;

impl Changes {
    pub(crate) fn new(receiver: broadcast::Receiver<Change>) -> Changes {
        Changes { receiver }
    }

    /// The next mailbox that changed. `Err(Lagged)` means changes were
    /// missed (the listener fell behind, or a node's notices were lost):
    /// every mailbox shown should be read afresh. Cancel safe, as
    /// `broadcast::Receiver::recv` is.
    /// Account changes are passed over: see [`Changes::recv_event`].
    pub async fn recv(&mut self) -> Result<MailboxId, RecvError> {
        loop {
            if let Event::Mailbox(mailbox) = self.recv_event().await? {
                return Ok(mailbox);
            }
        }
    }

    /// Like [`Changes::recv`], without waiting.
    pub fn try_recv(&mut self) -> Result<MailboxId, TryRecvError> {
        loop {
            if let Event::Mailbox(mailbox) = self.try_recv_event()? {
                return Ok(mailbox);
            }
        }
    }

    /// The next change of either kind, for listeners that follow mailbox
    /// lists too (NOTIFY); `Err(Lagged)` as for [`Changes::recv`]. Cancel
    /// safe.
    pub async fn recv_event(&mut self) -> Result<Event, RecvError> {
        match self.receiver.recv().await? {
            Change::Mailbox(mailbox) => Ok(Event::Mailbox(mailbox)),
            Change::Account(account) => Ok(Event::Account(account)),
            Change::Everything => Err(RecvError::Lagged(MISSED_UNCOUNTED)),
        }
    }

    /// Like [`Changes::recv_event`], without waiting.
    pub fn try_recv_event(&mut self) -> Result<Event, TryRecvError> {
        match self.receiver.try_recv()? {
            Change::Mailbox(mailbox) => Ok(Event::Mailbox(mailbox)),
            Change::Account(account) => Ok(Event::Account(account)),
            Change::Everything => Err(TryRecvError::Lagged(MISSED_UNCOUNTED)),
        }
    }

    /// A new listener that hears what is sent from now on.
    pub fn resubscribe(&self) -> Changes {
        Changes::new(self.receiver.resubscribe())
    }
}
