//! The sessions the delivery path opens, counted for TLS reporting
//! (RFC 8460) under the policy the plan held them to: the domain's
//! MTA-STS policy, or none ("no-policy-found", §4.3: STARTTLS where
//! offered, any certificate). A session that negotiated TLS as its policy
//! asks is a success; one whose MX did not offer STARTTLS, or whose
//! handshake or certificate failed, a failure.

use std::net::SocketAddr;

use super::security::Plan;
use super::{Outgoing, Remote, SessionError, SmtpClient};
use crate::tls_report::{ResultType, TlsOutcome, is_tls_report};

impl Remote {
    /// Counts the session `opened` to `host` at `address` for `domain`'s
    /// report; nothing for a connection that never opened, or for a
    /// session carrying a TLS report (RFC 8460 §5.3).
    pub(super) async fn count_session(
        &self,
        domain: &str,
        host: &str,
        address: SocketAddr,
        plan: &Plan,
        outgoing: &Outgoing<'_>,
        opened: &Result<SmtpClient, SessionError>,
    ) {
        if is_tls_report(outgoing.content) {
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
            // The handshake failed though any certificate would do: a
            // failure of no category of §4.3.2.2's but the general one.
            Err(SessionError::Tls { reason, local }) => (*local, Err((ResultType::ValidationFailure, reason.clone()))),
            // The policy refused the session: no STARTTLS (RFC 3463 X.7.10),
            // or a certificate that did not verify.
            Err(SessionError::Policy { status, reason }) => {
                let result_type = if status.ends_with(".7.10") {
                    ResultType::StarttlsNotSupported
                } else {
                    ResultType::ValidationFailure
                };
                (None, Err((result_type, reason.clone())))
            }
            Err(_) => return,
        };
        self.tls_report
            .record(TlsOutcome {
                domain: domain.to_string(),
                policy: plan.report_policy(),
                mx_host: host.to_string(),
                receiving_ip: address.ip(),
                sending_ip,
                result,
            })
            .await;
    }
}
