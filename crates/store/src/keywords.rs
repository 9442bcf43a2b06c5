//! The keywords a mailbox's messages use, for the IMAP server's cap on
//! how many one mailbox may have (every session lists them all in FLAGS,
//! RFC 9051 §7.3.5).

use crate::flags::keyword_order;
use crate::{MailboxId, Result, Store};

impl Store {
    /// The distinct keywords the messages of a mailbox carry, compared
    /// case-insensitively (RFC 9051 §2.3.2), in [`keyword_order`].
    pub async fn mailbox_keywords(&self, mailbox: MailboxId) -> Result<Vec<String>> {
        let mut keywords: Vec<String> = self
            .point_reads
            .scan(move |c| {
                c.prepare_cached(
                    "SELECT DISTINCT k.keyword FROM message_keywords k JOIN messages m ON m.id = k.message_id
                     WHERE m.mailbox_id = $1",
                )?
                .query_map([mailbox], |row| row.get(0))?
                .collect::<crate::Result<_>>()
            })
            .await?;
        keywords.sort_by(|a, b| keyword_order(a, b));
        keywords.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        Ok(keywords)
    }
}
