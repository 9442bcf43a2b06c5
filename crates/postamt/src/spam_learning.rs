//! Teaching rspamd what users say by moving mail (issue 17): the store
//! notes each message moved into or out of Junk (`store::spam_training`),
//! and this task sends each one to rspamd's controller (`/learnspam`,
//! `/learnham`) in the background, so an IMAP MOVE never waits for the
//! filter. A content is taught at most once per class; what rspamd could
//! not take is tried again later.

use std::time::Duration;

use store::{SpamClass, Store};

/// How often the list of messages to teach is read.
const INTERVAL: Duration = Duration::from_secs(2);
/// Messages taught per round.
const BATCH: usize = 16;
/// The largest message sent (rspamd's controller takes 50 MB by default;
/// a bigger message teaches nothing a smaller part would not).
const MAX_SIZE: usize = 10 * 1024 * 1024;

/// rspamd's controller, if learning is configured.
pub struct Learner {
    /// `host:port`.
    address: String,
    password: String,
}

impl Learner {
    /// From `[rspamd] controller` and `password`; None without a controller.
    pub fn new(config: &crate::rspamd::RspamdConfig) -> anyhow::Result<Option<Learner>> {
        if config.controller.is_empty() {
            return Ok(None);
        }
        let address = crate::rspamd::host_port("controller", &config.controller)?;
        Ok(Some(Learner {
            address,
            password: config.password.clone(),
        }))
    }

    /// Teaches what users noted, until the task is dropped.
    pub async fn run(self, store: Store) {
        loop {
            tokio::time::sleep(INTERVAL).await;
            let pending = match store.pending_training(BATCH).await {
                Ok(pending) => pending,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the messages to teach rspamd");
                    continue;
                }
            };
            for (blob_hash, class) in pending {
                if let Err(reason) = self.teach(&store, &blob_hash, class).await {
                    tracing::warn!(%reason, class = class.name(), "rspamd did not learn a message; trying again later");
                    break;
                }
            }
        }
    }

    async fn teach(&self, store: &Store, blob_hash: &str, class: SpamClass) -> Result<(), String> {
        let message = store::StoredMessage {
            trace_headers: b"",
            blob_hash,
            header: None,
        };
        let content = match store.open_message(message, false).await {
            Ok(reader) => reader.read_all().await.map_err(|e| e.to_string())?,
            Err(store::Error::MissingBlob(_)) => {
                // Deleted before it could be taught: nothing left to teach.
                return store.trained(blob_hash, class).await.map_err(|e| e.to_string());
            }
            Err(e) => return Err(e.to_string()),
        };
        let content = &content[..content.len().min(MAX_SIZE)];
        let path = match class {
            SpamClass::Spam => "/learnspam",
            SpamClass::Ham => "/learnham",
        };
        let mut headers = Vec::new();
        if !self.password.is_empty() {
            headers.push(("Password", self.password.clone()));
        }
        let (status, body) = crate::http::post(&self.address, path, &headers, content, 64 * 1024).await?;
        // 208: rspamd learned this content before (RFC 5842's "already
        // reported"); that is what we wanted.
        if !matches!(status, 200 | 208) {
            return Err(format!("{path} answered {status}: {}", String::from_utf8_lossy(&body)));
        }
        tracing::info!(class = class.name(), "rspamd learned a message a user moved");
        store.trained(blob_hash, class).await.map_err(|e| e.to_string())
    }
}
