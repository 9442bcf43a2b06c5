//! The fields of one header block (RFC 5322 §2.2): where each field's
//! bytes are, its name, and its value unfolded the way IMAP reports it.

/// One header field as stored.
pub(crate) struct Field<'a> {
    /// The name, without blanks before the colon (`Subject :` is obs-syntax
    /// that RFC 5322 §4.5 still asks receivers to read). A line without a
    /// colon is all name.
    pub name: &'a [u8],
    /// The field's bytes: name, colon, value, continuation lines and the
    /// final line break if there is one.
    pub raw: &'a [u8],
    /// Everything after the colon, line breaks included but not the last.
    value: &'a [u8],
}

impl Field<'_> {
    /// Whether the field is called `name` (field names are case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }

    /// The value unfolded (RFC 5322 §2.2.3): the blanks after the colon
    /// dropped, then every line break removed and the blank that starts a
    /// continuation line kept (a tab becomes a space). A value of blanks
    /// only keeps all but the first.
    pub fn value(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.value.len());
        for (i, line) in self.value.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if i == 0 {
                let blanks = line.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
                let skip = if blanks == line.len() { blanks.min(1) } else { blanks };
                out.extend_from_slice(&line[skip..]);
            } else if let Some((&b'\t', rest)) = line.split_first() {
                out.push(b' ');
                out.extend_from_slice(rest);
            } else {
                out.extend_from_slice(line);
            }
        }
        out
    }

    /// The value with folding removed entirely, blanks after line breaks
    /// included; for URIs, which RFC 2557 §4.4.1 folds that way.
    pub fn value_unfolded_tight(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.value.len());
        for (i, line) in self.value.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let blanks = line.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
            // The first line keeps a value of blanks only, like `value`.
            let skip = if i == 0 && blanks == line.len() {
                blanks.min(1)
            } else {
                blanks
            };
            out.extend_from_slice(&line[skip..]);
        }
        out
    }
}

/// Where the line that starts at `pos` ends: just after its LF, or at the end.
pub(crate) fn line_end(data: &[u8], pos: usize) -> usize {
    match data.get(pos..).and_then(|rest| rest.iter().position(|&b| b == b'\n')) {
        Some(i) => pos + i + 1,
        None => data.len(),
    }
}

/// Whether a blank line (the end of the header, RFC 5322 §2.1) starts at `pos`.
pub(crate) fn is_blank_line(data: &[u8], pos: usize) -> bool {
    match data.get(pos) {
        Some(b'\n') => true,
        Some(b'\r') => data.get(pos + 1) == Some(&b'\n'),
        _ => false,
    }
}

/// Where the field that starts at `pos` ends, continuation lines included.
pub(crate) fn field_end(data: &[u8], pos: usize) -> usize {
    let mut end = line_end(data, pos);
    while matches!(data.get(end), Some(b' ' | b'\t')) {
        end = line_end(data, end);
    }
    end
}

/// The fields of a header block, in order, up to the blank line. An
/// iterator, so that a header of a million tiny fields costs no memory.
pub(crate) fn fields(header: &[u8]) -> Fields<'_> {
    Fields { header, pos: 0 }
}

pub(crate) struct Fields<'a> {
    header: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        let header = self.header;
        if self.pos >= header.len() || is_blank_line(header, self.pos) {
            return None;
        }
        let end = field_end(header, self.pos);
        let raw = &header[self.pos..end];
        self.pos = end;
        let body = raw.strip_suffix(b"\n").unwrap_or(raw);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        // The colon must be on the first line of the field.
        let first_line = match body.iter().position(|&b| b == b'\n') {
            Some(lf) => &body[..lf],
            None => body,
        };
        let (name, value) = match first_line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let name = &body[..colon];
                let blanks = name.iter().rev().take_while(|&&b| b == b' ' || b == b'\t').count();
                (&name[..name.len() - blanks], &body[colon + 1..])
            }
            None => (
                first_line.strip_suffix(b"\r").unwrap_or(first_line),
                &body[body.len()..],
            ),
        };
        Some(Field { name, raw, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_values_unfold_keeping_the_blank() {
        let header = b"Subject: one\r\n two\r\n\tthree\r\nMessage-ID:\r\n <x@y>\r\n\r\nbody";
        let fields: Vec<_> = fields(header).collect();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].name, b"Subject");
        assert_eq!(fields[0].value(), b"one two three");
        assert_eq!(fields[0].raw, b"Subject: one\r\n two\r\n\tthree\r\n");
        assert_eq!(fields[1].value(), b" <x@y>");
    }

    #[test]
    fn names_lose_blanks_before_the_colon_and_lines_without_colon_are_names() {
        let fields: Vec<_> = fields(b"Subject : obs\r\nno colon here\r\nX-Empty:\r\nX-Blank:   \r\n").collect();
        assert_eq!(fields[0].name, b"Subject");
        assert_eq!(fields[0].value(), b"obs");
        assert_eq!(fields[1].name, b"no colon here");
        assert_eq!(fields[1].value(), b"");
        assert_eq!(fields[2].value(), b"");
        assert_eq!(fields[3].value(), b"  ");
    }

    #[test]
    fn last_field_without_line_break() {
        let fields: Vec<_> = fields(b"A: 1\r\nB: 2").collect();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[1].raw, b"B: 2");
        assert_eq!(fields[1].value(), b"2");
    }

    #[test]
    fn tight_unfolding_drops_folding_blanks() {
        let fields: Vec<_> = fields(b"Content-Location: https://x.test/a/\r\n  b/c\r\n").collect();
        assert_eq!(fields[0].value(), b"https://x.test/a/  b/c");
        assert_eq!(fields[0].value_unfolded_tight(), b"https://x.test/a/b/c");
    }
}
