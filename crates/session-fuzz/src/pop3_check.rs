//! The POP3 session's invariants, checked over a transcript.
//!
//! The client's bytes are split into commands by the server's own codec
//! (`wire::pop3::parse_command`) and each is paired with the next status
//! line, `+OK` or `-ERR` (RFC 1939 §3): exactly one per command, in order,
//! none before its command was sent. After `+OK` to CAPA, LIST or UIDL
//! without an argument, RETR, TOP or AUTH without a mechanism, a
//! multi-line body follows, dot-stuffed and ended by a lone `.` (§3). A
//! `+ ` continuation to AUTH makes the next client line its response
//! (RFC 5034 §4). After the reply to QUIT, nothing (§6); the farewell of
//! a server that gives up (too many errors, an idle client) is a last
//! `-ERR` of its own, after which nothing either. Once the session has
//! ended, every complete command before the goodbye must have had its
//! status line.

use wire::pop3::{Command, CommandError, parse_command};

use crate::transcript::{Line, Transcript, Violation, server_lines, violation};

/// The farewell of a session that gives up on its client (pop3d's).
const GIVING_UP: [&[u8]; 2] = [b"-ERR Too many errors", b"-ERR Autologout"];

struct Pairing<'a> {
    t: &'a Transcript,
    client: Vec<u8>,
    lines: Vec<Line>,
    pos: usize,
    next: usize,
    max_line: usize,
}

/// Why the pairing stopped without a violation.
enum Stop {
    Waiting,
    Closed,
}

type Paired = Result<Result<(), Stop>, Violation>;

impl Pairing<'_> {
    /// The status line answering the command that ended before `pos`.
    fn status(&mut self, what: &str) -> Result<Result<Line, Stop>, Violation> {
        let Some(line) = self.lines.get(self.next).cloned() else {
            if self.t.finished {
                return Err(violation(format!("no status line for {what}")));
            }
            return Ok(Err(Stop::Waiting));
        };
        if GIVING_UP.iter().any(|p| line.text.starts_with(p)) {
            self.next += 1;
            return Ok(Err(Stop::Closed));
        }
        if !(line.text.starts_with(b"+OK") || line.text.starts_with(b"-ERR") || line.text.starts_with(b"+ ")) {
            return Err(violation(format!(
                "expected a status line for {what}, got {:?}",
                line.shown()
            )));
        }
        self.next += 1;
        if line.step < self.t.client_step(self.pos.saturating_sub(1)) {
            return Err(violation(format!(
                "status {:?} came before its command ({what}) was sent",
                line.shown()
            )));
        }
        Ok(Ok(line))
    }

    fn line(&mut self) -> Option<()> {
        let end = self.client[self.pos..].iter().position(|&b| b == b'\n')?;
        self.pos += end + 1;
        Some(())
    }

    fn command(&mut self) -> Paired {
        let (command, used) = match parse_command(&self.client[self.pos..], self.max_line) {
            Ok(parsed) => parsed,
            Err(CommandError::Incomplete) => return Ok(Err(Stop::Waiting)),
            Err(CommandError::LineTooLong) => {
                if self.line().is_none() {
                    return Ok(Err(Stop::Waiting));
                }
                return self.single("an over-long line");
            }
            Err(CommandError::Invalid { consumed, .. }) => {
                self.pos += consumed;
                return self.single("a bad command");
            }
        };
        self.pos += used;
        let what = format!("{command:?}");
        let mut status = match self.status(&what)? {
            Ok(status) => status,
            Err(stop) => return Ok(Err(stop)),
        };
        if matches!(command, Command::Auth { mechanism: Some(_), .. }) {
            while status.text.starts_with(b"+ ") {
                if self.line().is_none() {
                    return Ok(Err(Stop::Waiting));
                }
                status = match self.status(&what)? {
                    Ok(status) => status,
                    Err(stop) => return Ok(Err(stop)),
                };
            }
        }
        if status.text.starts_with(b"+ ") {
            return Err(violation(format!("a continuation {:?} to {what}", status.shown())));
        }
        if matches!(command, Command::Quit) {
            return Ok(Err(Stop::Closed));
        }
        if status.text.starts_with(b"+OK") && multi_line(&command) {
            return self.body(&what);
        }
        Ok(Ok(()))
    }

    fn single(&mut self, what: &str) -> Paired {
        let status = match self.status(what)? {
            Ok(status) => status,
            Err(stop) => return Ok(Err(stop)),
        };
        if !status.text.starts_with(b"-ERR") {
            return Err(violation(format!("{what} was answered {:?}", status.shown())));
        }
        Ok(Ok(()))
    }

    /// A multi-line body through its lone `.`.
    fn body(&mut self, what: &str) -> Paired {
        loop {
            let Some(line) = self.lines.get(self.next) else {
                if self.t.finished {
                    return Err(violation(format!("the body of {what} has no end")));
                }
                return Ok(Err(Stop::Waiting));
            };
            self.next += 1;
            if line.text == b"." {
                return Ok(Ok(()));
            }
            if line.text.starts_with(b".") && !line.text.starts_with(b"..") {
                return Err(violation(format!("an unstuffed line {:?} in {what}", line.shown())));
            }
        }
    }
}

/// Whether `+OK` to this command has a body (RFC 1939 §5, RFC 2449 §5,
/// RFC 5034 §4 for AUTH's mechanism list).
fn multi_line(command: &Command) -> bool {
    matches!(
        command,
        Command::Capa
            | Command::List(None)
            | Command::Uidl(None)
            | Command::Retr(_)
            | Command::Top(..)
            | Command::Auth { mechanism: None, .. }
    )
}

/// Checks a POP3 session's transcript; `max_line` is the server's
/// command line limit.
pub fn check_pop3(t: &Transcript, max_line: usize) -> Result<(), Violation> {
    let lines = server_lines(t)?;
    let Some(greeting) = lines.first() else {
        return if t.finished {
            Err(violation("no greeting"))
        } else {
            Ok(())
        };
    };
    if !greeting.text.starts_with(b"+OK") {
        return Err(violation(format!("greeting {:?} is not +OK", greeting.shown())));
    }
    let mut pairing = Pairing {
        t,
        client: t.client(),
        lines,
        pos: 0,
        next: 1,
        max_line,
    };
    let closed = loop {
        match pairing.command()? {
            Ok(()) => continue,
            Err(Stop::Waiting) => break false,
            Err(Stop::Closed) => break true,
        }
    };
    let leftover = pairing.lines.get(pairing.next..).unwrap_or(&[]);
    if let [farewell] = leftover
        && GIVING_UP.iter().any(|p| farewell.text.starts_with(p))
    {
        return Ok(());
    }
    if let Some(extra) = leftover.first() {
        let why = if closed {
            "after the goodbye"
        } else {
            "that no command asked for"
        };
        return Err(violation(format!("a line {why}: {:?}", extra.shown())));
    }
    Ok(())
}
