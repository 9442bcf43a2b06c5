//! `[tls_reports]`: who we are in the TLS reports we send (RFC 8460), and
//! where reports about our own domains are to go. Every key has a
//! default worked out from the hosted domains.

use serde::Deserialize;
use store::Store;

/// `[tls_reports]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsReportSettings {
    /// Send a daily report to each domain we delivered to that asks for
    /// one (`_smtp._tls` TXT). On by default.
    pub send: bool,
    /// Our reporting domain: TLS-Report-Submitter, and the domain of the
    /// report's From (it signs the report with its DKIM keys). Default:
    /// the hosted domain `hostname` belongs to, else the first hosted one.
    pub domain: String,
    /// organization-name in our reports; the reporting domain by default.
    pub organization: String,
    /// From and envelope sender of our reports, and their contact-info;
    /// `postmaster@` the reporting domain by default.
    pub from: String,
    /// The address published in every hosted domain's `_smtp._tls` record
    /// (rua), whose INBOX `postamt reports tls` reads; `postmaster@` the
    /// reporting domain by default. It must be an account here.
    pub address: String,
}

impl Default for TlsReportSettings {
    fn default() -> Self {
        TlsReportSettings {
            send: true,
            domain: String::new(),
            organization: String::new(),
            from: String::new(),
            address: String::new(),
        }
    }
}

/// The settings with every default filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reporter {
    pub domain: String,
    pub organization: String,
    pub from: String,
    pub address: String,
}

impl TlsReportSettings {
    /// Fills in the defaults; an error when no domain is hosted and none
    /// is configured.
    pub async fn reporter(&self, store: &Store, hostname: &str) -> anyhow::Result<Reporter> {
        let domain = if self.domain.is_empty() {
            let hosted: Vec<String> = store.list_domains().await?.into_iter().map(|d| d.name).collect();
            primary_domain(&hosted, hostname)
                .ok_or_else(|| anyhow::anyhow!("no domain is hosted here; set [tls_reports] domain"))?
        } else {
            store::normalize_domain(&self.domain)
        };
        Ok(self.with_domain(domain))
    }

    /// The settings for reporting domain `domain`.
    pub fn with_domain(&self, domain: String) -> Reporter {
        let or = |value: &str, default: String| {
            if value.is_empty() { default } else { value.to_string() }
        };
        Reporter {
            organization: or(&self.organization, domain.clone()),
            from: or(&self.from, format!("postmaster@{domain}")),
            address: or(&self.address, format!("postmaster@{domain}")),
            domain,
        }
    }
}

/// The hosted domain that `hostname` is in (the longest such), else the
/// first in `hosted`'s order.
pub fn primary_domain(hosted: &[String], hostname: &str) -> Option<String> {
    let host = hostname.trim_end_matches('.').to_ascii_lowercase();
    hosted
        .iter()
        .filter(|d| host == **d || host.ends_with(&format!(".{d}")))
        .max_by_key(|d| d.len())
        .or_else(|| hosted.first())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primary_domain_is_the_hostnames() {
        let hosted = vec![
            "a.test".to_string(),
            "example.org".to_string(),
            "mail.example.org".to_string(),
        ];
        assert_eq!(
            primary_domain(&hosted, "mx.mail.example.org.").as_deref(),
            Some("mail.example.org")
        );
        assert_eq!(primary_domain(&hosted, "example.org").as_deref(), Some("example.org"));
        assert_eq!(primary_domain(&hosted, "other.net").as_deref(), Some("a.test"));
        assert_eq!(primary_domain(&[], "other.net"), None);
        let reporter = TlsReportSettings::default().with_domain("example.org".into());
        assert_eq!(reporter.from, "postmaster@example.org");
        assert_eq!(reporter.address, "postmaster@example.org");
        assert_eq!(reporter.organization, "example.org");
    }
}
