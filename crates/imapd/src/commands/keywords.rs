//! The bounds on keywords (review of issue 13, finding 4): every session
//! with a mailbox selected is sent all of its keywords in FLAGS, again
//! each time one is added (RFC 9051 §7.3.5), so a mailbox may hold only
//! `max_keywords` of them, each at most `max_keyword_length` bytes.
//! Past that, the command that would add one gets NO [LIMIT] (RFC 9051
//! §7.1), and PERMANENTFLAGS no longer offers `\*` (see `View`).

use store::{MailboxId, keyword_order};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::CommandError;
use crate::session::Session;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// NO [LIMIT] if `adding`, keywords without duplicates, would make
    /// `mailbox` exceed a bound. The mailbox is read only when there are
    /// keywords at all.
    pub(crate) async fn check_keywords<'a>(
        &self,
        mailbox: MailboxId,
        adding: impl Iterator<Item = &'a String> + Clone,
    ) -> Result<(), CommandError> {
        let config = &self.config;
        let (max_keywords, max_length) = (config.max_keywords, config.max_keyword_length);
        // Most commands bring none: no read of the mailbox for them.
        if adding.clone().next().is_none() {
            return Ok(());
        }
        if adding.clone().any(|keyword| keyword.len() > max_length) {
            return Err(CommandError::no("LIMIT", "Keyword too long"));
        }
        let present = self.server.store.mailbox_keywords(mailbox).await?;
        let new = adding
            .filter(|keyword| present.binary_search_by(|k| keyword_order(k, keyword)).is_err())
            .count();
        if new > 0 && present.len() + new > max_keywords {
            return Err(CommandError::no("LIMIT", "Too many keywords in this mailbox"));
        }
        Ok(())
    }
}

/// Keywords without duplicates, in [`keyword_order`]: from flag names,
/// those that are not system flags (RFC 9051 §2.3.2: those start with
/// `\`).
pub(crate) fn keywords_of<'a>(names: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut keywords: Vec<&String> = names.filter(|name| !name.starts_with('\\')).collect();
    keywords.sort_by(|a, b| keyword_order(a, b));
    keywords.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    keywords.into_iter().cloned().collect()
}
