//! STORE and UID STORE (RFC 9051 §6.4.6), with UNCHANGEDSINCE (RFC 7162).

use std::collections::{HashMap, HashSet};

use store::{FlagChange, Flags, MessageMeta};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::{SequenceSet, StoreMode};

use crate::error::{CommandError, Reply};
use crate::ranges::compress;
use crate::session::{Flow, Session};
use crate::uidonly::fetch_prefix;
use crate::view::View;

/// How a STORE changes flags, and how it answers.
pub(crate) struct FlagStore {
    /// UID STORE: the answers carry the UID (RFC 9051 §6.4.9).
    pub uid: bool,
    pub mode: StoreMode,
    /// `.SILENT`: no untagged FETCH of the new flags.
    pub silent: bool,
    /// RFC 7162 §3.1.3.
    pub unchanged_since: Option<u64>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) async fn store(
        &mut self,
        tag: &str,
        view: &mut View,
        set: &SequenceSet,
        command: FlagStore,
        flags: &[String],
    ) -> Reply {
        if view.read_only {
            return Err(CommandError::read_only());
        }
        let indexes = view.select(set, command.uid, &self.saved);
        let mut uids: Vec<i64> = indexes.iter().map(|&i| view.uid(i)).collect();
        uids.sort_unstable();
        let mailbox = view.mailbox.id;
        let change = match command.mode {
            StoreMode::Replace => FlagChange::Replace,
            StoreMode::Add => FlagChange::Add,
            StoreMode::Remove => FlagChange::Remove,
        };
        let flags = Flags::from_names(flags);
        // Taking keywords away never adds one.
        if change != FlagChange::Remove {
            self.check_keywords(mailbox, flags.keywords.iter()).await?;
        }
        if command.unchanged_since.is_some() {
            // RFC 7162 §3.1: a CONDSTORE enabling command.
            self.enable_condstore(Some(view));
        }
        let since = command.unchanged_since.map(|s| i64::try_from(s).unwrap_or(i64::MAX));
        let (changed, failed) = self
            .server
            .store
            .store_flags(mailbox, &uids, change, &flags, since)
            .await?;
        let mut out = Vec::new();
        view.absorb_own_change(&self.server.store, &changed, &mut out).await?;
        // A set: UNCHANGEDSINCE 0 fails every message (issue 12: no
        // O(n·m) lookups).
        let failed_uids: HashSet<i64> = failed.iter().copied().collect();
        // The flags to answer with: the changed messages' new ones; the
        // others' (already so) as stored, unless the answer is silent.
        let mut shown: HashMap<i64, MessageMeta> = changed.into_iter().map(|m| (m.uid, m)).collect();
        if !command.silent {
            let unchanged: Vec<i64> = uids
                .iter()
                .copied()
                .filter(|uid| !shown.contains_key(uid) && !failed_uids.contains(uid))
                .collect();
            let metas = self.server.store.message_metas(mailbox, &unchanged).await?;
            view.showing(&self.server.store, &metas, &mut out).await?;
            shown.extend(metas.into_iter().map(|m| (m.uid, m)));
        }
        for &index in &indexes {
            // Failed, or expunged by another session meanwhile.
            let Some(message) = shown.get(&view.uid(index)) else {
                continue;
            };
            if !command.silent {
                out.extend_from_slice(view.flags_line(index, message, command.uid, self.ext).as_bytes());
            } else if self.ext.condstore {
                // RFC 7162 §3.1.3: even .SILENT tells a CONDSTORE client
                // the new MODSEQ of what it changed.
                let uid_part = if (command.uid || self.ext.qresync) && !self.ext.uidonly {
                    format!("UID {} ", message.uid)
                } else {
                    String::new()
                };
                let prefix = fetch_prefix(index + 1, message.uid, self.ext);
                let line = format!("{prefix}{uid_part}MODSEQ ({}))\r\n", message.modseq);
                out.extend_from_slice(line.as_bytes());
            }
        }
        self.conn.send(&out);
        self.report_changes(view, false, false).await?;
        if failed.is_empty() {
            return self.ok(tag, "STORE completed");
        }
        // RFC 7162 §3.1.3: the UIDs for UID STORE, the message numbers for
        // STORE, of the messages that failed the UNCHANGEDSINCE test.
        let mut numbers: Vec<i64> = if command.uid {
            failed
        } else {
            failed
                .iter()
                .filter_map(|&uid| view.index_of(uid))
                .map(|index| index as i64 + 1)
                .collect()
        };
        numbers.sort_unstable();
        let code = format!("MODIFIED {}", compress(&numbers));
        self.tagged(tag, "OK", Some(&code), "Conditional STORE failed for some messages");
        Ok(Flow::Continue)
    }
}
