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
    /// The previous byte was a CR whose LF has not been written yet (only
    /// with `crlf`).
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
        if self.crlf {
            return self.stuff_crlf(input, out);
        }
        let mut rest = input;
        while !rest.is_empty() {
            if self.at_line_start && rest[0] == b'.' {
                out.push(b'.');
            }
            let take = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |i| i + 1);
            out.extend_from_slice(&rest[..take]);
            self.at_line_start = rest[take - 1] == b'\n';
            rest = &rest[take..];
        }
    }

    /// Stuffs and makes every line end a CRLF: a bare LF gets its CR, and a
    /// bare CR its LF, so no receiver can disagree with us about where a
    /// line (or the data) ends.
    fn stuff_crlf(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut rest = input;
        while let Some(&byte) = rest.first() {
            if std::mem::take(&mut self.after_cr) {
                out.push(b'\n');
                self.at_line_start = true;
                if byte == b'\n' {
                    rest = &rest[1..];
                    continue;
                }
            }
            let take = match byte {
                b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    self.at_line_start = true;
                    1
                }
                b'\r' => {
                    out.push(b'\r');
                    self.after_cr = true;
                    1
                }
                _ => {
                    if self.at_line_start && byte == b'.' {
                        out.push(b'.');
                    }
                    let run = rest
                        .iter()
                        .position(|&b| b == b'\r' || b == b'\n')
                        .unwrap_or(rest.len());
                    out.extend_from_slice(&rest[..run]);
                    self.at_line_start = false;
                    run
                }
            };
            rest = &rest[take..];
        }
    }

    /// Ends the data: an unterminated last line gets its CRLF, then the
    /// terminating `.CRLF`.
    pub fn finish(self, out: &mut Vec<u8>) {
        if self.after_cr {
            out.push(b'\n');
        } else if !self.at_line_start {
            out.extend_from_slice(b"\r\n");
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
        let cases: [(&[u8], &[u8]); 3] = [
            (b"a\n.\nb\r\nc\r", b"a\r\n..\r\nb\r\nc\r\n.\r\n"),
            // Bare CRs are line ends too: `<CR>.<CR>` cannot pass as data
            // that some receiver takes for the end of it.
            (b"a\r.\rb\r\r\n.\r", b"a\r\n..\r\nb\r\n\r\n..\r\n.\r\n"),
            (b"\r\n\n\r", b"\r\n\r\n\r\n.\r\n"),
        ];
        for (message, expected) in cases {
            for size in 1..=message.len() {
                let chunks: Vec<&[u8]> = message.chunks(size).collect();
                assert_eq!(
                    stuffed(DotStuffer::with_crlf_line_ends(), &chunks),
                    expected,
                    "{message:?} in chunks of {size}"
                );
            }
        }
    }
}
