//! `postamt import maildir|mbox|imap`: a user's mail moved in from
//! elsewhere. Each source (`maildir`, `mbox`, `imap`) reads folders and
//! messages with their flags and internal dates; the [`Importer`] here
//! stores them through the store's APPEND path (`Store::append_many`, as
//! IMAP APPEND does: new UIDs and MODSEQs, the parsed facts, content
//! inline or in a blob), a batch of messages per transaction, then reads
//! every stored message back and checks its SHA-256, flags and date
//! against what was read.
//!
//! Content is stored with CRLF line ends, as IMAP serves it (RFC 9051
//! §2.3.1: "lines terminated by CRLF"); Maildir and mbox files usually
//! hold bare LF. The content hash of a message is the SHA-256 of that CRLF
//! form, on both sides.
//!
//! Running an import again is harmless: a message whose content hash and
//! internal date are already in the target mailbox is skipped (counted as
//! "already there"), so an interrupted import can simply be run again.

pub(crate) mod imap;
mod imap_client;
pub(crate) mod maildir;
pub(crate) mod mbox;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use anyhow::{Context, bail};
use store::{Appended, Flags, MailboxId, MailboxLimits, MessageFacts, Store};

use crate::config::Config;

/// One message read from a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub content: Vec<u8>,
    pub flags: Flags,
    pub internal_date: i64,
}

/// The mailboxes every account has, with the names other servers (and
/// mail clients) give the same folders; matched case-insensitively.
const SPECIAL: &[(&str, &[&str])] = &[
    ("INBOX", &[]),
    ("Sent", &["Sent Messages", "Sent Items", "Sent Mail"]),
    ("Drafts", &["Draft"]),
    ("Trash", &["Deleted Messages", "Deleted Items", "Bin"]),
    ("Junk", &["Spam", "Junk E-mail", "Junk Email"]),
    ("Archive", &["Archives"]),
];

/// Our name for a top-level folder another server calls `name`.
pub(crate) fn our_name(name: &str) -> String {
    let (top, rest) = match name.split_once(store::SEPARATOR) {
        Some((top, rest)) => (top, Some(rest)),
        None => (name, None),
    };
    let top = SPECIAL
        .iter()
        .find(|(ours, theirs)| ours.eq_ignore_ascii_case(top) || theirs.iter().any(|t| t.eq_ignore_ascii_case(top)))
        .map_or(top, |(ours, _)| ours);
    match rest {
        Some(rest) => format!("{top}{}{rest}", store::SEPARATOR),
        None => top.to_string(),
    }
}

/// Puts `name` under `prefix` (`--mailbox`): the source's INBOX becomes
/// the prefix itself.
pub(crate) fn under(prefix: Option<&str>, name: &str) -> String {
    match prefix {
        None => name.to_string(),
        Some(prefix) if name == "INBOX" => prefix.to_string(),
        Some(prefix) => format!("{prefix}{}{name}", store::SEPARATOR),
    }
}

/// `content` with every bare LF made CRLF (CRLF kept as it is).
pub(crate) fn crlf(content: Vec<u8>) -> Vec<u8> {
    let bare = content
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' && (i == 0 || content[i - 1] != b'\r'))
        .count();
    if bare == 0 {
        return content;
    }
    let mut out = Vec::with_capacity(content.len() + bare);
    for (i, &b) in content.iter().enumerate() {
        if b == b'\n' && (i == 0 || content[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What one mailbox of the target holds and was given.
struct Target {
    id: MailboxId,
    /// (content hash, internal date) of every message in it.
    present: HashSet<(String, i64)>,
    /// UID, content hash, flags and date of each message stored now.
    stored: Vec<(i64, String, Flags, i64)>,
    /// The keywords its messages carry, lower-cased.
    keywords: HashSet<String>,
}

/// Messages stored in one transaction: a commit (an fsync) per message
/// made a 100 000-message import take a quarter of an hour; a batch is
/// bounded by count and size so that its content held here stays small.
const BATCH_MESSAGES: usize = 500;
const BATCH_BYTES: usize = 16 * 1024 * 1024;

/// Messages read for one mailbox and not stored yet, in order, each with
/// its content hash, flags and date for the check afterwards.
#[derive(Default)]
struct Pending {
    name: String,
    messages: Vec<Appended>,
    checks: Vec<(String, Flags, i64)>,
    bytes: usize,
}

/// Stores messages into one account and checks them (see the module's
/// comment).
pub(crate) struct Importer {
    store: Store,
    account: store::AccountId,
    limits: MailboxLimits,
    max_size: usize,
    /// IMAP's keyword limits (`[imap] max_keywords`, `max_keyword_length`),
    /// which APPEND enforces too.
    max_keywords: (usize, usize),
    mailboxes: BTreeMap<String, Target>,
    pending: Pending,
    pub imported: u64,
    pub already_there: u64,
    pub too_large: Vec<String>,
}

impl Importer {
    pub(crate) async fn new(config: &Config, address: &str) -> anyhow::Result<Importer> {
        let store = crate::admin::open(config).await?;
        let Some(account) = store.find_account(address).await? else {
            bail!("user {address} does not exist; add it first with `postamt user add {address}`");
        };
        Ok(Importer {
            store,
            account: account.id,
            limits: MailboxLimits {
                max_name: config.imap.max_mailbox_name,
                max_mailboxes: config.imap.max_mailboxes,
            },
            max_size: config.smtp.max_message_size,
            max_keywords: (config.imap.max_keywords, config.imap.max_keyword_length),
            mailboxes: BTreeMap::new(),
            pending: Pending::default(),
            imported: 0,
            already_there: 0,
            too_large: Vec::new(),
        })
    }

    /// The mailbox `name`, made (and subscribed) if the account lacks it.
    async fn target(&mut self, name: &str) -> anyhow::Result<&mut Target> {
        let name = store::canonical_name(name);
        if !self.mailboxes.contains_key(&name) {
            let info = match self.store.mailbox(self.account, &name).await? {
                Some(info) => info,
                None => {
                    let info = self
                        .store
                        .create_mailbox(self.account, &name, self.limits)
                        .await
                        .with_context(|| format!("cannot create mailbox {name:?}"))?;
                    self.store
                        .set_subscribed(self.account, &name, true, self.limits)
                        .await?;
                    info
                }
            };
            let mut present = HashSet::new();
            let uids: Vec<i64> = self.store.message_list(info.id).await?.iter().map(|m| m.uid).collect();
            // A chunk at a time: each answer holds a message's envelope
            // and structure too.
            for chunk in uids.chunks(1000) {
                for message in self.store.message_contents(info.id, chunk).await? {
                    if message.trace_headers.is_empty() {
                        present.insert((message.blob_hash, message.internal_date));
                    }
                }
            }
            let keywords = self.store.mailbox_keywords(info.id).await?;
            let target = Target {
                id: info.id,
                present,
                stored: Vec::new(),
                keywords: keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
            };
            self.mailboxes.insert(name.clone(), target);
        }
        Ok(self.mailboxes.get_mut(&name).expect("inserted above"))
    }

    /// Stores `message` in mailbox `name` unless it is there already.
    pub(crate) async fn add(&mut self, name: &str, message: Message) -> anyhow::Result<()> {
        let content = crlf(message.content);
        if content.len() > self.max_size {
            self.refuse(name, content.len() as u64);
            return Ok(());
        }
        let hash = sha256_hex(&content);
        let key = (hash.clone(), message.internal_date);
        let target = self.target(name).await?;
        if !target.present.insert(key) {
            self.already_there += 1;
            return Ok(());
        }
        let (max_keywords, max_length) = self.max_keywords;
        let target = self
            .mailboxes
            .get_mut(&store::canonical_name(name))
            .expect("made above");
        for keyword in &message.flags.keywords {
            if keyword.len() > max_length {
                bail!("a message for {name} has the keyword {keyword:?}, longer than [imap] max_keyword_length");
            }
            if target.keywords.insert(keyword.to_ascii_lowercase()) && target.keywords.len() > max_keywords {
                bail!(
                    "mailbox {name} would have more than {max_keywords} keywords ([imap] max_keywords) with {keyword:?}"
                );
            }
        }
        let size = content.len();
        let facts = MessageFacts::of(&content);
        let content = self.store.put_content(content).await?;
        if self.pending.name != name {
            self.flush().await?;
            self.pending.name = name.to_string();
        }
        let pending = &mut self.pending;
        pending
            .messages
            .push((content, message.flags.clone(), message.internal_date, facts));
        pending.checks.push((hash, message.flags, message.internal_date));
        pending.bytes += size;
        if pending.messages.len() >= BATCH_MESSAGES || pending.bytes >= BATCH_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    /// Stores the pending messages, all in one transaction.
    async fn flush(&mut self) -> anyhow::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        if pending.messages.is_empty() {
            return Ok(());
        }
        let name = pending.name;
        let target = self
            .mailboxes
            .get_mut(&store::canonical_name(&name))
            .expect("made when its first message was added");
        let (_, uids) = self
            .store
            .append_many(target.id, pending.messages)
            .await
            .with_context(|| format!("cannot store messages in {name}"))?;
        self.imported += uids.len() as u64;
        for (uid, (hash, flags, date)) in uids.into_iter().zip(pending.checks) {
            target.stored.push((uid, hash, flags, date));
        }
        Ok(())
    }

    /// Reads back every message stored and compares it with what was
    /// read; the number of content hashes verified.
    pub(crate) async fn verify(&self) -> anyhow::Result<u64> {
        let mut verified = 0;
        for (name, target) in &self.mailboxes {
            let metas: BTreeMap<i64, store::MessageMeta> = self
                .store
                .message_list(target.id)
                .await?
                .into_iter()
                .map(|m| (m.uid, m))
                .collect();
            for chunk in target.stored.chunks(256) {
                let uids: Vec<i64> = chunk.iter().map(|(uid, ..)| *uid).collect();
                let contents = self.store.message_contents(target.id, &uids).await?;
                for (uid, hash, flags, date) in chunk {
                    let Some(stored) = contents.iter().find(|c| c.uid == *uid) else {
                        bail!("{name} UID {uid}: the message just stored is gone (expunged meanwhile?)");
                    };
                    let data = self
                        .store
                        .open_message(stored.stored(), false)
                        .await?
                        .read_all()
                        .await?;
                    let actual = sha256_hex(&data);
                    if actual != *hash {
                        bail!("{name} UID {uid}: stored with SHA-256 {actual}, read with {hash}");
                    }
                    let meta = &metas[uid];
                    if meta.internal_date != *date || meta.flags.names() != flags.names() {
                        bail!(
                            "{name} UID {uid}: stored with flags {:?} and date {}, read with {:?} and {date}",
                            meta.flags.names(),
                            meta.internal_date,
                            flags.names()
                        );
                    }
                    verified += 1;
                }
            }
        }
        Ok(verified)
    }

    /// Stores what is pending, verifies, prints the counts, and fails if
    /// anything was left out.
    pub(crate) async fn finish(mut self, source: &str) -> anyhow::Result<()> {
        self.flush().await?;
        let verified = self.verify().await?;
        let touched: BTreeSet<&String> = self.mailboxes.keys().collect();
        println!(
            "Imported {} messages into {} mailboxes from {source} ({} already there); verified {verified} \
             content hashes, flags and dates",
            self.imported,
            touched.len(),
            self.already_there
        );
        for name in touched {
            let count = self.mailboxes[name].stored.len();
            println!("  {name:<30} {count:>8} imported");
        }
        if !self.too_large.is_empty() {
            for refused in &self.too_large {
                eprintln!("not imported: {refused}");
            }
            bail!("{} messages were too large to import", self.too_large.len());
        }
        Ok(())
    }
}

impl Importer {
    /// Makes sure mailbox `name` exists, even if no message goes there:
    /// the folder structure comes along too.
    pub(crate) async fn ensure(&mut self, name: &str) -> anyhow::Result<()> {
        self.target(name).await.map(drop)
    }

    pub(crate) fn max_size(&self) -> usize {
        self.max_size
    }

    /// Notes a message left out for its size.
    pub(crate) fn refuse(&mut self, name: &str, size: u64) {
        self.too_large.push(format!(
            "a message of {size} bytes for {name} (over [smtp] max_message_size, {} bytes)",
            self.max_size
        ));
    }
}

/// `postamt import ...`.
pub async fn run(config: &Config, command: crate::cli::ImportCommand) -> anyhow::Result<()> {
    use crate::cli::ImportCommand;
    match command {
        ImportCommand::Maildir { path, user, mailbox } => maildir(config, &path, &user, mailbox.as_deref()).await,
        ImportCommand::Mbox { path, user, mailbox } => mbox(config, &path, &user, mailbox.as_deref()).await,
        ImportCommand::Imap(args) => imap::import(config, args).await,
    }
}

/// `postamt import maildir PATH --user ADDRESS [--mailbox NAME]`.
pub async fn maildir(config: &Config, path: &std::path::Path, user: &str, prefix: Option<&str>) -> anyhow::Result<()> {
    let folders = maildir::folders(path)?;
    let mut importer = Importer::new(config, user).await?;
    for folder in &folders {
        let name = under(prefix, &our_name(&folder.name));
        importer.ensure(&name).await?;
        for file in &folder.files {
            match folder.load(file, importer.max_size())? {
                Ok(message) => importer.add(&name, message).await?,
                Err(size) => importer.refuse(&name, size),
            }
        }
    }
    importer.finish(&format!("the Maildir {}", path.display())).await
}

/// `postamt import mbox PATH --user ADDRESS [--mailbox NAME]`.
pub async fn mbox(config: &Config, path: &std::path::Path, user: &str, prefix: Option<&str>) -> anyhow::Result<()> {
    let folders = mbox::folders(path)?;
    let mut importer = Importer::new(config, user).await?;
    for folder in &folders {
        let name = under(prefix, &our_name(&folder.name));
        importer.ensure(&name).await?;
        for index in 0..folder.messages.len() {
            match folder.load(index, importer.max_size())? {
                Ok(message) => importer.add(&name, message).await?,
                Err(size) => importer.refuse(&name, size),
            }
        }
    }
    importer.finish(&format!("the mbox {}", path.display())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_servers_names_for_our_folders() {
        assert_eq!(our_name("inbox"), "INBOX");
        assert_eq!(our_name("Sent Messages"), "Sent");
        assert_eq!(our_name("Spam"), "Junk");
        assert_eq!(our_name("Lists/rust"), "Lists/rust");
        assert_eq!(our_name("Trash/old"), "Trash/old");
        assert_eq!(under(Some("Old"), "INBOX"), "Old");
        assert_eq!(under(Some("Old"), "Sent"), "Old/Sent");
    }

    #[test]
    fn bare_line_feeds_become_crlf() {
        assert_eq!(crlf(b"a\nb\r\nc\n".to_vec()), b"a\r\nb\r\nc\r\n");
        assert_eq!(crlf(b"a\r\n".to_vec()), b"a\r\n");
    }
}
