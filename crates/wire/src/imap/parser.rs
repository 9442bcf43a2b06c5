//! The lexical layer of IMAP commands (RFC 9051 §4, §9): atoms, numbers,
//! quoted strings, literals (synchronising `{n}`, non-synchronising
//! `{n+}` of RFC 7888, binary `~{n}` of RFC 3516), NIL, and parenthesised
//! lists, read from a buffer that holds a whole command: its lines with the
//! literals between them.

/// Why a command could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// More input is needed. `literals` counts the synchronising literals
    /// announced so far: each needs a `+` continuation before the client
    /// sends its data (RFC 9051 §7.5).
    Incomplete { literals: usize },
    /// A line is longer than the limit: answer BAD and skip the line.
    LineTooLong,
    /// A literal is larger than allowed. `literal` says whether its data
    /// may already be on its way (non-synchronising): then the command
    /// cannot be resynchronised and the connection must close.
    LiteralTooBig {
        consumed: usize,
        tag: Option<String>,
        non_synchronising: bool,
    },
    /// The command is malformed: `consumed` bytes make up the bad command.
    Bad {
        consumed: usize,
        tag: Option<String>,
        reason: String,
    },
}

/// Limits that keep a client from making the server allocate without bound.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest line (between literals), CRLF included.
    pub max_line: usize,
    /// Largest literal.
    pub max_literal: u64,
    /// Deepest nesting of parenthesised lists.
    pub max_depth: usize,
    /// Largest whole command, literals included.
    pub max_command: u64,
    /// Most literals in one command: each becomes an allocation of its
    /// own, and MULTIAPPEND (RFC 3502) needs one per message.
    pub max_literals: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_literal: 64 * 1024 * 1024,
            max_depth: 16,
            max_command: 80 * 1024 * 1024,
            max_literals: 1000,
        }
    }
}

/// A cursor over one complete command.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pub pos: usize,
    depth: usize,
    limits: Limits,
    /// Synchronising literals seen so far.
    pub literals: usize,
    /// Where the current line began (after the last literal's data).
    pub line_start: usize,
    /// The longest line before the current one, line end included.
    pub longest_line: usize,
    /// The buffer ended inside a literal's data.
    pub in_literal: bool,
}

/// What a cursor step could not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The buffer ends before the command does.
    Incomplete,
    Bad(String),
    LiteralTooBig {
        non_synchronising: bool,
    },
}

pub(crate) type Step<T> = Result<T, Stop>;

pub(crate) fn bad<T>(reason: impl Into<String>) -> Step<T> {
    Err(Stop::Bad(reason.into()))
}

/// RFC 9051 §9 atom-specials, with CTLs and the space.
fn is_atom_char(b: u8) -> bool {
    b > b' ' && b < 0x7f && !b"(){%*\"\\]".contains(&b)
}

/// ASTRING-CHAR: atom characters and ']'.
pub(crate) fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8], limits: Limits) -> Self {
        Cursor {
            buf,
            pos: 0,
            depth: 0,
            limits,
            literals: 0,
            line_start: 0,
            longest_line: 0,
            in_literal: false,
        }
    }

    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// The byte `ahead` bytes after the next one, if it has arrived.
    pub fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.buf.get(self.pos + ahead).copied()
    }

    fn need(&self, n: usize) -> Step<()> {
        if self.pos + n <= self.buf.len() {
            Ok(())
        } else {
            Err(Stop::Incomplete)
        }
    }

    /// Expects exactly `byte`.
    pub fn expect(&mut self, byte: u8, what: &str) -> Step<()> {
        self.need(1)?;
        if self.buf[self.pos] == byte {
            self.pos += 1;
            Ok(())
        } else {
            bad(format!("expected {what}"))
        }
    }

    pub fn space(&mut self) -> Step<()> {
        self.expect(b' ', "a space")
    }

    /// True (and consumed) if a space follows.
    pub fn maybe_space(&mut self) -> Step<bool> {
        self.need(1)?;
        if self.buf[self.pos] == b' ' {
            self.pos += 1;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// The end of the command: CRLF (a bare LF is tolerated).
    pub fn end(&mut self) -> Step<()> {
        self.need(1)?;
        match self.buf[self.pos] {
            b'\n' => {
                self.pos += 1;
                Ok(())
            }
            b'\r' => {
                self.need(2)?;
                if self.buf[self.pos + 1] == b'\n' {
                    self.pos += 2;
                    Ok(())
                } else {
                    bad("expected the end of the line")
                }
            }
            _ => bad("unexpected characters at the end of the command"),
        }
    }

    /// A run of bytes for which `accept` holds; at least one.
    fn run(&mut self, accept: impl Fn(u8) -> bool, what: &str) -> Step<&'a [u8]> {
        let start = self.pos;
        while self.pos < self.buf.len() && accept(self.buf[self.pos]) {
            self.pos += 1;
        }
        if self.pos == self.buf.len() {
            return Err(Stop::Incomplete);
        }
        if self.pos == start {
            return bad(format!("expected {what}"));
        }
        Ok(&self.buf[start..self.pos])
    }

    pub fn atom(&mut self) -> Step<&'a str> {
        let bytes = self.run(is_atom_char, "an atom")?;
        Ok(std::str::from_utf8(bytes).unwrap_or_default())
    }

    /// An atom compared case-insensitively, upper-cased.
    pub fn keyword(&mut self) -> Step<String> {
        Ok(self.atom()?.to_ascii_uppercase())
    }

    /// A run of characters usable in a tag, sequence set or FETCH item:
    /// ASTRING-CHAR minus '+' for tags is left to the caller.
    pub fn token(&mut self, accept: impl Fn(u8) -> bool, what: &str) -> Step<&'a str> {
        let bytes = self.run(accept, what)?;
        Ok(std::str::from_utf8(bytes).unwrap_or_default())
    }

    pub fn number(&mut self) -> Step<u32> {
        let digits = self.run(|b| b.is_ascii_digit(), "a number")?;
        std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .map_or_else(|| bad("number out of range"), Ok)
    }

    pub fn number64(&mut self) -> Step<u64> {
        let digits = self.run(|b| b.is_ascii_digit(), "a number")?;
        std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .map_or_else(|| bad("number out of range"), Ok)
    }

    /// astring = 1*ASTRING-CHAR / string. `~` is an ASTRING-CHAR here:
    /// literal8 is no string (RFC 3516 §4.1, issue 13 defect 3).
    pub fn astring(&mut self) -> Step<Vec<u8>> {
        self.need(1)?;
        match self.buf[self.pos] {
            b'"' | b'{' => self.string(),
            _ => Ok(self.run(is_astring_char, "a string")?.to_vec()),
        }
    }

    /// An astring as UTF-8 text.
    pub fn astring_text(&mut self) -> Step<String> {
        String::from_utf8(self.astring()?).map_or_else(|_| bad("text is not valid UTF-8"), Ok)
    }

    /// nstring = string / NIL
    pub fn nstring(&mut self) -> Step<Option<Vec<u8>>> {
        self.need(1)?;
        if matches!(self.buf[self.pos], b'"' | b'{') {
            return self.string().map(Some);
        }
        let word = self.atom()?;
        if word.eq_ignore_ascii_case("NIL") {
            Ok(None)
        } else {
            bad("expected a string or NIL")
        }
    }

    /// string = quoted / literal
    pub fn string(&mut self) -> Step<Vec<u8>> {
        self.need(1)?;
        match self.buf[self.pos] {
            b'"' => self.quoted(),
            b'{' => self.literal(),
            _ => bad("expected a quoted string or a literal"),
        }
    }

    fn quoted(&mut self) -> Step<Vec<u8>> {
        self.expect(b'"', "a quote")?;
        let mut out = Vec::new();
        loop {
            self.need(1)?;
            let b = self.buf[self.pos];
            self.pos += 1;
            match b {
                b'"' => return Ok(out),
                b'\\' => {
                    self.need(1)?;
                    let escaped = self.buf[self.pos];
                    if escaped != b'"' && escaped != b'\\' {
                        return bad("only \\\" and \\\\ may be escaped in a quoted string");
                    }
                    out.push(escaped);
                    self.pos += 1;
                }
                b'\r' | b'\n' => {
                    // The line ends here, and so does the bad command.
                    self.pos -= 1;
                    return bad("a quoted string cannot span lines");
                }
                _ => out.push(b),
            }
        }
    }

    /// `{n}`, `{n+}` or `~{n}` then CRLF and n octets. The `~` form
    /// (literal8, RFC 3516 §4.1) only where the grammar allows it: APPEND's
    /// message data; everywhere else `~` is an ordinary ATOM-CHAR.
    pub fn literal(&mut self) -> Step<Vec<u8>> {
        if self.peek() == Some(b'~') {
            self.pos += 1;
        }
        self.expect(b'{', "a literal")?;
        let size = self.number64()?;
        let non_synchronising = self.peek() == Some(b'+');
        if non_synchronising {
            self.pos += 1;
        }
        self.expect(b'}', "the end of the literal size")?;
        if size > self.limits.max_literal {
            // Only `{n}` that ends its line announces a literal (RFC 9051
            // §4.3); followed by anything else it is a bad command, as the
            // framer sees it.
            let announced_at = self.pos;
            self.end()?;
            self.pos = announced_at;
            return Err(Stop::LiteralTooBig { non_synchronising });
        }
        self.end()?;
        self.longest_line = self.longest_line.max(self.pos - self.line_start);
        if !non_synchronising {
            self.literals += 1;
        }
        let size = size as usize;
        if self.pos + size > self.buf.len() {
            self.in_literal = true;
            return Err(Stop::Incomplete);
        }
        let data = self.buf[self.pos..self.pos + size].to_vec();
        self.pos += size;
        self.line_start = self.pos;
        Ok(data)
    }

    /// Enters a parenthesised list; fails past the nesting limit.
    pub fn open(&mut self) -> Step<()> {
        self.expect(b'(', "(")?;
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return bad("lists are nested too deeply");
        }
        Ok(())
    }

    /// True (and consumed) if the list closes here.
    pub fn close(&mut self) -> Step<bool> {
        self.need(1)?;
        if self.buf[self.pos] == b')' {
            self.pos += 1;
            self.depth = self.depth.saturating_sub(1);
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// A parenthesised list of items, space-separated; `()` is allowed.
    pub fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Step<T>) -> Step<Vec<T>> {
        self.open()?;
        let mut items = Vec::new();
        if self.close()? {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if self.close()? {
                return Ok(items);
            }
            self.space()?;
        }
    }
}
