//! The tokens of a Sieve script (RFC 5228 §2 and the grammar of §8.1):
//! identifiers, tags, numbers with their K/M/G quantifier, quoted and
//! multi-line strings, the punctuation `[ ] , ( ) { } ;`, with comments
//! and white space skipped. Scripts come from users over ManageSieve,
//! often with bare LF line ends, so LF is accepted wherever CRLF is.

use crate::error::CompileError;

/// One token and the line it starts on (1-based), for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// An identifier, lower-cased: identifiers are case-insensitive (§2.9).
    Identifier(String),
    /// A tag without its colon, lower-cased.
    Tag(String),
    Number(u64),
    String(String),
    /// One of `[ ] , ( ) { } ;`.
    Punct(u8),
}

/// Splits a script into tokens. Fails on the first byte that starts no
/// token, an unterminated string or comment, or a number too big.
pub(crate) fn tokenize(script: &str) -> Result<Vec<Token>, CompileError> {
    let mut lexer = Lexer {
        bytes: script.as_bytes(),
        script,
        pos: 0,
        line: 1,
    };
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next()? {
        tokens.push(token);
    }
    Ok(tokens)
}

struct Lexer<'a> {
    bytes: &'a [u8],
    script: &'a str,
    pos: usize,
    line: u32,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn error(&self, message: impl Into<String>) -> CompileError {
        CompileError::new(self.line, message)
    }

    fn next(&mut self) -> Result<Option<Token>, CompileError> {
        self.skip_white_space()?;
        let Some(byte) = self.peek() else {
            return Ok(None);
        };
        let line = self.line;
        let kind = match byte {
            b'[' | b']' | b',' | b'(' | b')' | b'{' | b'}' | b';' => {
                self.pos += 1;
                TokenKind::Punct(byte)
            }
            b'"' => TokenKind::String(self.quoted_string()?),
            b':' => {
                self.pos += 1;
                match self.identifier() {
                    Some(name) => TokenKind::Tag(name),
                    None => return Err(self.error("a ':' must start a tag such as :is")),
                }
            }
            b'0'..=b'9' => TokenKind::Number(self.number()?),
            _ if byte.is_ascii_alphabetic() || byte == b'_' => {
                let name = self.identifier().unwrap_or_default();
                if name == "text" && self.peek() == Some(b':') {
                    self.pos += 1;
                    TokenKind::String(self.multi_line()?)
                } else {
                    TokenKind::Identifier(name)
                }
            }
            _ => {
                let character = self.script[self.pos..].chars().next().unwrap_or('?');
                return Err(self.error(format!("unexpected character {character:?}")));
            }
        };
        Ok(Some(Token { kind, line }))
    }

    /// White space, `# ...` to the end of the line and `/* ... */` (§2.3).
    fn skip_white_space(&mut self) -> Result<(), CompileError> {
        while let Some(byte) = self.peek() {
            match byte {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                }
                b'#' => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.pos += 1;
                    }
                }
                b'/' if self.bytes.get(self.pos + 1) == Some(&b'*') => {
                    let start_line = self.line;
                    self.pos += 2;
                    loop {
                        match self.peek() {
                            None => return Err(CompileError::new(start_line, "a /* comment is never closed")),
                            Some(b'*') if self.bytes.get(self.pos + 1) == Some(&b'/') => {
                                self.pos += 2;
                                break;
                            }
                            Some(b'\n') => {
                                self.line += 1;
                                self.pos += 1;
                            }
                            Some(_) => self.pos += 1,
                        }
                    }
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn identifier(&mut self) -> Option<String> {
        let start = self.pos;
        if !self.peek().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_') {
            return None;
        }
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
            self.pos += 1;
        }
        Some(self.script[start..self.pos].to_ascii_lowercase())
    }

    /// `1*DIGIT [QUANTIFIER]` (§2.4.1): K, M and G multiply by powers of
    /// 1024. Sieve numbers are at least 2^31 (RFC 5228 §2.4.1); we keep
    /// 64 bits and refuse what does not fit rather than wrapping.
    fn number(&mut self) -> Result<u64, CompileError> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = &self.script[start..self.pos];
        let line = self.line;
        let too_big = || CompileError::new(line, format!("the number {digits} is too big"));
        let value: u64 = digits.parse().map_err(|_| too_big())?;
        let shift = match self.peek().map(|b| b.to_ascii_uppercase()) {
            Some(b'K') => 10,
            Some(b'M') => 20,
            Some(b'G') => 30,
            _ => 0,
        };
        if shift > 0 {
            self.pos += 1;
        }
        value.checked_mul(1 << shift).ok_or_else(too_big)
    }

    /// A quoted string (§2.4.2): `\"` and `\\` are escapes, any other
    /// backslash is dropped; CRLF and LF inside are kept as they are.
    fn quoted_string(&mut self) -> Result<String, CompileError> {
        let start_line = self.line;
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => return Err(CompileError::new(start_line, "a quoted string is never closed")),
                Some(b'"') => {
                    out.push_str(&self.script[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(&self.script[run..self.pos]);
                    self.pos += 1;
                    // The escaped character is kept whatever it is; at the
                    // end of the script the loop reports the open string.
                    run = self.pos;
                    if let Some(character) = self.script[self.pos..].chars().next() {
                        self.pos += character.len_utf8();
                        if character == '\n' {
                            self.line += 1;
                        }
                    }
                }
                Some(b'\n') => {
                    self.line += 1;
                    self.pos += 1;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// `text:` up to a line holding only `.` (§2.4.2): the rest of the
    /// `text:` line may hold white space and a `#` comment; a line that
    /// starts with `..` stands for one starting with `.`. Line ends are
    /// kept as CRLF, the form mail wants them in.
    fn multi_line(&mut self) -> Result<String, CompileError> {
        let start_line = self.line;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        if self.peek() == Some(b'#') {
            while self.peek().is_some_and(|b| b != b'\n') {
                self.pos += 1;
            }
        }
        if self.peek() == Some(b'\r') {
            self.pos += 1;
        }
        if self.peek() != Some(b'\n') {
            return Err(self.error("text: must be followed by the end of its line"));
        }
        self.pos += 1;
        self.line += 1;
        let mut out = String::new();
        loop {
            let Some(end) = self.bytes[self.pos..].iter().position(|&b| b == b'\n') else {
                return Err(CompileError::new(
                    start_line,
                    "a text: string has no line with a single '.' to end it",
                ));
            };
            let line = &self.script[self.pos..self.pos + end];
            let line = line.strip_suffix('\r').unwrap_or(line);
            self.pos += end + 1;
            self.line += 1;
            if line == "." {
                return Ok(out);
            }
            out.push_str(
                line.strip_prefix('.')
                    .filter(|_| line.starts_with(".."))
                    .unwrap_or(line),
            );
            out.push_str("\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(script: &str) -> Vec<TokenKind> {
        tokenize(script).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn tokens_of_a_command() {
        use TokenKind::*;
        assert_eq!(
            kinds("IF Header :Is [\"From\", \"to\"] 10K { Keep; }"),
            vec![
                Identifier("if".into()),
                Identifier("header".into()),
                Tag("is".into()),
                Punct(b'['),
                String("From".into()),
                Punct(b','),
                String("to".into()),
                Punct(b']'),
                Number(10 * 1024),
                Punct(b'{'),
                Identifier("keep".into()),
                Punct(b';'),
                Punct(b'}'),
            ]
        );
    }

    #[test]
    fn comments_are_skipped_and_lines_counted() {
        let tokens = tokenize("# a comment\n/* two\nlines */ keep;\r\nstop;").unwrap();
        assert_eq!(
            tokens[0],
            Token {
                kind: TokenKind::Identifier("keep".into()),
                line: 3
            }
        );
        assert_eq!(tokens[2].line, 4);
    }

    #[test]
    fn quoted_strings_unescape_quote_and_backslash_only() {
        assert_eq!(kinds(r#""a\"b\\c\d""#), vec![TokenKind::String("a\"b\\cd".into())]);
        assert_eq!(kinds("\"two\nlines\""), vec![TokenKind::String("two\nlines".into())]);
        assert_eq!(kinds("\"ü\\ä\""), vec![TokenKind::String("üä".into())]);
    }

    #[test]
    fn multi_line_strings_unstuff_dots_and_end_lines_with_crlf() {
        let script = "text: # comment\n..dot\nline\r\n\n.\nkeep;";
        assert_eq!(
            kinds(script),
            vec![
                TokenKind::String(".dot\r\nline\r\n\r\n".into()),
                TokenKind::Identifier("keep".into()),
                TokenKind::Punct(b';'),
            ]
        );
    }

    #[test]
    fn numbers_take_quantifiers_and_refuse_overflow() {
        assert_eq!(
            kinds("1k 2M 3g 0"),
            [1 << 10, 2 << 20, 3 << 30, 0].map(TokenKind::Number).to_vec()
        );
        assert!(tokenize("99999999999999999999").is_err());
        assert!(tokenize("18446744073709551615G").is_err());
    }

    #[test]
    fn errors_name_the_line() {
        let error = tokenize("keep;\n\"open").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(tokenize("keep; /* open").is_err());
        assert!(tokenize("text:\nno end\n").is_err());
        assert!(tokenize("text: x\n.\n").is_err());
        assert_eq!(tokenize("keep;\n\nkeep $;").unwrap_err().line, 3);
        assert!(tokenize(": is").is_err());
        assert!(tokenize("\"\\").is_err());
    }
}
