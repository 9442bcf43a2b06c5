//! The change bus as its listeners see it: the id of each mailbox whose
//! messages changed, or, when changes may have been missed, word to look
//! at every mailbox afresh.
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

use crate::MailboxId;

/// What travels on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// The messages of this mailbox changed.
    Mailbox(MailboxId),
    /// Changes may have been missed: any mailbox may have changed.
    Everything,
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
    pub async fn recv(&mut self) -> Result<MailboxId, RecvError> {
        match self.receiver.recv().await? {
            Change::Mailbox(mailbox) => Ok(mailbox),
            Change::Everything => Err(RecvError::Lagged(MISSED_UNCOUNTED)),
        }
    }

    /// Like [`Changes::recv`], without waiting.
    pub fn try_recv(&mut self) -> Result<MailboxId, TryRecvError> {
        match self.receiver.try_recv()? {
            Change::Mailbox(mailbox) => Ok(mailbox),
            Change::Everything => Err(TryRecvError::Lagged(MISSED_UNCOUNTED)),
        }
    }

    /// A new listener that hears what is sent from now on.
    pub fn resubscribe(&self) -> Changes {
        Changes::new(self.receiver.resubscribe())
    }
}
