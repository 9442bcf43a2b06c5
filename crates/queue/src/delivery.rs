//! One delivery attempt per due recipient.

use store::{QueueRecipient, Resolution, Target};

use crate::{Error, Queue, retry_delay};

/// Recipients taken per round; the rest wait for the next round.
const BATCH: i64 = 100;

impl Queue {
    /// Attempts every recipient that is due now.
    pub(crate) async fn deliver_due(&self) -> Result<(), Error> {
        loop {
            let due = self.store.due_recipients(store::now(), BATCH).await?;
            if due.is_empty() {
                return Ok(());
            }
            for recipient in &due {
                if let Err(e) = self.deliver(recipient).await {
                    tracing::error!(queue_id = %recipient.queue_id, error = %e, "delivery attempt failed");
                    let next = store::now() + retry_delay(recipient.attempts + 1).as_secs() as i64;
                    let reply = format!("451 4.3.0 local delivery failed: {e}");
                    self.store.defer_recipient(recipient, &reply, next).await?;
                }
            }
        }
    }

    async fn deliver(&self, recipient: &QueueRecipient) -> Result<(), Error> {
        let Some((local, domain)) = recipient.address.rsplit_once('@') else {
            let reply = "550 5.1.3 bad recipient address syntax";
            return Ok(self.store.fail_recipient(recipient, reply).await?);
        };
        match self.store.resolve(local, domain).await? {
            Resolution::Local(targets) => self.deliver_local(recipient, targets).await,
            Resolution::UnknownUser => {
                let reply = format!("550 5.1.1 <{}>: no such user here", recipient.address);
                tracing::info!(queue_id = %recipient.queue_id, to = %recipient.address, "unknown user");
                Ok(self.store.fail_recipient(recipient, &reply).await?)
            }
            Resolution::NotLocal => {
                // Remote delivery is not built yet: keep the message and try
                // again later rather than lose or bounce it.
                let reply = "451 4.4.0 remote delivery is not available yet";
                let next = store::now() + retry_delay(recipient.attempts + 1).as_secs() as i64;
                Ok(self.store.defer_recipient(recipient, reply, next).await?)
            }
        }
    }

    async fn deliver_local(&self, recipient: &QueueRecipient, targets: Vec<Target>) -> Result<(), Error> {
        let return_path = format!("Return-Path: <{}>\r\n", recipient.reverse_path);
        let mut accounts = Vec::new();
        let mut forwards = Vec::new();
        for target in targets {
            match target {
                Target::Account { id, address } => {
                    let trace = format!("{return_path}Delivered-To: {address}\r\n");
                    accounts.push((id, trace.into_bytes()));
                }
                Target::Remote(address) => forwards.push(address),
                Target::Unknown(address) => {
                    tracing::warn!(alias = %recipient.address, target = %address, "alias target does not exist");
                }
            }
        }
        if accounts.is_empty() && forwards.is_empty() {
            let reply = format!("550 5.1.1 <{}>: alias leads to no existing user", recipient.address);
            return Ok(self.store.fail_recipient(recipient, &reply).await?);
        }
        self.store
            .deliver_local(recipient, &accounts, &forwards, recipient.received_at)
            .await?;
        tracing::info!(
            queue_id = %recipient.queue_id,
            to = %recipient.address,
            mailboxes = accounts.len(),
            forwarded = forwards.len(),
            "delivered"
        );
        Ok(())
    }
}
