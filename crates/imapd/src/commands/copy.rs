//! COPY and MOVE with their UID forms (RFC 9051 §6.4.7, RFC 6851), with
//! COPYUID (RFC 4315).

use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::SequenceSet;

use super::keywords::keywords_of;
use crate::format::client_mailbox;
use crate::session::{Flow, Outcome, Session, State};

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) async fn copy(&mut self, tag: &str, uid: bool, set: &SequenceSet, raw: &[u8], move_: bool) -> Outcome {
        let State::Selected { account, view } = &self.state else {
            return Ok(Flow::Continue);
        };
        if move_ && view.read_only {
            return self.no(tag, Some("READ-ONLY"), "Mailbox is read-only");
        }
        let indexes = view.select(set, uid, &self.saved);
        let uids: Vec<i64> = indexes.iter().map(|&i| view.messages[i].uid).collect();
        // The keywords the copies bring into the target mailbox.
        let keywords = keywords_of(indexes.iter().flat_map(|&i| &view.messages[i].flags.keywords));
        let (source, account) = (view.mailbox.id, account.id);
        let name = client_mailbox(raw, self.utf8).unwrap_or_default();
        let target = match self.server.store.mailbox(account, &name).await {
            Ok(Some(target)) => target,
            Ok(None) => return self.no(tag, Some("TRYCREATE"), "No such mailbox"),
            Err(e) => return self.server_error(tag, &e),
        };
        if uids.is_empty() {
            return self.ok(tag, "Nothing to do");
        }
        if let Some(refused) = self.refuse_keywords(tag, target.id, keywords.iter()).await {
            return refused;
        }
        let result = if move_ {
            self.server.store.move_messages(source, &uids, target.id).await
        } else {
            self.server.store.copy_messages(source, &uids, target.id).await
        };
        let (uidvalidity, pairs) = match result {
            Ok(result) => result,
            Err(e) => return self.server_error(tag, &e),
        };
        let from: Vec<String> = pairs.iter().map(|(old, _)| old.to_string()).collect();
        let to: Vec<String> = pairs.iter().map(|(_, new)| new.to_string()).collect();
        let code = format!("COPYUID {uidvalidity} {} {}", from.join(","), to.join(","));
        if move_ {
            // RFC 6851 §4.3: COPYUID untagged, then the EXPUNGEs.
            self.untagged(&format!("OK [{code}] Moved"));
            self.report_changes(true, true).await?;
            self.ok(tag, "MOVE completed")
        } else {
            self.report_changes(true, false).await?;
            self.tagged(tag, "OK", Some(&code), "COPY completed");
            Ok(Flow::Continue)
        }
    }
}
