//! SMTP replies, RFC 5321 §4.2, with RFC 2034 enhanced status codes.

/// A reply: a code, an optional enhanced status code (RFC 3463), and one or
/// more lines of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub status: Option<&'static str>,
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply with an enhanced status code.
    pub fn new(code: u16, status: &'static str, text: impl Into<String>) -> Self {
        Reply {
            code,
            status: Some(status),
            lines: vec![text.into()],
        }
    }

    /// A reply without enhanced status: RFC 2034 §3 leaves the greeting and
    /// the EHLO response without one.
    pub fn plain(code: u16, lines: Vec<String>) -> Self {
        Reply {
            code,
            status: None,
            lines,
        }
    }

    /// True for 2xx and 3xx.
    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    /// Appends the wire form to `out`. CR and LF inside the text (which can
    /// come from a peer, such as its EHLO name) are replaced so a reply can
    /// never be split into two.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let last = self.lines.len().saturating_sub(1);
        for (i, text) in self.lines.iter().enumerate() {
            let separator = if i == last { ' ' } else { '-' };
            let mut line = format!("{}{}", self.code, separator);
            if let Some(status) = self.status {
                line.push_str(status);
                line.push(' ');
            }
            line.extend(text.chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }));
            line.push_str("\r\n");
            out.extend_from_slice(line.as_bytes());
        }
        if self.lines.is_empty() {
            out.extend_from_slice(format!("{}\r\n", self.code).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(reply: &Reply) -> String {
        let mut out = Vec::new();
        reply.encode(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_single_and_multi_line_replies() {
        assert_eq!(encoded(&Reply::new(250, "2.1.0", "Ok")), "250 2.1.0 Ok\r\n");
        let ehlo = Reply::plain(250, vec!["mx.test".into(), "PIPELINING".into(), "SIZE 10".into()]);
        assert_eq!(encoded(&ehlo), "250-mx.test\r\n250-PIPELINING\r\n250 SIZE 10\r\n");
    }

    #[test]
    fn text_cannot_inject_lines() {
        let reply = Reply::new(250, "2.0.0", "hello\r\n250 fake");
        assert_eq!(encoded(&reply), "250 2.0.0 hello  250 fake\r\n");
    }
}
