//! The DATA phase: RFC 5321 §4.5.2 dot-unstuffing and the end-of-data
//! marker, with the size limit of RFC 1870 enforced as the bytes arrive.

/// Where the reader is within the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// After CRLF (or at the very start): a '.' here is special.
    LineStart,
    /// Saw '.' at a line start.
    Dot,
    /// Saw ".\r" at a line start.
    DotCr,
    /// Inside a line.
    Text,
    /// Saw '\r' inside a line.
    Cr,
}

/// How the DATA phase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOutcome {
    /// The whole message is in the output buffer.
    Complete,
    /// The message exceeded the size limit; its tail was read and dropped
    /// (RFC 5321 §4.5.3.1.10: 552, after the end of data).
    TooBig,
    /// A line ended in a bare LF, or a CR stood without its LF. RFC 5321
    /// §2.3.8 allows only CRLF; the message is refused rather than guessed
    /// at, since differing guesses between servers are what SMTP smuggling
    /// exploits (`<LF>.<LF>`, `<CR>.<CR>` and their mixtures).
    BareLineEnd,
}

/// Decodes the DATA stream up to `CRLF.CRLF`. Only CRLF ends a line here:
/// `LF.LF`, `LF.CRLF` and `CR.CR` never end the message.
#[derive(Debug)]
pub struct DataReader {
    state: State,
    size: usize,
    max_size: usize,
    bare_line_end: bool,
}

impl DataReader {
    /// A reader that keeps at most `max_size` bytes of message.
    pub fn new(max_size: usize) -> Self {
        DataReader {
            state: State::LineStart,
            size: 0,
            max_size,
            bare_line_end: false,
        }
    }

    /// Feeds input. Message bytes are appended to `out` (never more than the
    /// size limit). Returns the bytes consumed and, once the terminating
    /// `.CRLF` has been read, the outcome. Bytes after the terminator are not
    /// consumed: they are the next pipelined command.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> (usize, Option<DataOutcome>) {
        let mut i = 0;
        while i < input.len() {
            let byte = input[i];
            i += 1;
            self.state = match (self.state, byte) {
                (State::LineStart, b'.') => State::Dot,
                (State::Dot, b'\r') => State::DotCr,
                (State::DotCr, b'\n') => return (i, Some(self.outcome())),
                (State::DotCr, _) => {
                    // ".\r" then something else: the dot was stuffing, and
                    // the CR stands alone.
                    self.bare_line_end = true;
                    self.push(out, b"\r");
                    self.step_text(out, byte)
                }
                (State::Dot, _) => self.step_text(out, byte),
                (State::Cr, b'\n') => {
                    self.push(out, b"\n");
                    State::LineStart
                }
                (State::Cr, _) => {
                    self.bare_line_end = true;
                    self.step_text(out, byte)
                }
                (_, _) => self.step_text(out, byte),
            };
            // Fast path: copy the rest of a line without per-byte dispatch.
            if self.state == State::Text {
                let run = input[i..]
                    .iter()
                    .position(|&b| b == b'\r' || b == b'\n')
                    .unwrap_or(input.len() - i);
                self.push(out, &input[i..i + run]);
                i += run;
            }
        }
        (i, None)
    }

    fn step_text(&mut self, out: &mut Vec<u8>, byte: u8) -> State {
        if byte == b'\n' {
            self.bare_line_end = true;
        }
        self.push(out, &[byte]);
        if byte == b'\r' { State::Cr } else { State::Text }
    }

    /// Appends up to the size limit and counts all: past the limit the
    /// output stops at the same byte however the input was split (a fuzz
    /// find: a run crossing the limit used to be dropped whole).
    fn push(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        let room = self.max_size.saturating_sub(self.size);
        out.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.size = self.size.saturating_add(bytes.len());
    }

    fn outcome(&self) -> DataOutcome {
        if self.size > self.max_size {
            DataOutcome::TooBig
        } else if self.bare_line_end {
            DataOutcome::BareLineEnd
        } else {
            DataOutcome::Complete
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_chunks(input: &[u8], chunk: usize, max: usize) -> (Vec<u8>, usize, Option<DataOutcome>) {
        let mut reader = DataReader::new(max);
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < input.len() {
            let end = (pos + chunk).min(input.len());
            let (used, outcome) = reader.feed(&input[pos..end], &mut out);
            pos += used;
            if outcome.is_some() {
                return (out, pos, outcome);
            }
        }
        (out, pos, None)
    }

    #[test]
    fn unstuffs_dots_in_every_chunking() {
        let input = b"Subject: x\r\n\r\n..leading dot\r\n.\r\nMAIL FROM:<>\r\n";
        let expected = b"Subject: x\r\n\r\n.leading dot\r\n";
        for chunk in 1..input.len() {
            let (out, used, outcome) = decode_in_chunks(input, chunk, 1000);
            assert_eq!(outcome, Some(DataOutcome::Complete), "chunk {chunk}");
            assert_eq!(out, expected, "chunk {chunk}");
            assert_eq!(&input[used..], b"MAIL FROM:<>\r\n", "chunk {chunk}");
        }
    }

    #[test]
    fn empty_message_and_dot_lines() {
        assert_eq!(decode_in_chunks(b".\r\n", 1, 10).2, Some(DataOutcome::Complete));
        let (out, _, _) = decode_in_chunks(b".x\r\n.\r\n", 3, 100);
        assert_eq!(out, b"x\r\n");
        let (out, _, outcome) = decode_in_chunks(b"a\r\n.\rb\r\n.\r\n", 2, 100);
        assert_eq!(out, b"a\r\n\rb\r\n");
        assert_eq!(
            outcome,
            Some(DataOutcome::BareLineEnd),
            "the CR after the dot stands alone"
        );
    }

    #[test]
    fn smuggling_terminators_do_not_end_the_message() {
        for fake in [
            &b"a\n.\nb\r\n.\r\n"[..],
            b"a\n.\r\nb\r\n.\r\n",
            b"a\r.\rb\r\n.\r\n",
            b"a\r\n.\nb\r\n.\r\n",
        ] {
            let (_, used, outcome) = decode_in_chunks(fake, 1, 100);
            assert_eq!(used, fake.len(), "{fake:?} ended early");
            assert_eq!(outcome, Some(DataOutcome::BareLineEnd), "{fake:?} was taken");
        }
        // Every bare CR or LF refuses the message, whatever the chunking.
        for bare in [
            &b"a\nb\r\n.\r\n"[..],
            b"a\rb\r\n.\r\n",
            b"a\r\r\n.\r\n",
            b"a\r\n.\r.\r\n.\r\n",
            b"a\r.\rb\r\n.\r\n",
        ] {
            for chunk in 1..=bare.len() {
                assert_eq!(
                    decode_in_chunks(bare, chunk, 100).2,
                    Some(DataOutcome::BareLineEnd),
                    "{bare:?} in chunks of {chunk}"
                );
            }
        }
    }

    #[test]
    fn oversize_messages_are_drained_but_not_kept() {
        let mut input = vec![b'x'; 5000];
        input.extend_from_slice(b"\r\n.\r\n");
        let (out, used, outcome) = decode_in_chunks(&input, 333, 1000);
        assert_eq!(outcome, Some(DataOutcome::TooBig));
        assert_eq!(used, input.len());
        // What is kept stops at the limit, the same in any chunking.
        assert_eq!(out, vec![b'x'; 1000]);
        for chunk in [1, input.len()] {
            assert_eq!(
                decode_in_chunks(&input, chunk, 1000).0,
                vec![b'x'; 1000],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn binary_and_8bit_bytes_pass_through() {
        let body: Vec<u8> = (0u8..=255).filter(|b| *b != b'\r' && *b != b'\n').collect();
        let mut input = body.clone();
        input.extend_from_slice(b"\r\n.\r\n");
        let (out, _, outcome) = decode_in_chunks(&input, 7, 1000);
        assert_eq!(outcome, Some(DataOutcome::Complete));
        assert_eq!(&out[..body.len()], &body[..]);
    }
}
