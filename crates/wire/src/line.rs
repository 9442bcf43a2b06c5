//! Line framing shared by the line-oriented protocols (SMTP, POP3).

/// The buffered input holds no line end within the permitted length. The
/// caller discards input up to the next LF and answers
/// with a protocol error; the limit bounds memory whatever the peer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTooLong;

/// Finds the first complete line in `buf`. Returns the length of the line
/// including its terminator, `Ok(None)` when more input is needed, or
/// [`LineTooLong`] when no LF occurs within `max` bytes (terminator included).
pub fn find_line(buf: &[u8], max: usize) -> Result<Option<usize>, LineTooLong> {
    let window = &buf[..buf.len().min(max)];
    match window.iter().position(|&b| b == b'\n') {
        Some(i) => Ok(Some(i + 1)),
        None if buf.len() >= max => Err(LineTooLong),
        None => Ok(None),
    }
}

/// Removes the line terminator: CRLF, or a bare LF which command lines
/// tolerate the way Postfix and Dovecot do.
pub fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_and_needs_more() {
        assert_eq!(find_line(b"NOOP\r\nQUIT\r\n", 100), Ok(Some(6)));
        assert_eq!(find_line(b"NOOP\r", 100), Ok(None));
        assert_eq!(find_line(b"", 100), Ok(None));
        assert_eq!(find_line(b"NOOP\n", 100), Ok(Some(5)));
    }

    #[test]
    fn limit_includes_the_terminator() {
        assert_eq!(find_line(b"abc\r\n", 5), Ok(Some(5)));
        assert_eq!(find_line(b"abcd\r\n", 5), Err(LineTooLong));
        assert_eq!(find_line(b"abcde", 5), Err(LineTooLong));
        assert_eq!(find_line(b"abcd", 5), Ok(None));
    }

    #[test]
    fn strips_terminators() {
        assert_eq!(strip_eol(b"a\r\n"), b"a");
        assert_eq!(strip_eol(b"a\n"), b"a");
        assert_eq!(strip_eol(b"a"), b"a");
    }
}
