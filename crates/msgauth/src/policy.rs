//! What the results mean for a message: the operator's choices (refuse or
//! only mark), and DMARC's requests (RFC 7489 §6.3: `p`, `sp`, `pct`).

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use mail_auth::dmarc::Policy;
use mail_auth::{ArcOutput, DmarcOutput, MessageAuthenticator, SpfOutput, SpfResult};

use crate::arc_trust::{self, Override};

/// Refuse, or accept and only say so in Authentication-Results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Reject,
    Mark,
}

/// The settings of the inbound checks (`[auth_checks]`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Our authserv-id (RFC 8601 §2.5) and the SPF `%{r}` macro.
    pub hostname: String,
    /// Time the checks may take per message, SPF and the rest together.
    pub time_budget: Duration,
    /// What an SPF `fail` at MAIL FROM does. Default: mark, and let DMARC
    /// decide, since forwarding breaks SPF (RFC 7208 §8.4, RFC 7489 §10.1).
    pub spf_fail: Action,
    /// What a DMARC failure under `p=reject` does.
    pub dmarc_reject: Action,
    /// Whether a DMARC failure under `p=quarantine` goes to Junk (else it
    /// is only marked).
    pub quarantine_to_junk: bool,
    /// ARC sealer domains (ARC-Seal `d=`, lower-case A-labels) whose
    /// ARC-Authentication-Results may lift a DMARC refusal or Junk filing
    /// (RFC 8617 §7.2; see `arc_trust`). Empty by default.
    pub trusted_forwarders: Vec<String>,
}

impl Settings {
    pub fn new(hostname: impl Into<String>) -> Self {
        Settings {
            hostname: hostname.into(),
            time_budget: Duration::from_secs(10),
            spf_fail: Action::Mark,
            dmarc_reject: Action::Reject,
            quarantine_to_junk: true,
            trusted_forwarders: Vec::new(),
        }
    }
}

/// What becomes of a message after the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Deliver,
    /// Deliver into the recipients' Junk mailbox.
    Junk,
    /// Refuse with 550 5.7.1 and this text.
    Reject(String),
}

/// The text of a 550 5.7.23 (RFC 7372 §3.2) refusal for an SPF `fail`,
/// when configured.
pub(crate) fn spf_refusal(settings: &Settings, spf: &SpfOutput) -> Option<String> {
    if settings.spf_fail != Action::Reject || spf.result() != SpfResult::Fail {
        return None;
    }
    let mut text = format!(
        "SPF check failed: {} does not allow this host to send for it",
        spf.domain()
    );
    if let Some(explanation) = spf.explanation() {
        // The domain's own words (RFC 7208 §6.2), kept printable and short.
        let explanation: String = explanation
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .take(200)
            .collect();
        text.push_str(&format!(" ({explanation})"));
    }
    Some(text)
}

/// The verdict for a DMARC failure, `pct` being the share of failing mail
/// the domain wants its policy applied to (RFC 7489 §6.6.4).
pub(crate) fn dmarc_verdict(settings: &Settings, dmarc: &DmarcOutput, pct: u8) -> Verdict {
    let wanted = match dmarc.policy() {
        Policy::Reject if settings.dmarc_reject == Action::Reject => true,
        Policy::Quarantine => settings.quarantine_to_junk,
        _ => false,
    };
    if !wanted || !sampled(pct) {
        return Verdict::Deliver;
    }
    if dmarc.policy() == Policy::Quarantine {
        return Verdict::Junk;
    }
    Verdict::Reject(format!(
        "Message refused: the DMARC policy of {} (p=reject) says mail that fails authentication must be refused",
        dmarc.domain()
    ))
}

/// The verdict after a trusted forwarder's word (RFC 7489 §6.7, local
/// policy override): a refusal or Junk filing that DMARC asked for becomes
/// delivery to the INBOX when the newest ARC set vouches for the message.
/// Mail DMARC would deliver anyway needs no override and gets none.
pub(crate) fn trusted_forwarder(
    settings: &Settings,
    verdict: Verdict,
    arc: &ArcOutput<'_>,
    dmarc: &DmarcOutput,
) -> (Verdict, Option<Override>) {
    if verdict == Verdict::Deliver {
        return (verdict, None);
    }
    match arc_trust::arc_override(&settings.trusted_forwarders, arc, dmarc) {
        Some(lifted) => {
            tracing::info!(
                sealer = %lifted.sealer,
                instance = lifted.instance,
                from_domain = %dmarc.domain(),
                evidence = %lifted.evidence,
                would_have_been = ?verdict,
                "DMARC failure overridden: the newest ARC set is sealed by a trusted forwarder that saw a pass"
            );
            (Verdict::Deliver, Some(lifted))
        }
        None => (verdict, None),
    }
}

/// True for `pct` percent of calls.
fn sampled(pct: u8) -> bool {
    match pct {
        0 => false,
        100.. => true,
        _ => RandomState::new().hash_one(std::time::Instant::now()) % 100 < u64::from(pct),
    }
}

/// The `pct` of the DMARC record that applies to `domain`: its own, or
/// else its organisational domain's (RFC 7489 §6.6.3), from the Public
/// Suffix List. mail-auth follows DMARCbis, which dropped `pct`, so it is
/// read here. 100 when absent or unreadable.
pub(crate) async fn pct(authenticator: &MessageAuthenticator, domain: &str) -> u8 {
    let organisational = psl::domain_str(domain).unwrap_or(domain);
    for name in [domain, organisational] {
        if let Ok(record) = authenticator.txt_raw_lookup(format!("_dmarc.{name}.")).await
            && let Some(pct) = parse_pct(&record)
        {
            return pct;
        }
    }
    100
}

/// `pct` from a DMARC record, `Some(100)` if it is a DMARC record without
/// one, `None` if it is not a DMARC record.
fn parse_pct(record: &[u8]) -> Option<u8> {
    let record = std::str::from_utf8(record).ok()?;
    let mut tags = record.split(';').map(str::trim);
    if !tags.next()?.replace(' ', "").eq_ignore_ascii_case("v=DMARC1") {
        return None;
    }
    Some(
        tags.filter_map(|tag| tag.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("pct"))
            .and_then(|(_, value)| value.trim().parse::<u8>().ok())
            .map_or(100, |pct| pct.min(100)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pct() {
        assert_eq!(parse_pct(b"v=DMARC1; p=reject; pct=0"), Some(0));
        assert_eq!(parse_pct(b"v=DMARC1;p=reject;PCT = 30"), Some(30));
        assert_eq!(parse_pct(b"v=DMARC1; p=reject"), Some(100));
        assert_eq!(parse_pct(b"v=DMARC1; pct=500"), Some(100));
        assert_eq!(parse_pct(b"v=spf1 -all"), None);
        assert!(!sampled(0));
        assert!(sampled(100));
    }
}
