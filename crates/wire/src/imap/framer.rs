//! Where one IMAP command ends, found incrementally: its lines and the
//! literals between them (RFC 9051 §4.3, non-synchronising literals of
//! RFC 7888, binary ones of RFC 3516) are scanned once each as they arrive,
//! and a literal's data is stepped over without being looked at. A command
//! that comes in many reads is therefore not re-read from its start after
//! each one (issue 12, attack 2: that cost the square of its size). The
//! limits on a command are checked here, before its data is held or a `+`
//! invites it. Once a whole command is in, [`parse_command`] reads it once.
//!
//! [`parse_command`]: super::parse_command

use super::dispatch::leading_tag;
use super::parser::Limits;

/// What the input so far holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The command goes on. `continuation`: a synchronising literal was
    /// announced, so the client waits for `+` (RFC 9051 §7.5).
    Incomplete { continuation: bool },
    /// The first `len` bytes hold one whole command.
    Complete { len: usize },
    /// The command is over a limit (RFC 9051 §7.1: TOOBIG). Its first
    /// `consumed` bytes are to be dropped, and then what `refusal` says.
    TooBig {
        consumed: usize,
        tag: Option<String>,
        refusal: Refusal,
    },
    /// The rest of a refused line: drop `consumed` bytes; `done` once the
    /// command has ended.
    Skip { consumed: usize, done: bool },
}

/// How a command over its limits ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A synchronising literal: refused before the client sends it; the
    /// command ends with its announcement.
    Literal,
    /// A non-synchronising literal: its data is already on the way and
    /// cannot be told from commands (RFC 7888 §4), so the session ends.
    NonSynchronisingLiteral,
    /// A line (or the command) too long: the rest of the line comes as
    /// [`Frame::Skip`].
    Line,
}

/// How the line read so far ends, as far as a literal's announcement
/// (`{n}`, `{n+}`, before CRLF) goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Header {
    #[default]
    None,
    /// After `{`.
    Open,
    /// After `{` and digits; the size saturates (too big either way).
    Digits(u64),
    /// After `{n+`.
    Plus(u64),
    /// After `{n}` or `{n+}`, and maybe a CR.
    Closed {
        size: u64,
        non_synchronising: bool,
        cr: bool,
    },
}

/// The scanning state of the command being received. Feed it the input
/// from the command's first byte on, as it grows; after anything but
/// [`Frame::Incomplete`], the bytes it reports are the caller's to drop.
#[derive(Debug, Default)]
pub struct Framer {
    /// Bytes of the input examined so far.
    scanned: usize,
    /// Where the current line began.
    line_start: usize,
    quoted: bool,
    escaped: bool,
    header: Header,
    /// Data of the current literal still to come.
    literal_left: u64,
    /// Literals announced in this command.
    literals: usize,
    /// A synchronising literal was announced and nothing after it came.
    continuation: bool,
    /// Dropping the rest of a refused line.
    skipping: bool,
}

impl Framer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Scans what `input` (the command so far, from its start) adds since
    /// the last call. Each byte is looked at once; a literal's data not at
    /// all. `limits` may change only between commands.
    pub fn scan(&mut self, input: &[u8], limits: &Limits) -> Frame {
        while self.scanned < input.len() {
            if self.literal_left > 0 {
                let available = (input.len() - self.scanned) as u64;
                let step = available.min(self.literal_left);
                // `step` is at most what `input` holds, so it fits a usize.
                self.scanned += step as usize;
                self.literal_left -= step;
                self.line_start = self.scanned;
                continue;
            }
            let byte = input[self.scanned];
            self.scanned += 1;
            if byte == b'\n' {
                if let Some(frame) = self.line_end(input, limits) {
                    return frame;
                }
                continue;
            }
            self.continuation = false;
            self.lex(byte);
            let line = self.scanned - self.line_start;
            if !self.skipping && (line >= limits.max_line || self.scanned as u64 > limits.max_command) {
                let consumed = self.scanned;
                let tag = leading_tag(&input[..consumed]);
                self.skipping = true;
                self.scanned = 0;
                self.line_start = 0;
                return Frame::TooBig {
                    consumed,
                    tag,
                    refusal: Refusal::Line,
                };
            }
        }
        if self.skipping {
            let consumed = self.scanned;
            self.scanned = 0;
            self.line_start = 0;
            return Frame::Skip { consumed, done: false };
        }
        Frame::Incomplete {
            continuation: std::mem::take(&mut self.continuation),
        }
    }

    /// A line ended at `self.scanned`: either a literal follows, or the
    /// command (or the refused line) is over.
    fn line_end(&mut self, input: &[u8], limits: &Limits) -> Option<Frame> {
        let header = std::mem::take(&mut self.header);
        let (quoted, skipping) = (self.quoted, self.skipping);
        self.quoted = false;
        self.escaped = false;
        let consumed = self.scanned;
        let literal = match header {
            // A quoted string cannot span lines (RFC 9051 §4.3): the line
            // ends the command, which the parser will call bad.
            Header::Closed {
                size,
                non_synchronising,
                ..
            } if !quoted => Some((size, non_synchronising)),
            _ => None,
        };
        let Some((size, non_synchronising)) = literal else {
            *self = Framer::default();
            return Some(if skipping {
                Frame::Skip { consumed, done: true }
            } else {
                Frame::Complete { len: consumed }
            });
        };
        self.literals += 1;
        let over = skipping
            || size > limits.max_literal
            || self.literals > limits.max_literals
            || (consumed as u64).saturating_add(size) > limits.max_command;
        if over {
            // A synchronising literal in a line being skipped was never
            // invited: the command ends with it, like one refused.
            let tag = if skipping {
                None
            } else {
                leading_tag(&input[..consumed])
            };
            *self = Framer::default();
            if skipping && !non_synchronising {
                return Some(Frame::Skip { consumed, done: true });
            }
            let refusal = if non_synchronising {
                Refusal::NonSynchronisingLiteral
            } else {
                Refusal::Literal
            };
            return Some(Frame::TooBig { consumed, tag, refusal });
        }
        self.literal_left = size;
        self.line_start = self.scanned;
        self.continuation = !non_synchronising;
        None
    }

    /// Follows quoted strings and literal announcements through one byte
    /// of a line.
    fn lex(&mut self, byte: u8) {
        if self.quoted {
            if self.escaped {
                self.escaped = false;
            } else if byte == b'\\' {
                self.escaped = true;
            } else if byte == b'"' {
                self.quoted = false;
            }
            return;
        }
        self.header = match (self.header, byte) {
            (_, b'{') => Header::Open,
            (Header::Open, b'0'..=b'9') => Header::Digits(u64::from(byte - b'0')),
            (Header::Digits(size), b'0'..=b'9') => {
                Header::Digits(size.saturating_mul(10).saturating_add(u64::from(byte - b'0')))
            }
            (Header::Digits(size), b'+') => Header::Plus(size),
            (Header::Digits(size), b'}') => Header::Closed {
                size,
                non_synchronising: false,
                cr: false,
            },
            (Header::Plus(size), b'}') => Header::Closed {
                size,
                non_synchronising: true,
                cr: false,
            },
            (
                Header::Closed {
                    size,
                    non_synchronising,
                    cr: false,
                },
                b'\r',
            ) => Header::Closed {
                size,
                non_synchronising,
                cr: true,
            },
            _ => Header::None,
        };
        if byte == b'"' {
            self.quoted = true;
        }
    }
}
