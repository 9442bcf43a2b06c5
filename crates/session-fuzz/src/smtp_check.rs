//! The SMTP session's invariants, checked over a transcript.
//!
//! The client's bytes are split into commands by the codec the server
//! uses (`wire::smtp::parse_command`, `DataReader` for DATA, BDAT's
//! octet count), and each command is paired with the next reply in order
//! (RFC 5321 §4.1.1; with PIPELINING too, RFC 2920 §3.1: replies in
//! command order). Every reply must then come in or after the step its
//! command was sent in, none may be left over, and once the session has
//! ended every complete command must have had its reply, unless the
//! server said goodbye (221, or 421 which RFC 5321 §3.8 allows at any
//! time) — after which nothing may follow. A 354 puts the following lines
//! into the message, a 334 makes the next line an AUTH response. The
//! backend must have accepted exactly as many messages as there are 250
//! replies to an end of data or BDAT LAST, none larger than the limit.

use wire::smtp::{Command, CommandError, DataOutcome, DataReader, parse_command};

use crate::transcript::{Transcript, Violation, violation};

/// What the backend saw, and the session's limits.
#[derive(Debug, Clone, Default)]
pub struct SmtpFacts {
    /// Messages the backend accepted.
    pub accepted: usize,
    /// The largest of them, in bytes as handed to the backend.
    pub largest: usize,
    /// The largest message the backend may be handed (the configured size
    /// plus our own headers).
    pub max_message_size: usize,
    /// The configured command line limit.
    pub max_line: usize,
}

/// One reply: its code and the step its last line arrived in.
#[derive(Debug, Clone)]
struct Reply {
    code: u16,
    step: usize,
    text: String,
}

impl Reply {
    fn closes(&self) -> bool {
        self.code == 221 || self.code == 421
    }
}

/// The server's replies; a multi-line reply (`250-...` lines, then
/// `250 ...`) is one reply, all its lines with the same code (RFC 5321
/// §4.2.1).
fn replies(t: &Transcript) -> Result<Vec<Reply>, Violation> {
    let mut replies = Vec::new();
    let mut open: Option<u16> = None;
    for line in crate::transcript::server_lines(t)? {
        let text = &line.text;
        let code = text
            .get(..3)
            .filter(|c| c.iter().all(u8::is_ascii_digit))
            .and_then(|c| std::str::from_utf8(c).ok()?.parse::<u16>().ok());
        let (Some(code), Some(&sep)) = (code, text.get(3).or(if text.len() == 3 { Some(&b' ') } else { None })) else {
            return Err(violation(format!("malformed reply line {:?}", line.shown())));
        };
        if open.is_some_and(|c| c != code) {
            return Err(violation(format!(
                "reply line {:?} changes the code mid-reply",
                line.shown()
            )));
        }
        match sep {
            b'-' => open = Some(code),
            b' ' => {
                open = None;
                replies.push(Reply {
                    code,
                    step: line.step,
                    text: line.shown(),
                });
            }
            _ => return Err(violation(format!("malformed reply line {:?}", line.shown()))),
        }
    }
    if t.finished && open.is_some() {
        return Err(violation("the server ended inside a multi-line reply"));
    }
    Ok(replies)
}

/// The pairing of commands and replies (see the module's comment).
struct Pairing<'a> {
    t: &'a Transcript,
    client: Vec<u8>,
    replies: Vec<Reply>,
    /// The next client byte to read.
    pos: usize,
    /// The next reply to pair.
    next: usize,
    /// 250s to an end of data or a BDAT LAST.
    accepted: usize,
    max_line: usize,
}

/// Why the pairing stopped early without a violation.
enum Stop {
    /// The client has not sent the rest yet (or the session has not
    /// answered yet, while it goes on).
    Waiting,
    /// The server said goodbye.
    Closed,
}

impl Pairing<'_> {
    /// The reply to the command that ended just before `pos`.
    fn reply(&mut self, what: &str) -> Result<Result<Reply, Stop>, Violation> {
        let Some(reply) = self.replies.get(self.next).cloned() else {
            if self.t.finished {
                return Err(violation(format!("no reply to {what}")));
            }
            return Ok(Err(Stop::Waiting));
        };
        self.next += 1;
        let sent = self.t.client_step(self.pos.saturating_sub(1));
        if reply.step < sent {
            return Err(violation(format!(
                "reply {} {:?} came before its command ({what}) was sent",
                reply.code, reply.text
            )));
        }
        Ok(Ok(reply))
    }

    /// The client's next line, through its LF.
    fn line(&mut self) -> Option<()> {
        let end = self.client[self.pos..].iter().position(|&b| b == b'\n')?;
        self.pos += end + 1;
        Some(())
    }

    /// Pairs one command with its reply (or replies, for DATA and AUTH).
    fn command(&mut self) -> Result<Result<(), Stop>, Violation> {
        let (command, used) = match parse_command(&self.client[self.pos..], self.max_line) {
            Ok(parsed) => parsed,
            Err(CommandError::Incomplete) => return Ok(Err(Stop::Waiting)),
            Err(CommandError::LineTooLong) => {
                if self.line().is_none() {
                    return Ok(Err(Stop::Waiting));
                }
                return self.simple("an over-long line");
            }
            Err(CommandError::Unrecognized { consumed } | CommandError::Syntax { consumed, .. }) => {
                self.pos += consumed;
                return self.simple("a bad command");
            }
            Err(CommandError::Http { consumed }) => {
                self.pos += consumed;
                self.simple("an HTTP request")?.ok();
                return Ok(Err(Stop::Closed));
            }
        };
        self.pos += used;
        match command {
            Command::Data => self.data(),
            Command::Bdat { size, last } => self.bdat(size, last),
            Command::Auth { .. } => self.auth(),
            _ => self.simple(command.verb()),
        }
    }

    fn simple(&mut self, what: &str) -> Result<Result<(), Stop>, Violation> {
        Ok(self.reply(what)?.and_then(closing))
    }

    fn data(&mut self) -> Result<Result<(), Stop>, Violation> {
        match self.reply("DATA")? {
            Ok(reply) if reply.code == 354 => {}
            other => return Ok(other.and_then(closing)),
        }
        // The message's own limit is the backend's check (`check_accepted`).
        let mut reader = DataReader::new(usize::MAX);
        let mut sink = Vec::new();
        let (used, outcome) = reader.feed(&self.client[self.pos..], &mut sink);
        self.pos += used;
        if outcome.is_none() {
            return Ok(Err(Stop::Waiting));
        }
        let end = self.reply("the end of data")?;
        Ok(end.and_then(|reply| self.content_reply(reply, outcome == Some(DataOutcome::Complete))))
    }

    fn bdat(&mut self, size: u64, last: bool) -> Result<Result<(), Stop>, Violation> {
        let left = (self.client.len() - self.pos) as u64;
        if left < size {
            return Ok(Err(Stop::Waiting));
        }
        self.pos += size as usize;
        let reply = self.reply("BDAT")?;
        Ok(reply.and_then(|reply| {
            if last {
                self.content_reply(reply, true)
            } else {
                closing(reply)
            }
        }))
    }

    /// The reply to a message's end; a 250 says it was accepted.
    fn content_reply(&mut self, reply: Reply, complete: bool) -> Result<(), Stop> {
        if reply.code == 250 && complete {
            self.accepted += 1;
        }
        closing(reply)
    }

    fn auth(&mut self) -> Result<Result<(), Stop>, Violation> {
        loop {
            match self.reply("AUTH")? {
                Ok(reply) if reply.code == 334 => {
                    if self.line().is_none() {
                        return Ok(Err(Stop::Waiting));
                    }
                }
                other => return Ok(other.and_then(closing)),
            }
        }
    }
}

fn closing(reply: Reply) -> Result<(), Stop> {
    if reply.closes() { Err(Stop::Closed) } else { Ok(()) }
}

/// Checks a session's transcript against the backend's facts.
pub fn check_smtp(t: &Transcript, facts: &SmtpFacts) -> Result<(), Violation> {
    let replies = replies(t)?;
    if let Some(i) = replies.iter().position(Reply::closes)
        && let Some(after) = replies.get(i + 1)
    {
        return Err(violation(format!(
            "reply {} {:?} after the closing {}",
            after.code, after.text, replies[i].code
        )));
    }
    let Some(greeting) = replies.first() else {
        return if t.finished {
            Err(violation("no greeting"))
        } else {
            Ok(())
        };
    };
    let mut pairing = Pairing {
        t,
        client: t.client(),
        replies: replies.clone(),
        pos: 0,
        next: 1,
        accepted: 0,
        max_line: facts.max_line,
    };
    if greeting.code == 220 {
        while pairing.command()?.is_ok() {}
    }
    let leftover = pairing.replies.get(pairing.next..).unwrap_or(&[]);
    // A 421 may come at any time, as the last word (RFC 5321 §3.8).
    if let Some(extra) = leftover.iter().find(|r| r.code != 421) {
        return Err(violation(format!(
            "extra reply {} {:?}: no command asked for it",
            extra.code, extra.text
        )));
    }
    check_accepted(pairing.accepted, facts, t.finished)
}

fn check_accepted(replied: usize, facts: &SmtpFacts, finished: bool) -> Result<(), Violation> {
    if replied > facts.accepted {
        return Err(violation(format!(
            "{replied} messages answered 250, the backend accepted {}",
            facts.accepted
        )));
    }
    if finished && facts.accepted > replied {
        return Err(violation(format!(
            "the backend accepted {} messages, only {replied} were answered 250",
            facts.accepted
        )));
    }
    if facts.largest > facts.max_message_size {
        return Err(violation(format!(
            "the backend was handed {} bytes, more than the limit of {}",
            facts.largest, facts.max_message_size
        )));
    }
    Ok(())
}
