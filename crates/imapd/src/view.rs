//! The selected mailbox as this session shows it: the UIDs of its
//! messages by sequence number, and the bringing up to date that turns
//! other sessions' changes into EXISTS, EXPUNGE and FETCH responses
//! (RFC 9051 §7.4.1, §7.5.1), with the FLAGS and RECENT counts those
//! need before them.
//!
//! Only the UIDs are kept, 4 bytes a message: flags, sizes, dates and
//! MODSEQs are read from the store when a command needs them, so that a
//! session's memory does not grow with the mailbox beyond that (issue 20,
//! point 5). What a FETCH or STORE answer shows is then the message as
//! stored at that moment; the change the view reads later is not shown
//! again (`ahead`).

use std::collections::{BTreeMap, BTreeSet};

use store::{Flags, MailboxInfo, MessageMeta, Store, keyword_order};
use wire::imap::SequenceSet;

use crate::format::flag_list;
use crate::ranges::{Ranges, compress, in_saved};
use crate::recent::Recent;
use crate::uidonly::fetch_prefix;

/// The RFC 7162 extensions the session has enabled, which change how
/// changes are reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Extensions {
    /// MODSEQ in every untagged FETCH (RFC 7162 §3.1).
    pub condstore: bool,
    /// VANISHED instead of EXPUNGE, UIDs in every FETCH (RFC 7162 §3.2).
    pub qresync: bool,
    /// UIDONLY (RFC 9586): UIDFETCH instead of FETCH, VANISHED instead of
    /// EXPUNGE, and no command that uses message numbers.
    pub uidonly: bool,
}

pub(crate) struct View {
    pub mailbox: MailboxInfo,
    pub read_only: bool,
    /// The UIDs of the messages the client knows, ascending: index + 1 is
    /// the sequence number (RFC 9051 §2.3.1.2). IMAP UIDs are 32-bit
    /// (§2.3.1.1).
    uids: Vec<u32>,
    /// The UIDs this session shows as \Recent (IMAP4rev1 only): the ones it
    /// claimed, being the first read-write session to see them; read-only,
    /// the ones no session had claimed.
    pub recent: Recent,
    /// Answer as for IMAP4rev1: \Recent in flags, RECENT counts.
    pub rev1: bool,
    /// The keywords the client was told of in FLAGS, in [`keyword_order`]
    /// (they compare case-insensitively, RFC 9051 §2.3.2). It only grows,
    /// as in Dovecot: a keyword once defined stays defined.
    keywords: Vec<String>,
    /// With this many keywords defined, PERMANENTFLAGS no longer offers
    /// `\*`: new ones would be refused (`ImapConfig::max_keywords`).
    max_keywords: usize,
    /// The mailbox's (HIGHESTMODSEQ, UIDNEXT) up to which the view shows
    /// every change. Every change to the messages takes a new MODSEQ
    /// (delivery, APPEND, COPY, STORE, EXPUNGE), so while the mailbox is
    /// still there, nothing is left to show and `sync` need not read it.
    shown: (i64, i64),
    /// UIDs found expunged whose EXPUNGE (or VANISHED) is not sent yet
    /// (RFC 9051 §7.5.1): they stay in `uids`, so that the sequence
    /// numbers the client knows keep their meaning.
    gone: BTreeSet<i64>,
    /// The MODSEQ up to which the client has been told every change:
    /// `shown`'s, or below it while expunges wait in `gone`.
    told: i64,
    /// Messages whose flags the client was shown as they were at a MODSEQ
    /// above `shown.0` (a FETCH or STORE answer read them from the store):
    /// UID to that MODSEQ. `sync` does not show that change again; the
    /// entries go once `shown` passes them, so there are at most as many
    /// as changes meanwhile.
    ahead: BTreeMap<i64, i64>,
}

impl View {
    pub async fn open(
        store: &Store,
        mailbox: MailboxInfo,
        read_only: bool,
        rev1: bool,
        max_keywords: usize,
    ) -> Result<View, store::Error> {
        // `mailbox` was read before its messages, so they show at least
        // what it says.
        let mut uids = store.message_uids(mailbox.id).await?;
        // Read row by row, the vector grew by doubling: give back the rest.
        uids.shrink_to_fit();
        // The keywords in use: at least those of the messages read.
        let keywords = store.mailbox_keywords(mailbox.id).await?;
        let mut view = View {
            shown: (mailbox.highestmodseq, mailbox.uidnext),
            gone: BTreeSet::new(),
            told: mailbox.highestmodseq,
            ahead: BTreeMap::new(),
            mailbox,
            read_only,
            uids,
            recent: Recent::default(),
            rev1,
            keywords,
            max_keywords,
        };
        view.find_recent(store).await?;
        Ok(view)
    }

    /// Finds the messages to show as \Recent among those the view holds:
    /// a read-write session claims the ones no session has claimed yet; a
    /// read-only (EXAMINE) one shows them too but leaves them for the next
    /// SELECT (RFC 3501 §6.3.2, as Dovecot does).
    async fn find_recent(&mut self, store: &Store) -> Result<(), store::Error> {
        let until = self.last_uid() + 1;
        let (from, until) = if self.read_only {
            (store.unclaimed_from(self.mailbox.id).await?, until)
        } else {
            store.claim_recent(self.mailbox.id, until).await?
        };
        // Those of the view in a range, counted by binary search.
        let uids = &self.uids;
        let below = |uid: i64| uids.partition_point(|&u| i64::from(u) < uid);
        self.recent.add(from, until, |from, until| below(until) - below(from));
        Ok(())
    }

    /// `* FLAGS` and `* OK [PERMANENTFLAGS]`: the system flags and the
    /// keywords defined, and which of them the client may change
    /// (RFC 9051 §7.3.5, §7.1). `\*`: any new keyword can be made; not
    /// offered once the mailbox has as many as it may (RFC 9051 §2.3.2).
    pub fn write_flags(&self, out: &mut Vec<u8>) {
        let mut names: Vec<&str> = vec!["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];
        names.extend(self.keywords.iter().map(String::as_str));
        let list = names.join(" ");
        out.extend_from_slice(format!("* FLAGS ({list})\r\n").as_bytes());
        if self.read_only {
            out.extend_from_slice(b"* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
        } else if self.keywords.len() >= self.max_keywords {
            out.extend_from_slice(format!("* OK [PERMANENTFLAGS ({list})] Flags permitted\r\n").as_bytes());
        } else {
            out.extend_from_slice(format!("* OK [PERMANENTFLAGS ({list} \\*)] Flags permitted\r\n").as_bytes());
        }
    }

    /// Sends FLAGS again if these flags use a keyword the client was not
    /// told of: it must hear of it before a FETCH shows it (RFC 9051
    /// §7.3.5, RFC 3501 §7.2.6).
    ///
    /// Keywords set and taken off again (by any session) would make the
    /// list grow past the mailbox's bound in a long session: past it, the
    /// defined ones become those in use, which a FLAGS response may do (it
    /// replaces the list, RFC 9051 §7.3.5): these flags' and those the
    /// mailbox's messages carry now (the client is shown a message's
    /// change after this, so none it still sees goes missing).
    async fn announce(&mut self, store: &Store, flags: &[&Flags], out: &mut Vec<u8>) -> Result<(), store::Error> {
        if !define(&mut self.keywords, flags.iter().copied()) {
            return Ok(());
        }
        if self.keywords.len() > self.max_keywords {
            let mut in_use = store.mailbox_keywords(self.mailbox.id).await?;
            define(&mut in_use, flags.iter().copied());
            self.keywords = in_use;
        }
        self.write_flags(out);
        Ok(())
    }

    /// Readies the client for being shown these messages' flags, as just
    /// read from the store: FLAGS first if they use a keyword it was not
    /// told of, and the change noted as shown (`ahead`) where the view has
    /// not read it yet.
    pub async fn showing(
        &mut self,
        store: &Store,
        messages: &[MessageMeta],
        out: &mut Vec<u8>,
    ) -> Result<(), store::Error> {
        let flags: Vec<&Flags> = messages.iter().map(|m| &m.flags).collect();
        self.announce(store, &flags, out).await?;
        for message in messages.iter().filter(|m| m.modseq > self.shown.0) {
            self.ahead.insert(message.uid, message.modseq);
        }
        Ok(())
    }

    /// The flags to show for a message: its own, plus \Recent for rev1.
    pub fn flag_names(&self, message: &MessageMeta) -> Vec<String> {
        let mut names = message.flags.names();
        if self.shows_recent(message.uid) {
            names.push("\\Recent".to_string());
        }
        names
    }

    /// Whether FLAGS of the message `uid` name \Recent: only to IMAP4rev1
    /// clients (RFC 9051 removed it).
    pub fn shows_recent(&self, uid: i64) -> bool {
        self.rev1 && self.recent.contains(&uid)
    }

    /// The indexes of the messages a set names: UIDs or sequence numbers.
    /// `saved` is the result of SEARCH RETURN (SAVE), as ascending UIDs.
    pub fn select(&self, set: &SequenceSet, uid: bool, saved: &[i64]) -> Vec<usize> {
        if let SequenceSet::Saved = set {
            return self
                .uids
                .iter()
                .enumerate()
                .filter(|(_, uid)| in_saved(saved, i64::from(**uid)))
                .map(|(i, _)| i)
                .collect();
        }
        if uid {
            // `*` is the largest UID in use; since reversed ranges count,
            // `559:*` includes it even above 559 (RFC 9051 §6.4.8).
            let largest = self.uids.last().copied().unwrap_or(0);
            let ranges = Ranges::of(set, largest);
            self.uids
                .iter()
                .enumerate()
                .filter(|(_, uid)| ranges.contains(**uid))
                .map(|(i, _)| i)
                .collect()
        } else {
            let ranges = Ranges::of(set, self.uids.len() as u32);
            (0..self.uids.len())
                .filter(|i| ranges.contains(*i as u32 + 1))
                .collect()
        }
    }

    /// Brings the view up to date, writing what changed to `out`.
    /// `expunges` says whether EXPUNGE may be sent now: never during FETCH,
    /// STORE or SEARCH (RFC 9051 §7.5.1), so sequence numbers the client
    /// is using keep their meaning; those found meanwhile wait in `gone`.
    ///
    /// Only what changed after the MODSEQ the view is at is read (RFC
    /// 7162's two questions: which messages changed, which UIDs were
    /// expunged), so a change costs each session O(changes), not a read
    /// of the whole mailbox (issue 20, point 5).
    pub async fn sync(
        &mut self,
        store: &Store,
        out: &mut Vec<u8>,
        expunges: bool,
        ext: Extensions,
    ) -> Result<(), store::Error> {
        // The mailbox's state is read before what changed: a change in
        // between shows in the reads and is read again next time (which
        // changes nothing), never missed.
        let info = store.mailbox_info(self.mailbox.id).await?;
        let current = info.as_ref().map(|info| (info.highestmodseq, info.uidnext));
        let mut changed = Vec::new();
        if current != Some(self.shown) {
            let (expunged, fresh) = match &info {
                Some(_) => (
                    store.expunged_since(self.mailbox.id, self.shown.0).await?,
                    store.messages_changed_since(self.mailbox.id, self.shown.0).await?,
                ),
                // Deleted: every message is gone.
                None => (self.uids.iter().map(|&uid| i64::from(uid)).collect(), Vec::new()),
            };
            // Only the messages the client sees: one added and expunged
            // since the last look was never shown.
            let seen: Vec<i64> = expunged
                .into_iter()
                .filter(|uid| self.index_of(*uid).is_some())
                .collect();
            if self.gone.is_empty() && !seen.is_empty() {
                self.told = self.shown.0;
            }
            self.gone.extend(seen);
            changed = fresh;
            changed.retain(|m| !self.gone.contains(&m.uid));
        }
        // Keywords first: the FETCH responses and the new messages below
        // may use them.
        let flags: Vec<&Flags> = changed.iter().map(|m| &m.flags).collect();
        self.announce(store, &flags, out).await?;
        let recent_before = self.recent.len();
        if expunges && !self.gone.is_empty() {
            self.report_gone(out, ext);
        }
        let last = self.last_uid();
        let before = self.uids.len();
        // A change committed between the read of the mailbox's state and
        // the read of what changed is shown now and read again next time:
        // noted as shown (`ahead`), so that it is not told twice.
        let reached = info.as_ref().map_or(i64::MAX, |info| info.highestmodseq);
        for message in changed {
            // Shown as it is now by an answer already.
            let shown = self.ahead.get(&message.uid) == Some(&message.modseq);
            if message.modseq > reached {
                self.ahead.insert(message.uid, message.modseq);
            }
            if message.uid > last {
                self.uids.push(u32::try_from(message.uid).unwrap_or(u32::MAX));
                continue;
            }
            if shown {
                continue;
            }
            if let Some(index) = self.index_of(message.uid) {
                let line = self.flags_line(index, &message, true, ext);
                out.extend_from_slice(line.as_bytes());
            }
        }
        let grew = self.uids.len() != before;
        if grew {
            out.extend_from_slice(format!("* {} EXISTS\r\n", self.uids.len()).as_bytes());
            self.find_recent(store).await?;
        }
        // After EXISTS, so that it is never above the count the client
        // knows; again when expunges lowered it (RFC 3501 §7.3.1-7.3.2).
        if self.rev1 && (grew || self.recent.len() != recent_before) {
            out.extend_from_slice(format!("* {} RECENT\r\n", self.recent.len()).as_bytes());
        }
        if let Some(info) = info {
            self.shown = (info.highestmodseq, info.uidnext);
            self.mailbox = info;
        }
        if self.gone.is_empty() {
            self.told = self.shown.0;
        }
        self.forget_shown();
        Ok(())
    }

    /// Tells the client of the messages expunged meanwhile and drops them:
    /// one VANISHED once QRESYNC or UIDONLY is enabled (RFC 7162 §3.2.10.2,
    /// RFC 9586 §3.4), else an
    /// EXPUNGE each, from the last, so that each number is still the one
    /// the client knows; then all removed in one pass, not one shift of
    /// the rest per message.
    fn report_gone(&mut self, out: &mut Vec<u8>, ext: Extensions) {
        let gone = std::mem::take(&mut self.gone);
        if ext.qresync || ext.uidonly {
            let uids: Vec<i64> = gone.iter().copied().collect();
            out.extend_from_slice(format!("* VANISHED {}\r\n", compress(&uids)).as_bytes());
        } else {
            for index in (0..self.uids.len()).rev() {
                if gone.contains(&i64::from(self.uids[index])) {
                    out.extend_from_slice(format!("* {} EXPUNGE\r\n", index + 1).as_bytes());
                }
            }
        }
        self.uids.retain(|uid| !gone.contains(&i64::from(*uid)));
        for uid in &gone {
            self.ahead.remove(uid);
        }
        // The client counts recent ones among what it holds: an expunged
        // one no longer is (RFC 3501 §7.3.2).
        for &uid in &gone {
            self.recent.remove(uid);
        }
    }

    /// The index of the message with this UID, by binary search (the
    /// view is in UID order).
    pub fn index_of(&self, uid: i64) -> Option<usize> {
        let uid = u32::try_from(uid).ok()?;
        self.uids.binary_search(&uid).ok()
    }

    /// How many messages the client knows: the highest sequence number.
    pub fn len(&self) -> usize {
        self.uids.len()
    }

    /// The UID of the message at `index` (sequence number - 1).
    pub fn uid(&self, index: usize) -> i64 {
        i64::from(self.uids[index])
    }

    /// The largest UID the view holds, 0 when empty.
    pub fn last_uid(&self) -> i64 {
        self.uids.last().map_or(0, |&uid| i64::from(uid))
    }

    /// `* n FETCH (UID u FLAGS (...) MODSEQ (m))` for `message`, at
    /// `index`: the UID when asked for (always for unsolicited ones, which
    /// QRESYNC requires, RFC 7162 §3.2.4), the MODSEQ once CONDSTORE is
    /// enabled (RFC 7162 §3.1). Once UIDONLY is on, `* u UIDFETCH (...)`,
    /// whose UID is in front (RFC 9586 §3.3).
    pub fn flags_line(&self, index: usize, message: &MessageMeta, uid: bool, ext: Extensions) -> String {
        let uid = if (uid || ext.qresync) && !ext.uidonly {
            format!("UID {} ", message.uid)
        } else {
            String::new()
        };
        let modseq = if ext.condstore {
            format!(" MODSEQ ({})", message.modseq)
        } else {
            String::new()
        };
        let flags = flag_list(&self.flag_names(message));
        let prefix = fetch_prefix(index + 1, message.uid, ext);
        format!("{prefix}{uid}FLAGS {flags}{modseq})\r\n")
    }

    /// The HIGHESTMODSEQ the client may be told: everything up to it has
    /// been shown to it. Held below the view's own while expunges wait to
    /// be reported (RFC 7162 §3.1.2.1, §6).
    pub fn highest_modseq(&self) -> i64 {
        self.told
    }

    /// Takes in the messages a flag change of this session's own produced,
    /// which the client is about to be shown. If that change took the
    /// MODSEQ right after the one the view is at, the view is current
    /// without reading the mailbox again; otherwise another change came in
    /// between, and the next sync reads it (but does not show these
    /// again). The change may carry keywords another session set
    /// meanwhile: those are announced to `out` first.
    pub async fn absorb_own_change(
        &mut self,
        store: &Store,
        changed: &[MessageMeta],
        out: &mut Vec<u8>,
    ) -> Result<(), store::Error> {
        let Some(modseq) = changed.first().map(|m| m.modseq) else {
            return Ok(());
        };
        self.showing(store, changed, out).await?;
        if modseq == self.shown.0 + 1 {
            self.shown.0 = modseq;
            if self.gone.is_empty() {
                self.told = modseq;
            }
            self.forget_shown();
        }
        Ok(())
    }

    /// Drops the `ahead` entries `shown` has reached: the view has read
    /// those changes, and later reads begin above them.
    fn forget_shown(&mut self) {
        let shown = self.shown.0;
        self.ahead.retain(|_, modseq| *modseq > shown);
    }

    /// The heap the view holds, in bytes: its UIDs, the sets of recent
    /// and expunged ones, and the defined keywords (issue 20 point 5: a
    /// few bytes a message). The sets count their elements only, a lower
    /// bound for a B-tree's nodes.
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        let uids = self.uids.capacity() * size_of::<u32>();
        let sets =
            self.recent.heap_bytes() + self.gone.len() * size_of::<i64>() + self.ahead.len() * 2 * size_of::<i64>();
        let keywords: usize = self.keywords.iter().map(|k| k.capacity() + size_of::<String>()).sum();
        uids + sets + keywords
    }

    /// The UIDs found expunged whose EXPUNGE the client has not had yet
    /// (they still have their sequence numbers): updating contexts (RFC
    /// 5267 §4.3.4) must take them out of results before it comes.
    pub fn unreported_expunges(&self) -> impl Iterator<Item = i64> + '_ {
        self.gone.iter().copied()
    }

    /// How many of the messages shown have a UID below `uid`.
    pub fn count_below(&self, uid: i64) -> usize {
        self.uids.partition_point(|&shown| i64::from(shown) < uid)
    }

    /// The indexes of the messages shown whose UID is above `uid`: after
    /// a `sync`, those above the `last_uid` before it are new to the
    /// client.
    pub fn indexes_above(&self, uid: i64) -> Vec<usize> {
        (self.uids.partition_point(|&shown| i64::from(shown) <= uid)..self.uids.len()).collect()
    }
}

/// Adds the keywords these flags use to the defined ones; true if any was
/// new, and so FLAGS must be sent again before they are used.
/// Compares in place: no lower-case copy per keyword, and a clone only of
/// the few that are new.
fn define<'a>(keywords: &mut Vec<String>, flags: impl Iterator<Item = &'a Flags>) -> bool {
    let mut new = false;
    for keyword in flags.flat_map(|f| &f.keywords) {
        if let Err(at) = keywords.binary_search_by(|k| keyword_order(k, keyword)) {
            keywords.insert(at, keyword.clone());
            new = true;
        }
    }
    new
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(keywords: &[&str]) -> Flags {
        Flags::from_names(keywords)
    }

    /// RFC 9051 §2.3.2: keywords compare case-insensitively; the first
    /// spelling seen is the one listed.
    #[test]
    fn define_adds_each_keyword_once_whatever_its_case() {
        let mut keywords = Vec::new();
        assert!(define(&mut keywords, [flags(&["$Label1", "Work"])].iter()));
        assert!(!define(&mut keywords, [flags(&["$LABEL1"]), flags(&["work"])].iter()));
        assert!(define(&mut keywords, [flags(&["$label2", "a"])].iter()));
        assert_eq!(keywords, ["$Label1", "$label2", "a", "Work"]);
    }
}
