//! SMTP command lines, RFC 5321 §4.1.1.

use super::address::{RcptPath, ReversePath, parse_path};
use crate::line::{LineTooLong, find_line, strip_eol};

/// A parsed SMTP command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ehlo(String),
    Helo(String),
    Mail {
        from: ReversePath,
        params: Vec<Param>,
    },
    Rcpt {
        to: RcptPath,
        params: Vec<Param>,
    },
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy(String),
    Expn(String),
    Help(Option<String>),
    StartTls,
    /// RFC 4954 AUTH: the mechanism (upper-cased) and an initial response.
    Auth {
        mechanism: String,
        initial_response: Option<String>,
    },
    /// RFC 3030 BDAT: a chunk of exactly `size` octets follows the line.
    Bdat {
        size: u64,
        last: bool,
    },
}

impl Command {
    /// The command's name, as a log names it.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Ehlo(_) => "EHLO",
            Command::Helo(_) => "HELO",
            Command::Mail { .. } => "MAIL",
            Command::Rcpt { .. } => "RCPT",
            Command::Data => "DATA",
            Command::Rset => "RSET",
            Command::Noop => "NOOP",
            Command::Quit => "QUIT",
            Command::Vrfy(_) => "VRFY",
            Command::Expn(_) => "EXPN",
            Command::Help(_) => "HELP",
            Command::StartTls => "STARTTLS",
            Command::Auth { .. } => "AUTH",
            Command::Bdat { .. } => "BDAT",
        }
    }
}

/// An ESMTP parameter of MAIL or RCPT (RFC 5321 §4.1.2 esmtp-param); the
/// keyword is upper-cased, the value kept as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub keyword: String,
    pub value: Option<String>,
}

/// Why no command could be taken from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// No complete line yet: read more input.
    Incomplete,
    /// The line is longer than the limit: discard it through the next LF and
    /// answer 500 5.5.2.
    LineTooLong,
    /// Not a command we know: 500 5.5.1. The line is `consumed` bytes long.
    Unrecognized { consumed: usize },
    /// A known command with bad arguments: 501 5.5.4.
    Syntax { consumed: usize, reason: &'static str },
    /// An HTTP request line: a web client or a cross-protocol attack, to be
    /// disconnected without further ado (as Postfix's
    /// `smtpd_forbidden_commands` does).
    Http { consumed: usize },
}

/// Request methods that show an HTTP client on an SMTP port.
const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "DELETE", "PATCH", "TRACE",
];

/// Parses the first command line of `buf`; returns it and the bytes it used.
/// `max_line` bounds the line including CRLF (RFC 5321 §4.5.3.1.4 says at
/// least 512; extensions make longer lines legitimate).
pub fn parse_command(buf: &[u8], max_line: usize) -> Result<(Command, usize), CommandError> {
    let consumed = match find_line(buf, max_line) {
        Ok(Some(n)) => n,
        Ok(None) => return Err(CommandError::Incomplete),
        Err(LineTooLong) => return Err(CommandError::LineTooLong),
    };
    let syntax = |reason| CommandError::Syntax { consumed, reason };
    let line = std::str::from_utf8(strip_eol(&buf[..consumed])).map_err(|_| syntax("Command is not valid UTF-8"))?;
    let (verb, args) = match line.split_once(' ') {
        Some((verb, args)) => (verb, args),
        None => (line, ""),
    };
    let no_args = |command: Command| {
        if args.trim().is_empty() {
            Ok(command)
        } else {
            Err(syntax("This command takes no arguments"))
        }
    };
    let command = match verb.to_ascii_uppercase().as_str() {
        "EHLO" => Command::Ehlo(domain_argument(args).ok_or(syntax("EHLO needs a domain"))?),
        "HELO" => Command::Helo(domain_argument(args).ok_or(syntax("HELO needs a domain"))?),
        "MAIL" => {
            let rest = strip_keyword(args, "FROM:").ok_or(syntax("Syntax: MAIL FROM:<address>"))?;
            let (path, rest) = parse_path(rest).map_err(syntax)?;
            let from = path.map_or(ReversePath::Null, ReversePath::Mailbox);
            let params = parse_params(rest).map_err(syntax)?;
            Command::Mail { from, params }
        }
        "RCPT" => {
            let rest = strip_keyword(args, "TO:").ok_or(syntax("Syntax: RCPT TO:<address>"))?;
            let (to, rest) = parse_rcpt_path(rest).map_err(syntax)?;
            let params = parse_params(rest).map_err(syntax)?;
            Command::Rcpt { to, params }
        }
        "DATA" => no_args(Command::Data)?,
        "RSET" => no_args(Command::Rset)?,
        "QUIT" => no_args(Command::Quit)?,
        "STARTTLS" => no_args(Command::StartTls)?,
        // RFC 5321 §4.1.1.9: NOOP may carry a string, which is ignored.
        "NOOP" => Command::Noop,
        "VRFY" if !args.trim().is_empty() => Command::Vrfy(args.trim().to_string()),
        "EXPN" if !args.trim().is_empty() => Command::Expn(args.trim().to_string()),
        "VRFY" | "EXPN" => return Err(syntax("This command needs an argument")),
        "HELP" => Command::Help(Some(args.trim()).filter(|a| !a.is_empty()).map(str::to_string)),
        "AUTH" => {
            let mut words = args.split_whitespace();
            let mechanism = words.next().ok_or(syntax("AUTH needs a mechanism"))?;
            let initial_response = words.next().map(str::to_string);
            if words.next().is_some() {
                return Err(syntax("Too many arguments to AUTH"));
            }
            Command::Auth {
                mechanism: mechanism.to_ascii_uppercase(),
                initial_response,
            }
        }
        "BDAT" => {
            let mut words = args.split(' ');
            let size = words
                .next()
                .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|w| w.parse::<u64>().ok())
                .ok_or(syntax("Syntax: BDAT <size> [LAST]"))?;
            let last = match words.next() {
                None => false,
                Some(word) if word.eq_ignore_ascii_case("LAST") => true,
                Some(_) => return Err(syntax("Syntax: BDAT <size> [LAST]")),
            };
            if words.next().is_some() {
                return Err(syntax("Syntax: BDAT <size> [LAST]"));
            }
            Command::Bdat { size, last }
        }
        upper if HTTP_METHODS.contains(&upper) && !args.is_empty() => return Err(CommandError::Http { consumed }),
        _ => return Err(CommandError::Unrecognized { consumed }),
    };
    Ok((command, consumed))
}

/// The first word of an EHLO/HELO argument. Names are not validated further:
/// RFC 5321 §4.1.4 forbids refusing a session over a wrong EHLO name.
fn domain_argument(args: &str) -> Option<String> {
    args.split_whitespace().next().map(str::to_string)
}

/// Strips `FROM:`/`TO:` case-insensitively. A space after the colon is
/// tolerated because widespread clients send one.
fn strip_keyword<'a>(args: &'a str, keyword: &str) -> Option<&'a str> {
    let head = args.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword).then(|| &args[keyword.len()..])
}

fn parse_rcpt_path(s: &str) -> Result<(RcptPath, &str), &'static str> {
    // RFC 5321 §4.1.1.3: "<Postmaster>" names this server's postmaster.
    let trimmed = s.trim_start_matches(' ');
    if let Some(rest) = trimmed
        .get(..12)
        .filter(|head| head.eq_ignore_ascii_case("<postmaster>"))
        .map(|_| &trimmed[12..])
    {
        return Ok((RcptPath::Postmaster, rest));
    }
    match parse_path(s)? {
        (Some(mailbox), rest) => Ok((RcptPath::Mailbox(mailbox), rest)),
        (None, _) => Err("Recipient address must not be empty"),
    }
}

/// Parses ` KEYWORD[=value]...` after a path (RFC 5321 §4.1.2 Mail-parameters).
fn parse_params(s: &str) -> Result<Vec<Param>, &'static str> {
    if !s.is_empty() && !s.starts_with(' ') {
        return Err("Parameters must be separated from the address by a space");
    }
    s.split(' ')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let (keyword, value) = match word.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (word, None),
            };
            let keyword_ok = keyword.starts_with(|c: char| c.is_ascii_alphanumeric())
                && keyword.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            // esmtp-value: any printable character but '='; UTF-8 per RFC 6531.
            let value_ok = value.is_none_or(|v| !v.is_empty() && v.chars().all(|c| c > ' ' && c != '=' && c != '\x7f'));
            if keyword_ok && value_ok {
                Ok(Param {
                    keyword: keyword.to_ascii_uppercase(),
                    value: value.map(str::to_string),
                })
            } else {
                Err("Bad parameter syntax")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, CommandError> {
        parse_command(line.as_bytes(), 512).map(|(c, n)| {
            assert_eq!(n, line.len());
            c
        })
    }

    #[test]
    fn parses_the_basic_commands() {
        assert_eq!(parse("EHLO client.test\r\n"), Ok(Command::Ehlo("client.test".into())));
        assert_eq!(parse("helo x\r\n"), Ok(Command::Helo("x".into())));
        assert_eq!(parse("DATA\r\n"), Ok(Command::Data));
        assert_eq!(parse("rset\r\n"), Ok(Command::Rset));
        assert_eq!(parse("NOOP hello\r\n"), Ok(Command::Noop));
        assert_eq!(parse("QUIT\n"), Ok(Command::Quit));
        assert_eq!(parse("VRFY bob\r\n"), Ok(Command::Vrfy("bob".into())));
        assert_eq!(parse("HELP\r\n"), Ok(Command::Help(None)));
        assert_eq!(parse("STARTTLS\r\n"), Ok(Command::StartTls));
    }

    #[test]
    fn parses_mail_and_rcpt_with_params() {
        let Ok(Command::Mail { from, params }) = parse("MAIL FROM:<a@b.test> SIZE=1000 BODY=8BITMIME\r\n") else {
            panic!("MAIL not parsed");
        };
        assert_eq!(from.to_string(), "a@b.test");
        assert_eq!(
            params[0],
            Param {
                keyword: "SIZE".into(),
                value: Some("1000".into())
            }
        );
        assert_eq!(params[1].keyword, "BODY");
        assert!(matches!(
            parse("mail from: <>\r\n"),
            Ok(Command::Mail {
                from: ReversePath::Null,
                ..
            })
        ));
        assert!(matches!(
            parse("RCPT TO:<Postmaster>\r\n"),
            Ok(Command::Rcpt {
                to: RcptPath::Postmaster,
                ..
            })
        ));
        assert!(matches!(
            parse("RCPT TO:<x@y.test>\r\n"),
            Ok(Command::Rcpt {
                to: RcptPath::Mailbox(_),
                ..
            })
        ));
    }

    #[test]
    fn reports_syntax_errors_with_the_consumed_length() {
        for line in [
            "MAIL <a@b.test>\r\n",
            "MAIL FROM:a@b.test\r\n",
            "RCPT TO:<>\r\n",
            "MAIL FROM:<a@b.test>SIZE=1\r\n",
            "MAIL FROM:<a@b.test> =x\r\n",
            "MAIL FROM:<a@b.test> SIZE=\r\n",
            "DATA now\r\n",
            "EHLO\r\n",
            "VRFY\r\n",
        ] {
            match parse(line) {
                Err(CommandError::Syntax { consumed, .. }) => assert_eq!(consumed, line.len()),
                other => panic!("{line:?} gave {other:?}"),
            }
        }
        assert_eq!(parse("FOO\r\n"), Err(CommandError::Unrecognized { consumed: 5 }));
        for line in [
            "BDAT\r\n",
            "BDAT x\r\n",
            "BDAT -1\r\n",
            "BDAT 10 FIRST\r\n",
            "BDAT 1 LAST x\r\n",
            "AUTH\r\n",
        ] {
            assert!(matches!(parse(line), Err(CommandError::Syntax { .. })), "{line:?}");
        }
        assert_eq!(
            parse_command(b"\xff\xfe\r\n", 512),
            Err(CommandError::Syntax {
                consumed: 4,
                reason: "Command is not valid UTF-8"
            })
        );
    }

    #[test]
    fn parses_auth_and_bdat() {
        assert_eq!(
            parse("AUTH plain AGEAYg==\r\n"),
            Ok(Command::Auth {
                mechanism: "PLAIN".into(),
                initial_response: Some("AGEAYg==".into())
            })
        );
        assert_eq!(
            parse("AUTH LOGIN\r\n"),
            Ok(Command::Auth {
                mechanism: "LOGIN".into(),
                initial_response: None
            })
        );
        assert_eq!(
            parse("BDAT 1000\r\n"),
            Ok(Command::Bdat {
                size: 1000,
                last: false
            })
        );
        assert_eq!(parse("bdat 0 last\r\n"), Ok(Command::Bdat { size: 0, last: true }));
    }

    #[test]
    fn recognizes_http_requests() {
        assert_eq!(parse("GET / HTTP/1.1\r\n"), Err(CommandError::Http { consumed: 16 }));
        assert_eq!(parse("POST /x HTTP/1.0\r\n"), Err(CommandError::Http { consumed: 18 }));
        assert_eq!(
            parse("CONNECT mx:25 HTTP/1.1\r\n"),
            Err(CommandError::Http { consumed: 24 })
        );
    }

    #[test]
    fn needs_more_until_the_line_ends_and_enforces_the_limit() {
        let line = b"MAIL FROM:<a@b.test>\r\n";
        for cut in 0..line.len() {
            assert_eq!(parse_command(&line[..cut], 512), Err(CommandError::Incomplete));
        }
        assert!(parse_command(line, 512).is_ok());
        assert_eq!(parse_command(&[b'x'; 600], 512), Err(CommandError::LineTooLong));
    }

    #[test]
    fn pipelined_commands_come_out_one_by_one() {
        let input = b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n";
        let mut rest = &input[..];
        let mut commands = Vec::new();
        while let Ok((command, n)) = parse_command(rest, 512) {
            commands.push(command);
            rest = &rest[n..];
        }
        assert!(rest.is_empty());
        assert_eq!(commands.len(), 3);
        assert_eq!(commands[2], Command::Data);
    }
}
