//! Dot-stuffing, the transparency of multi-line data in SMTP (RFC 5321
//! §4.5.2) and POP3 (RFC 1939 §3): a line that starts with '.' gets
//! another '.', and a line holding only '.' ends the data.

/// Dot-stuffs data as it streams, in chunks of any size.
#[derive(Debug)]
pub struct DotStuffer {
    at_line_start: bool,
    /// Write every line end as CRLF, turning bare LFs into CRLF, so the
    /// receiver cannot read a line end that was not meant as one (what
    /// SMTP smuggling exploits).
    crlf: bool,
    /// The previous byte was CR (only tracked with `crlf`).
    after_cr: bool,
}

impl Default for DotStuffer {
    fn default() -> Self {
        DotStuffer {
            at_line_start: true,
            crlf: false,
            after_cr: false,
        }
    }
}

impl DotStuffer {
    /// A stuffer for SMTP DATA, which also makes every line end a CRLF.
    pub fn with_crlf_line_ends() -> Self {
        DotStuffer {
            crlf: true,
            ..DotStuffer::default()
        }
    }

    pub fn stuff(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut rest = input;
        while !rest.is_empty() {
            if self.at_line_start && rest[0] == b'.' {
                out.push(b'.');
            }
            let line_end = rest.iter().position(|&b| b == b'\n');
            let take = line_end.map_or(rest.len(), |i| i + 1);
            let line = &rest[..take];
            if self.crlf && line_end.is_some() {
                let body = &line[..line.len() - 1];
                out.extend_from_slice(body);
                let cr_before = body.last().map_or(self.after_cr, |&b| b == b'\r');
                out.extend_from_slice(if cr_before { b"\n" } else { b"\r\n" });
                self.after_cr = false;
            } else {
                out.extend_from_slice(line);
                if let Some(&last) = line.last() {
                    self.after_cr = last == b'\r';
                }
            }
            self.at_line_start = line_end.is_some();
            rest = &rest[take..];
        }
    }

    /// Ends the data: an unterminated last line gets its CRLF, then the
    /// terminating `.CRLF`.
    pub fn finish(self, out: &mut Vec<u8>) {
        if !self.at_line_start {
            out.extend_from_slice(if self.after_cr { b"\n" } else { b"\r\n" });
        }
        out.extend_from_slice(b".\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stuffed(mut stuffer: DotStuffer, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in chunks {
            stuffer.stuff(chunk, &mut out);
        }
        stuffer.finish(&mut out);
        out
    }

    #[test]
    fn dot_stuffing_across_chunks() {
        let message = b".a\r\n..b\r\nc.\r\n.";
        let expected = b"..a\r\n...b\r\nc.\r\n..\r\n.\r\n";
        assert_eq!(stuffed(DotStuffer::default(), &[message]), expected);
        let bytes: Vec<&[u8]> = message.chunks(1).collect();
        assert_eq!(stuffed(DotStuffer::default(), &bytes), expected);
        assert_eq!(stuffed(DotStuffer::default(), &[]), b".\r\n");
    }

    #[test]
    fn smtp_data_gets_crlf_line_ends_in_any_chunking() {
        let message = b"a\n.\nb\r\nc\r";
        let expected = b"a\r\n..\r\nb\r\nc\r\n.\r\n";
        for size in 1..=message.len() {
            let chunks: Vec<&[u8]> = message.chunks(size).collect();
            assert_eq!(
                stuffed(DotStuffer::with_crlf_line_ends(), &chunks),
                expected,
                "chunks of {size}"
            );
        }
    }
}
