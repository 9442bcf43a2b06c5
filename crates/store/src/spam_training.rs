//! What users teach the spam filter by moving mail (issue 17): into a
//! `\Junk` mailbox is spam, out of it (not into `\Trash`) is ham. The
//! store notes it in the transaction that copies or moves the messages,
//! so IMAP never waits for the filter; the server teaches the filter from
//! this list in the background (`pending_training`, `trained`).

use crate::sql::OptionalExtension;

use crate::{MailboxId, Result, Store};

/// What a message is, as a user said by moving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpamClass {
    Spam,
    Ham,
}

impl SpamClass {
    pub fn name(self) -> &'static str {
        match self {
            SpamClass::Spam => "spam",
            SpamClass::Ham => "ham",
        }
    }
}

/// The special use of a mailbox, if it has one.
fn special_use(tx: &crate::sql::Db, mailbox: MailboxId) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached("SELECT special_use FROM mailboxes WHERE id = $1")?
        .query_row([mailbox], |row| row.get::<Option<String>>(0))
        .optional()?
        .flatten())
}

impl Store {
    /// Notes what moving (or copying) messages from `from` (None: APPEND)
    /// to `to` teaches about their content, if anything. A content already
    /// noted with the same class is not noted again.
    pub(crate) fn note_training(
        tx: &crate::sql::Db,
        from: Option<MailboxId>,
        to: MailboxId,
        blob_hashes: &[&str],
    ) -> Result<()> {
        if blob_hashes.is_empty() {
            return Ok(());
        }
        let junk = |use_: &Option<String>| use_.as_deref() == Some("\\Junk");
        let to_use = special_use(tx, to)?;
        let from_use = match from {
            Some(from) => special_use(tx, from)?,
            None => None,
        };
        let class = if junk(&to_use) && !junk(&from_use) {
            SpamClass::Spam
        } else if junk(&from_use) && !junk(&to_use) && to_use.as_deref() != Some("\\Trash") {
            SpamClass::Ham
        } else {
            return Ok(());
        };
        let mut note = tx.prepare_cached(
            "INSERT INTO spam_training (blob_hash, class, state, updated_at) VALUES ($1, $2, 'pending', $3)
             ON CONFLICT (blob_hash) DO UPDATE SET class = excluded.class, state = 'pending',
                 updated_at = excluded.updated_at
             WHERE spam_training.class != excluded.class",
        )?;
        for hash in blob_hashes {
            note.execute((hash, class.name(), crate::now()))?;
        }
        Ok(())
    }

    /// Contents waiting to be taught, oldest first, at most `limit`.
    pub async fn pending_training(&self, limit: usize) -> Result<Vec<(String, SpamClass)>> {
        let rows: Vec<(String, String)> = self
            .point_reads
            .scan(move |c| {
                let mut select = c.prepare_cached(
                    "SELECT blob_hash, class FROM spam_training WHERE state = 'pending' ORDER BY updated_at LIMIT $1",
                )?;
                let rows = select.query_map([limit as i64], |row| Ok((row.get(0)?, row.get(1)?)))?;
                rows.collect::<crate::Result<Vec<_>>>()
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(hash, class)| {
                let class = if class == "spam" {
                    SpamClass::Spam
                } else {
                    SpamClass::Ham
                };
                (hash, class)
            })
            .collect())
    }

    /// Records that a content was taught as `class` (unless a user changed
    /// their mind meanwhile: then it stays pending, as the other class).
    pub async fn trained(&self, blob_hash: &str, class: SpamClass) -> Result<()> {
        let blob_hash = blob_hash.to_string();
        self.batched(move |tx| {
            tx.prepare_cached(
                "UPDATE spam_training SET state = 'done', updated_at = ?3 WHERE blob_hash = ?1 AND class = ?2",
            )?
            .execute((&blob_hash, class.name(), crate::now()))?;
            Ok(())
        })
        .await
    }
}
