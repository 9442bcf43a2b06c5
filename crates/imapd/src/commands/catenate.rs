//! CATENATE (RFC 4469, without URLAUTH): an APPEND (or REPLACE) message
//! put together from literals and parts of messages this account has,
//! named by IMAP URLs (RFC 5092; absolute, absolute paths, or relative to
//! the selected mailbox). Every message of the command is put together
//! before any is stored, so a bad URL stores nothing.

use store::Account;
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::imap_url::{self, ImapUrl};
use wire::imap::{AppendMessage, CatenatePart};

use crate::error::CommandError;
use crate::format::client_mailbox;
use crate::session::Session;
use crate::view::View;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// Replaces the CATENATE parts of `messages` by the message they make.
    /// A URL that names nothing of this account is answered `NO [BADURL
    /// url]` (RFC 4469 §5) here, and false returned: the caller stops.
    pub(crate) async fn catenate_all(
        &mut self,
        tag: &str,
        account: &Account,
        selected: Option<&View>,
        messages: &mut [AppendMessage],
    ) -> Result<bool, CommandError> {
        for message in messages.iter_mut().filter(|m| !m.catenate.is_empty()) {
            let mut content = Vec::new();
            for part in std::mem::take(&mut message.catenate) {
                let data = match part {
                    CatenatePart::Text(text) => text,
                    CatenatePart::Url(url) => match self.url_data(account, selected, &url).await? {
                        Some(data) => data,
                        None => {
                            let code = format!("BADURL {url}");
                            self.tagged(tag, "NO", Some(&code), "The URL names no message data here");
                            return Ok(false);
                        }
                    },
                };
                content.extend_from_slice(&data);
                // RFC 4469 §5: over the limit is TOOBIG, as a literal is.
                if content.len() as u64 > self.config.max_literal {
                    return Err(CommandError::no("TOOBIG", "The message would be too large"));
                }
            }
            message.content = content;
        }
        Ok(true)
    }

    /// The data a CATENATE URL names, None when it names nothing this
    /// session may read.
    async fn url_data(
        &self,
        account: &Account,
        selected: Option<&View>,
        url: &str,
    ) -> Result<Option<Vec<u8>>, CommandError> {
        let Some(url) = imap_url::parse(url) else {
            return Ok(None);
        };
        // An absolute URL names its user: it must be this session's.
        if url
            .user
            .as_ref()
            .is_some_and(|user| !user.eq_ignore_ascii_case(&account.address))
        {
            return Ok(None);
        }
        let Some(mailbox) = self.url_mailbox(account, selected, &url).await? else {
            return Ok(None);
        };
        if url.uidvalidity.is_some_and(|v| i64::from(v) != mailbox.uidvalidity) {
            return Ok(None);
        }
        let contents = self
            .server
            .store
            .message_contents(mailbox.id, &[i64::from(url.uid)])
            .await?;
        let Some(content) = contents.first() else {
            return Ok(None);
        };
        let raw = self.raw(content, false).await?;
        let section = match url.section.as_deref() {
            Some(text) => match wire::imap::url_section(text) {
                Some(section) => section,
                None => return Ok(None),
            },
            None => wire::imap::Section {
                part: Vec::new(),
                text: None,
            },
        };
        let data = if section.part.is_empty() && section.text.is_none() {
            raw
        } else {
            match imf::section(&raw, &section.part, section.text.as_ref()) {
                Some(data) => data,
                None => return Ok(None),
            }
        };
        Ok(Some(cut(data, url.partial)))
    }

    /// The mailbox a URL names: its own, or the selected one for a
    /// relative reference.
    async fn url_mailbox(
        &self,
        account: &Account,
        selected: Option<&View>,
        url: &ImapUrl,
    ) -> Result<Option<store::MailboxInfo>, CommandError> {
        let Some(name) = &url.mailbox else {
            return Ok(selected.map(|view| view.mailbox.clone()));
        };
        // RFC 5092 §3.2: URLs carry mailbox names in UTF-8.
        let Some(name) = client_mailbox(name.as_bytes(), true) else {
            return Ok(None);
        };
        Ok(self.server.store.mailbox(account.id, &name).await?)
    }
}

/// `;PARTIAL=start[.length]` (RFC 5092 §3.2): the bytes from `start`,
/// `length` of them at most.
fn cut(mut data: Vec<u8>, partial: Option<(u64, Option<u64>)>) -> Vec<u8> {
    let Some((start, length)) = partial else {
        return data;
    };
    let start = usize::try_from(start).unwrap_or(usize::MAX).min(data.len());
    let end = length.map_or(data.len(), |length| {
        start
            .saturating_add(usize::try_from(length).unwrap_or(usize::MAX))
            .min(data.len())
    });
    data.truncate(end);
    data.drain(..start);
    data
}
