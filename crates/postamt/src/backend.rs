//! The SMTP server's view of the rest of the system: recipient policy from
//! the store, and the queue as the home of accepted messages.

use std::sync::Arc;

use queue::{Queue, Submission};
use smtpd::{BackendError, IncomingMessage, RcptVerdict};
use store::{Resolution, Store};
use wire::smtp::RcptPath;

pub struct Backend {
    pub store: Store,
    pub queue: Arc<Queue>,
    pub hostname: String,
}

impl Backend {
    /// RFC 5321 §4.5.1: `<Postmaster>` must reach a postmaster. It is the
    /// one of the domain named like this host, or else of the first hosted
    /// domain that has one.
    async fn postmaster(&self) -> Result<RcptVerdict, BackendError> {
        let mut domains = vec![self.hostname.to_lowercase()];
        domains.extend(self.store.list_domains().await?.into_iter().map(|d| d.name));
        for domain in domains {
            if let Resolution::Local(_) = self.store.resolve("postmaster", &domain).await? {
                return Ok(RcptVerdict::Accept(format!("postmaster@{domain}")));
            }
        }
        Ok(RcptVerdict::UnknownUser)
    }
}

impl smtpd::Backend for Backend {
    async fn check_recipient(&self, recipient: &RcptPath) -> Result<RcptVerdict, BackendError> {
        let mailbox = match recipient {
            RcptPath::Postmaster => return self.postmaster().await,
            RcptPath::Mailbox(mailbox) => mailbox,
        };
        Ok(match self.store.resolve(&mailbox.local_part, &mailbox.domain).await? {
            Resolution::Local(_) => RcptVerdict::Accept(mailbox.to_string()),
            Resolution::UnknownUser => RcptVerdict::UnknownUser,
            Resolution::NotLocal => RcptVerdict::RelayDenied,
        })
    }

    fn new_message_id(&self) -> String {
        Queue::new_id().unwrap_or_else(|_| {
            // The system random generator failing is next to impossible;
            // time and process still give a usable id.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            format!("{:X}{:X}", nanos, std::process::id())
        })
    }

    async fn accept(&self, message: IncomingMessage) -> Result<(), BackendError> {
        let submission = Submission {
            id: message.id,
            reverse_path: message.reverse_path.to_string(),
            recipients: message.recipients,
            content: message.content,
            received_at: message.received_at,
        };
        Ok(self.queue.submit(submission).await?)
    }
}
