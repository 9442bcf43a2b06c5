//! THREAD and UID THREAD (RFC 5256 §4): the messages SEARCH would find
//! (`search.rs`), their keys from the store (`sort_keys.rs`), threaded by
//! ORDEREDSUBJECT or REFERENCES (`crate::thread`) on the blocking pool.

use imf::KeyFields;
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::{SearchKey, ThreadAlgorithm};

use crate::commands::sort::check_charset;
use crate::error::Reply;
use crate::session::Session;
use crate::thread::{self, ThreadMessage};
use crate::view::View;

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
        // ORDEREDSUBJECT compares subjects and dates; REFERENCES also
        // follows the message ids (RFC 5256 §3).
        let fields = KeyFields {
            subject: true,
            threading: algorithm == ThreadAlgorithm::References,
            ..KeyFields::default()
        };
        let keyed = self.keyed(view, &found, fields).await?;
        let line = self
            .heavy(move |_| {
                let messages: Vec<ThreadMessage> = keyed
                    .into_iter()
                    .map(|k| ThreadMessage {
                        number: if uid { k.uid } else { k.number },
                        sent: k.sent(),
                        subject: k.keys.subject,
                        reply_or_forward: k.keys.reply_or_forward,
                        message_id: k.keys.message_id,
                        references: k.keys.references,
                    })
                    .collect();
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
}
