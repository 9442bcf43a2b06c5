//! STORE and UID STORE (RFC 9051 §6.4.6), with UNCHANGEDSINCE (RFC 7162).

use std::collections::HashSet;

use store::{FlagChange, Flags};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::{SequenceSet, StoreMode};

use crate::format::flag_list;
use crate::session::{Flow, Outcome, Session, State};

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn store(
        &mut self,
        tag: &str,
        uid: bool,
        set: &SequenceSet,
        mode: StoreMode,
        silent: bool,
        flags: &[String],
        unchanged_since: Option<u64>,
    ) -> Outcome {
        let State::Selected { view, .. } = &self.state else {
            return Ok(Flow::Continue);
        };
        if view.read_only {
            return self.no(tag, Some("READ-ONLY"), "Mailbox is read-only");
        }
        let indexes = view.select(set, uid, &self.saved);
        let mut uids: Vec<i64> = indexes.iter().map(|&i| view.messages[i].uid).collect();
        uids.sort_unstable();
        let mailbox = view.mailbox.id;
        let change = match mode {
            StoreMode::Replace => FlagChange::Replace,
            StoreMode::Add => FlagChange::Add,
            StoreMode::Remove => FlagChange::Remove,
        };
        let flags = Flags::from_names(flags);
        // Taking keywords away never adds one.
        if change != FlagChange::Remove
            && let Some(refused) = self.refuse_keywords(tag, mailbox, flags.keywords.iter()).await
        {
            return refused;
        }
        let since = unchanged_since.map(|s| s as i64);
        let (changed, failed) = match self
            .server
            .store
            .store_flags(mailbox, &uids, change, &flags, since)
            .await
        {
            Ok(result) => result,
            Err(e) => return self.server_error(tag, &e),
        };
        let State::Selected { view, .. } = &mut self.state else {
            return Ok(Flow::Continue);
        };
        let mut out = Vec::new();
        view.absorb_own_change(changed, &mut out);
        if !silent {
            // A set: UNCHANGEDSINCE 0 fails every message (issue 12: no
            // O(n·m) lookups).
            let failed: HashSet<i64> = failed.iter().copied().collect();
            for &index in &indexes {
                let message = &view.messages[index];
                if failed.contains(&message.uid) {
                    continue;
                }
                let uid_part = if uid {
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
        self.report_changes(false, false).await?;
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
