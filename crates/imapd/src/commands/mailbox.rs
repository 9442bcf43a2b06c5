//! Mailbox commands: LIST (with LIST-EXTENDED, RFC 5258, and SPECIAL-USE,
//! RFC 6154), LSUB, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS
//! (RFC 9051 §6.3) and APPEND (with MULTIAPPEND, RFC 3502, and UIDPLUS).

use store::{AccountId, Flags, MessageFacts};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::{AppendMessage, ListReturn, StatusItem};

use super::keywords::keywords_of;
use crate::format::{client_mailbox, mailbox_name};
use crate::listing::{ListOptions, ListPattern, listing};
use crate::pattern::{Pattern, PatternError, PatternLimits};
use crate::session::{Flow, Outcome, Session, State};

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    fn account(&self) -> Option<&store::Account> {
        match &self.state {
            State::Authenticated { account } | State::Selected { account, .. } => Some(account),
            State::NotAuthenticated => None,
        }
    }

    /// How far the account's mailboxes may grow (issue 13, defect 9).
    fn mailbox_limits(&self) -> store::MailboxLimits {
        store::MailboxLimits {
            max_name: self.server.config.max_mailbox_name,
            max_mailboxes: self.server.config.max_mailboxes,
        }
    }

    /// The logged-in account and the mailbox a command names; `None` (with
    /// BAD sent for a bad name) when there is nothing to do.
    fn target(&mut self, tag: &str, raw: &[u8]) -> Option<(AccountId, String)> {
        let account = self.account()?.id;
        self.name(tag, raw).ok().map(|name| (account, name))
    }

    /// A mailbox name from the client, or a BAD already sent.
    fn name(&mut self, tag: &str, raw: &[u8]) -> Result<String, ()> {
        client_mailbox(raw, self.utf8).ok_or_else(|| {
            self.tagged(tag, "BAD", None, "Invalid mailbox name");
        })
    }

    pub(crate) async fn list(
        &mut self,
        tag: &str,
        selection: &[String],
        reference: &[u8],
        patterns: &[Vec<u8>],
        returns: &[ListReturn],
        lsub: bool,
    ) -> Outcome {
        let Some(account) = self.account().map(|a| a.id) else {
            return Ok(Flow::Continue);
        };
        let command = if lsub { "LSUB" } else { "LIST" };
        // RFC 9051 §6.3.9: an empty pattern asks for the separator.
        if patterns.len() == 1 && patterns[0].is_empty() {
            self.untagged(&format!("{command} (\\Noselect) \"/\" \"\""));
            return self.ok(tag, &format!("{command} completed"));
        }
        let mailboxes = match self.server.store.mailboxes(account).await {
            Ok(mailboxes) => mailboxes,
            Err(e) => return self.server_error(tag, &e),
        };
        let reference = client_mailbox(reference, self.utf8).unwrap_or_default();
        // What all the patterns together may spend.
        let mut limits = PatternLimits {
            max_len: self.server.config.max_list_pattern,
            max_wildcards: self.server.config.max_list_wildcards,
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
            match both {
                Ok(both) => compiled.push(both),
                Err(PatternError::TooLong) => return Ok(self.error(tag, "Mailbox patterns too long")),
                Err(PatternError::TooManyWildcards) => {
                    return Ok(self.error(tag, "Too many wildcards in the mailbox patterns"));
                }
            }
        }
        let selected = |option: &str| selection.iter().any(|s| s == option);
        let options = ListOptions {
            subscribed: selected("SUBSCRIBED"),
            special_use: selected("SPECIAL-USE"),
            recursive: selected("RECURSIVEMATCH"),
            return_subscribed: returns.contains(&ListReturn::Subscribed),
            lsub,
            // RFC 5258 §3. `LIST () "" %` cannot be told from plain LIST
            // here; it gets \Noselect, which is true as well.
            extended: !selection.is_empty() || !returns.is_empty() || patterns.len() > 1,
        };
        // Subscriptions are read only when the answer depends on them.
        let subscriptions = if options.subscribed || options.lsub || options.return_subscribed {
            match self.server.store.subscriptions(account).await {
                Ok(subscriptions) => subscriptions,
                Err(e) => return self.server_error(tag, &e),
            }
        } else {
            Vec::new()
        };
        let status_items = returns.iter().find_map(|r| match r {
            ListReturn::Status(items) => Some(items.clone()),
            _ => None,
        });
        let (mailboxes, listed) = self
            .heavy(move |cancel| {
                let listed = listing(&mailboxes, &subscriptions, &compiled, options, cancel);
                (mailboxes, listed)
            })
            .await?;
        let mut out = Vec::new();
        for entry in listed {
            out.extend_from_slice(format!("* {command} ({}) \"/\" ", entry.attributes.join(" ")).as_bytes());
            mailbox_name(&mut out, &entry.name, self.utf8);
            if let Some(reason) = entry.child_info {
                // RFC 5258 §3.5: why the name is answered.
                out.extend_from_slice(format!(" (\"CHILDINFO\" (\"{reason}\"))").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            let Some(mailbox) = entry.mailbox.map(|index| &mailboxes[index]) else {
                continue;
            };
            if let Some(items) = &status_items {
                // RFC 5819: the STATUS of each listed mailbox.
                if let Ok(status) = self.server.store.mailbox_status(mailbox).await {
                    out.extend_from_slice(b"* STATUS ");
                    mailbox_name(&mut out, &mailbox.name, self.utf8);
                    out.extend_from_slice(format!(" ({})\r\n", status_line(&status, items)).as_bytes());
                }
            }
        }
        self.conn.send(&out);
        self.ok(tag, &format!("{command} completed"))
    }

    pub(crate) async fn create(&mut self, tag: &str, raw: &[u8]) -> Outcome {
        let Some((account, name)) = self.target(tag, raw) else {
            return Ok(Flow::Continue);
        };
        match self
            .server
            .store
            .create_mailbox(account, &name, self.mailbox_limits())
            .await
        {
            Ok(_) => self.ok(tag, "CREATE completed"),
            // RFC 9051 §7.1: LIMIT, an administrative limit.
            Err(store::Error::MailboxLimit(reason)) => self.no(tag, Some("LIMIT"), &reason),
            Err(store::Error::MailboxExists(_)) => self.no(tag, Some("ALREADYEXISTS"), "Mailbox already exists"),
            Err(store::Error::InvalidMailboxName(reason)) => self.no(tag, Some("CANNOT"), &reason),
            Err(e) => self.server_error(tag, &e),
        }
    }

    pub(crate) async fn delete(&mut self, tag: &str, raw: &[u8]) -> Outcome {
        let Some((account, name)) = self.target(tag, raw) else {
            return Ok(Flow::Continue);
        };
        if let State::Selected { view, .. } = &self.state
            && view.mailbox.name == name
        {
            return self.no(tag, Some("INUSE"), "Mailbox is selected");
        }
        match self.server.store.delete_mailbox(account, &name).await {
            Ok(()) => self.ok(tag, "DELETE completed"),
            Err(store::Error::NoSuchMailbox(_)) => self.no(tag, Some("NONEXISTENT"), "No such mailbox"),
            Err(store::Error::InvalidMailboxName(reason)) => self.no(tag, Some("CANNOT"), &reason),
            Err(e) => self.server_error(tag, &e),
        }
    }

    pub(crate) async fn rename(&mut self, tag: &str, from: &[u8], to: &[u8]) -> Outcome {
        let Some(account) = self.account().map(|a| a.id) else {
            return Ok(Flow::Continue);
        };
        let (Ok(from), Ok(to)) = (self.name(tag, from), self.name(tag, to)) else {
            return Ok(Flow::Continue);
        };
        match self
            .server
            .store
            .rename_mailbox(account, &from, &to, self.mailbox_limits())
            .await
        {
            Ok(()) => self.ok(tag, "RENAME completed"),
            Err(store::Error::MailboxLimit(reason)) => self.no(tag, Some("LIMIT"), &reason),
            Err(store::Error::NoSuchMailbox(_)) => self.no(tag, Some("NONEXISTENT"), "No such mailbox"),
            Err(store::Error::MailboxExists(_)) => self.no(tag, Some("ALREADYEXISTS"), "Target mailbox exists"),
            Err(store::Error::InvalidMailboxName(reason)) => self.no(tag, Some("CANNOT"), &reason),
            Err(e) => self.server_error(tag, &e),
        }
    }

    pub(crate) async fn subscribe(&mut self, tag: &str, raw: &[u8], subscribed: bool) -> Outcome {
        let Some((account, name)) = self.target(tag, raw) else {
            return Ok(Flow::Continue);
        };
        let limits = self.mailbox_limits();
        match self
            .server
            .store
            .set_subscribed(account, &name, subscribed, limits)
            .await
        {
            Ok(()) => self.ok(
                tag,
                if subscribed {
                    "SUBSCRIBE completed"
                } else {
                    "UNSUBSCRIBE completed"
                },
            ),
            Err(store::Error::NoSuchMailbox(_)) => self.no(tag, Some("NONEXISTENT"), "No such mailbox"),
            Err(store::Error::MailboxLimit(reason)) => self.no(tag, Some("LIMIT"), &reason),
            Err(e) => self.server_error(tag, &e),
        }
    }

    pub(crate) async fn status(&mut self, tag: &str, raw: &[u8], items: &[StatusItem]) -> Outcome {
        let Some((account, name)) = self.target(tag, raw) else {
            return Ok(Flow::Continue);
        };
        let mailbox = match self.server.store.mailbox(account, &name).await {
            Ok(Some(mailbox)) => mailbox,
            Ok(None) => return self.no(tag, Some("NONEXISTENT"), "No such mailbox"),
            Err(e) => return self.server_error(tag, &e),
        };
        let mut status = match self.server.store.mailbox_status(&mailbox).await {
            Ok(status) => status,
            Err(e) => return self.server_error(tag, &e),
        };
        if items.contains(&StatusItem::Recent) {
            status.recent = self.server.store.unclaimed_recent(mailbox.id).await.unwrap_or(0);
        }
        let mut out = b"* STATUS ".to_vec();
        mailbox_name(&mut out, &mailbox.name, self.utf8);
        out.extend_from_slice(format!(" ({})\r\n", status_line(&status, items)).as_bytes());
        self.conn.send(&out);
        self.report_changes(true, false).await?;
        self.ok(tag, "STATUS completed")
    }

    pub(crate) async fn append(&mut self, tag: &str, raw: &[u8], messages: Vec<AppendMessage>) -> Outcome {
        let Some((account, name)) = self.target(tag, raw) else {
            return Ok(Flow::Continue);
        };
        let mailbox = match self.server.store.mailbox(account, &name).await {
            Ok(Some(mailbox)) => mailbox,
            // RFC 9051 §6.3.12: TRYCREATE tells the client to CREATE first.
            Ok(None) => return self.no(tag, Some("TRYCREATE"), "No such mailbox"),
            Err(e) => return self.server_error(tag, &e),
        };
        // All the messages' keywords at once, before any is stored.
        let keywords = keywords_of(messages.iter().flat_map(|m| &m.flags));
        if let Some(refused) = self.refuse_keywords(tag, mailbox.id, keywords.iter()).await {
            return refused;
        }
        let mut uids = Vec::new();
        let mut uidvalidity = mailbox.uidvalidity;
        for message in messages {
            if message.content.is_empty() {
                return self.no(tag, None, "Empty messages are not stored");
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
            let facts = facts_of(&content);
            let stored = async {
                let content = self.server.store.put_content(content).await?;
                self.server.store.append(mailbox.id, content, flags, date, facts).await
            };
            match stored.await {
                Ok((validity, uid)) => {
                    uidvalidity = validity;
                    uids.push(uid.to_string());
                }
                Err(e) => return self.server_error(tag, &e),
            }
        }
        self.report_changes(true, false).await?;
        let code = format!("APPENDUID {uidvalidity} {}", uids.join(","));
        self.tagged(tag, "OK", Some(&code), "APPEND completed");
        Ok(Flow::Continue)
    }

    /// NO [SERVERBUG]: a failure of ours, logged (architecture: Rust errors
    /// map to this in one place).
    pub(crate) fn server_error(&mut self, tag: &str, error: &store::Error) -> Outcome {
        tracing::error!(%error, "command failed");
        self.no(tag, Some("SERVERBUG"), "Internal error, try again later")
    }
}

/// The parsed facts of a message, computed once when it is stored.
pub(crate) fn facts_of(content: &[u8]) -> MessageFacts {
    let facts = imf::facts(content);
    MessageFacts {
        envelope: facts.envelope,
        body_structure: facts.body_structure,
        body: facts.body,
        header: content.get(..facts.header_len).map(<[u8]>::to_vec),
        search_fields: facts.search_fields,
    }
}

/// `MESSAGES 3 UNSEEN 1 ...` for the items asked.
pub(crate) fn status_line(status: &store::MailboxStatus, items: &[StatusItem]) -> String {
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
        })
        .collect::<Vec<_>>()
        .join(" ")
}
