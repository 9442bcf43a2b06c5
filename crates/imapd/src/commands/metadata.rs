//! GETMETADATA and SETMETADATA (RFC 5464): entries of the server (mailbox
//! name "") and of mailboxes, kept by the store per account. With no
//! other users to share with, /shared entries are the account's as
//! /private ones are (§3.3 makes private ones optional, so NOPRIVATE
//! never applies). Server entries may be set as well (§3.3 lets a server
//! refuse that), except /shared/admin, which is read-only (§3.2.1.1) and
//! not provided. Unsolicited METADATA responses (§4.4.2) go only to
//! sessions whose NOTIFY asks for metadata events (RFC 5465 §5.6, §5.7;
//! `commands/notify.rs`).

use store::{Account, MailboxId, MetadataLimits, MetadataRefusal};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::MetadataDepth;

use crate::error::{CommandError, Reply};
use crate::format::{client_mailbox, mailbox_name};
use crate::session::{Flow, Session};

/// What GETMETADATA asks for, after the mailbox.
pub(crate) struct MetadataQuery {
    pub max_size: Option<u64>,
    pub depth: MetadataDepth,
    pub entries: Vec<String>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) async fn getmetadata(
        &mut self,
        tag: &str,
        account: &Account,
        raw: &[u8],
        query: MetadataQuery,
    ) -> Reply {
        let (name, mailbox) = self.metadata_target(account, raw).await?;
        let depth = match query.depth {
            MetadataDepth::Zero => store::MetadataDepth::Zero,
            MetadataDepth::One => store::MetadataDepth::One,
            MetadataDepth::Infinity => store::MetadataDepth::Infinity,
        };
        let found = self
            .server
            .store
            .metadata(account.id, mailbox, query.entries, depth)
            .await?;
        // §4.2.1: values over MAXSIZE are left out, and the largest of
        // them named in the tagged OK.
        let mut longest = None;
        let mut out = b"* METADATA ".to_vec();
        mailbox_name(&mut out, &name, self.utf8);
        out.extend_from_slice(b" (");
        let mut any = false;
        for (entry, value) in &found {
            if query.max_size.is_some_and(|max| value.len() as u64 > max) {
                longest = longest.max(Some(value.len()));
                continue;
            }
            if any {
                out.push(b' ');
            }
            any = true;
            // An astring (RFC 5464 §4.4): a name may hold specials.
            wire::imap::astring(&mut out, entry.as_bytes());
            out.push(b' ');
            wire::imap::string(&mut out, value);
        }
        out.extend_from_slice(b")\r\n");
        // Entries that do not exist are not returned (§4.2.2).
        if any {
            self.conn.send(&out);
        }
        let code = longest.map(|size| format!("METADATA LONGENTRIES {size}"));
        self.tagged(tag, "OK", code.as_deref(), "GETMETADATA completed");
        Ok(Flow::Continue)
    }

    pub(crate) async fn setmetadata(
        &mut self,
        tag: &str,
        account: &Account,
        raw: &[u8],
        entries: Vec<(String, Option<Vec<u8>>)>,
    ) -> Reply {
        let (_, mailbox) = self.metadata_target(account, raw).await?;
        if mailbox.is_none() && entries.iter().any(|(entry, _)| entry == "/shared/admin") {
            return Err(CommandError::no("NOPERM", "/shared/admin is read-only"));
        }
        let limits = MetadataLimits {
            max_value: self.config.max_metadata_value,
            max_entries: self.config.max_metadata_entries,
            max_total: self.config.max_metadata_total,
        };
        let outcome = self
            .server
            .store
            .set_metadata(account.id, mailbox, entries, limits)
            .await?;
        match outcome {
            Ok(()) => self.ok(tag, "SETMETADATA completed"),
            // §4.3: MAXSIZE names the largest value accepted.
            Err(MetadataRefusal::TooLarge { max_value }) => {
                let code = format!("METADATA MAXSIZE {max_value}");
                self.no(tag, Some(&code), "Value too large")?;
                Ok(Flow::Continue)
            }
            Err(MetadataRefusal::TooMany) => Err(CommandError::no("METADATA TOOMANY", "Too many entries")),
            Err(MetadataRefusal::TooMuch) => Err(CommandError::no(
                "LIMIT",
                "The account's entries would be larger than allowed",
            )),
        }
    }

    /// The mailbox a METADATA command is about: "" is the server (None);
    /// any other must exist (§3.3: NO otherwise).
    async fn metadata_target(
        &self,
        account: &Account,
        raw: &[u8],
    ) -> Result<(String, Option<MailboxId>), CommandError> {
        if raw.is_empty() {
            return Ok((String::new(), None));
        }
        let name = client_mailbox(raw, self.utf8).ok_or_else(|| CommandError::bad("Invalid mailbox name"))?;
        match self.server.store.mailbox(account.id, &name).await? {
            Some(mailbox) => Ok((name, Some(mailbox.id))),
            None => Err(CommandError::nonexistent()),
        }
    }
}
