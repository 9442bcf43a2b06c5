//! Writing the strings of ENVELOPE and BODYSTRUCTURE (RFC 9051 §4.3,
//! RFC 3501 §4.3).
//!
//! Values come from headers, so they are first made sendable: invalid UTF-8
//! and NUL become U+FFFD (no literal may carry NUL, and the facts are kept
//! as `String`), line breaks go. A value with 8-bit octets is written as a
//! literal: RFC 3501's quoted strings are 7-bit, and these facts are stored
//! once and sent to every client, whether it enabled UTF8=ACCEPT or not.
//! Everything else is quoted or a literal as `wire::imap::string` decides.

/// Writes `text` as an IMAP string.
pub(crate) fn string(out: &mut Vec<u8>, text: &[u8]) {
    let text = clean(text);
    if text.iter().any(|&b| b >= 0x80) {
        out.extend_from_slice(format!("{{{}}}\r\n", text.len()).as_bytes());
        out.extend_from_slice(&text);
    } else {
        wire::imap::string(out, &text);
    }
}

/// Writes an nstring: NIL for `None`.
pub(crate) fn nstring(out: &mut Vec<u8>, text: Option<&[u8]>) {
    match text {
        Some(text) => string(out, text),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// Writes a subject or display name as people read it: line breaks gone,
/// tabs as spaces, runs of blanks as one, no blanks at either end (what
/// Dovecot's `imap_append_string_for_humans` does, so folding never shows).
pub(crate) fn human(out: &mut Vec<u8>, text: Option<&[u8]>) {
    let Some(text) = text else {
        out.extend_from_slice(b"NIL");
        return;
    };
    let mut norm = Vec::with_capacity(text.len());
    for &b in text {
        match b {
            b'\r' | b'\n' => {}
            b' ' | b'\t' => {
                if norm.last().is_some_and(|&last| last != b' ') {
                    norm.push(b' ');
                }
            }
            _ => norm.push(b),
        }
    }
    if norm.last() == Some(&b' ') {
        norm.pop();
    }
    string(out, &norm);
}

fn clean(text: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(text);
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' => {}
            '\0' => out.extend_from_slice("\u{FFFD}".as_bytes()),
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn eight_bit_goes_as_literal() {
        assert_eq!(written(|o| string(o, "Grüße".as_bytes())), "{7}\r\nGrüße");
        assert_eq!(written(|o| string(o, b"a \"b\"")), "\"a \\\"b\\\"\"");
        assert_eq!(written(|o| string(o, b"bad \xff\0")), "{10}\r\nbad \u{FFFD}\u{FFFD}");
        assert_eq!(written(|o| nstring(o, None)), "NIL");
    }

    #[test]
    fn human_text_is_normalised() {
        assert_eq!(written(|o| human(o, Some(b"  a\r\n b\t\t c  "))), "\"a b c\"");
        assert_eq!(written(|o| human(o, Some(b"  "))), "\"\"");
        assert_eq!(written(|o| human(o, None)), "NIL");
    }
}
