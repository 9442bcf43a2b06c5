//! The inbound checks of mail from the internet (issue 16): the
//! `[auth_checks]` config section, and the backend's side of the SMTP
//! server's check hooks, which hand the work to `msgauth`.

use serde::Deserialize;
use smtpd::Filing;
use wire::smtp::{Reply, ReversePath};

/// `[auth_checks]`: SPF, DKIM, ARC, DMARC and iprev of mail arriving on the
/// MX port from clients that may not relay.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthChecks {
    /// Check at all. Default true.
    pub enabled: bool,
    /// Seconds all DNS lookups for one message may take together (default
    /// 10); what is not answered by then counts as `temperror`.
    pub time_budget: u64,
    /// `mark` (default) or `reject`: what an SPF `fail` at MAIL FROM does.
    pub spf_fail: String,
    /// `reject` (default) or `mark`: what a DMARC failure under the
    /// domain's `p=reject` does.
    pub dmarc_reject: String,
    /// `junk` (default) or `mark`: what a DMARC failure under
    /// `p=quarantine` does.
    pub dmarc_quarantine: String,
    /// ARC sealer domains whose word about a message is taken (RFC 8617
    /// §7.2): a DMARC failure is not refused or filed as Junk when the
    /// newest ARC set is sealed by one of them and says the message passed
    /// there. Default: none.
    pub trusted_forwarders: Vec<String>,
}

impl Default for AuthChecks {
    fn default() -> Self {
        AuthChecks {
            enabled: true,
            time_budget: 10,
            spf_fail: "mark".into(),
            dmarc_reject: "reject".into(),
            dmarc_quarantine: "junk".into(),
            trusted_forwarders: Vec::new(),
        }
    }
}

impl AuthChecks {
    /// The checks' settings, or what is wrong with the section.
    pub fn settings(&self, hostname: &str) -> anyhow::Result<Option<msgauth::Settings>> {
        let action = |key: &str, value: &str| match value {
            "reject" => Ok(msgauth::Action::Reject),
            "mark" => Ok(msgauth::Action::Mark),
            other => anyhow::bail!("[auth_checks] {key} = {other:?} must be \"reject\" or \"mark\""),
        };
        if !(1..=300).contains(&self.time_budget) {
            anyhow::bail!(
                "[auth_checks] time_budget = {} must be 1 to 300 seconds",
                self.time_budget
            );
        }
        let mut settings = msgauth::Settings::new(hostname);
        settings.time_budget = std::time::Duration::from_secs(self.time_budget);
        settings.spf_fail = action("spf_fail", &self.spf_fail)?;
        settings.dmarc_reject = action("dmarc_reject", &self.dmarc_reject)?;
        settings.quarantine_to_junk = match self.dmarc_quarantine.as_str() {
            "junk" => true,
            "mark" => false,
            other => anyhow::bail!("[auth_checks] dmarc_quarantine = {other:?} must be \"junk\" or \"mark\""),
        };
        settings.trusted_forwarders = self
            .trusted_forwarders
            .iter()
            .map(|name| trusted_forwarder(name))
            .collect::<anyhow::Result<_>>()?;
        Ok(self.enabled.then_some(settings))
    }
}

/// A `trusted_forwarders` entry as ARC-Seal `d=` is compared with it: a
/// domain in lower-case A-label form, without a final dot.
fn trusted_forwarder(name: &str) -> anyhow::Result<String> {
    let domain = store::normalize_domain(name.trim());
    if !store::is_valid_domain(&domain) || domain.parse::<std::net::IpAddr>().is_ok() {
        anyhow::bail!(
            "[auth_checks] trusted_forwarders: {name:?} is not a domain name; list the domains \
             that ARC-seal the forwarded mail (the d= of their ARC-Seal), e.g. \"lists.example.org\""
        );
    }
    Ok(domain)
}

/// SPF at MAIL FROM; `Err` when `spf_fail = "reject"` and SPF failed.
pub async fn check_sender(
    verifier: Option<&msgauth::Verifier>,
    client: smtpd::Client<'_>,
    from: &ReversePath,
) -> Result<Option<msgauth::SenderChecks>, Reply> {
    let Some(verifier) = verifier else {
        return Ok(None);
    };
    let mail_from = match from {
        ReversePath::Mailbox(mailbox) => mailbox.to_string(),
        ReversePath::Null => String::new(),
    };
    let checks = verifier
        .check_sender(msgauth::Client {
            ip: client.ip,
            helo: client.helo.to_string(),
            mail_from,
        })
        .await;
    match checks.refusal(verifier.settings()) {
        // RFC 7372 §3.2: X.7.23, "SPF validation failed".
        Some(text) => Err(Reply::new(550, "5.7.23", text)),
        None => Ok(Some(checks)),
    }
}

/// The end of the data of every message: any Authentication-Results that
/// arrived under our name goes (RFC 8601 §5: only we may write it, and
/// that holds for submitted mail too); checked mail then gets our verdict
/// on top of its header.
pub async fn check_message(
    verifier: Option<&msgauth::Verifier>,
    hostname: &str,
    checks: Option<msgauth::SenderChecks>,
    message: &mut Vec<u8>,
) -> Result<Filing, Reply> {
    msgauth::results::strip_ours(message, hostname);
    let (Some(verifier), Some(checks)) = (verifier, checks) else {
        return Ok(Filing::Inbox);
    };
    let result = verifier.check_message(message, &checks).await;
    message.splice(0..0, result.header.into_bytes());
    match result.verdict {
        msgauth::Verdict::Deliver => Ok(Filing::Inbox),
        msgauth::Verdict::Junk => Ok(Filing::Junk),
        msgauth::Verdict::Reject(text) => Err(Reply::new(550, "5.7.1", text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_say_what_is_wrong() {
        let defaults = AuthChecks::default().settings("mx.test").unwrap().unwrap();
        assert_eq!(defaults.spf_fail, msgauth::Action::Mark);
        assert_eq!(defaults.dmarc_reject, msgauth::Action::Reject);
        assert!(defaults.quarantine_to_junk);
        assert!(defaults.trusted_forwarders.is_empty());
        let listed = AuthChecks {
            trusted_forwarders: vec!["Lists.Example.ORG.".into(), "bücher.example".into()],
            ..AuthChecks::default()
        };
        assert_eq!(
            listed.settings("mx.test").unwrap().unwrap().trusted_forwarders,
            ["lists.example.org", "xn--bcher-kva.example"]
        );
        let off = AuthChecks {
            enabled: false,
            ..AuthChecks::default()
        };
        assert!(off.settings("mx.test").unwrap().is_none());
        for (bad, says) in [
            (
                AuthChecks {
                    spf_fail: "refuse".into(),
                    ..AuthChecks::default()
                },
                "spf_fail",
            ),
            (
                AuthChecks {
                    dmarc_quarantine: "drop".into(),
                    ..AuthChecks::default()
                },
                "dmarc_quarantine",
            ),
            (
                AuthChecks {
                    time_budget: 0,
                    ..AuthChecks::default()
                },
                "time_budget",
            ),
            (
                AuthChecks {
                    trusted_forwarders: vec!["lists.test".into(), "*.lists.test".into()],
                    ..AuthChecks::default()
                },
                "\"*.lists.test\" is not a domain name",
            ),
            (
                AuthChecks {
                    trusted_forwarders: vec!["192.0.2.1".into()],
                    ..AuthChecks::default()
                },
                "trusted_forwarders",
            ),
            (
                AuthChecks {
                    trusted_forwarders: vec!["@lists.test".into()],
                    ..AuthChecks::default()
                },
                "trusted_forwarders",
            ),
        ] {
            let error = bad.settings("mx.test").unwrap_err().to_string();
            assert!(error.contains(says), "{error}");
        }
    }
}
