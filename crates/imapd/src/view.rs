//! The selected mailbox as this session shows it: messages by sequence
//! number with the flags the client was last told, and the bringing up to
//! date that turns other sessions' changes into EXISTS, EXPUNGE and FETCH
//! responses (RFC 9051 §7.4.1, §7.5.1).

use std::collections::{BTreeSet, HashMap};

use store::{MailboxInfo, MessageMeta, Store};
use wire::imap::SequenceSet;

use crate::format::flag_list;
use crate::ranges::{Ranges, in_saved};

pub(crate) struct View {
    pub mailbox: MailboxInfo,
    pub read_only: bool,
    pub messages: Vec<MessageMeta>,
    /// The UIDs this session shows as \Recent (IMAP4rev1 only): the ones it
    /// claimed, being the first read-write session to see them.
    pub recent: BTreeSet<i64>,
    /// Answer as for IMAP4rev1: \Recent in flags, RECENT counts.
    pub rev1: bool,
    /// The mailbox's (HIGHESTMODSEQ, UIDNEXT) up to which the view shows
    /// every change. Every change to the messages takes a new MODSEQ
    /// (delivery, APPEND, COPY, STORE, EXPUNGE), so while the mailbox is
    /// still there, nothing is left to show and `sync` need not read it.
    shown: (i64, i64),
}

impl View {
    pub async fn open(store: &Store, mailbox: MailboxInfo, read_only: bool, rev1: bool) -> Result<View, store::Error> {
        // `mailbox` was read before its messages, so they show at least
        // what it says.
        let messages = store.message_list(mailbox.id).await?;
        let mut view = View {
            shown: (mailbox.highestmodseq, mailbox.uidnext),
            mailbox,
            read_only,
            messages,
            recent: BTreeSet::new(),
            rev1,
        };
        view.claim_recent(store).await?;
        Ok(view)
    }

    /// Takes \Recent for the messages no session has claimed yet; a
    /// read-only (EXAMINE) session leaves them for others (RFC 3501 §6.3.2).
    async fn claim_recent(&mut self, store: &Store) -> Result<(), store::Error> {
        if self.read_only {
            return Ok(());
        }
        let (from, until) = store.claim_recent(self.mailbox.id).await?;
        self.recent.extend(
            self.messages
                .iter()
                .map(|m| m.uid)
                .filter(|uid| (from..until).contains(uid)),
        );
        Ok(())
    }

    /// The flags to show for a message: its own, plus \Recent for rev1.
    pub fn flag_names(&self, message: &MessageMeta) -> Vec<String> {
        let mut names = message.flags.names();
        if self.rev1 && self.recent.contains(&message.uid) {
            names.push("\\Recent".to_string());
        }
        names
    }

    /// The indexes of the messages a set names: UIDs or sequence numbers.
    /// `saved` is the result of SEARCH RETURN (SAVE), as ascending UIDs.
    pub fn select(&self, set: &SequenceSet, uid: bool, saved: &[i64]) -> Vec<usize> {
        if let SequenceSet::Saved = set {
            return self
                .messages
                .iter()
                .enumerate()
                .filter(|(_, m)| in_saved(saved, m.uid))
                .map(|(i, _)| i)
                .collect();
        }
        if uid {
            // `*` is the largest UID in use; since reversed ranges count,
            // `559:*` includes it even above 559 (RFC 9051 §6.4.8).
            let largest = self.messages.last().map_or(0, |m| m.uid as u32);
            let ranges = Ranges::of(set, largest);
            self.messages
                .iter()
                .enumerate()
                .filter(|(_, m)| ranges.contains(m.uid as u32))
                .map(|(i, _)| i)
                .collect()
        } else {
            let ranges = Ranges::of(set, self.messages.len() as u32);
            (0..self.messages.len())
                .filter(|i| ranges.contains(*i as u32 + 1))
                .collect()
        }
    }

    /// Brings the view up to date, writing what changed to `out`.
    /// `expunges` says whether EXPUNGE may be sent now: never during FETCH,
    /// STORE or SEARCH (RFC 9051 §7.5.1), so sequence numbers the client
    /// is using keep their meaning.
    pub async fn sync(&mut self, store: &Store, out: &mut Vec<u8>, expunges: bool) -> Result<(), store::Error> {
        // The mailbox's state is read before its messages: a change in
        // between then shows in the list and costs at most one more reload
        // later, never a missed change.
        let info = store.mailbox_info(self.mailbox.id).await?;
        if info
            .as_ref()
            .is_some_and(|info| (info.highestmodseq, info.uidnext) == self.shown)
        {
            return Ok(());
        }
        let fresh = store.message_list(self.mailbox.id).await?;
        let by_uid: HashMap<i64, &MessageMeta> = fresh.iter().map(|m| (m.uid, m)).collect();
        // Expunges held back for now leave the view behind the mailbox.
        let behind = !expunges && self.messages.iter().any(|m| !by_uid.contains_key(&m.uid));
        if expunges {
            // From the last, so that each number is still the one the
            // client knows; then all removed in one pass, not one shift of
            // the rest per message.
            for index in (0..self.messages.len()).rev() {
                if !by_uid.contains_key(&self.messages[index].uid) {
                    out.extend_from_slice(format!("* {} EXPUNGE\r\n", index + 1).as_bytes());
                }
            }
            self.messages.retain(|m| by_uid.contains_key(&m.uid));
        }
        for index in 0..self.messages.len() {
            let uid = self.messages[index].uid;
            if let Some(current) = by_uid.get(&uid)
                && current.flags != self.messages[index].flags
            {
                self.messages[index] = (*current).clone();
                let flags = flag_list(&self.flag_names(current));
                out.extend_from_slice(format!("* {} FETCH (UID {uid} FLAGS {flags})\r\n", index + 1).as_bytes());
            }
        }
        let last = self.messages.last().map_or(0, |m| m.uid);
        let before = self.messages.len();
        self.messages.extend(fresh.into_iter().filter(|m| m.uid > last));
        if self.messages.len() != before {
            out.extend_from_slice(format!("* {} EXISTS\r\n", self.messages.len()).as_bytes());
            self.claim_recent(store).await?;
            if self.rev1 {
                out.extend_from_slice(format!("* {} RECENT\r\n", self.recent.len()).as_bytes());
            }
        }
        if let Some(info) = info {
            if !behind {
                self.shown = (info.highestmodseq, info.uidnext);
            }
            self.mailbox = info;
        }
        Ok(())
    }

    /// Takes in the messages a flag change of this session's own produced.
    /// If that change took the MODSEQ right after the one the view is at,
    /// the view is current without reading the mailbox again; otherwise
    /// another change came in between, and the next sync reads it.
    pub fn absorb_own_change(&mut self, changed: Vec<MessageMeta>) {
        let Some(modseq) = changed.first().map(|m| m.modseq) else {
            return;
        };
        for new in changed {
            if let Ok(index) = self.messages.binary_search_by_key(&new.uid, |m| m.uid) {
                self.messages[index] = new;
            }
        }
        if modseq == self.shown.0 + 1 {
            self.shown.0 = modseq;
        }
    }
}
