//! The sessions the delivery path opens, counted for TLS reporting
//! (RFC 8460) under the policy each was held to: DANE's TLSA records for
//! a host that has usable ones, else the domain's MTA-STS policy, else
//! none ("no-policy-found", §4.3: STARTTLS where offered, any
//! certificate). A session that negotiated TLS as its policy asks is a
//! success; one whose MX did not offer STARTTLS, or whose handshake or
//! certificate failed, a failure with §4.3's result type.

use std::net::SocketAddr;

use super::mta_sts::FetchError;
use super::security::Need;
use super::{Delivery, Remote, SessionError, SmtpClient};
use crate::tls_report::{ReportPolicy, ResultType, TlsOutcome, is_tls_report};

impl Remote {
    /// Counts the session `opened` to `host` at `address` under `need`
    /// for the domain's report; nothing for a connection that never
    /// opened, or for a session carrying a TLS report (RFC 8460 §5.3).
    pub(super) async fn count_session(
        &self,
        delivery: &Delivery<'_>,
        host: &str,
        address: SocketAddr,
        need: &Need,
        opened: &Result<SmtpClient, SessionError>,
    ) {
        if is_tls_report(delivery.outgoing.content) {
            return;
        }
        let (sending_ip, result) = match opened {
            Ok(client) if client.is_tls() => (client.local_ip, Ok(())),
            Ok(client) => (
                client.local_ip,
                Err((
                    ResultType::StarttlsNotSupported,
                    format!("{host} did not offer STARTTLS"),
                )),
            ),
            Err(SessionError::Handshake { reason, failure, local }) => {
                let result_type = failure
                    .as_ref()
                    .and_then(|f| ResultType::from_name(f.tlsrpt_result_type()))
                    .unwrap_or(ResultType::ValidationFailure);
                (*local, Err((result_type, reason.clone())))
            }
            // The policy refused the session (no STARTTLS, a certificate
            // that did not verify), and said as what.
            Err(SessionError::Policy {
                reason, result_type, ..
            }) => {
                let result_type = ResultType::from_name(result_type).unwrap_or(ResultType::ValidationFailure);
                (None, Err((result_type, reason.clone())))
            }
            Err(_) => return,
        };
        let policy = match need {
            Need::Dane(dane) => ReportPolicy::Tlsa {
                records: dane.records.iter().map(presentation).collect(),
            },
            _ => delivery.plan.report_policy(),
        };
        self.tls_report
            .record(TlsOutcome {
                domain: delivery.domain.to_string(),
                policy,
                mx_host: host.to_string(),
                receiving_ip: Some(address.ip()),
                sending_ip,
                result,
            })
            .await;
    }
}

impl Remote {
    /// Counts a failed MTA-STS policy fetch for `domain` (RFC 8460
    /// §4.3.2.1: sts-policy-fetch-error, sts-policy-invalid or
    /// sts-webpki-invalid), before any host was dialled.
    pub(super) async fn count_policy_failure(&self, domain: &str, failure: &FetchError) {
        let result_type = ResultType::from_name(failure.result_type()).unwrap_or(ResultType::StsPolicyFetchError);
        self.tls_report
            .record(TlsOutcome {
                domain: domain.to_string(),
                policy: ReportPolicy::Sts {
                    lines: Vec::new(),
                    mx_patterns: Vec::new(),
                },
                mx_host: String::new(),
                receiving_ip: None,
                sending_ip: None,
                result: Err((result_type, failure.to_string())),
            })
            .await;
    }

    /// Counts a host DANE left unused before dialling it: its addresses
    /// or TLSA records did not validate (dnssec-invalid) or could not be
    /// used (tlsa-invalid), RFC 8460 §4.3.2.2.
    pub(super) async fn count_skipped_host(
        &self,
        delivery: &Delivery<'_>,
        host: &str,
        result_type: &str,
        reason: &str,
    ) {
        if is_tls_report(delivery.outgoing.content) {
            return;
        }
        let Some(result_type) = ResultType::from_name(result_type) else {
            return;
        };
        self.tls_report
            .record(TlsOutcome {
                domain: delivery.domain.to_string(),
                policy: ReportPolicy::Tlsa { records: Vec::new() },
                mx_host: host.to_string(),
                receiving_ip: None,
                sending_ip: None,
                result: Err((result_type, reason.to_string())),
            })
            .await;
    }
}

/// A TLSA record as a zone file writes it (RFC 6698 §2.2), which is how
/// §4.3's policy-string lists a "tlsa" policy.
fn presentation(record: &net::TlsaRecord) -> String {
    let data: String = record.data.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{} {} {} {data}", record.usage, record.selector, record.matching)
}
