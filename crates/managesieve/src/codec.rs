//! The command syntax of RFC 5804 §4, parsed in place from the
//! connection's input: a line of atoms, numbers and strings, where a
//! string is quoted (at most 1024 octets, `\` escaping only `"` and `\`)
//! or a literal. Clients send literals as `{n+}` CRLF and the octets at
//! once (literal-c2s); the server never sends a continuation, so a
//! synchronising `{n}` from a client is read the same way.
//!
//! Everything is bounded: the line without its literals by
//! `Limits::line`, each literal by `Limits::literal` (refused from its
//! header, before any of its octets is read), the number of tokens by
//! [`MAX_TOKENS`]; so the buffered command never exceeds
//! `line + MAX_TOKENS * literal`.

/// One element of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// A bare word: the command name, or `*`-free words such as ACTIVE.
    Atom(String),
    /// A quoted string or a literal, as octets.
    String(Vec<u8>),
    /// RFC 5804 §4 `number`: 0 to 4294967295.
    Number(u64),
}

/// How much one command may hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Octets of the line outside its literals, CRLF included.
    pub line: usize,
    /// Octets of one literal.
    pub literal: usize,
}

/// The most tokens on a line: no command has more than three
/// (RENAMESCRIPT, PUTSCRIPT, HAVESPACE, AUTHENTICATE with its response).
pub(crate) const MAX_TOKENS: usize = 4;

/// RFC 5804 §4: a quoted string holds at most 1024 octets.
const MAX_QUOTED: usize = 1024;

/// Why no complete command could be taken from the input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// More input is needed.
    Incomplete,
    /// The line outside its literals is longer than allowed and its end
    /// has not arrived: the rest is to be skipped.
    LineTooLong,
    /// A literal larger than allowed was announced; `header_end` is where
    /// its octets begin.
    LiteralTooLarge { header_end: usize, size: u64 },
    /// Not a command; `consumed` octets (through the end of the line) are
    /// to be dropped.
    Invalid { consumed: usize, reason: &'static str },
}

/// Parses one line from `input`: its tokens and the octets it used.
pub(crate) fn parse(input: &[u8], limits: Limits) -> Result<(Vec<Token>, usize), ParseError> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    // Octets of literals so far, which the line length does not count.
    let mut literal_octets = 0;
    loop {
        if pos - literal_octets > limits.line {
            return Err(too_long(input, pos, limits));
        }
        let Some(&byte) = input.get(pos) else {
            return Err(incomplete(input, literal_octets, limits));
        };
        match byte {
            b' ' => pos += 1,
            b'\r' | b'\n' => {
                let end = match (byte, input.get(pos + 1)) {
                    (b'\n', _) => pos + 1,
                    (_, Some(b'\n')) => pos + 2,
                    (_, None) => return Err(incomplete(input, literal_octets, limits)),
                    _ => return Err(invalid(input, pos, limits, "Bare CR in a command")),
                };
                if tokens.is_empty() {
                    return Err(ParseError::Invalid {
                        consumed: end,
                        reason: "Empty command",
                    });
                }
                return Ok((tokens, end));
            }
            _ if tokens.len() == MAX_TOKENS => return Err(invalid(input, pos, limits, "Too many arguments")),
            b'"' => {
                let (token, next) = quoted(input, pos, limits)?;
                tokens.push(token);
                pos = next;
            }
            b'{' => {
                let (token, next) = literal(input, pos, literal_octets, limits)?;
                if let Token::String(octets) = &token {
                    literal_octets += octets.len();
                }
                tokens.push(token);
                pos = next;
            }
            b'0'..=b'9' => {
                let end = word_end(input, pos);
                if end == input.len() {
                    return Err(incomplete(input, literal_octets, limits));
                }
                let number = std::str::from_utf8(&input[pos..end])
                    .ok()
                    .and_then(|digits| digits.parse::<u64>().ok())
                    .filter(|n| *n <= u64::from(u32::MAX));
                match number {
                    Some(number) => tokens.push(Token::Number(number)),
                    None => return Err(invalid(input, pos, limits, "Invalid number")),
                }
                pos = end;
            }
            _ if is_atom_char(byte) => {
                let end = word_end(input, pos);
                if end == input.len() {
                    return Err(incomplete(input, literal_octets, limits));
                }
                let atom = String::from_utf8_lossy(&input[pos..end]).into_owned();
                tokens.push(Token::Atom(atom));
                pos = end;
            }
            _ => return Err(invalid(input, pos, limits, "Unexpected character in a command")),
        }
    }
}

/// Characters of an atom: printable ASCII except what starts another
/// token or is special in RFC 5804 §4.
fn is_atom_char(byte: u8) -> bool {
    byte.is_ascii_graphic() && !matches!(byte, b'"' | b'{' | b'}' | b'(' | b')' | b'\\' | b'%')
}

/// Where a run of atom characters (or digits) starting at `pos` ends.
fn word_end(input: &[u8], pos: usize) -> usize {
    input[pos..]
        .iter()
        .position(|&b| !is_atom_char(b))
        .map_or(input.len(), |n| pos + n)
}

/// A quoted string starting at `pos` (its opening quote), and where it
/// ends.
fn quoted(input: &[u8], pos: usize, limits: Limits) -> Result<(Token, usize), ParseError> {
    let mut octets = Vec::new();
    let mut i = pos + 1;
    loop {
        let Some(&byte) = input.get(i) else {
            // The line check in `parse` does not see inside the string.
            return Err(match input.len() - pos > limits.line {
                true => too_long(input, pos, limits),
                false => ParseError::Incomplete,
            });
        };
        match byte {
            b'"' => return Ok((Token::String(octets), i + 1)),
            b'\\' => match input.get(i + 1) {
                Some(&escaped @ (b'"' | b'\\')) => {
                    octets.push(escaped);
                    i += 2;
                }
                Some(_) => return Err(invalid(input, i, limits, "Invalid escape in a quoted string")),
                None => return Err(ParseError::Incomplete),
            },
            b'\r' | b'\n' | 0 => return Err(invalid(input, i, limits, "Line break in a quoted string")),
            _ => {
                octets.push(byte);
                i += 1;
            }
        }
        if octets.len() > MAX_QUOTED {
            return Err(invalid(
                input,
                i,
                limits,
                "Quoted string longer than 1024 octets; send a literal",
            ));
        }
    }
}

/// A literal `{n+}` CRLF octets (or `{n}`) starting at `pos`, and where
/// its octets end.
fn literal(input: &[u8], pos: usize, literal_octets: usize, limits: Limits) -> Result<(Token, usize), ParseError> {
    let Some(close) = input[pos..].iter().position(|&b| b == b'}').map(|n| pos + n) else {
        return match input[pos..].contains(&b'\n') {
            true => Err(invalid(input, pos, limits, "Invalid literal")),
            false => Err(incomplete(input, literal_octets, limits)),
        };
    };
    let digits = &input[pos + 1..close];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    let size = std::str::from_utf8(digits)
        .ok()
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<u64>().ok());
    let Some(size) = size else {
        return Err(invalid(input, pos, limits, "Invalid literal"));
    };
    let header_end = match (input.get(close + 1), input.get(close + 2)) {
        (Some(b'\r'), Some(b'\n')) => close + 3,
        (Some(b'\n'), _) => close + 2,
        (None, _) | (Some(b'\r'), None) => return Err(incomplete(input, literal_octets, limits)),
        _ => return Err(invalid(input, close, limits, "A literal's header must end its line")),
    };
    if size > limits.literal as u64 {
        return Err(ParseError::LiteralTooLarge { header_end, size });
    }
    let end = header_end + size as usize;
    if input.len() < end {
        return Err(ParseError::Incomplete);
    }
    Ok((Token::String(input[header_end..end].to_vec()), end))
}

/// More input is needed, unless the line outside its literals is already
/// too long.
fn incomplete(input: &[u8], literal_octets: usize, limits: Limits) -> ParseError {
    match input.len().saturating_sub(literal_octets) > limits.line {
        true => ParseError::LineTooLong,
        false => ParseError::Incomplete,
    }
}

/// A line that went past the limit: dropped with its literal (see
/// [`command_end`]) when its end has arrived, else skipped as it comes.
fn too_long(input: &[u8], pos: usize, limits: Limits) -> ParseError {
    match input[pos..].contains(&b'\n') {
        true => invalid(input, pos, limits, "Line too long"),
        false => ParseError::LineTooLong,
    }
}

/// Refuses the command, dropping it through its end (see
/// [`command_end`]).
fn invalid(input: &[u8], pos: usize, limits: Limits, reason: &'static str) -> ParseError {
    match command_end(input, pos, limits) {
        Ok(consumed) => ParseError::Invalid { consumed, reason },
        Err(error) => error,
    }
}

/// Where the command that `pos` is in ends: at the end of its line, unless
/// the line ends with a literal's header, whose octets then belong to the
/// command too, as does the line they end on. A refused command's
/// literal is never read as commands of its own.
fn command_end(input: &[u8], mut pos: usize, limits: Limits) -> Result<usize, ParseError> {
    loop {
        let Some(n) = input[pos..].iter().position(|&b| b == b'\n') else {
            return Err(match input.len() - pos > limits.line {
                true => ParseError::LineTooLong,
                false => ParseError::Incomplete,
            });
        };
        let end = pos + n;
        let line = &input[..end];
        match announced(line.strip_suffix(b"\r").unwrap_or(line)) {
            Some(size) if size <= limits.literal as u64 => {
                pos = end + 1 + size as usize;
                if pos > input.len() {
                    return Err(ParseError::Incomplete);
                }
            }
            Some(size) => {
                return Err(ParseError::LiteralTooLarge {
                    header_end: end + 1,
                    size,
                });
            }
            None => return Ok(end + 1),
        }
    }
}

/// The size a line's closing literal header (`{n+}` or `{n}`) announces.
pub(crate) fn announced(line: &[u8]) -> Option<u64> {
    let inside = line.strip_suffix(b"}")?;
    let open = inside.iter().rposition(|&b| b == b'{')?;
    let digits = &inside[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { line: 100, literal: 20 };

    fn tokens(input: &str) -> Vec<Token> {
        let (tokens, used) = parse(input.as_bytes(), LIMITS).expect("a command");
        assert_eq!(used, input.len());
        tokens
    }

    fn string(s: &str) -> Token {
        Token::String(s.as_bytes().to_vec())
    }

    #[test]
    fn atoms_strings_numbers_and_literals() {
        assert_eq!(
            tokens("HAVESPACE \"my \\\"script\\\\\" 999\r\n"),
            [
                Token::Atom("HAVESPACE".into()),
                string("my \"script\\"),
                Token::Number(999)
            ]
        );
        assert_eq!(
            tokens("PUTSCRIPT {3+}\r\nabc {4}\r\nkeep\r\n"),
            [Token::Atom("PUTSCRIPT".into()), string("abc"), string("keep")]
        );
        assert_eq!(tokens("noop\n"), [Token::Atom("noop".into())]);
    }

    #[test]
    fn waits_for_the_rest() {
        for partial in ["NOOP", "PUTSCRIPT \"a", "PUTSCRIPT {5+}\r\nab", "PUTSCRIPT {5+", "X 12"] {
            assert_eq!(
                parse(partial.as_bytes(), LIMITS),
                Err(ParseError::Incomplete),
                "{partial}"
            );
        }
    }

    #[test]
    fn refuses_what_is_too_large_before_reading_it() {
        assert_eq!(
            parse(b"PUTSCRIPT \"a\" {21+}\r\n", LIMITS),
            Err(ParseError::LiteralTooLarge {
                header_end: 21,
                size: 21
            })
        );
        assert_eq!(parse(&[b'x'; 200], LIMITS), Err(ParseError::LineTooLong));
        let mut long = vec![b'x'; 200];
        long.extend_from_slice(b"\r\nNOOP\r\n");
        assert_eq!(
            parse(&long, LIMITS),
            Err(ParseError::Invalid {
                consumed: 202,
                reason: "Line too long"
            })
        );
        // Literal octets do not count against the line.
        let line = format!("A {{20+}}\r\n{} {}\r\n", "y".repeat(20), "z".repeat(80));
        assert_eq!(tokens(&line).len(), 3);
    }

    #[test]
    fn bounds_the_number_of_tokens() {
        assert_eq!(tokens("A b c d\r\n").len(), MAX_TOKENS);
        assert_eq!(
            parse(b"A b c d {1+}\r\nx\r\n", LIMITS),
            Err(ParseError::Invalid {
                consumed: 17,
                reason: "Too many arguments"
            })
        );
    }

    /// The literal of a refused command is dropped with it, never run.
    #[test]
    fn a_refused_command_takes_its_literal_with_it() {
        let input = b"PUTSCRIPT \"a\\q\" {14+}\r\nDELETESCRIPT\r\n\r\nNOOP\r\n";
        let Err(ParseError::Invalid { consumed, .. }) = parse(input, LIMITS) else {
            panic!("refused");
        };
        assert_eq!(&input[consumed..], b"NOOP\r\n");
        assert_eq!(
            parse(b"(X) {5+}\r\nab", LIMITS),
            Err(ParseError::Incomplete),
            "waits for the literal to drop it"
        );
        assert_eq!(
            parse(b"(X) {50+}\r\n", LIMITS),
            Err(ParseError::LiteralTooLarge {
                header_end: 11,
                size: 50
            })
        );
    }

    #[test]
    fn refuses_malformed_lines() {
        for bad in [
            "\r\n",
            "\"unterminated\r\n",
            "X {abc}\r\n",
            "X \"a\\b\"\r\n",
            "X 99999999999\r\n",
            "(X)\r\n",
            "X {3+} junk\r\n",
        ] {
            let error = parse(bad.as_bytes(), LIMITS).expect_err(bad);
            assert!(
                matches!(error, ParseError::Invalid { consumed, .. } if consumed == bad.len()),
                "{bad:?}: {error:?}"
            );
        }
    }
}
