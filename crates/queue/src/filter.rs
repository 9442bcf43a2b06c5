//! Users' Sieve scripts at local delivery (RFC 5228, issue 23): before a
//! copy is stored for an account, its active script (or its domain's
//! default) decides where the copy goes and with which flags, and what
//! else happens: redirects, a vacation reply, a rejection.
//!
//! The script runs on a blocking thread (its work is bounded by
//! `sieve::Limits`, but it is CPU work), reading the store synchronously
//! for what it asks (mailboxes, included scripts, duplicates). Whatever
//! fails around a script (it cannot be loaded, it fails at run time), the
//! message is filed as if there were no script: a filter never loses mail.
//!
//! - **redirect** goes out as a message of its own, from an SRS address
//!   of the account's domain (as alias forwarding does), sealed likewise,
//!   with a trace field naming the account, so that a message that comes
//!   back to the same account is not redirected a second time.
//! - **vacation** replies go out with a null reverse-path, once per sender
//!   and handle per period: the key is remembered with the delivery.
//! - **reject** fails the recipient with the script's reason, so the
//!   sender gets a DSN saying so (RFC 5429 §2.1); other accounts of an
//!   alias still get their copies.

use std::collections::HashMap;
use std::sync::Arc;

use ring::digest::{SHA256, digest};
use sieve::mail::ParsedMail;
use sieve::{Action, Envelope, Host, Program};
use store::{AccountId, CopyTarget, Flags, LocalCopy, QueueEntry, QueueRecipient, Remembered, Store};
use wire::smtp::{MessageOptions, Recipient};

use crate::{Error, Queue};

/// The trace field on a redirected copy, naming the account whose script
/// redirected it (RFC 5228 §4.2 asks implementations to prevent loops).
pub(crate) const REDIRECTED_BY: &str = "X-Postamt-Redirected-By";

/// What an account's script decided about its copy.
#[derive(Debug, Default)]
pub(crate) struct Filtered {
    pub copies: Vec<LocalCopy>,
    /// Redirected copies and vacation replies, to queue with the delivery.
    pub entries: Vec<QueueEntry>,
    pub remembered: Vec<Remembered>,
    /// The script's reason, when it rejected the message.
    pub rejected: Option<String>,
}

/// The account whose copy is filtered, and how it would be filed with no
/// script.
pub(crate) struct FilterTarget<'a> {
    pub account: AccountId,
    pub address: &'a str,
    pub trace_headers: Vec<u8>,
    pub default_target: CopyTarget,
}

impl Queue {
    /// See [`rejection`].
    pub async fn sieve_rejection(
        &self,
        reverse_path: &str,
        recipient: &str,
        content: Vec<u8>,
    ) -> Result<Option<String>, Error> {
        rejection(self, reverse_path, recipient, content).await
    }

    /// Runs the account's script on `content`; None when it has none (or
    /// it could not be read), and the copy is filed as usual.
    pub(crate) async fn filter(
        &self,
        recipient: &QueueRecipient,
        target: FilterTarget<'_>,
        content: &Arc<Vec<u8>>,
    ) -> Result<Option<Filtered>, Error> {
        let Some(stored) = self.store.active_sieve_script(target.account).await? else {
            return Ok(None);
        };
        let program = match self.programs.get(&stored.compiled, &stored.script) {
            Ok(program) => program,
            Err(e) => {
                tracing::warn!(account = target.address, error = %e, "sieve script cannot be loaded; filing as usual");
                return Ok(None);
            }
        };
        let now = store::now();
        let host = StoreHost {
            store: self.store.clone(),
            account: target.account,
            now,
            hostname: self.config.hostname.clone(),
        };
        let envelope = Envelope {
            from: recipient.reverse_path.clone(),
            to: recipient.address.clone(),
            auth: None,
        };
        let limits = self.config.sieve.clone();
        let message = content.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            sieve::run(&program, &ParsedMail::new(&message), &envelope, &host, &limits)
        })
        .await
        .map_err(Error::Task)?;
        if let Some(error) = &outcome.error {
            tracing::warn!(account = target.address, queue_id = %recipient.queue_id, %error, "sieve script failed; message kept");
        }
        self.carry_out(recipient, &target, content, outcome, now)
            .await
            .map(Some)
    }

    /// Turns the script's actions into copies, queue entries and keys.
    async fn carry_out(
        &self,
        recipient: &QueueRecipient,
        target: &FilterTarget<'_>,
        content: &Arc<Vec<u8>>,
        outcome: sieve::Outcome,
        now: i64,
    ) -> Result<Filtered, Error> {
        let mut filtered = Filtered::default();
        // RFC 5293: what the script's edits left is what is filed and sent.
        let (content, edited) = match &outcome.edited_header {
            Some(header) => {
                let edited = with_header(content, header);
                let facts = store::MessageFacts::of(&edited);
                let stored = self.store.put_content(edited.clone()).await?;
                let copy = Arc::new(store::EditedContent { content: stored, facts });
                (Arc::new(edited), Some(copy))
            }
            None => (content.clone(), None),
        };
        let copy = |target_mailbox: CopyTarget, flags: &[String]| LocalCopy {
            account: target.account,
            trace_headers: target.trace_headers.clone(),
            target: target_mailbox,
            flags: Flags::from_names(flags),
            content: edited.clone(),
        };
        let mut redirect_refused = false;
        for action in outcome.actions {
            match action {
                Action::Keep { flags } => filtered.copies.push(copy(target.default_target.clone(), &flags)),
                Action::FileInto {
                    mailbox,
                    flags,
                    create,
                    special_use,
                } => {
                    let destination = if mailbox.eq_ignore_ascii_case("INBOX") && special_use.is_none() {
                        CopyTarget::Inbox
                    } else {
                        CopyTarget::Mailbox {
                            name: mailbox,
                            create,
                            special_use,
                        }
                    };
                    filtered.copies.push(copy(destination, &flags));
                }
                Action::Redirect { address } => match self.redirect(recipient, target, &content, &address).await? {
                    Some(entry) => filtered.entries.push(entry),
                    None => redirect_refused = true,
                },
                Action::Reject { reason, .. } => filtered.rejected = Some(reason),
                Action::Vacation(reply) => {
                    let key = hashed(&reply.key);
                    if self.store.sieve_seen(target.account, &key, now)? {
                        continue;
                    }
                    filtered.entries.push(self.vacation(&reply, now).await?);
                    filtered.remembered.push(Remembered {
                        account: target.account,
                        key,
                        expires_at: now.saturating_add(reply.period as i64),
                    });
                }
            }
        }
        // A redirect that could not be made (a loop, the sending limit)
        // must not lose the message it took the keep from.
        if redirect_refused && filtered.copies.is_empty() && filtered.rejected.is_none() {
            filtered.copies.push(copy(target.default_target.clone(), &[]));
        }
        // RFC 7352 §3.1: a key seen before keeps its period unless :last
        // starts it again.
        for duplicate in outcome.duplicates {
            let key = hashed(&format!("duplicate\0{}", duplicate.key));
            let known = filtered.remembered.iter().any(|r| r.key == key);
            if known || (!duplicate.last && self.store.sieve_seen(target.account, &key, now)?) {
                continue;
            }
            filtered.remembered.push(Remembered {
                account: target.account,
                key,
                expires_at: now.saturating_add(duplicate.seconds as i64),
            });
        }
        Ok(filtered)
    }

    /// A redirected copy: from an SRS address of the account's domain,
    /// with the trace field that stops a second redirect by the account.
    async fn redirect(
        &self,
        recipient: &QueueRecipient,
        target: &FilterTarget<'_>,
        content: &[u8],
        address: &str,
    ) -> Result<Option<QueueEntry>, Error> {
        let own = target.address.to_ascii_lowercase();
        let looped = imf::filter::header_fields(content)
            .iter()
            .any(|(name, value)| name.eq_ignore_ascii_case(REDIRECTED_BY) && value.trim().eq_ignore_ascii_case(&own));
        if looped {
            tracing::warn!(
                account = target.address,
                to = address,
                "sieve redirect refused: the message was redirected by this account before"
            );
            return Ok(None);
        }
        // A redirect is mail the user sends: it counts toward their
        // hourly limits like their submissions, and waits for none.
        if let Some(limit) = self.outgoing.get()
            && !limit.allows(&own, 1).await
        {
            tracing::warn!(
                account = target.address,
                to = address,
                "sieve redirect not made: the user is over their sending limit"
            );
            return Ok(None);
        }
        let domain = own.rsplit_once('@').map_or("", |(_, d)| d).to_string();
        let mut copy = format!("{REDIRECTED_BY}: {own}\r\n").into_bytes();
        copy.extend_from_slice(content);
        let sealed = match &self.sealer {
            Some(sealer) => match sealer.seal(&domain, &copy).await {
                Ok(mut fields) => {
                    fields.extend_from_slice(&copy);
                    fields
                }
                Err(e) => {
                    tracing::warn!(account = target.address, error = %e, "redirected copy left unsealed");
                    copy
                }
            },
            None => copy,
        };
        let now = store::now();
        Ok(Some(QueueEntry {
            id: Queue::new_id()?,
            reverse_path: self.forward_sender(&recipient.reverse_path, &domain, now).await?,
            recipients: vec![Recipient {
                address: address.to_string(),
                ..recipient.recipient()
            }],
            options: MessageOptions {
                body: recipient.body,
                smtputf8: recipient.smtputf8,
                ..MessageOptions::default()
            },
            content: self.store.put_content(sealed).await?,
            received_at: now,
        }))
    }

    /// A vacation reply, to be sent with a null reverse-path (RFC 5230
    /// §5.1), DKIM-signed for the account's domain when a sealer can.
    async fn vacation(&self, reply: &sieve::VacationReply, now: i64) -> Result<QueueEntry, Error> {
        let id = Queue::new_id()?;
        let message = reply.message(&format!("{id}.vacation@{}", self.config.hostname), now);
        let domain = reply.from.rsplit_once('@').map_or("", |(_, d)| d.trim_end_matches('>'));
        let signed = match &self.sealer {
            Some(sealer) => match sealer.sign(domain, &message).await {
                Ok(mut fields) => {
                    fields.extend_from_slice(&message);
                    fields
                }
                Err(_) => message,
            },
            None => message,
        };
        Ok(QueueEntry {
            id,
            reverse_path: String::new(),
            recipients: vec![Recipient {
                address: reply.to.clone(),
                ..Recipient::default()
            }],
            options: MessageOptions {
                body: wire::smtp::BodyType::EightBitMime,
                ..MessageOptions::default()
            },
            content: self.store.put_content(signed).await?,
            received_at: now,
        })
    }
}

/// For a message with one recipient while its SMTP transaction is still
/// open: the reason that recipient's script rejects it with, if it does.
/// RFC 5429 §2.1 lets ereject refuse at the protocol level; a plain
/// reject is refused there too, as a 550 reaches the sender sooner and
/// surer than a DSN would. Only scripts that may reject are run here
/// (`Program::may_reject`); whatever else the run decides is done at
/// delivery, by the run there.
async fn rejection(
    queue: &Queue,
    reverse_path: &str,
    recipient: &str,
    content: Vec<u8>,
) -> Result<Option<String>, Error> {
    let (store, config) = (&queue.store, &queue.config);
    let Some((local, domain)) = recipient.rsplit_once('@') else {
        return Ok(None);
    };
    let account = match store.resolve(local, domain).await? {
        store::Resolution::Local(targets) => match targets.as_slice() {
            [store::Target::Account { id, .. }] => *id,
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    let Some(stored) = store.active_sieve_script(account).await? else {
        return Ok(None);
    };
    // A reject (or an include, which may hold one) is written in the
    // script's text: without either word there, the script cannot reject,
    // and its program need not even be loaded.
    let text = stored.script.to_ascii_lowercase();
    if !text.contains("reject") && !text.contains("include") {
        return Ok(None);
    }
    let Ok(program) = queue.programs.get(&stored.compiled, &stored.script) else {
        return Ok(None);
    };
    if !program.may_reject() {
        return Ok(None);
    }
    let host = StoreHost {
        store: store.clone(),
        account,
        now: store::now(),
        hostname: config.hostname.clone(),
    };
    let envelope = Envelope {
        from: reverse_path.to_string(),
        to: recipient.to_string(),
        auth: None,
    };
    let limits = config.sieve.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        sieve::run(&program, &ParsedMail::new(&content), &envelope, &host, &limits)
    })
    .await;
    Ok(outcome.ok().and_then(|outcome| {
        outcome.actions.into_iter().find_map(|action| match action {
            Action::Reject { reason, .. } => Some(reason),
            _ => None,
        })
    }))
}

/// Programs already loaded, by their stored form: reading a program's
/// JSON costs more than running it, and the same few scripts run for
/// message after message. A script changed is another stored form.
#[derive(Default)]
pub(crate) struct Programs {
    /// The programs, and the octets of their stored forms together.
    loaded: std::sync::Mutex<(HashMap<String, Arc<Program>>, usize)>,
}

/// Programs kept at most, and octets of their stored forms (a program
/// takes a few times that in memory); past either, the cache starts over.
const MAX_PROGRAMS: usize = 1000;
const MAX_PROGRAM_OCTETS: usize = 16 * 1024 * 1024;

impl Programs {
    fn get(&self, compiled: &str, script: &str) -> Result<Arc<Program>, sieve::CompileError> {
        if let Some(program) = self.loaded.lock().unwrap_or_else(|e| e.into_inner()).0.get(compiled) {
            return Ok(program.clone());
        }
        let program = Arc::new(Program::load(compiled, script)?);
        let mut guard = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let (loaded, octets) = &mut *guard;
        if loaded.len() >= MAX_PROGRAMS || *octets + compiled.len() > MAX_PROGRAM_OCTETS {
            loaded.clear();
            *octets = 0;
        }
        if compiled.len() <= MAX_PROGRAM_OCTETS && loaded.insert(compiled.to_string(), program.clone()).is_none() {
            *octets += compiled.len();
        }
        Ok(program)
    }
}

/// A key as the store keeps it: SHA-256 in hex, whatever its length.
fn hashed(key: &str) -> String {
    digest(&SHA256, key.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The message with `header` (as editheader left it) in place of its own.
fn with_header(content: &[u8], header: &[(String, String)]) -> Vec<u8> {
    let body_start = header_end(content);
    let mut out = Vec::with_capacity(content.len());
    for (name, value) in header {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&content[body_start..]);
    out
}

/// Where the body starts: after the blank line, or at the end.
fn header_end(content: &[u8]) -> usize {
    let mut at = 0;
    for (_, span) in imf::field_spans(content) {
        at = span.end;
    }
    match content[at..].iter().position(|&b| b == b'\n') {
        Some(newline) if content[at..at + newline].iter().all(|&b| b == b'\r') => at + newline + 1,
        _ => at,
    }
}

/// What a running script reads of the store.
struct StoreHost {
    store: Store,
    account: AccountId,
    now: i64,
    hostname: String,
}

impl Host for StoreHost {
    fn mailbox_exists(&self, name: &str) -> bool {
        self.store.sieve_mailbox_exists(self.account, name).unwrap_or(false)
    }

    fn special_use_exists(&self, mailbox: Option<&str>, uses: &[String]) -> bool {
        let have = self.store.sieve_special_uses(self.account, mailbox).unwrap_or_default();
        uses.iter().all(|u| have.iter().any(|h| h.eq_ignore_ascii_case(u)))
    }

    fn duplicate_seen(&self, key: &str) -> bool {
        let key = hashed(&format!("duplicate\0{key}"));
        self.store.sieve_seen(self.account, &key, self.now).unwrap_or(false)
    }

    fn include(&self, global: bool, name: &str) -> Option<Arc<Program>> {
        let stored = if global {
            self.store.global_sieve_script(name)
        } else {
            self.store.sieve_script(self.account, name)
        };
        let stored = stored.ok().flatten()?;
        Program::load(&stored.compiled, &stored.script).ok().map(Arc::new)
    }

    fn environment(&self, name: &str) -> Option<String> {
        // RFC 5183 §4: the items that make sense at delivery.
        let items: HashMap<&str, String> = HashMap::from([
            (
                "domain",
                self.hostname
                    .split_once('.')
                    .map_or(&*self.hostname, |(_, domain)| domain)
                    .to_string(),
            ),
            ("host", self.hostname.clone()),
            ("location", "MDA".to_string()),
            ("name", "postamt".to_string()),
            ("phase", "during".to_string()),
            ("version", env!("CARGO_PKG_VERSION").to_string()),
        ]);
        items.get(name).cloned()
    }

    fn now(&self) -> (i64, i32) {
        (self.now, 0)
    }
}
