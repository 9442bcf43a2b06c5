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
            Err(reason) if self.fail_closed => {
                tracing::warn!(id = %envelope.id, %reason, "rspamd failed; the message is refused for now (fail_closed)");
                return Err(Reply::new(451, "4.7.1", "Spam filter unavailable; try again later"));
            }
            Err(reason) => {
                tracing::warn!(id = %envelope.id, %reason, "rspamd failed; the message is accepted unscanned");
                return Ok(Filing::Inbox);
            }
        };
        tracing::info!(id = %envelope.id, action = %answer.action, score = answer.score, "rspamd");
        // Only our verdict may speak: X-Spam fields the sender wrote go.
        remove_fields(message, &[b"x-spam:", b"x-spam-status:"]);
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
                replace_subject(message, subject);
            }
            let fields = format!(
                "X-Spam: Yes\r\nX-Spam-Status: Yes, score={:.2} required={:.2} action=\"{action}\"\r\n",
                answer.score, answer.required_score
            );
            message.splice(0..0, fields.into_bytes());
            Ok(Filing::Junk)
        }
        _ => Ok(Filing::Inbox),
    }
}

/// Replaces the first Subject field of the header (or adds one).
fn replace_subject(message: &mut Vec<u8>, subject: &str) {
    let subject: String = subject.chars().filter(|c| !c.is_control()).collect();
    let field = format!("Subject: {subject}\r\n").into_bytes();
    let mut at = 0;
    while at < message.len() && !message[at..].starts_with(b"\r\n") && !message[at..].starts_with(b"\n") {
        let end = next_field(message, at);
        if message[at..end].len() >= 8 && message[at..at + 8].eq_ignore_ascii_case(b"subject:") {
            message.splice(at..end, field);
            return;
        }
        at = end;
    }
    message.splice(0..0, field);
}

/// Removes the header fields whose names (lower case, with the colon)
/// are in `names`.
fn remove_fields(message: &mut Vec<u8>, names: &[&[u8]]) {
    let mut at = 0;
    while at < message.len() && !message[at..].starts_with(b"\r\n") && !message[at..].starts_with(b"\n") {
        let end = next_field(message, at);
        let field = &message[at..end];
        if names
            .iter()
            .any(|name| field.len() >= name.len() && field[..name.len()].eq_ignore_ascii_case(name))
        {
            message.drain(at..end);
        } else {
            at = end;
        }
    }
}

/// Where the header field starting at `at` ends, its folded lines included.
fn next_field(message: &[u8], at: usize) -> usize {
    let mut end = at;
    loop {
        end = match message[end..].iter().position(|&b| b == b'\n') {
            Some(n) => end + n + 1,
            None => return message.len(),
        };
        if !matches!(message.get(end), Some(b' ' | b'\t')) {
            return end;
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
    fn forged_spam_fields_are_removed_from_the_header_only() {
        let mut message =
            b"X-Spam: No\r\nSubject: a\r\nx-spam-status: No,\r\n score=-100\r\nX-Spammy: kept\r\n\r\nX-Spam: body"
                .to_vec();
        remove_fields(&mut message, &[b"x-spam:", b"x-spam-status:"]);
        assert_eq!(message, b"Subject: a\r\nX-Spammy: kept\r\n\r\nX-Spam: body");
    }
}
