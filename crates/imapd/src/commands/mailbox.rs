//! Mailbox commands: LIST (with LIST-EXTENDED, RFC 5258, and SPECIAL-USE,
//! RFC 6154), LSUB, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS
//! (RFC 9051 §6.3) and APPEND (with MULTIAPPEND, RFC 3502, and UIDPLUS).

use store::{Account, Flags, MessageFacts};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::{AppendMessage, ListReturn, StatusItem};

use super::keywords::keywords_of;
use crate::error::{CommandError, Reply};
use crate::format::{client_mailbox, mailbox_name};
use crate::listing::{ListOptions, ListPattern, listing};
use crate::pattern::{Pattern, PatternError, PatternLimits};
use crate::session::{Flow, Session};
use crate::view::View;

/// LIST or LSUB as asked (RFC 9051 §6.3.9, RFC 5258 §3).
pub(crate) struct ListCommand<'a> {
    pub selection: &'a [String],
    pub reference: &'a [u8],
    pub patterns: &'a [Vec<u8>],
    pub returns: &'a [ListReturn],
    pub lsub: bool,
}

impl ListCommand<'_> {
    fn name(&self) -> &'static str {
        if self.lsub { "LSUB" } else { "LIST" }
    }

    fn options(&self) -> ListOptions {
        let selected = |option: &str| self.selection.iter().any(|s| s == option);
        ListOptions {
            subscribed: selected("SUBSCRIBED"),
            special_use: selected("SPECIAL-USE"),
            recursive: selected("RECURSIVEMATCH"),
            return_subscribed: self.returns.contains(&ListReturn::Subscribed),
            lsub: self.lsub,
            // RFC 5258 §3. `LIST () "" %` cannot be told from plain LIST
            // here; it gets \Noselect, which is true as well.
            extended: !self.selection.is_empty() || !self.returns.is_empty() || self.patterns.len() > 1,
        }
    }

    /// RFC 5819: the STATUS items to answer with each listed mailbox.
    fn status_items(&self) -> Option<Vec<StatusItem>> {
        self.returns.iter().find_map(|r| match r {
            ListReturn::Status(items) => Some(items.clone()),
            _ => None,
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// How far the account's mailboxes may grow (issue 13, defect 9).
    fn mailbox_limits(&self) -> store::MailboxLimits {
        store::MailboxLimits {
            max_name: self.config.max_mailbox_name,
            max_mailboxes: self.config.max_mailboxes,
        }
    }

    /// A mailbox name from the client; BAD if it is not one.
    fn name(&self, raw: &[u8]) -> Result<String, CommandError> {
        client_mailbox(raw, self.utf8).ok_or_else(|| CommandError::bad("Invalid mailbox name"))
    }

    pub(crate) async fn list(&mut self, tag: &str, account: &Account, command: ListCommand<'_>) -> Reply {
        let name = command.name();
        // RFC 9051 §6.3.9: an empty pattern asks for the separator.
        if command.patterns.len() == 1 && command.patterns[0].is_empty() {
            self.untagged(&format!("{name} (\\Noselect) \"/\" \"\""));
            return self.ok(tag, &format!("{name} completed"));
        }
        let mailboxes = self.server.store.mailboxes(account.id).await?;
        let compiled = self.list_patterns(command.reference, command.patterns)?;
        let options = command.options();
        // Subscriptions are read only when the answer depends on them.
        let subscriptions = if options.subscribed || options.lsub || options.return_subscribed {
            self.server.store.subscriptions(account.id).await?
        } else {
            Vec::new()
        };
        let (mailboxes, listed) = self
            .heavy(move |cancel| {
                let listed = listing(&mailboxes, &subscriptions, &compiled, options, cancel);
                (mailboxes, listed)
            })
            .await?;
        let mut out = Vec::new();
        let status_items = command.status_items();
        for entry in listed {
            out.extend_from_slice(format!("* {name} ({}) \"/\" ", entry.attributes.join(" ")).as_bytes());
            mailbox_name(&mut out, &entry.name, self.utf8);
            if let Some(reason) = entry.child_info {
                // RFC 5258 §3.5: why the name is answered.
                out.extend_from_slice(format!(" (\"CHILDINFO\" (\"{reason}\"))").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            if let (Some(index), Some(items)) = (entry.mailbox, &status_items) {
                self.list_status(&mut out, &mailboxes[index], items).await;
            }
        }
        self.conn.send(&out);
        self.ok(tag, &format!("{name} completed"))
    }

    /// The patterns of a LIST, each behind the reference, compiled within
    /// what all of them together may spend (issue 12, attack 3).
    fn list_patterns(&self, reference: &[u8], patterns: &[Vec<u8>]) -> Result<Vec<ListPattern>, CommandError> {
        let reference = client_mailbox(reference, self.utf8).unwrap_or_default();
        let mut limits = PatternLimits {
            max_len: self.config.max_list_pattern,
            max_wildcards: self.config.max_list_wildcards,
        };
        let mut compiled = Vec::new();
        for pattern in patterns.iter().filter_map(|p| client_mailbox(p, self.utf8)) {
            let pattern = format!("{reference}{pattern}");
            // The same in capitals, for INBOX: no more wildcards, and at
            // most three times the characters (ß becomes SS).
            let mut same = PatternLimits {
                max_len: usize::MAX,
                max_wildcards: usize::MAX,
            };
            let both = Pattern::new(&pattern, &mut limits).and_then(|p| {
                Ok(ListPattern {
                    pattern: p,
                    upper: Pattern::new(&pattern.to_uppercase(), &mut same)?,
                    levels: pattern.ends_with('%'),
                })
            });
            compiled.push(both.map_err(|e| match e {
                PatternError::TooLong => CommandError::bad("Mailbox patterns too long"),
                PatternError::TooManyWildcards => CommandError::bad("Too many wildcards in the mailbox patterns"),
            })?);
        }
        Ok(compiled)
    }

    /// RFC 5819: `* STATUS` for a listed mailbox; left out if it cannot
    /// be read (it may have been deleted meanwhile).
    async fn list_status(&self, out: &mut Vec<u8>, mailbox: &store::MailboxInfo, items: &[StatusItem]) {
        if let Ok(status) = self.server.store.mailbox_status(mailbox).await {
            out.extend_from_slice(b"* STATUS ");
            mailbox_name(out, &mailbox.name, self.utf8);
            out.extend_from_slice(
                format!(" ({})\r\n", status_line(&status, items, self.config.max_literal)).as_bytes(),
            );
        }
    }

    pub(crate) async fn create(&mut self, tag: &str, account: &Account, raw: &[u8], uses: &[String]) -> Reply {
        let name = self.name(raw)?;
        let role = super::special_use::role_of(uses)?;
        let limits = self.mailbox_limits();
        let created = self
            .server
            .store
            .create_mailbox_for(account.id, &name, role, limits)
            .await?;
        // RFC 8474 §4.1: the new mailbox's MAILBOXID.
        let code = format!("MAILBOXID ({})", created.object_id);
        self.tagged(tag, "OK", Some(&code), "CREATE completed");
        Ok(Flow::Continue)
    }

    pub(crate) async fn delete(&mut self, tag: &str, account: &Account, selected: Option<&View>, raw: &[u8]) -> Reply {
        let name = self.name(raw)?;
        if selected.is_some_and(|view| view.mailbox.name == name) {
            return Err(CommandError::no("INUSE", "Mailbox is selected"));
        }
        self.server.store.delete_mailbox(account.id, &name).await?;
        self.ok(tag, "DELETE completed")
    }

    pub(crate) async fn rename(&mut self, tag: &str, account: &Account, from: &[u8], to: &[u8]) -> Reply {
        let (from, to) = (self.name(from)?, self.name(to)?);
        let limits = self.mailbox_limits();
        match self.server.store.rename_mailbox(account.id, &from, &to, limits).await {
            Ok(()) => self.ok(tag, "RENAME completed"),
            Err(store::Error::MailboxExists(_)) => Err(CommandError::no("ALREADYEXISTS", "Target mailbox exists")),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn subscribe(&mut self, tag: &str, account: &Account, raw: &[u8], subscribed: bool) -> Reply {
        let name = self.name(raw)?;
        let limits = self.mailbox_limits();
        self.server
            .store
            .set_subscribed(account.id, &name, subscribed, limits)
            .await?;
        self.ok(
            tag,
            if subscribed {
                "SUBSCRIBE completed"
            } else {
                "UNSUBSCRIBE completed"
            },
        )
    }

    pub(crate) async fn status(
        &mut self,
        tag: &str,
        account: &Account,
        selected: Option<&mut View>,
        raw: &[u8],
        items: &[StatusItem],
    ) -> Reply {
        let name = self.name(raw)?;
        let Some(mailbox) = self.server.store.mailbox(account.id, &name).await? else {
            return Err(CommandError::nonexistent());
        };
        if items.contains(&StatusItem::HighestModSeq) {
            // RFC 7162 §3.1: a CONDSTORE enabling command.
            self.enable_condstore(selected.as_deref());
        }
        let mut status = self.server.store.mailbox_status(&mailbox).await?;
        if items.contains(&StatusItem::Recent) {
            status.recent = self.server.store.unclaimed_recent(mailbox.id).await.unwrap_or(0);
        }
        let mut out = b"* STATUS ".to_vec();
        mailbox_name(&mut out, &mailbox.name, self.utf8);
        out.extend_from_slice(format!(" ({})\r\n", status_line(&status, items, self.config.max_literal)).as_bytes());
        self.conn.send(&out);
        if let Some(view) = selected {
            self.report_changes(view, true, false).await?;
        }
        self.ok(tag, "STATUS completed")
    }

    pub(crate) async fn append(
        &mut self,
        tag: &str,
        account: &Account,
        selected: Option<&mut View>,
        raw: &[u8],
        mut messages: Vec<AppendMessage>,
    ) -> Reply {
        let name = self.name(raw)?;
        let Some(mailbox) = self.server.store.mailbox(account.id, &name).await? else {
            // RFC 9051 §6.3.12: TRYCREATE tells the client to CREATE first.
            return Err(CommandError::try_create());
        };
        if !self
            .catenate_all(tag, account, selected.as_deref(), &mut messages)
            .await?
        {
            return Ok(Flow::Continue);
        }
        // All the messages' keywords at once, before any is stored.
        let keywords = keywords_of(messages.iter().flat_map(|m| &m.flags));
        self.check_keywords(mailbox.id, keywords.iter()).await?;
        // Stored together, in one transaction: all or none (RFC 3502 §6.3.11),
        // which a quota refusal needs (RFC 9208 §5).
        let mut batch = Vec::with_capacity(messages.len());
        for message in messages {
            batch.push(self.prepare_message(message).await?);
        }
        let (uidvalidity, uids) = self.server.store.append_many(mailbox.id, batch).await?;
        let uids: Vec<String> = uids.iter().map(i64::to_string).collect();
        if let Some(view) = selected {
            self.report_changes(view, true, false).await?;
        }
        let code = format!("APPENDUID {uidvalidity} {}", uids.join(","));
        self.tagged(tag, "OK", Some(&code), "APPEND completed");
        Ok(Flow::Continue)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// A message of APPEND (or REPLACE, RFC 8508) made ready to store: its
    /// content kept (large content in the content store), flags, date and
    /// facts. An empty message is refused.
    pub(crate) async fn prepare_message(
        &self,
        message: AppendMessage,
    ) -> Result<(store::Content, Flags, i64, MessageFacts), CommandError> {
        if message.content.is_empty() {
            return Err(CommandError::refused("Empty messages are not stored"));
        }
        let flags = Flags::from_names(&message.flags);
        let date = message.date.unwrap_or_else(store::now);
        // RFC 3516 §4.4: a literal8 may bring binary parts, which
        // BODY[] could not answer (no NUL in a literal, RFC 9051 §4.3);
        // they are kept base64-encoded, as Dovecot does.
        let content = if message.binary {
            imf::encode_binary_parts(&message.content).unwrap_or(message.content)
        } else {
            message.content
        };
        let facts = MessageFacts::of(&content);
        let content = self.server.store.put_content(content).await?;
        Ok((content, flags, date, facts))
    }
}

/// `MESSAGES 3 UNSEEN 1 ...` for the items asked.
pub(crate) fn status_line(status: &store::MailboxStatus, items: &[StatusItem], append_limit: u64) -> String {
    items
        .iter()
        .map(|item| match item {
            StatusItem::Messages => format!("MESSAGES {}", status.messages),
            StatusItem::UidNext => format!("UIDNEXT {}", status.uidnext),
            StatusItem::UidValidity => format!("UIDVALIDITY {}", status.uidvalidity),
            StatusItem::Unseen => format!("UNSEEN {}", status.unseen),
            StatusItem::Deleted => format!("DELETED {}", status.deleted),
            StatusItem::Size => format!("SIZE {}", status.size),
            StatusItem::Recent => format!("RECENT {}", status.recent),
            StatusItem::HighestModSeq => format!("HIGHESTMODSEQ {}", status.highestmodseq),
            // RFC 9208 §4.3: in units of 1024 octets, never more than
            // EXPUNGE would free.
            StatusItem::DeletedStorage => format!("DELETED-STORAGE {}", status.deleted_storage / 1024),
            StatusItem::MailboxId => format!("MAILBOXID ({})", status.object_id),
            // RFC 7889 §3: the same for every mailbox, the literal limit.
            StatusItem::AppendLimit => format!("APPENDLIMIT {append_limit}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
