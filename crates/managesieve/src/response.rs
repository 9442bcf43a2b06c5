//! What the server writes (RFC 5804 §4): strings as quoted strings when
//! they may be (at most 1024 octets, no line breaks or NUL), else as
//! literals `{n}` CRLF octets (literal-s2c, never with `+`); and the
//! `OK`/`NO`/`BYE` lines that end every answer, with an optional
//! response code in parentheses (§1.3) and a human-readable text.

/// Appends `s` as a ManageSieve string.
pub(crate) fn string(out: &mut Vec<u8>, s: &[u8]) {
    let quotable = s.len() <= 1024 && !s.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0));
    if quotable {
        out.push(b'"');
        for &b in s {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
        out.extend_from_slice(s);
    }
}

/// `s` encoded as a string, for response codes that carry one (TAG).
pub(crate) fn string_text(s: &[u8]) -> String {
    let mut out = Vec::new();
    string(&mut out, s);
    String::from_utf8_lossy(&out).into_owned()
}

/// The three results of RFC 5804 §1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    No,
    Bye,
}

/// Appends `OK`/`NO`/`BYE`, the code in parentheses if any, the text if
/// not empty, and CRLF.
pub(crate) fn status(out: &mut Vec<u8>, status: Status, code: Option<&str>, text: &str) {
    out.extend_from_slice(match status {
        Status::Ok => b"OK",
        Status::No => b"NO",
        Status::Bye => b"BYE",
    });
    if let Some(code) = code {
        out.extend_from_slice(b" (");
        out.extend_from_slice(code.as_bytes());
        out.push(b')');
    }
    if !text.is_empty() {
        out.push(b' ');
        string(out, text.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(s: &str) -> String {
        String::from_utf8(string_text(s.as_bytes()).into_bytes()).unwrap()
    }

    #[test]
    fn strings_are_quoted_or_literal() {
        assert_eq!(encoded("a \"b\" \\"), "\"a \\\"b\\\" \\\\\"");
        assert_eq!(encoded("two\r\nlines"), "{10}\r\ntwo\r\nlines");
        assert_eq!(encoded(&"x".repeat(1025)), format!("{{1025}}\r\n{}", "x".repeat(1025)));
    }

    #[test]
    fn status_lines() {
        let mut out = Vec::new();
        status(&mut out, Status::No, Some("QUOTA/MAXSIZE"), "Too big");
        status(&mut out, Status::Ok, None, "");
        assert_eq!(out, b"NO (QUOTA/MAXSIZE) \"Too big\"\r\nOK\r\n");
    }
}
