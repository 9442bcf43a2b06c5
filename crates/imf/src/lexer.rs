//! Lexical pieces shared by the structured header parsers: CFWS, atoms,
//! MIME tokens and quoted strings (RFC 5322 §3.2, RFC 2045 §5.1), applied
//! to unfolded header values.

/// `atext` (RFC 5322 §3.2.3), widened by RFC 6532 §3.2 to every octet of
/// UTF-8 (and, leniently, any other 8-bit octet).
pub(crate) fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// A character of an RFC 2045 §5.1 `token`: any CHAR except SPACE, CTLs and
/// `tspecials`. 8-bit octets are accepted too, as real mail carries raw
/// UTF-8 in unquoted parameter values.
pub(crate) fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b"!#$%&'*+-.^_`{|}~".contains(&b)
}

/// A cursor over one unfolded header value.
pub(crate) struct Lexer<'a> {
    s: &'a [u8],
    pub pos: usize,
    /// The content of the last comment skipped, as RFC 5322 §3.4 allows a
    /// display name in a trailing comment (`jane@example.test (Jane Roe)`).
    pub last_comment: Option<Vec<u8>>,
}

impl<'a> Lexer<'a> {
    pub fn new(s: &'a [u8]) -> Self {
        Lexer {
            s,
            pos: 0,
            last_comment: None,
        }
    }

    pub fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// Consumes `b` if it is next.
    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips CFWS (RFC 5322 §3.2.2): blanks, line breaks and comments.
    pub fn skip_cfws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'(' => self.comment(),
                _ => break,
            }
        }
    }

    /// Skips one (possibly nested) comment and remembers its text with
    /// quoted-pairs resolved. An unterminated comment runs to the end.
    fn comment(&mut self) {
        let mut depth = 0usize;
        let mut text = Vec::new();
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'(' => {
                    if depth > 0 {
                        text.push(b);
                    }
                    depth += 1;
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    text.push(b);
                }
                b'\\' => {
                    if let Some(next) = self.peek() {
                        text.push(next);
                        self.pos += 1;
                    }
                }
                _ => text.push(b),
            }
        }
        self.last_comment = Some(text);
    }

    /// The bytes from `start` to the current position.
    pub fn slice(&self, start: usize) -> Option<&'a [u8]> {
        self.s.get(start..self.pos)
    }

    /// `1*atext`, or `None` if the next octet is no atext.
    pub fn atom(&mut self) -> Option<&'a [u8]> {
        self.run(is_atext)
    }

    /// A run of MIME token characters, possibly empty.
    pub fn token(&mut self) -> &'a [u8] {
        self.run(is_token).unwrap_or(&[])
    }

    /// The longest non-empty run of octets that satisfy `class`.
    pub fn run(&mut self, class: fn(u8) -> bool) -> Option<&'a [u8]> {
        let start = self.pos;
        while self.peek().is_some_and(class) {
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.s[start..self.pos])
    }

    /// A quoted string (RFC 5322 §3.2.4) starting at the current `"`, with
    /// its quoted-pairs resolved. An unterminated string runs to the end.
    pub fn quoted(&mut self) -> Vec<u8> {
        let mut text = Vec::new();
        if !self.eat(b'"') {
            return text;
        }
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(next) = self.peek() {
                        text.push(next);
                        self.pos += 1;
                    }
                }
                // Folding inside a quoted string: the CRLF goes (§3.2.2).
                b'\r' | b'\n' => {}
                _ => text.push(b),
            }
        }
        text
    }

    /// Skips to the next octet in `stops` that is outside quoted strings,
    /// comments and angle brackets; used to recover from garbage.
    pub fn skip_to(&mut self, stops: &[u8]) {
        while let Some(b) = self.peek() {
            if stops.contains(&b) {
                return;
            }
            match b {
                b'"' => {
                    self.quoted();
                }
                b'(' => self.comment(),
                b'<' => {
                    while let Some(b) = self.peek() {
                        self.pos += 1;
                        if b == b'>' {
                            break;
                        }
                    }
                }
                _ => self.pos += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_nest_and_are_remembered() {
        let mut lx = Lexer::new(b"  (outer (inner) \\) x) rest");
        lx.skip_cfws();
        assert_eq!(lx.peek(), Some(b'r'));
        assert_eq!(lx.last_comment.as_deref(), Some(&b"outer (inner) ) x"[..]));
    }

    #[test]
    fn quoted_strings_resolve_pairs() {
        let mut lx = Lexer::new(b"\"a \\\"b\\\" \\\\ c\" tail");
        assert_eq!(lx.quoted(), b"a \"b\" \\ c");
        assert_eq!(lx.peek(), Some(b' '));
        let mut open = Lexer::new(b"\"never closed");
        assert_eq!(open.quoted(), b"never closed");
        assert!(open.at_end());
    }

    #[test]
    fn tokens_stop_at_tspecials() {
        let mut lx = Lexer::new(b"text/plain");
        assert_eq!(lx.token(), b"text");
        assert_eq!(lx.peek(), Some(b'/'));
        let mut lx = Lexer::new(b"x-a.b=c");
        assert_eq!(lx.token(), b"x-a.b");
    }

    #[test]
    fn skip_to_ignores_stops_inside_quotes_comments_and_brackets() {
        let mut lx = Lexer::new(b"junk \"a,b\" (c,d) <e,f> , next");
        lx.skip_to(b",");
        assert_eq!(lx.pos, 23);
    }
}
