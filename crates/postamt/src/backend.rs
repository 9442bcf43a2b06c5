//! The SMTP server's view of the rest of the system: recipient policy and
//! logins from the store, and the queue as the home of accepted messages.

use std::collections::BTreeMap;
use std::sync::Arc;

use queue::Queue;
use smtpd::{AcceptError, BackendError, Client, Envelope, Filing, Login, RcptVerdict};
use store::{Resolution, Store};
use wire::smtp::{MailObject, Mailbox, RcptPath, Reply, ReversePath};

pub struct Backend {
    pub store: Store,
    pub queue: Arc<Queue>,
    pub hostname: String,
    /// `[submission] send_as`: extra sender addresses per user.
    pub send_as: BTreeMap<String, Vec<String>>,
    /// The inbound checks; `None` when `[auth_checks] enabled = false`.
    pub verifier: Option<msgauth::Verifier>,
    /// Signs what authenticated users submit.
    pub signer: Arc<crate::dkim::Signer>,
    /// DNS block- and allowlists, if configured.
    pub dnsbl: Option<crate::dnsbl::Dnsbl>,
    /// Greylisting's rules, if it is on.
    pub greylist: Option<store::Greylisting>,
    /// The spam filter, if configured.
    pub rspamd: Option<crate::rspamd::Rspamd>,
}

impl Backend {
    /// A message for one local recipient whose Sieve script rejects it
    /// is refused now, with the script's reason (RFC 5429 §2.1), rather
    /// than bounced after it was accepted.
    async fn check_sieve(&self, envelope: &Envelope<'_>, message: &[u8]) -> Result<(), Reply> {
        let [recipient] = envelope.recipients else {
            return Ok(());
        };
        let from = envelope.from.to_string();
        match self
            .queue
            .sieve_rejection(&from, &recipient.address, message.to_vec())
            .await
        {
            Ok(Some(reason)) => {
                tracing::info!(id = envelope.id, to = %recipient.address, "message rejected by the recipient's sieve script");
                metrics::SMTP_REFUSED.inc("sieve");
                let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
                Err(Reply::new(550, "5.7.1", reason))
            }
            Ok(None) => Ok(()),
            Err(e) => {
                // The script runs again at delivery, where its failure
                // keeps the message: nothing is lost by going on.
                tracing::warn!(id = envelope.id, error = %e, "the recipient's sieve script could not be checked");
                Ok(())
            }
        }
    }

    /// RFC 5321 §4.5.1: `<Postmaster>` must reach a postmaster. It is the
    /// one of the domain named like this host, or else of the first hosted
    /// domain that has one.
    async fn postmaster(&self) -> Result<RcptVerdict, BackendError> {
        let mut domains = vec![self.hostname.to_lowercase()];
        domains.extend(self.store.list_domains().await?.into_iter().map(|d| d.name));
        for domain in domains {
            if self.store.resolve("postmaster", &domain).await?.reaches_someone() {
                return Ok(RcptVerdict::Accept(format!("postmaster@{domain}")));
            }
        }
        Ok(RcptVerdict::UnknownUser)
    }

    /// The domain whose keys sign what `user` submits: the author's (From)
    /// domain, if `user` may send as the author, by the rule MAIL FROM
    /// obeys. Without that check, a user of one hosted domain could have
    /// mail "From" another hosted domain signed and pass its DMARC.
    async fn signing_domain(&self, user: &str, content: &[u8]) -> Result<Option<String>, BackendError> {
        let Some(author) = msgauth::sign::author(content).and_then(|a| Mailbox::parse(&a)) else {
            return Ok(None);
        };
        if !self.may_send_as_mailbox(user, &author).await? {
            tracing::info!(%user, from = %author, "not signed with DKIM: the user may not send as the From address");
            return Ok(None);
        }
        // d= in A-label form, the name its key records have in DNS.
        Ok(Some(store::normalize_domain(&author.domain)))
    }

    /// Whether `user` may use `from`: configured in `[submission] send_as`,
    /// or an address that delivers to the user.
    async fn may_send_as_mailbox(&self, user: &str, from: &Mailbox) -> Result<bool, BackendError> {
        if self.configured_sender(user, from) {
            return Ok(true);
        }
        let Some(account) = self.store.find_account(user).await? else {
            return Ok(false);
        };
        Ok(self.store.delivers_to(&from.to_string(), account.id).await?)
    }

    /// Whether `[submission] send_as` lets `user` use `from`.
    fn configured_sender(&self, user: &str, from: &Mailbox) -> bool {
        let Some(patterns) = self.send_as.get(user) else {
            return false;
        };
        let domain = store::normalize_domain(&from.domain);
        let address = format!("{}@{domain}", from.local_part.to_lowercase());
        patterns.iter().any(|pattern| match pattern.strip_prefix('@') {
            _ if pattern == "*" => true,
            Some(allowed) => store::normalize_domain(allowed) == domain,
            None => pattern.to_lowercase() == address,
        })
    }
}

impl smtpd::Backend for Backend {
    type SenderChecks = Option<msgauth::SenderChecks>;

    async fn check_sender(&self, client: Client<'_>, from: &ReversePath) -> Result<Self::SenderChecks, Reply> {
        crate::checks::check_sender(self.verifier.as_ref(), client, from).await
    }

    async fn check_message(
        &self,
        checks: Option<Self::SenderChecks>,
        envelope: &Envelope<'_>,
        message: &mut Vec<u8>,
    ) -> Result<Filing, Reply> {
        // `Some` (even without a verifier): mail from the internet.
        let from_internet = checks.is_some();
        // Counted here, not in smtpd: only this knows which check refused.
        let mut filing =
            crate::checks::check_message(self.verifier.as_ref(), &self.hostname, checks.flatten(), message)
                .await
                .inspect_err(|_| metrics::SMTP_REFUSED.inc("auth_checks"))?;
        if let Some(rspamd) = &self.rspamd
            && rspamd.scans(from_internet, envelope)
            && rspamd
                .scan(envelope, message)
                .await
                .inspect_err(|_| metrics::SMTP_REFUSED.inc("spam"))?
                == Filing::Junk
        {
            filing = Filing::Junk;
        }
        self.check_sieve(envelope, message).await?;
        Ok(filing)
    }

    async fn check_recipient(&self, recipient: &RcptPath, may_relay: bool) -> Result<RcptVerdict, BackendError> {
        let mailbox = match recipient {
            RcptPath::Postmaster => return self.postmaster().await,
            RcptPath::Mailbox(mailbox) => mailbox,
        };
        Ok(match self.store.resolve(&mailbox.local_part, &mailbox.domain).await? {
            // Hosted addresses are queued in their normal form, so the same
            // address written twice is one recipient.
            resolution @ Resolution::Local(_) if resolution.reaches_someone() => RcptVerdict::Accept(
                store::split_address(&mailbox.to_string())
                    .map_or_else(|| mailbox.to_string(), |(local, domain)| format!("{local}@{domain}")),
            ),
            Resolution::Local(_) | Resolution::UnknownUser => RcptVerdict::UnknownUser,
            Resolution::BadSrs(e) => {
                tracing::info!(recipient = %mailbox, reason = %e, "refused an SRS address");
                RcptVerdict::UnknownUser
            }
            Resolution::NotLocal if may_relay => RcptVerdict::Accept(mailbox.to_string()),
            Resolution::NotLocal => RcptVerdict::RelayDenied,
        })
    }

    async fn check_quota(&self, recipient: &str, size: u64) -> Result<(), Reply> {
        crate::quota_settings::check_quota(&self.store, recipient, size).await
    }

    async fn login(&self, name: &str) -> Result<Option<Login>, BackendError> {
        Ok(self.store.find_account(name).await?.map(|account| Login {
            address: account.address,
            password_hash: account.password_hash,
        }))
    }

    async fn may_send_as(&self, user: &str, from: &ReversePath) -> Result<bool, BackendError> {
        let ReversePath::Mailbox(from) = from else {
            // The null reverse-path claims no identity.
            return Ok(true);
        };
        self.may_send_as_mailbox(user, from).await
    }

    async fn count_shared_rate(&self, key: &str, n: u64, limit: u64, window: std::time::Duration) -> Option<bool> {
        if !self.store.is_shared() {
            return None;
        }
        let window = window.as_secs() as i64;
        match self.store.count_within_rate(key, n, limit, window, store::now()).await {
            Ok(allowed) => Some(allowed),
            Err(e) => {
                // This node's own count still holds the client back.
                tracing::warn!(error = %e, key, "cannot count a rate in the store; counting on this node");
                None
            }
        }
    }

    async fn check_client(&self, ip: std::net::IpAddr) -> Result<(), Reply> {
        match &self.dnsbl {
            Some(dnsbl) => dnsbl.check(ip).await,
            None => Ok(()),
        }
    }

    async fn check_delivery(&self, client: Client<'_>, from: &ReversePath, recipient: &str) -> Result<(), Reply> {
        match self.greylist {
            Some(rules) => crate::greylist::check(&self.store, rules, client.ip, from, recipient).await,
            None => Ok(()),
        }
    }

    async fn remember_client(&self, remembered: smtpd::Remembered) {
        let verdict = store::ClientVerdict {
            client: remembered.client,
            passed: remembered.standing == smtpd::Standing::Passed,
            until: remembered.until,
        };
        if let Err(e) = self.store.remember_client(verdict).await {
            tracing::warn!(error = %e, client = %remembered.client, "could not store the client's pregreet verdict");
        }
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

    async fn accept(&self, mut message: MailObject) -> Result<(), AcceptError> {
        // Submitted mail of a hosted domain is signed here, once, so every
        // delivery attempt and every recipient gets the same signatures.
        // Mail arriving from outside (the MX role) is never signed by us.
        if let Some(user) = &message.options.submitted_by
            && let Some(domain) = self
                .signing_domain(user, &message.content)
                .await
                .map_err(AcceptError::Failed)?
        {
            let content = std::mem::take(&mut message.content);
            message.content = self
                .signer
                .sign(&domain, content)
                .await
                .map_err(|e| AcceptError::Failed(BackendError::new(format!("cannot sign with DKIM: {e:#}"))))?;
        }
        self.queue.submit(message).await.map_err(|e| {
            if e.is_storage_full() {
                AcceptError::StorageFull(e.into())
            } else {
                AcceptError::Failed(e.into())
            }
        })
    }
}
