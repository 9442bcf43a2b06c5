//! `postamt export maildir|mbox DIR --user ADDRESS`: a user's mailboxes
//! written out in the forms `import` reads (`import::maildir`,
//! `import::mbox`), with flags, keywords and internal dates, each
//! mailbox's messages in UID order. Then the written tree is read back
//! with the import's own readers and compared, message by message
//! (content hash, flags, date), so that what `export` writes `import`
//! takes back the same.
//!
//! Messages are written as the store serves them over IMAP (CRLF line
//! ends, the trace fields of local delivery included).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{Context, bail};
use store::Store;

use crate::config::Config;
use crate::import::{Message, maildir, mbox, sha256_hex};

/// The two forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Maildir++ as Dovecot keeps it.
    Maildir,
    /// One mbox file (mboxrd) per mailbox.
    Mbox,
}

/// What one message was written with: content hash, flag names, date.
type Written = (String, Vec<String>, i64);

pub async fn export(config: &Config, format: Format, dir: &Path, address: &str) -> anyhow::Result<()> {
    if dir.exists() && fs::read_dir(dir)?.next().is_some() {
        bail!("{} is not empty: export into a new or empty directory", dir.display());
    }
    let store = crate::admin::open(config).await?;
    let Some(account) = store.find_account(address).await? else {
        bail!("user {address} does not exist; `postamt user list` shows the users");
    };
    private_dir(dir)?;
    let mut written: BTreeMap<String, Vec<Written>> = BTreeMap::new();
    for mailbox in store.mailboxes(account.id).await? {
        let messages = write_mailbox(&store, format, dir, &mailbox)
            .await
            .with_context(|| format!("cannot export mailbox {}", mailbox.name))?;
        written.insert(mailbox.name, messages);
    }
    let count: usize = written.values().map(Vec::len).sum();
    let verified = verify(format, dir, &written)?;
    println!(
        "Exported {count} messages from {} mailboxes of {address} into {}; verified {verified} content hashes, \
         flags and dates",
        written.len(),
        dir.display()
    );
    Ok(())
}

async fn write_mailbox(
    store: &Store,
    format: Format,
    dir: &Path,
    mailbox: &store::MailboxInfo,
) -> anyhow::Result<Vec<Written>> {
    let mut list = store.message_list(mailbox.id).await?;
    list.sort_by_key(|m| m.uid);
    let keywords: BTreeSet<String> = list.iter().flat_map(|m| m.flags.keywords.iter().cloned()).collect();
    let mut maildir_writer = None;
    let mut mbox_writer = None;
    match format {
        Format::Maildir => {
            let keywords = keywords.into_iter().collect();
            maildir_writer = Some(maildir::Writer::create(
                dir,
                &mailbox.name,
                keywords,
                mailbox.uidvalidity,
            )?);
        }
        Format::Mbox => mbox_writer = Some(mbox::Writer::create(dir, &mailbox.name)?),
    }
    let mut written = Vec::with_capacity(list.len());
    for chunk in list.chunks(256) {
        let uids: Vec<i64> = chunk.iter().map(|m| m.uid).collect();
        let contents = store.message_contents(mailbox.id, &uids).await?;
        for meta in chunk {
            let Some(stored) = contents.iter().find(|c| c.uid == meta.uid) else {
                continue; // expunged meanwhile
            };
            let content = store.open_message(stored.stored(), false).await?.read_all().await?;
            let message = Message {
                content,
                flags: meta.flags.clone(),
                internal_date: meta.internal_date,
            };
            match (&mut maildir_writer, &mut mbox_writer) {
                (Some(writer), _) => writer.add(meta.uid, &message)?,
                (_, Some(writer)) => writer.add(&message)?,
                _ => unreachable!("one writer is made above"),
            }
            written.push((
                sha256_hex(&message.content),
                message.flags.names(),
                message.internal_date,
            ));
        }
    }
    if let Some(writer) = maildir_writer {
        writer.finish(mailbox.uidnext)?;
    }
    if let Some(writer) = mbox_writer {
        writer.finish()?;
    }
    Ok(written)
}

/// Reads the tree back as `import` would and compares; the messages
/// verified.
fn verify(format: Format, dir: &Path, written: &BTreeMap<String, Vec<Written>>) -> anyhow::Result<usize> {
    let mut read: BTreeMap<String, Vec<Written>> = BTreeMap::new();
    let seen = |message: Message| {
        let content = crate::import::crlf(message.content);
        (sha256_hex(&content), message.flags.names(), message.internal_date)
    };
    match format {
        Format::Maildir => {
            for folder in maildir::folders(dir)? {
                let mut messages = Vec::new();
                for file in &folder.files {
                    messages.push(seen(folder.load(file, usize::MAX)?.expect("no limit")));
                }
                read.insert(folder.name, messages);
            }
        }
        Format::Mbox => {
            for folder in mbox::folders(dir)? {
                let mut messages = Vec::new();
                for index in 0..folder.messages.len() {
                    messages.push(seen(folder.load(index, usize::MAX)?.expect("no limit")));
                }
                read.insert(folder.name, messages);
            }
        }
    }
    let mut verified = 0;
    for (name, messages) in written {
        let Some(back) = read.get(name) else {
            bail!("mailbox {name} is not found in what was written");
        };
        if back.len() != messages.len() {
            bail!(
                "mailbox {name}: {} messages written, {} read back",
                messages.len(),
                back.len()
            );
        }
        for (i, (ours, theirs)) in messages.iter().zip(back).enumerate() {
            if ours != theirs {
                bail!(
                    "mailbox {name}, message {}: written as {ours:?}, read back as {theirs:?}",
                    i + 1
                );
            }
            verified += 1;
        }
    }
    Ok(verified)
}

/// Makes `dir` (and missing parents) readable by this user only.
pub(crate) fn private_dir(dir: &Path) -> anyhow::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// A new file readable by this user only.
pub(crate) fn private_create(path: &Path) -> anyhow::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Writes `data` into a new private file, synced.
pub(crate) fn private_file(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    let mut file = private_create(path)?;
    io::Write::write_all(&mut file, data)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}
