//! Header fields as editheader (RFC 5293) writes them, and the ones it
//! must leave alone.

use base64::Engine;

/// Fields a script may neither add nor delete, so that a message's trace
/// and its auto-reply marking are what the servers wrote (RFC 5293 §7:
/// Received; Auto-Submitted, on which the loop checks of vacation and of
/// bounces depend).
const PROTECTED: &[&str] = &["received", "auto-submitted"];

/// RFC 5322 §3.6.8 field-name: one or more printable ASCII characters
/// but the colon. A name from a variable is checked when the script
/// runs, so that no value can smuggle a line break or a second field
/// into the header (RFC 5293 §4).
pub(crate) fn valid_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

pub(crate) fn protected(name: &str) -> bool {
    PROTECTED.iter().any(|p| p.eq_ignore_ascii_case(name))
}

/// The value addheader writes (RFC 5293 §4): one line (CR and LF become
/// spaces, so a script cannot start a field of its own), with non-ASCII
/// text as RFC 2047 encoded words in UTF-8.
pub(crate) fn field_value(value: &str) -> String {
    let one_line = one_line(value);
    if one_line.is_ascii() {
        return one_line;
    }
    // Encoded words of at most 75 characters (RFC 2047 §2): 45 octets of
    // text base64-encode to 60, which with "=?UTF-8?B?" and "?=" is 72.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in one_line.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(encoded_word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(encoded_word(&chunk));
    }
    words.join(" ")
}

/// Text for one header line: CR and LF become spaces.
pub(crate) fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}

fn encoded_word(text: &str) -> String {
    format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_on_one_line_and_ascii() {
        assert_eq!(field_value("plain"), "plain");
        assert_eq!(field_value("two\r\nBcc: x@y"), "two  Bcc: x@y");
        assert_eq!(field_value("Grüße"), "=?UTF-8?B?R3LDvMOfZQ==?=");
        let long = field_value(&"ä".repeat(100));
        assert!(
            long.split(' ')
                .all(|word| word.len() <= 75 && word.starts_with("=?UTF-8?B?")),
            "{long}"
        );
    }

    #[test]
    fn trace_and_auto_reply_fields_are_protected() {
        assert!(protected("Received") && protected("AUTO-SUBMITTED"));
        assert!(!protected("X-Spam"));
    }
}
