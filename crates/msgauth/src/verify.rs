//! The inbound checks, with postamt's DNS settings and within a time
//! budget per message: SPF at MAIL FROM (RFC 7208), then at the end of the
//! data DKIM (RFC 6376, RFC 8301), ARC (RFC 8617), DMARC (RFC 7489) and
//! iprev (RFC 8601 §3), written up as one Authentication-Results field (RFC 8601).
//!
//! The algorithms are mail-auth's. Every lookup goes through one resolver
//! built from `[dns] nameservers` (as the `dns` crate does for MX) and
//! shared caches (negative answers too, see `cache`); every step runs
//! under the deadline of its message, and a step that runs out of time is
//! a `temperror` (RFC 7208 §2.6.6, RFC 6376 §3.9), never a stuck session.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use mail_auth::common::crypto::Algorithm;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::hickory_resolver::config::ResolverOpts;
use mail_auth::hickory_resolver::system_conf::read_system_conf;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    ArcOutput, AuthenticatedMessage, DkimOutput, DkimResult, DmarcOutput, DmarcResult, Error, IprevOutput, IprevResult,
    MX, MessageAuthenticator, Parameters, RecordSet, SpfOutput, SpfResult, Txt,
};
use tokio::time::{Instant, timeout_at};

use crate::arc_trust::Override;
use crate::cache::Cache;
use crate::policy::{self, Settings, Verdict};
use crate::results::ResultsHeader;

/// Checks mail as it arrives. One per server, shared by every session.
pub struct Verifier {
    authenticator: MessageAuthenticator,
    caches: Caches,
    settings: Settings,
}

#[derive(Default)]
struct Caches {
    txt: Cache<Box<str>, Txt>,
    mx: Cache<Box<str>, RecordSet<MX>>,
    ipv4: Cache<Box<str>, RecordSet<Ipv4Addr>>,
    ipv6: Cache<Box<str>, RecordSet<Ipv6Addr>>,
    ptr: Cache<IpAddr, RecordSet<Box<str>>>,
}

type Cached<'x, P> = Parameters<
    'x,
    P,
    Cache<Box<str>, Txt>,
    Cache<Box<str>, RecordSet<MX>>,
    Cache<Box<str>, RecordSet<Ipv4Addr>>,
    Cache<Box<str>, RecordSet<Ipv6Addr>>,
    Cache<IpAddr, RecordSet<Box<str>>>,
>;

impl Caches {
    fn with<P>(&self, params: P) -> Cached<'_, P> {
        Parameters::new(params)
            .with_txt_cache(&self.txt)
            .with_mx_cache(&self.mx)
            .with_ipv4_cache(&self.ipv4)
            .with_ipv6_cache(&self.ipv6)
            .with_ptr_cache(&self.ptr)
    }
}

/// Who sent a message, as the SMTP session saw it.
#[derive(Debug, Clone)]
pub struct Client {
    pub ip: IpAddr,
    /// The EHLO/HELO name.
    pub helo: String,
    /// The MAIL FROM address, empty for `<>`.
    pub mail_from: String,
}

/// What the checks at MAIL FROM found, kept until the end of the data.
#[derive(Debug, Clone)]
pub struct SenderChecks {
    client: Client,
    /// SPF for the HELO identity (RFC 7208 §2.3), if HELO named a domain.
    helo: Option<SpfOutput>,
    /// SPF for the MAIL FROM identity; `None` for `<>`.
    mail_from: Option<SpfOutput>,
    /// The part of the message's time budget SPF used. The budget counts
    /// time spent checking, not the client's time between MAIL FROM and
    /// the end of its data (a large message may take minutes to arrive).
    spent: Duration,
}

impl SenderChecks {
    /// The SPF result DMARC uses: MAIL FROM's, or HELO's for `<>` (RFC
    /// 7489 §3.1.2).
    fn spf(&self) -> SpfOutput {
        self.mail_from
            .clone()
            .or_else(|| self.helo.clone())
            .unwrap_or_else(|| SpfOutput::new(String::new()))
    }

    /// The refusal that `spf_fail = "reject"` asks for, if SPF failed.
    pub fn refusal(&self, settings: &Settings) -> Option<String> {
        let spf = self.mail_from.as_ref().or(self.helo.as_ref())?;
        policy::spf_refusal(settings, spf)
    }
}

/// The verdict on a whole message.
#[derive(Debug, Clone)]
pub struct MessageChecks {
    /// The Authentication-Results field, with its CRLF.
    pub header: String,
    pub verdict: Verdict,
}

impl Verifier {
    /// A verifier asking `nameservers` (UDP, then TCP), or the system's
    /// resolvers if there are none.
    pub fn new(nameservers: &[SocketAddr], settings: Settings) -> Result<Verifier, String> {
        let (config, mut options) = if nameservers.is_empty() {
            read_system_conf().map_err(|e| format!("reading /etc/resolv.conf: {e}"))?
        } else {
            (dns::resolver_config(nameservers), ResolverOpts::default())
        };
        // One query may not eat the whole budget: SPF alone may need ten
        // lookups (RFC 7208 §4.6.4).
        options.timeout = (settings.time_budget / 4).clamp(Duration::from_millis(200), Duration::from_secs(5));
        options.attempts = 1;
        crate::cache::negative_caching(&mut options);
        let authenticator =
            MessageAuthenticator::new(config, options).map_err(|e| format!("setting up DNS for checks: {e}"))?;
        Ok(Verifier {
            authenticator,
            caches: Caches::default(),
            settings,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// SPF at MAIL FROM, for the HELO and MAIL FROM identities. Starts the
    /// message's time budget.
    pub async fn check_sender(&self, client: Client) -> SenderChecks {
        let started = Instant::now();
        let deadline = started + self.settings.time_budget;
        let host = self.settings.hostname.as_str();
        // The two identities are independent (RFC 7208 §2.3, §2.4): asked
        // at once, the slower one sets the wait.
        let helo = async {
            if is_domain(&client.helo) {
                let params = SpfParameters::verify_ehlo(client.ip, &client.helo, host);
                Some(self.spf(params, &client.helo, deadline).await)
            } else {
                None
            }
        };
        let mail_from = async {
            if client.mail_from.is_empty() {
                None
            } else {
                let params = SpfParameters::verify_mail_from(client.ip, &client.helo, host, &client.mail_from);
                let domain = client.mail_from.rsplit_once('@').map_or("", |(_, d)| d);
                Some(self.spf(params, domain, deadline).await)
            }
        };
        let (helo, mail_from) = tokio::join!(helo, mail_from);
        SenderChecks {
            client,
            helo,
            mail_from,
            spent: started.elapsed(),
        }
    }

    async fn spf(&self, params: SpfParameters<'_>, domain: &str, deadline: Instant) -> SpfOutput {
        match timeout_at(deadline, self.authenticator.verify_spf(self.caches.with(params))).await {
            Ok(output) => output,
            Err(_) => {
                tracing::info!(%domain, "SPF check ran out of time");
                SpfOutput::new(domain.to_lowercase()).with_result(SpfResult::TempError)
            }
        }
    }

    /// DKIM, DMARC and iprev for `message` (without our Received field),
    /// within what is left of the budget after `sender`'s SPF checks.
    pub async fn check_message(&self, message: &[u8], sender: &SenderChecks) -> MessageChecks {
        let deadline = Instant::now() + self.settings.time_budget.saturating_sub(sender.spent);
        let client = &sender.client;
        let spf = sender.spf();
        let mut results = ResultsHeader::new(&self.settings.hostname);
        if let Some(mail_from) = &sender.mail_from {
            results.spf(mail_from, "smtp.mailfrom", &client.mail_from);
        }
        if let Some(helo) = &sender.helo {
            results.spf(helo, "smtp.helo", &client.helo);
        }
        let Some(parsed) = AuthenticatedMessage::parse(message) else {
            // No header mail-auth can read: nothing to verify beyond SPF.
            return MessageChecks {
                header: results.finish(),
                verdict: Verdict::Deliver,
            };
        };
        // DKIM, ARC and iprev need nothing of each other: asked at once.
        // DMARC needs DKIM's results, so it follows.
        let dkim = async {
            match timeout_at(deadline, self.authenticator.verify_dkim(self.caches.with(&parsed))).await {
                Ok(outputs) => outputs.into_iter().map(|output| rfc8301(output, &parsed)).collect(),
                Err(_) => vec![DkimOutput::temp_err(out_of_time())],
            }
        };
        let arc = async {
            match timeout_at(deadline, self.authenticator.verify_arc(self.caches.with(&parsed))).await {
                Ok(output) => output,
                Err(_) => ArcOutput::default().with_result(DkimResult::TempError(out_of_time())),
            }
        };
        let iprev = async {
            match timeout_at(deadline, self.authenticator.verify_iprev(self.caches.with(client.ip))).await {
                Ok(output) => output,
                Err(_) => IprevOutput {
                    result: IprevResult::TempError(out_of_time()),
                    ptr: None,
                },
            }
        };
        let (dkim, arc, iprev): (Vec<DkimOutput<'_>>, _, _) = tokio::join!(dkim, arc, iprev);
        let header_from = parsed.from().to_string();
        for output in &dkim {
            results.dkim(output);
        }
        results.arc(&arc, client.ip);
        let mail_from_domain = match client.mail_from.rsplit_once('@') {
            Some((_, domain)) => domain,
            None => client.helo.as_str(),
        };
        let dmarc_params = DmarcParameters {
            message: &parsed,
            dkim_output: &dkim,
            dkim2_output: None,
            rfc5321_mail_from_domain: mail_from_domain,
            spf_output: &spf,
        };
        let dmarc = match timeout_at(
            deadline,
            self.authenticator.verify_dmarc(self.caches.with(dmarc_params)),
        )
        .await
        {
            Ok(output) => output,
            Err(_) => DmarcOutput::default()
                .with_domain(&domain_of(&header_from))
                .with_spf_result(DmarcResult::TempError(out_of_time()))
                .with_dkim_result(DmarcResult::TempError(out_of_time())),
        };
        let (verdict, lifted) = self.verdict(&dmarc, &arc, deadline).await;
        match &lifted {
            Some(lifted) => results.dmarc_overridden(&dmarc, &lifted.reason()),
            None if !dmarc.domain().is_empty() => results.dmarc(&dmarc),
            None => {}
        }
        results.iprev(&iprev, client.ip);
        MessageChecks {
            header: results.finish(),
            verdict,
        }
    }

    /// What the DMARC result means for delivery, with `pct` applied, and
    /// a trusted forwarder's override of it, if any.
    async fn verdict(
        &self,
        dmarc: &DmarcOutput,
        arc: &ArcOutput<'_>,
        deadline: Instant,
    ) -> (Verdict, Option<Override>) {
        if !matches!(dmarc.result(), DmarcResult::Fail(_)) {
            return (Verdict::Deliver, None);
        }
        // Out of time: the published policy as it stands, for all mail.
        let pct = timeout_at(deadline, policy::pct(&self.authenticator, dmarc.domain()))
            .await
            .unwrap_or(100);
        let verdict = policy::dmarc_verdict(&self.settings, dmarc, pct);
        policy::trusted_forwarder(&self.settings, verdict, arc, dmarc)
    }
}

/// RFC 8301 §3.1 and §3.2: rsa-sha1 signatures and RSA keys under 1024
/// bits must not be considered valid. ring already refuses keys under 1024
/// bits (its RSA verification starts there), which mail-auth reports as a
/// failure; rsa-sha1 it still accepts, so that is turned into a failure
/// here, before DMARC can count it.
fn rfc8301<'x>(output: DkimOutput<'x>, message: &'x AuthenticatedMessage<'x>) -> DkimOutput<'x> {
    let sha1 =
        matches!(output.result(), DkimResult::Pass) && output.signature().is_some_and(|s| s.a == Algorithm::RsaSha1);
    if !sha1 {
        return output;
    }
    // The output's signature is one of the message's (mail-auth only
    // lends it for as long as the output lives, so find it there).
    let failed = DkimOutput::fail(Error::Dkim(mail_auth::dkim::DkimError::UnsupportedAlgorithm));
    match message
        .dkim_headers
        .iter()
        .find(|header| output.signature().is_some_and(|s| std::ptr::eq(s, &header.header)))
    {
        Some(header) => failed.with_signature(&header.header),
        None => failed,
    }
}

fn out_of_time() -> Error {
    Error::Dns(mail_auth::DnsError::Resolver(
        "time budget for the checks exhausted".into(),
    ))
}

fn domain_of(address: &str) -> String {
    address.rsplit_once('@').map_or("", |(_, d)| d).to_lowercase()
}

/// Whether an EHLO name is a domain (not an address literal), the only
/// kind SPF can check (RFC 7208 §2.3).
fn is_domain(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('[') && name.contains('.') && name.parse::<IpAddr>().is_err()
}
