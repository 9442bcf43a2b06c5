//! What outbound sessions met, for TLS reporting (RFC 8460): each session
//! to a recipient domain's MX is counted once, with the policy that
//! applied to it and whether TLS was negotiated as that policy asks
//! (§4.4). The counts wait in the store for the daily report, which the
//! `postamt` binary builds and sends.
//!
//! The delivery path calls [`TlsRecorder::record`] after each session it
//! opens (or fails to open). Sessions toward a configured relay are not
//! counted: they do not reach the recipient domain's MX. Sessions that
//! carry a TLS report are not counted either (RFC 8460 §5.3: a report's
//! session SHOULD NOT be included in the next report). A TCP connection
//! that never opened says nothing about TLS and is not counted: RFC 8460
//! §4.3 has no result type for it.

use std::net::IpAddr;

use store::{Store, TlsFailure, TlsSessionCount};

/// The policy a session was held to, as a report names it (RFC 8460
/// §4.3 policy-type and policy-string, §4.4 mx-host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportPolicy {
    /// No MTA-STS or DANE policy: STARTTLS where offered, any certificate
    /// (§4.3 "no-policy-found").
    NoPolicy,
    /// An MTA-STS policy (RFC 8461): its lines, and its `mx` patterns.
    Sts {
        lines: Vec<String>,
        mx_patterns: Vec<String>,
    },
    /// DANE (RFC 7672): the TLSA records in presentation form
    /// ("3 1 1 ab12...").
    Tlsa { records: Vec<String> },
}

impl ReportPolicy {
    /// §4.3's policy-type string.
    pub fn type_name(&self) -> &'static str {
        match self {
            ReportPolicy::NoPolicy => "no-policy-found",
            ReportPolicy::Sts { .. } => "sts",
            ReportPolicy::Tlsa { .. } => "tlsa",
        }
    }
}

/// RFC 8460 §4.3's result types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultType {
    StarttlsNotSupported,
    CertificateHostMismatch,
    CertificateExpired,
    CertificateNotTrusted,
    ValidationFailure,
    TlsaInvalid,
    DnssecInvalid,
    DaneRequired,
    StsPolicyFetchError,
    StsPolicyInvalid,
    StsWebpkiInvalid,
}

impl ResultType {
    const ALL: [ResultType; 11] = [
        ResultType::StarttlsNotSupported,
        ResultType::CertificateHostMismatch,
        ResultType::CertificateExpired,
        ResultType::CertificateNotTrusted,
        ResultType::ValidationFailure,
        ResultType::TlsaInvalid,
        ResultType::DnssecInvalid,
        ResultType::DaneRequired,
        ResultType::StsPolicyFetchError,
        ResultType::StsPolicyInvalid,
        ResultType::StsWebpkiInvalid,
    ];

    /// The result type §4.3 names `name` (e.g. what an MTA-STS fetch
    /// error says it is); None for a name it does not list.
    pub fn from_name(name: &str) -> Option<ResultType> {
        ResultType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ResultType::StarttlsNotSupported => "starttls-not-supported",
            ResultType::CertificateHostMismatch => "certificate-host-mismatch",
            ResultType::CertificateExpired => "certificate-expired",
            ResultType::CertificateNotTrusted => "certificate-not-trusted",
            ResultType::ValidationFailure => "validation-failure",
            ResultType::TlsaInvalid => "tlsa-invalid",
            ResultType::DnssecInvalid => "dnssec-invalid",
            ResultType::DaneRequired => "dane-required",
            ResultType::StsPolicyFetchError => "sts-policy-fetch-error",
            ResultType::StsPolicyInvalid => "sts-policy-invalid",
            ResultType::StsWebpkiInvalid => "sts-webpki-invalid",
        }
    }
}

/// One session's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOutcome {
    /// The recipient domain (the policy domain).
    pub domain: String,
    pub policy: ReportPolicy,
    /// The MX host name dialled (empty when the failure came before any
    /// host, as a policy fetch's does).
    pub mx_host: String,
    /// The address dialled, when it came to that.
    pub receiving_ip: Option<IpAddr>,
    /// Our end of the connection, where known.
    pub sending_ip: Option<IpAddr>,
    /// Ok when TLS was negotiated as the policy asks; else why not, with
    /// our own words for the detail (§4.4 failure-reason-code).
    pub result: Result<(), (ResultType, String)>,
}

/// Counts sessions into the store. Cheap to clone.
#[derive(Clone)]
pub struct TlsRecorder {
    store: Store,
    /// False when mail goes through a relay: nothing to report.
    enabled: bool,
}

impl TlsRecorder {
    pub fn new(store: Store, enabled: bool) -> TlsRecorder {
        TlsRecorder { store, enabled }
    }

    /// Counts `outcome` for today (UTC). A store error costs a log line
    /// only: delivery goes on. It is awaited (one group commit beside the
    /// queue's own writes), so a session is counted before its message is
    /// reported delivered.
    pub async fn record(&self, outcome: TlsOutcome) {
        if !self.enabled {
            return;
        }
        let (policy_strings, mx_hosts) = match outcome.policy.clone() {
            ReportPolicy::NoPolicy => (Vec::new(), Vec::new()),
            ReportPolicy::Sts { lines, mx_patterns } => (lines, mx_patterns),
            ReportPolicy::Tlsa { records } => (records, Vec::new()),
        };
        let count = TlsSessionCount {
            day: store::utc_day(store::now()),
            domain: outcome.domain.to_ascii_lowercase(),
            policy_type: outcome.policy.type_name().to_string(),
            policy_strings,
            mx_hosts,
            failure: outcome.result.err().map(|(result_type, reason)| TlsFailure {
                result_type: result_type.as_str().to_string(),
                sending_ip: outcome.sending_ip.map(|ip| ip.to_string()).unwrap_or_default(),
                receiving_mx: outcome.mx_host.clone(),
                receiving_ip: outcome.receiving_ip.map(|ip| ip.to_string()).unwrap_or_default(),
                reason,
            }),
        };
        if let Err(e) = self.store.count_tls_session(count).await {
            tracing::warn!(error = %e, "could not count a session for TLS reporting");
        }
    }
}

/// Whether `content` is a TLS report: RFC 8460 §5.3 gives every report a
/// `TLS-Report-Domain` header field.
pub(crate) fn is_tls_report(content: &[u8]) -> bool {
    let header_end = content
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(content.len(), |at| at + 2);
    content[..header_end]
        .split(|b| *b == b'\n')
        .any(|line| line.len() > 18 && line[..18].eq_ignore_ascii_case(b"tls-report-domain:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_recognised_by_their_header() {
        assert!(is_tls_report(
            b"From: a@b\r\nTLS-Report-Domain: remote.test\r\n\r\nbody\r\n"
        ));
        assert!(is_tls_report(b"tls-report-domain: x\r\n\r\n"));
        assert!(!is_tls_report(
            b"From: a@b\r\nSubject: x\r\n\r\nTLS-Report-Domain: in the body\r\n"
        ));
        assert!(!is_tls_report(b""));
    }

    #[test]
    fn names_are_the_rfc_strings() {
        assert_eq!(ReportPolicy::NoPolicy.type_name(), "no-policy-found");
        assert_eq!(ResultType::StarttlsNotSupported.as_str(), "starttls-not-supported");
        assert_eq!(ResultType::StsWebpkiInvalid.as_str(), "sts-webpki-invalid");
        for t in ResultType::ALL {
            assert_eq!(ResultType::from_name(t.as_str()), Some(t));
        }
        assert_eq!(
            ResultType::from_name("sts-policy-fetch-error"),
            Some(ResultType::StsPolicyFetchError)
        );
        assert_eq!(ResultType::from_name("other"), None);
    }
}
