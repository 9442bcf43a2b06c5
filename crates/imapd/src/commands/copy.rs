//! COPY and MOVE with their UID forms (RFC 9051 §6.4.7, RFC 6851), with
//! COPYUID (RFC 4315).

use store::Account;
use tokio::io::{AsyncRead, AsyncWrite};

use super::keywords::keywords_of;
use crate::error::{CommandError, Reply};
use crate::format::client_mailbox;
use crate::session::{Flow, Session};
use crate::view::View;

/// Messages whose flags one query reads for COPY's keyword check.
const KEYWORD_BATCH: usize = 4096;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// COPY or MOVE of the messages at `indexes` in the view to the
    /// mailbox named `raw`.
    pub(crate) async fn copy(
        &mut self,
        tag: &str,
        account: &Account,
        view: &mut View,
        indexes: &[usize],
        raw: &[u8],
        move_: bool,
    ) -> Reply {
        if move_ && view.read_only {
            return Err(CommandError::read_only());
        }
        let uids: Vec<i64> = indexes.iter().map(|&i| view.uid(i)).collect();
        let name = client_mailbox(raw, self.utf8).unwrap_or_default();
        let Some(target) = self.server.store.mailbox(account.id, &name).await? else {
            return Err(CommandError::try_create());
        };
        if uids.is_empty() {
            return self.ok(tag, "Nothing to do");
        }
        let source = view.mailbox.id;
        // The keywords the copies bring into the target mailbox, read a
        // batch at a time (the view keeps no flags).
        let mut keywords = Vec::new();
        for batch in uids.chunks(KEYWORD_BATCH) {
            let metas = self.server.store.message_metas(source, batch).await?;
            keywords.extend(keywords_of(metas.iter().flat_map(|m| &m.flags.keywords)));
            keywords = keywords_of(keywords.iter());
        }
        self.check_keywords(target.id, keywords.iter()).await?;
        let (uidvalidity, pairs) = if move_ {
            self.server.store.move_messages(source, &uids, target.id).await?
        } else {
            self.server.store.copy_messages(source, &uids, target.id).await?
        };
        let from: Vec<String> = pairs.iter().map(|(old, _)| old.to_string()).collect();
        let to: Vec<String> = pairs.iter().map(|(_, new)| new.to_string()).collect();
        let code = format!("COPYUID {uidvalidity} {} {}", from.join(","), to.join(","));
        if move_ {
            // RFC 6851 §4.3: COPYUID untagged, then the EXPUNGEs.
            self.untagged(&format!("OK [{code}] Moved"));
            self.report_changes(view, true, true).await?;
            // As for EXPUNGE (RFC 7162 §3.2.7): the new HIGHESTMODSEQ.
            if self.ext.qresync && !pairs.is_empty() {
                let code = format!("HIGHESTMODSEQ {}", view.highest_modseq());
                self.tagged(tag, "OK", Some(&code), "MOVE completed");
                return Ok(Flow::Continue);
            }
            self.ok(tag, "MOVE completed")
        } else {
            self.report_changes(view, true, false).await?;
            self.tagged(tag, "OK", Some(&code), "COPY completed");
            Ok(Flow::Continue)
        }
    }
}
