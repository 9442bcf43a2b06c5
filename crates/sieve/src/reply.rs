//! The message a vacation reply is (RFC 5230 §5): from the user to the
//! sender, marked `Auto-Submitted: auto-replied` (RFC 3834 §5) so that
//! other responders leave it alone, answering the original message by its
//! Message-ID. The host sends it with a null reverse-path (§5.1), so no
//! bounce of it can start a loop.

use base64::Engine;

use crate::interpret::VacationReply;

impl VacationReply {
    /// The reply's whole message. `message_id` is its own Message-ID
    /// (without brackets), `now` the date to put on it.
    pub fn message(&self, message_id: &str, now: i64) -> Vec<u8> {
        let mut out = String::new();
        let field = |out: &mut String, name: &str, value: &str| {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(&crate::header::field_value(value));
            out.push_str("\r\n");
        };
        field(&mut out, "From", &mailbox(&self.from));
        field(&mut out, "To", &mailbox(&self.to));
        field(&mut out, "Subject", &self.subject);
        field(&mut out, "Date", &wire::date::rfc5322(now));
        field(&mut out, "Message-ID", &format!("<{message_id}>"));
        if let Some(original) = self.in_reply_to.as_deref().filter(|id| is_message_id(id)) {
            field(&mut out, "In-Reply-To", original);
            field(&mut out, "References", original);
        }
        out.push_str("Auto-Submitted: auto-replied (vacation)\r\n");
        out.push_str("Precedence: bulk\r\n");
        out.push_str("MIME-Version: 1.0\r\n");
        let body = crlf(&self.body);
        if self.mime {
            // §4.8: the reason is a MIME entity, its header included.
            out.push_str(&body);
        } else if body.is_ascii() && body.lines().all(|line| line.len() <= 998) {
            out.push_str("Content-Type: text/plain; charset=us-ascii\r\n\r\n");
            out.push_str(&body);
        } else {
            out.push_str("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
            let encoded = base64::engine::general_purpose::STANDARD.encode(body.as_bytes());
            for line in encoded.as_bytes().chunks(76) {
                out.push_str(std::str::from_utf8(line).unwrap_or_default());
                out.push_str("\r\n");
            }
        }
        if !out.ends_with("\r\n") {
            out.push_str("\r\n");
        }
        out.into_bytes()
    }
}

/// An address in angle brackets, unless it is written with them (a
/// `:from` of "Name <a@b>").
fn mailbox(address: &str) -> String {
    if address.contains('<') {
        address.to_string()
    } else {
        format!("<{address}>")
    }
}

/// `<...>` with nothing that could end the field.
fn is_message_id(id: &str) -> bool {
    id.starts_with('<') && id.ends_with('>') && !id.contains(['\r', '\n'])
}

/// Line ends as CRLF, whatever the script's text had.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(body: &str, mime: bool) -> VacationReply {
        VacationReply {
            to: "sender@example.com".into(),
            from: "me@example.org".into(),
            subject: "Auto: Grüße".into(),
            body: body.into(),
            mime,
            in_reply_to: Some("<orig@example.com>".into()),
            period: 86_400,
            key: String::new(),
        }
    }

    #[test]
    fn a_reply_is_marked_and_answers_the_original() {
        let message = String::from_utf8(reply("I am away.\n", false).message("r1@mx.example.org", 0)).unwrap();
        assert!(
            message.starts_with("From: <me@example.org>\r\nTo: <sender@example.com>\r\n"),
            "{message}"
        );
        assert!(message.contains("Subject: =?UTF-8?B?"), "{message}");
        assert!(message.contains("Date: Thu, 1 Jan 1970 00:00:00 +0000\r\n"));
        assert!(message.contains("Message-ID: <r1@mx.example.org>\r\n"));
        assert!(message.contains("In-Reply-To: <orig@example.com>\r\nReferences: <orig@example.com>\r\n"));
        assert!(message.contains("Auto-Submitted: auto-replied (vacation)\r\n"));
        assert!(message.ends_with("charset=us-ascii\r\n\r\nI am away.\r\n"), "{message}");
    }

    #[test]
    fn other_text_is_base64_and_mime_reasons_are_whole_entities() {
        let message = String::from_utf8(reply("Ich bin weg. Grüße", false).message("r@x", 0)).unwrap();
        assert!(message.contains("Content-Transfer-Encoding: base64\r\n\r\nSWNoIGJpbiB3ZWcuIEdyw7zDn2U=\r\n"));
        let entity = "Content-Type: text/html\n\n<p>away</p>\n";
        let message = String::from_utf8(reply(entity, true).message("r@x", 0)).unwrap();
        assert!(
            message.ends_with("MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<p>away</p>\r\n"),
            "{message}"
        );
    }
}
