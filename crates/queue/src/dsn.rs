//! Delivery status notifications: RFC 3464 `multipart/report` messages
//! (RFC 6522) with a `message/delivery-status` part per RFC 3464, or the
//! RFC 6533 `global` types when the message used UTF-8 addresses. They go
//! to the reverse-path with an empty reverse-path of their own, so a DSN
//! can never cause another (RFC 3461 §6.2, RFC 5321 §4.5.5).

use store::{QueueRecipient, ReportAction};
use wire::smtp::{BodyType, DsnReturn, encode_xtext};

/// Above this size a failed message is returned as its header only.
const MAX_RETURNED: usize = 1024 * 1024;

/// One recipient in a report.
pub(crate) struct Reported<'a> {
    pub recipient: &'a QueueRecipient,
    pub action: ReportAction,
    /// Until when a delayed recipient is tried.
    pub retry_until: Option<i64>,
}

/// Everything a report is made of.
pub(crate) struct Report<'a> {
    pub hostname: &'a str,
    pub queue_id: &'a str,
    pub recipients: Vec<Reported<'a>>,
    /// The message the report is about, as stored.
    pub original: &'a [u8],
    pub boundary: &'a str,
    pub now: i64,
}

impl Report<'_> {
    /// The report as a message; and whether it needs 8BITMIME.
    pub fn build(&self) -> (Vec<u8>, bool) {
        let Some(first) = self.recipients.first().map(|r| r.recipient) else {
            return (Vec::new(), false);
        };
        let any = |action: ReportAction| self.recipients.iter().any(|r| r.action == action);
        let failed = any(ReportAction::Failed);
        let global = first.smtputf8;
        let subject = if failed {
            "Undelivered Mail Returned to Sender"
        } else if any(ReportAction::Delayed) {
            "Delayed Mail (still being retried)"
        } else {
            "Successful Mail Delivery Report"
        };
        let date = wire::date::rfc5322(self.now);
        let boundary = self.boundary;
        let mut out = String::new();
        out.push_str(&format!(
            "From: Mail Delivery System <MAILER-DAEMON@{host}>\r\n\
             To: <{to}>\r\n\
             Subject: {subject}\r\n\
             Date: {date}\r\n\
             Message-ID: <{id}.dsn.{now}@{host}>\r\n\
             Auto-Submitted: auto-replied\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\
             \r\n\
             This is a MIME-formatted delivery status notification.\r\n\
             \r\n--{boundary}\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n",
            host = self.hostname,
            to = first.reverse_path,
            id = self.queue_id,
            now = self.now,
        ));
        out.push_str(&self.explanation());
        let status_type = if global {
            "message/global-delivery-status"
        } else {
            "message/delivery-status"
        };
        out.push_str(&format!("\r\n--{boundary}\r\nContent-Type: {status_type}\r\n\r\n"));
        out.push_str(&self.status_fields());
        // RFC 3461 §4.3: RET=HDRS returns the header only; success and
        // delay reports return it too, since the message went on. So does
        // the report on a REQUIRETLS message: it leaves from the null
        // reverse-path, which RFC 8689 §4.2.1 exempts from REQUIRETLS, and
        // may cross hops the sender would not have let the body cross.
        let full = failed
            && !first.require_tls
            && first.dsn_ret != Some(DsnReturn::Headers)
            && first.body != BodyType::BinaryMime
            && self.original.len() <= MAX_RETURNED;
        let (part_type, returned) = if full {
            (if global { "message/global" } else { "message/rfc822" }, self.original)
        } else {
            (
                if global {
                    "message/global-headers"
                } else {
                    "text/rfc822-headers"
                },
                header_of(self.original),
            )
        };
        out.push_str(&format!("\r\n--{boundary}\r\nContent-Type: {part_type}\r\n\r\n"));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(returned);
        if !returned.ends_with(b"\r\n") {
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let eight_bit = bytes.iter().any(|b| *b >= 0x80);
        (bytes, eight_bit)
    }

    /// The part for people.
    fn explanation(&self) -> String {
        let mut text = format!("This is the mail system at {}.\r\n\r\n", self.hostname);
        for reported in &self.recipients {
            let r = reported.recipient;
            // The remote server's words: one line, whatever they hold (a
            // bare CR could otherwise pass for a line break, a MIME
            // delimiter, to a lenient reader).
            let reply = fold(r.last_reply.as_deref().unwrap_or(""));
            let line = match reported.action {
                ReportAction::Failed => format!(
                    "Your message to <{}> could not be delivered:\r\n    {reply}\r\n",
                    r.address
                ),
                ReportAction::Delayed => format!(
                    "Your message to <{}> has not been delivered yet; it will be tried again.\r\n    Last attempt: {reply}\r\n",
                    r.address
                ),
                ReportAction::Relayed => format!(
                    "Your message to <{}> was passed on to a host that does not send delivery notifications:\r\n    {reply}\r\n",
                    r.address
                ),
                ReportAction::Delivered => format!("Your message to <{}> was delivered.\r\n", r.address),
            };
            text.push_str(&line);
        }
        text
    }

    /// The machine-readable part: per-message fields, then a group per
    /// recipient (RFC 3464 §2.2, §2.3).
    fn status_fields(&self) -> String {
        let Some(first) = self.recipients.first().map(|r| r.recipient) else {
            return String::new();
        };
        let mut text = format!(
            "Reporting-MTA: dns; {}\r\nX-Postamt-Queue-ID: {}\r\n",
            self.hostname, self.queue_id
        );
        // RFC 3464 §2.2.1, §2.3.1: ENVID and ORCPT go back as the sender
        // gave them, in xtext. Encoding them again here means no value
        // from the envelope can ever carry a line break into this part,
        // whatever was let in when the message was received.
        if let Some(envid) = &first.dsn_envid {
            text.push_str(&format!("Original-Envelope-Id: {}\r\n", encode_xtext(envid)));
        }
        text.push_str(&format!("Arrival-Date: {}\r\n", wire::date::rfc5322(first.received_at)));
        for reported in &self.recipients {
            let r = reported.recipient;
            // RFC 6533 §3: utf-8 address type for UTF-8 addresses.
            let kind = if r.address.is_ascii() { "rfc822" } else { "utf-8" };
            text.push_str(&format!("\r\nFinal-Recipient: {kind}; {}\r\n", r.address));
            if let Some((kind, address)) = r.orcpt.as_deref().and_then(|o| o.split_once(';')) {
                // RFC 6533 §3: the utf-8 type carries UTF-8 as it is.
                let address = if kind == "utf-8" {
                    fold(address)
                } else {
                    encode_xtext(address)
                };
                text.push_str(&format!("Original-Recipient: {}; {address}\r\n", encode_xtext(kind)));
            }
            let status = r.status_code.as_deref().unwrap_or(match reported.action {
                ReportAction::Failed => "5.0.0",
                ReportAction::Delayed => "4.0.0",
                _ => "2.0.0",
            });
            // The status code and the host name come from the remote side
            // (its reply, its DNS): kept to their line like the reply.
            text.push_str(&format!("Action: {}\r\nStatus: {}\r\n", reported.action, fold(status)));
            if let Some(mta) = &r.remote_mta {
                text.push_str(&format!("Remote-MTA: dns; {}\r\n", fold(mta)));
            }
            if let Some(reply) = &r.last_reply {
                text.push_str(&format!("Diagnostic-Code: smtp; {}\r\n", fold(reply)));
            }
            text.push_str(&format!("Last-Attempt-Date: {}\r\n", wire::date::rfc5322(self.now)));
            if let Some(until) = reported.retry_until {
                text.push_str(&format!("Will-Retry-Until: {}\r\n", wire::date::rfc5322(until)));
            }
        }
        text
    }
}

/// The header section of a message, with its blank line.
pub(crate) fn header_of(message: &[u8]) -> &[u8] {
    message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message, |i| &message[..i + 4])
}

/// Keeps a value on one header line: no CR, LF or other control character
/// (from a remote server's reply, say) may start a field of its own.
fn fold(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use store::RecipientStatus;

    use super::*;

    fn recipient(address: &str, reply: &str, status: &str) -> QueueRecipient {
        QueueRecipient {
            id: 1,
            queue_id: "Q1".into(),
            address: address.into(),
            notify: None,
            orcpt: Some("rfc822;Original@Example.test".into()),
            status: RecipientStatus::Failed,
            attempts: 1,
            next_attempt_at: 0,
            last_reply: Some(reply.into()),
            status_code: Some(status.into()),
            remote_mta: Some("mx.example.test".into()),
            report: Some(ReportAction::Failed),
            reverse_path: "sender@origin.test".into(),
            blob_hash: String::new(),
            size: 0,
            received_at: 0,
            body: BodyType::SevenBit,
            smtputf8: false,
            dsn_ret: None,
            dsn_envid: Some("ENV1".into()),
            junk: false,
            require_tls: false,
            tls_optional: false,
        }
    }

    /// The failure report on `failed` about `original`, boundary `B`.
    fn failure_report(failed: &QueueRecipient, original: &[u8]) -> String {
        let report = Report {
            hostname: "mx.origin.test",
            queue_id: "Q1",
            recipients: vec![Reported {
                recipient: failed,
                action: ReportAction::Failed,
                retry_until: None,
            }],
            original,
            boundary: "B",
            now: 0,
        };
        String::from_utf8(report.build().0).unwrap()
    }

    #[test]
    fn a_failure_report_names_the_recipient_and_returns_the_message() {
        let failed = recipient(
            "bob@example.test",
            "550 5.1.1 <bob@example.test>: unknown\r\nX-Injected: yes",
            "5.1.1",
        );
        let report = Report {
            hostname: "mx.origin.test",
            queue_id: "Q1",
            recipients: vec![Reported {
                recipient: &failed,
                action: ReportAction::Failed,
                retry_until: None,
            }],
            original: b"Subject: hello\r\n\r\nbody\r\n",
            boundary: "BOUNDARY",
            now: 0,
        };
        let (bytes, eight_bit) = report.build();
        let text = String::from_utf8(bytes).unwrap();
        assert!(!eight_bit);
        for expected in [
            "To: <sender@origin.test>\r\n",
            "Subject: Undelivered Mail Returned to Sender\r\n",
            "Content-Type: multipart/report; report-type=delivery-status;",
            "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.origin.test\r\n",
            "Original-Envelope-Id: ENV1\r\n",
            "Final-Recipient: rfc822; bob@example.test\r\nOriginal-Recipient: rfc822; Original@Example.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.example.test\r\n",
            "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.test>: unknown  X-Injected: yes\r\n",
            "Content-Type: message/rfc822\r\n\r\nSubject: hello\r\n\r\nbody\r\n--BOUNDARY--\r\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }

    #[test]
    fn envelope_values_never_start_a_field() {
        // Values that slipped past the checks at MAIL and RCPT (stored by an
        // older version, say) still cannot add fields to the report.
        let mut failed = recipient("bob@example.test", "550 5.1.1 unknown", "5.1.1");
        failed.dsn_envid = Some("E\r\nX-Injected: yes".into());
        failed.orcpt = Some("rfc822;a@b.test\r\nAction: delivered".into());
        let text = failure_report(&failed, b"Subject: x\r\n\r\nbody\r\n");
        assert!(
            text.contains("Original-Envelope-Id: E+0D+0AX-Injected:+20yes\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Original-Recipient: rfc822; a@b.test+0D+0AAction:+20delivered\r\n"),
            "{text}"
        );
        assert!(!text.contains("\nX-Injected"), "{text}");
        assert_eq!(text.matches("\nAction:").count(), 1, "{text}");
    }

    #[test]
    fn a_remote_reply_stays_on_its_line_in_the_text_part() {
        // A fuzz find: the reply went unfolded into the part for people,
        // where a bare CR followed by the (guessable) boundary could pass
        // for a delimiter to a lenient MIME reader.
        let mut failed = recipient("bob@example.test", "550 no\r--B\rContent-Type: text/html", "5.1.1\r");
        failed.remote_mta = Some("mx.test\r\nAction: delivered".into());
        let text = failure_report(&failed, b"Subject: x\r\n\r\nbody\r\n");
        assert!(text.contains("    550 no --B Content-Type: text/html\r\n"), "{text}");
        assert!(!text.contains("\r--B"), "{text}");
        // So do the status code and the remote host's name (a second find).
        assert!(text.contains("Status: 5.1.1 \r\n"), "{text}");
        assert!(
            text.contains("Remote-MTA: dns; mx.test  Action: delivered\r\n"),
            "{text}"
        );
    }

    #[test]
    fn a_requiretls_message_comes_back_without_its_body() {
        let mut failed = recipient("bob@example.test", "550 5.7.30 REQUIRETLS support required", "5.7.30");
        failed.require_tls = true;
        let text = failure_report(&failed, b"Subject: x\r\n\r\nsecret body\r\n");
        assert!(text.contains("Status: 5.7.30\r\n"), "{text}");
        assert!(
            text.contains("Content-Type: text/rfc822-headers\r\n\r\nSubject: x\r\n"),
            "{text}"
        );
        assert!(!text.contains("secret body"), "{text}");
    }

    #[test]
    fn headers_only_when_asked_and_global_types_for_utf8() {
        let mut failed = recipient("jürgen@bücher.test", "550 5.1.1 unknown", "5.1.1");
        failed.smtputf8 = true;
        failed.dsn_ret = Some(DsnReturn::Headers);
        let report = Report {
            hostname: "mx.origin.test",
            queue_id: "Q1",
            recipients: vec![Reported {
                recipient: &failed,
                action: ReportAction::Failed,
                retry_until: None,
            }],
            original: b"Subject: x\r\n\r\nsecret body\r\n",
            boundary: "B",
            now: 0,
        };
        let (bytes, eight_bit) = report.build();
        let text = String::from_utf8(bytes).unwrap();
        assert!(eight_bit);
        assert!(text.contains("Content-Type: message/global-delivery-status\r\n"));
        assert!(text.contains("Final-Recipient: utf-8; jürgen@bücher.test\r\n"));
        assert!(text.contains("Content-Type: message/global-headers\r\n\r\nSubject: x\r\n\r\n--B--"));
        assert!(!text.contains("secret body"));
    }
}
