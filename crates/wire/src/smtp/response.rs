//! The client side: replies as a server sends them (RFC 5321 §4.2), and
//! the extensions an EHLO reply announces.

use crate::line::{LineTooLong, find_line, strip_eol};

/// A reply received from a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub code: u16,
    /// The text of each line, without the code and separator.
    pub lines: Vec<String>,
}

/// Why no reply could be taken from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseError {
    /// Not all of the reply has arrived.
    Incomplete,
    /// A line is not `DDD[ -]text`, a line or the reply is too long, or the
    /// lines of one reply disagree on the code.
    Invalid(String),
}

/// A reply longer than this many lines is refused; EHLO replies have a
/// few dozen at most.
pub const MAX_LINES: usize = 128;

/// Parses one (possibly multi-line) reply from the start of `buf`.
pub fn parse_response(buf: &[u8], max_line: usize) -> Result<(Response, usize), ResponseError> {
    let mut consumed = 0;
    let mut code = None;
    let mut lines = Vec::new();
    loop {
        let rest = &buf[consumed..];
        let n = match find_line(rest, max_line) {
            Ok(Some(n)) => n,
            Ok(None) => return Err(ResponseError::Incomplete),
            Err(LineTooLong) => return Err(ResponseError::Invalid("reply line too long".into())),
        };
        let line = strip_eol(&rest[..n]);
        consumed += n;
        let invalid = || ResponseError::Invalid(format!("malformed reply line {:?}", String::from_utf8_lossy(line)));
        if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) || line[0] < b'2' || line[0] > b'5' {
            return Err(invalid());
        }
        let this_code: u16 = std::str::from_utf8(&line[..3])
            .ok()
            .and_then(|c| c.parse().ok())
            .ok_or_else(invalid)?;
        if *code.get_or_insert(this_code) != this_code {
            return Err(ResponseError::Invalid("reply lines with different codes".into()));
        }
        let more = match line.get(3) {
            None | Some(b' ') => false,
            Some(b'-') => true,
            Some(_) => return Err(invalid()),
        };
        lines.push(String::from_utf8_lossy(line.get(4..).unwrap_or_default()).into_owned());
        if !more {
            return Ok((Response { code: this_code, lines }, consumed));
        }
        if lines.len() >= MAX_LINES {
            return Err(ResponseError::Invalid("reply has too many lines".into()));
        }
    }
}

impl Response {
    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 4xx: try again later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// 5xx: do not try again.
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// The RFC 3463 enhanced status code at the start of the text, if the
    /// server sent one.
    pub fn enhanced_status(&self) -> Option<&str> {
        let first = self.lines.first()?.split(' ').next()?;
        let parts: Vec<&str> = first.split('.').collect();
        let valid = parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
            && matches!(parts[0], "2" | "4" | "5");
        valid.then_some(first)
    }

    /// The reply on one line, as logs and DSNs quote it.
    pub fn one_line(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" "))
    }
}

/// What an EHLO reply announces (RFC 5321 §4.1.1.1): one keyword per line
/// after the first, with optional parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    pub pipelining: bool,
    pub starttls: bool,
    pub eight_bit_mime: bool,
    pub smtputf8: bool,
    pub chunking: bool,
    pub binary_mime: bool,
    pub dsn: bool,
    pub enhanced_status_codes: bool,
    /// REQUIRETLS (RFC 8689 §2), offered only inside TLS.
    pub requiretls: bool,
    /// SIZE with its limit; 0 means no fixed limit (RFC 1870 §4).
    pub size: Option<u64>,
    /// AUTH mechanisms, upper-cased.
    pub auth: Vec<String>,
}

impl Extensions {
    pub fn from_ehlo(reply: &Response) -> Extensions {
        let mut found = Extensions::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_whitespace();
            let Some(keyword) = words.next() else { continue };
            match keyword.to_ascii_uppercase().as_str() {
                "PIPELINING" => found.pipelining = true,
                "STARTTLS" => found.starttls = true,
                "8BITMIME" => found.eight_bit_mime = true,
                "SMTPUTF8" => found.smtputf8 = true,
                "CHUNKING" => found.chunking = true,
                "BINARYMIME" => found.binary_mime = true,
                "DSN" => found.dsn = true,
                "ENHANCEDSTATUSCODES" => found.enhanced_status_codes = true,
                "REQUIRETLS" => found.requiretls = true,
                "SIZE" => found.size = Some(words.next().and_then(|w| w.parse().ok()).unwrap_or(0)),
                "AUTH" => found.auth = words.map(str::to_ascii_uppercase).collect(),
                _ => {}
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_and_multi_line_replies() {
        let (reply, n) = parse_response(b"250 2.1.0 Ok\r\nextra", 512).unwrap();
        assert_eq!((reply.code, n), (250, 14));
        assert_eq!(reply.enhanced_status(), Some("2.1.0"));
        let ehlo = b"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-AUTH plain LOGIN\r\n250-requireTLS\r\n250 CHUNKING\r\n";
        let (reply, n) = parse_response(ehlo, 512).unwrap();
        assert_eq!(n, ehlo.len());
        let extensions = Extensions::from_ehlo(&reply);
        assert!(extensions.pipelining && extensions.chunking && extensions.requiretls && !extensions.starttls);
        assert_eq!(extensions.size, Some(1000));
        assert_eq!(extensions.auth, ["PLAIN", "LOGIN"]);
        assert_eq!(
            reply.one_line(),
            "250 mx.test PIPELINING SIZE 1000 AUTH plain LOGIN requireTLS CHUNKING"
        );
    }

    #[test]
    fn waits_for_the_last_line_in_any_chunking() {
        let input = b"220-hello\r\n220 ready\r\n";
        for cut in 0..input.len() {
            assert_eq!(parse_response(&input[..cut], 512), Err(ResponseError::Incomplete));
        }
        let (reply, _) = parse_response(input, 512).unwrap();
        assert_eq!(reply.lines, ["hello", "ready"]);
        assert_eq!(reply.enhanced_status(), None);
    }

    #[test]
    fn refuses_malformed_replies() {
        for bad in [
            &b"HELLO\r\n"[..],
            b"25 x\r\n",
            b"250x\r\n",
            b"250-a\r\n251 b\r\n",
            b"999 no\r\n",
            b"100 no\r\n",
        ] {
            assert!(
                matches!(parse_response(bad, 512), Err(ResponseError::Invalid(_))),
                "{bad:?}"
            );
        }
        let many = b"250-x\r\n".repeat(200);
        assert!(matches!(parse_response(&many, 512), Err(ResponseError::Invalid(_))));
        assert!(matches!(
            parse_response(&[b'2'; 600], 512),
            Err(ResponseError::Invalid(_))
        ));
    }

    #[test]
    fn classifies_codes() {
        let reply = |code| Response { code, lines: vec![] };
        assert!(reply(250).is_success() && reply(451).is_transient() && reply(550).is_permanent());
    }
}
