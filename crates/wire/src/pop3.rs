//! POP3 codec (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 SASL):
//! command lines to [`Command`]s, status lines to bytes, and the TOP
//! filter; multi-line bodies are dot-stuffed with [`crate::dot`].

use crate::line::{LineTooLong, find_line, strip_eol};

/// A parsed POP3 command. Message numbers are 1-based as on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    User(String),
    Pass(String),
    Auth {
        mechanism: Option<String>,
        initial_response: Option<String>,
    },
    Stls,
    Capa,
    Stat,
    List(Option<u32>),
    Retr(u32),
    Dele(u32),
    Top(u32, u32),
    Uidl(Option<u32>),
    Noop,
    Rset,
    Quit,
}

/// Why no command could be taken from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// No complete line yet.
    Incomplete,
    /// No line end within the limit: discard through the next LF.
    LineTooLong,
    /// The line (of `consumed` bytes) is not a valid command.
    Invalid { consumed: usize, reason: &'static str },
}

/// Parses the first command line of `buf`. RFC 2449 §4 limits commands to
/// 255 octets; SASL initial responses need more, so the limit is the caller's.
pub fn parse_command(buf: &[u8], max_line: usize) -> Result<(Command, usize), CommandError> {
    let consumed = match find_line(buf, max_line) {
        Ok(Some(n)) => n,
        Ok(None) => return Err(CommandError::Incomplete),
        Err(LineTooLong) => return Err(CommandError::LineTooLong),
    };
    let invalid = |reason| CommandError::Invalid { consumed, reason };
    let line = std::str::from_utf8(strip_eol(&buf[..consumed])).map_err(|_| invalid("Command is not valid UTF-8"))?;
    let (keyword, rest) = line.split_once(' ').unwrap_or((line, ""));
    let args: Vec<&str> = rest.split(' ').filter(|a| !a.is_empty()).collect();
    let number = |s: &str| -> Result<u32, CommandError> {
        s.parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(invalid("Invalid message number"))
    };
    let arity = |min: usize, max: usize| {
        if args.len() < min || args.len() > max {
            Err(invalid("Wrong number of arguments"))
        } else {
            Ok(())
        }
    };
    let command = match keyword.to_ascii_uppercase().as_str() {
        "USER" => {
            arity(1, 1)?;
            Command::User(args[0].to_string())
        }
        // RFC 1939 §7: the password is the rest of the line, spaces included.
        "PASS" if !rest.is_empty() => Command::Pass(rest.to_string()),
        "PASS" => return Err(invalid("PASS needs a password")),
        "AUTH" => {
            arity(0, 2)?;
            Command::Auth {
                mechanism: args.first().map(|m| m.to_ascii_uppercase()),
                initial_response: args.get(1).map(|r| r.to_string()),
            }
        }
        "STLS" => arity(0, 0).map(|_| Command::Stls)?,
        "CAPA" => arity(0, 0).map(|_| Command::Capa)?,
        "STAT" => arity(0, 0).map(|_| Command::Stat)?,
        "NOOP" => arity(0, 0).map(|_| Command::Noop)?,
        "RSET" => arity(0, 0).map(|_| Command::Rset)?,
        "QUIT" => arity(0, 0).map(|_| Command::Quit)?,
        "LIST" => {
            arity(0, 1)?;
            Command::List(args.first().map(|a| number(a)).transpose()?)
        }
        "UIDL" => {
            arity(0, 1)?;
            Command::Uidl(args.first().map(|a| number(a)).transpose()?)
        }
        "RETR" => {
            arity(1, 1)?;
            Command::Retr(number(args[0])?)
        }
        "DELE" => {
            arity(1, 1)?;
            Command::Dele(number(args[0])?)
        }
        "TOP" => {
            arity(2, 2)?;
            let lines = args[1].parse::<u32>().map_err(|_| invalid("Invalid line count"))?;
            Command::Top(number(args[0])?, lines)
        }
        _ => return Err(invalid("Unknown command")),
    };
    Ok((command, consumed))
}

/// Appends `+OK text` or `-ERR [CODE] text` (RFC 2449 §8 response codes).
pub fn status_line(out: &mut Vec<u8>, ok: bool, code: Option<&str>, text: &str) {
    out.extend_from_slice(if ok { b"+OK" } else { b"-ERR" });
    if let Some(code) = code {
        out.extend_from_slice(b" [");
        out.extend_from_slice(code.as_bytes());
        out.push(b']');
    }
    if !text.is_empty() {
        out.push(b' ');
        out.extend(text.bytes().map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
    }
    out.extend_from_slice(b"\r\n");
}

/// Selects what TOP sends (RFC 1939 §7): the header, the blank line after
/// it, and the first `n` lines of the body.
#[derive(Debug)]
pub struct TopFilter {
    in_header: bool,
    at_line_start: bool,
    line_has_text: bool,
    body_lines_left: u32,
}

impl TopFilter {
    pub fn new(body_lines: u32) -> Self {
        TopFilter {
            in_header: true,
            at_line_start: true,
            line_has_text: false,
            body_lines_left: body_lines,
        }
    }

    /// Returns how much of `input` to send; once that is less than all of
    /// it, TOP is complete and nothing more is wanted.
    pub fn take(&mut self, input: &[u8]) -> usize {
        for (i, &byte) in input.iter().enumerate() {
            if self.at_line_start && !self.in_header && self.body_lines_left == 0 {
                return i;
            }
            match byte {
                b'\n' => {
                    if !self.in_header {
                        self.body_lines_left -= 1;
                    } else if !self.line_has_text {
                        // The empty line that separates header and body.
                        self.in_header = false;
                    }
                    self.at_line_start = true;
                    self.line_has_text = false;
                }
                b'\r' => self.at_line_start = false,
                _ => {
                    self.at_line_start = false;
                    self.line_has_text = true;
                }
            }
        }
        input.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, CommandError> {
        parse_command(line.as_bytes(), 255).map(|(c, _)| c)
    }

    #[test]
    fn parses_commands() {
        assert_eq!(
            parse("USER alice@example.test\r\n"),
            Ok(Command::User("alice@example.test".into()))
        );
        assert_eq!(
            parse("PASS secret with spaces\r\n"),
            Ok(Command::Pass("secret with spaces".into()))
        );
        assert_eq!(parse("stat\r\n"), Ok(Command::Stat));
        assert_eq!(parse("LIST\r\n"), Ok(Command::List(None)));
        assert_eq!(parse("LIST 3\r\n"), Ok(Command::List(Some(3))));
        assert_eq!(parse("TOP 1 0\r\n"), Ok(Command::Top(1, 0)));
        assert_eq!(parse("UIDL 2\n"), Ok(Command::Uidl(Some(2))));
        assert_eq!(
            parse("AUTH PLAIN AGEAYg==\r\n"),
            Ok(Command::Auth {
                mechanism: Some("PLAIN".into()),
                initial_response: Some("AGEAYg==".into())
            })
        );
    }

    #[test]
    fn rejects_bad_arguments() {
        for line in [
            "RETR\r\n",
            "RETR 0\r\n",
            "RETR x\r\n",
            "DELE 1 2\r\n",
            "TOP 1\r\n",
            "STAT 1\r\n",
            "XYZZY\r\n",
            "PASS\r\n",
            "LIST -1\r\n",
            "RETR 99999999999\r\n",
        ] {
            assert!(matches!(parse(line), Err(CommandError::Invalid { .. })), "{line:?}");
        }
    }

    #[test]
    fn framing_needs_full_lines_and_bounds_length() {
        let line = b"RETR 1\r\n";
        for cut in 0..line.len() {
            assert_eq!(parse_command(&line[..cut], 255), Err(CommandError::Incomplete));
        }
        assert_eq!(parse_command(&[b'A'; 300], 255), Err(CommandError::LineTooLong));
    }

    #[test]
    fn status_lines() {
        let mut out = Vec::new();
        status_line(&mut out, false, Some("IN-USE"), "locked");
        status_line(&mut out, true, None, "");
        assert_eq!(out, b"-ERR [IN-USE] locked\r\n+OK\r\n");
    }

    fn top(message: &[u8], lines: u32, chunk: usize) -> Vec<u8> {
        let mut filter = TopFilter::new(lines);
        let mut out = Vec::new();
        for part in message.chunks(chunk) {
            let n = filter.take(part);
            out.extend_from_slice(&part[..n]);
            if n < part.len() {
                break;
            }
        }
        out
    }

    #[test]
    fn top_sends_header_and_n_body_lines_in_any_chunking() {
        let message = b"From: a\r\nSubject: b\r\n\r\nline1\r\nline2\r\nline3\r\n";
        for chunk in 1..=message.len() {
            assert_eq!(
                top(message, 0, chunk),
                b"From: a\r\nSubject: b\r\n\r\n",
                "chunk {chunk}"
            );
            assert_eq!(
                top(message, 2, chunk),
                b"From: a\r\nSubject: b\r\n\r\nline1\r\nline2\r\n",
                "chunk {chunk}"
            );
            assert_eq!(top(message, 10, chunk), message, "chunk {chunk}");
        }
    }
}
