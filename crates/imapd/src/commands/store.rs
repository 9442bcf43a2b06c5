//! STORE and UID STORE (RFC 9051 §6.4.6), with UNCHANGEDSINCE (RFC 7162).

use std::collections::HashSet;

use store::{FlagChange, Flags};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::{SequenceSet, StoreMode};

use crate::error::{CommandError, Reply};
use crate::format::flag_list;
use crate::session::{Flow, Session};
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
        let mut uids: Vec<i64> = indexes.iter().map(|&i| view.messages[i].uid).collect();
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
        let since = command.unchanged_since.map(|s| s as i64);
        let (changed, failed) = self
            .server
            .store
            .store_flags(mailbox, &uids, change, &flags, since)
            .await?;
        let mut out = Vec::new();
        view.absorb_own_change(changed, &mut out);
        if !command.silent {
            // A set: UNCHANGEDSINCE 0 fails every message (issue 12: no
            // O(n·m) lookups).
            let failed: HashSet<i64> = failed.iter().copied().collect();
            for &index in &indexes {
                let message = &view.messages[index];
                if failed.contains(&message.uid) {
                    continue;
                }
                let uid_part = if command.uid {
                    format!("UID {} ", message.uid)
                } else {
                    String::new()
                };
                out.extend_from_slice(
                    format!(
                        "* {} FETCH ({uid_part}FLAGS {})\r\n",
                        index + 1,
                        flag_list(&view.flag_names(message))
                    )
                    .as_bytes(),
                );
            }
        }
        self.conn.send(&out);
        self.report_changes(view, false, false).await?;
        if failed.is_empty() {
            self.ok(tag, "STORE completed")
        } else {
            let list: Vec<String> = failed.iter().map(i64::to_string).collect();
            self.tagged(
                tag,
                "OK",
                Some(&format!("MODIFIED {}", list.join(","))),
                "Some messages changed meanwhile",
            );
            Ok(Flow::Continue)
        }
    }
}
