//! rspamd, the spam filter most modern mail setups run (issue 17): each
//! message from the internet is sent to its normal worker over HTTP
//! (`POST /checkv2`, with the envelope and connection facts it uses as
//! request headers), and the action it answers is applied:
//!
//! - `reject`: 554 5.7.1 with rspamd's message;
//! - `soft reject`, `greylist`: 451 4.7.1, the sender retries;
//! - `add header`, `rewrite subject`: X-Spam headers (and the new subject),
//!   delivered into the recipients' Junk mailbox;
//! - `no action`: delivered as it is.
//!
//! rspamd that does not answer within the timeout, or cannot be reached,
//! lets the message through (logged) unless `fail_closed` is set: a
//! filter that is down must not stop the mail.

use std::time::Duration;

use serde::Deserialize;
use smtpd::{Envelope, Filing};

use crate::header_edit;
use wire::smtp::{Reply, ReversePath};

/// The most of rspamd's answer read: a verdict is a few kilobytes.
const MAX_ANSWER: usize = 1024 * 1024;

/// `[rspamd]`: off (no URL) by default.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RspamdConfig {
    /// The normal worker, e.g. `http://127.0.0.1:11333`; empty is off.
    pub url: String,
    /// Seconds a scan may take.
    pub timeout: u64,
    /// Refuse mail for now (451) when rspamd cannot answer.
    pub fail_closed: bool,
    /// Scan mail that logged-in users send, too.
    pub scan_outgoing: bool,
    /// The controller worker, e.g. `http://127.0.0.1:11334`: messages users
    /// move into or out of Junk teach it (`spam_learning`). Empty is off.
    pub controller: String,
    /// The controller's password, if it asks for one.
    pub password: String,
}

impl Default for RspamdConfig {
    fn default() -> Self {
        RspamdConfig {
            url: String::new(),
            timeout: 15,
            fail_closed: false,
            scan_outgoing: false,
            controller: String::new(),
            password: String::new(),
        }
    }
}

/// A configured rspamd.
pub struct Rspamd {
    /// `host:port` of the normal worker.
    address: String,
    timeout: Duration,
    fail_closed: bool,
    scan_outgoing: bool,
    /// Scans that failed since the start, for the log.
    failures: std::sync::atomic::AtomicU64,
}

/// rspamd's answer, as far as we use it.
#[derive(Debug, Deserialize)]
struct Answer {
    action: String,
    #[serde(default)]
    score: f64,
    #[serde(default)]
    required_score: f64,
    #[serde(default)]
    messages: Messages,
    subject: Option<String>,
    /// Header changes rspamd asks for (its milter_headers module).
    #[serde(default)]
    milter: Milter,
}

#[derive(Debug, Default, Deserialize)]
struct Milter {
    /// Name to value: a string, `{"value": ..., "order": ...}`, or a list
    /// of either.
    #[serde(default)]
    add_headers: serde_json::Map<String, serde_json::Value>,
    /// Name to which occurrence (0 all).
    #[serde(default)]
    remove_headers: serde_json::Map<String, serde_json::Value>,
}

impl Milter {
    /// Applies the removals, then the additions (on top of the header).
    /// Authentication-Results is never taken from rspamd: only our checks
    /// write under our name (docs/security.md §7).
    fn apply(&self, message: &mut Vec<u8>) {
        for (name, index) in &self.remove_headers {
            header_edit::remove_field(message, name, index.as_i64().unwrap_or(0));
        }
        let mut fields = String::new();
        for (name, value) in &self.add_headers {
            if name.eq_ignore_ascii_case("authentication-results") {
                continue;
            }
            let values = match value {
                serde_json::Value::Array(values) => values.iter().collect(),
                value => vec![value],
            };
            for value in values {
                let text = match value {
                    serde_json::Value::String(text) => Some(text.as_str()),
                    serde_json::Value::Object(object) => object.get("value").and_then(|v| v.as_str()),
                    _ => None,
                };
                if let Some(field) = text.and_then(|text| header_edit::field(name, text)) {
                    fields.push_str(&field);
                }
            }
        }
        message.splice(0..0, fields.into_bytes());
    }

    fn adds(&self, name: &str) -> bool {
        self.add_headers.keys().any(|n| n.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Default, Deserialize)]
struct Messages {
    smtp_message: Option<String>,
}

impl Rspamd {
    pub fn new(config: &RspamdConfig) -> anyhow::Result<Option<Rspamd>> {
        if config.url.is_empty() {
            return Ok(None);
        }
        let address = host_port("url", &config.url)?;
        Ok(Some(Rspamd {
            address,
            timeout: Duration::from_secs(config.timeout.max(1)),
            fail_closed: config.fail_closed,
            scan_outgoing: config.scan_outgoing,
            failures: Default::default(),
        }))
    }

    /// Whether this message is scanned: mail from the internet, and
    /// submitted mail when `scan_outgoing` is set.
    pub fn scans(&self, checked: bool, envelope: &Envelope<'_>) -> bool {
        checked || (self.scan_outgoing && envelope.user.is_some())
    }

    /// Scans `message` and applies rspamd's action to it.
    pub async fn scan(&self, envelope: &Envelope<'_>, message: &mut Vec<u8>) -> Result<Filing, Reply> {
        let headers = request_headers(envelope);
        let answer = tokio::time::timeout(
            self.timeout,
            crate::http::post(&self.address, "/checkv2", &headers, message, MAX_ANSWER),
        )
        .await
        .map_err(|_| format!("no answer within {} s", self.timeout.as_secs()))
        .and_then(|answer| answer)
        .and_then(|(status, body)| match status {
            200 => serde_json::from_slice::<Answer>(&body).map_err(|e| format!("unreadable answer: {e}")),
            _ => Err(format!("answered {status}")),
        });
        let answer = match answer {
            Ok(answer) => answer,
            Err(reason) => {
                let failures = self.failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if self.fail_closed {
                    tracing::warn!(id = %envelope.id, %reason, failures, "rspamd failed; the message is refused for now (fail_closed)");
                    return Err(Reply::new(451, "4.7.1", "Spam filter unavailable; try again later"));
                }
                tracing::warn!(id = %envelope.id, %reason, failures, "rspamd failed; the message is accepted unscanned");
                return Ok(Filing::Inbox);
            }
        };
        tracing::info!(id = %envelope.id, action = %answer.action, score = answer.score, "rspamd");
        // Only our verdict may speak: X-Spam fields the sender wrote go.
        header_edit::remove_fields(message, &["X-Spam", "X-Spam-Status"]);
        apply(&answer, message)
    }
}

/// `HOST:PORT` of an `http://HOST:PORT` URL in `[rspamd] key`.
pub fn host_port(key: &str, url: &str) -> anyhow::Result<String> {
    url.strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
        .map(str::to_string)
        .ok_or_else(|| {
            anyhow::anyhow!("[rspamd] {key} = {url:?} must be http://HOST:PORT, e.g. http://127.0.0.1:11333")
        })
}

/// The facts rspamd's protocol takes as request headers.
fn request_headers(envelope: &Envelope<'_>) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("Queue-Id", envelope.id.to_string()),
        ("IP", envelope.client.ip.to_canonical().to_string()),
        ("Helo", envelope.client.helo.to_string()),
        (
            "From",
            match envelope.from {
                ReversePath::Mailbox(mailbox) => mailbox.to_string(),
                ReversePath::Null => String::new(),
            },
        ),
    ];
    headers.extend(envelope.recipients.iter().map(|r| ("Rcpt", r.address.clone())));
    if let Some(user) = envelope.user {
        headers.push(("User", user.to_string()));
    }
    headers
        .into_iter()
        // Nothing from the client may end a header line of our request.
        .map(|(name, value)| (name, value.chars().filter(|c| !c.is_control()).collect()))
        .collect()
}

/// What rspamd's action does to the message.
fn apply(answer: &Answer, message: &mut Vec<u8>) -> Result<Filing, Reply> {
    let text = |default: &str| {
        answer
            .messages
            .smtp_message
            .as_deref()
            .unwrap_or(default)
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect::<String>()
    };
    match answer.action.as_str() {
        "reject" => Err(Reply::new(554, "5.7.1", text("Spam message rejected"))),
        "soft reject" | "greylist" => Err(Reply::new(451, "4.7.1", text("Try again later"))),
        action @ ("add header" | "rewrite subject") => {
            if action == "rewrite subject"
                && let Some(subject) = &answer.subject
            {
                header_edit::replace_subject(message, subject);
            }
            answer.milter.apply(message);
            let mut fields = String::new();
            if !answer.milter.adds("X-Spam-Status") {
                fields.push_str(&format!(
                    "X-Spam-Status: Yes, score={:.2} required={:.2} action=\"{action}\"\r\n",
                    answer.score, answer.required_score
                ));
            }
            if !answer.milter.adds("X-Spam") {
                fields.insert_str(0, "X-Spam: Yes\r\n");
            }
            message.splice(0..0, fields.into_bytes());
            Ok(Filing::Junk)
        }
        _ => {
            answer.milter.apply(message);
            Ok(Filing::Inbox)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(action: &str) -> Answer {
        Answer {
            action: action.into(),
            score: 7.5,
            required_score: 15.0,
            messages: Messages {
                smtp_message: Some("Gtube pattern\r\nInjected: x".into()),
            },
            subject: Some("*** SPAM *** hello".into()),
            milter: Milter::default(),
        }
    }

    #[test]
    fn each_action_does_what_it_says() {
        let original = b"Subject: hello\r\n\tfolded\r\nFrom: a@b\r\n\r\nbody".to_vec();
        let mut message = original.clone();
        let refused = apply(&answer("reject"), &mut message).unwrap_err();
        assert_eq!(
            (refused.code, refused.status, refused.lines[0].as_str()),
            (554, Some("5.7.1"), "Gtube patternInjected: x")
        );
        assert_eq!(apply(&answer("soft reject"), &mut message).unwrap_err().code, 451);
        assert_eq!(apply(&answer("greylist"), &mut message).unwrap_err().code, 451);
        assert_eq!(apply(&answer("no action"), &mut message), Ok(Filing::Inbox));
        assert_eq!(message, original);
        assert_eq!(apply(&answer("add header"), &mut message), Ok(Filing::Junk));
        assert!(message.starts_with(b"X-Spam: Yes\r\nX-Spam-Status: Yes, score=7.50 required=15.00"));
        let mut message = original.clone();
        assert_eq!(apply(&answer("rewrite subject"), &mut message), Ok(Filing::Junk));
        let text = String::from_utf8(message).unwrap();
        assert!(text.contains("Subject: *** SPAM *** hello\r\nFrom: a@b\r\n"), "{text}");
        assert!(!text.contains("folded"), "{text}");
    }

    #[test]
    fn the_milter_block_edits_the_header_but_never_our_verdict() {
        let mut answer = answer("no action");
        answer.milter = serde_json::from_str(
            r#"{"add_headers": {"X-Spamd-Bar": {"value": "+++", "order": 0},
                                "X-Rspamd-Server": "scanner\r\nInjected: yes",
                                "Authentication-Results": "mx.example.test; dkim=pass",
                                "X-Two": ["a", {"value": "b"}]},
                "remove_headers": {"X-Old": 0}}"#,
        )
        .unwrap();
        let mut message = b"X-Old: 1\r\nSubject: s\r\nX-Old: 2\r\n\r\nbody".to_vec();
        assert_eq!(apply(&answer, &mut message), Ok(Filing::Inbox));
        let text = String::from_utf8(message).unwrap();
        assert!(text.contains("X-Spamd-Bar: +++\r\n"), "{text}");
        assert!(
            text.contains("X-Rspamd-Server: scanner\r\n\tInjected: yes\r\n"),
            "{text}"
        );
        assert!(text.contains("X-Two: a\r\nX-Two: b\r\n"), "{text}");
        assert!(
            !text.contains("Authentication-Results") && !text.contains("X-Old"),
            "{text}"
        );
        assert!(text.ends_with("Subject: s\r\n\r\nbody"), "{text}");
    }

    #[test]
    fn forged_spam_fields_are_removed_from_the_header_only() {
        let mut message =
            b"X-Spam: No\r\nSubject: a\r\nx-spam-status: No,\r\n score=-100\r\nX-Spammy: kept\r\n\r\nX-Spam: body"
                .to_vec();
        header_edit::remove_fields(&mut message, &["X-Spam", "X-Spam-Status"]);
        assert_eq!(message, b"Subject: a\r\nX-Spammy: kept\r\n\r\nX-Spam: body");
    }
}
