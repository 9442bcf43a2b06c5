//! THREAD and UID THREAD (RFC 5256 §4): the messages SEARCH would find
//! (`search.rs`), their keys from the store, threaded by ORDEREDSUBJECT
//! or REFERENCES (`crate::thread`) on the blocking pool.
//!
//! The keys are read as the store hands over each row (on the blocking
//! pool), and the message ids in them numbered there ([`Ids`]): threading
//! 100 000 messages then copies each distinct id once, instead of every
//! id of every References field.

use std::sync::{Arc, Mutex};

use imf::{KeyFields, SortKeys, StoredThreadKeys};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::{SearchKey, ThreadAlgorithm};

use crate::by_uid;
use crate::commands::sort::check_charset;
use crate::error::{CommandError, Reply};
use crate::session::Session;
use crate::thread::{self, Ids, ThreadMessage};
use crate::view::View;

/// One message's row as read: its keys, if stored and readable.
struct ThreadRow {
    uid: i64,
    message: Option<ThreadMessage>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) async fn thread(
        &mut self,
        tag: &str,
        view: &mut View,
        uid: bool,
        algorithm: ThreadAlgorithm,
        charset: &str,
        key: &SearchKey,
    ) -> Reply {
        check_charset(charset)?;
        let found = self.matching(view, key).await?;
        let messages = self.thread_messages(view, &found, uid).await?;
        let line = self
            .heavy(move |_| {
                let threads = match algorithm {
                    ThreadAlgorithm::OrderedSubject => thread::ordered_subject(&messages),
                    ThreadAlgorithm::References => thread::references(&messages),
                };
                threads.write(&messages)
            })
            .await?;
        // RFC 5256 §4: `* THREAD` with nothing after it when none match.
        if line.is_empty() {
            self.untagged("THREAD");
        } else {
            self.untagged(&format!("THREAD {line}"));
        }
        self.report_changes(view, false, false).await?;
        self.ok(tag, "THREAD completed")
    }

    /// What threading needs of the `found` messages ((sequence number,
    /// UID), mailbox order), in that order, each numbered by its UID when
    /// `uid`. Messages stored without keys (by an older version) have them
    /// worked out from their headers (`Session::keyed`).
    async fn thread_messages(
        &mut self,
        view: &View,
        found: &[(i64, i64)],
        uid: bool,
    ) -> Result<Vec<ThreadMessage>, CommandError> {
        let (Some(&(_, first)), Some(&(_, last))) = (found.first(), found.last()) else {
            return Ok(Vec::new());
        };
        let ids = Arc::new(Mutex::new(Ids::default()));
        let reading = ids.clone();
        let rows = self
            .server
            .store
            .read_sort_keys(view.mailbox.id, (first, last), true, move |row| {
                let keys = row.keys.and_then(StoredThreadKeys::read);
                let mut ids = reading.lock().unwrap_or_else(|e| e.into_inner());
                ThreadRow {
                    uid: row.uid,
                    message: keys.map(|keys| ThreadMessage {
                        number: 0,
                        sent: keys.sent.unwrap_or(row.internal_date),
                        subject: keys.subject.to_string(),
                        reply_or_forward: keys.reply_or_forward,
                        message_id: keys.message_id.map(|id| ids.number(id)),
                        references: keys.references.iter().map(|id| ids.number(id)).collect(),
                    }),
                }
            })
            .await?;
        let mut messages = Vec::with_capacity(found.len());
        let mut unkeyed = Vec::new();
        let wanted = found.iter().map(|&(number, uid)| ((number, uid), uid));
        for ((number, message_uid), row) in by_uid::beside(wanted, rows, |row| row.uid) {
            // Expunged meanwhile, or stored without keys: worked out
            // below (one expunged threads as a message without any of
            // those fields).
            let message = match row.and_then(|row| row.message) {
                Some(message) => message,
                None => {
                    unkeyed.push((messages.len(), (number, message_uid)));
                    ThreadMessage::default()
                }
            };
            messages.push(ThreadMessage {
                number: if uid { message_uid } else { number },
                ..message
            });
        }
        if !unkeyed.is_empty() {
            let wanted: Vec<(i64, i64)> = unkeyed.iter().map(|&(_, found)| found).collect();
            let fields = KeyFields {
                subject: true,
                threading: true,
                ..KeyFields::default()
            };
            let keyed = self.keyed(view, &wanted, fields).await?;
            let mut ids = ids.lock().unwrap_or_else(|e| e.into_inner());
            for ((at, _), keyed) in unkeyed.into_iter().zip(keyed) {
                let sent = keyed.sent;
                let SortKeys {
                    subject,
                    reply_or_forward,
                    message_id,
                    references,
                    ..
                } = keyed.keys.map(|keys| *keys).unwrap_or_default();
                let message = &mut messages[at];
                message.sent = sent;
                message.subject = subject;
                message.reply_or_forward = reply_or_forward;
                message.message_id = message_id.map(|id| ids.number(&id));
                message.references = references.iter().map(|id| ids.number(id)).collect();
            }
        }
        Ok(messages)
    }
}
