//! The MIME tree of a message (RFC 2045, RFC 2046 §5): where every part's
//! header and body are. Boundaries are found the way Dovecot finds them, so
//! sizes and line counts agree with what IMAP clients are used to:
//!
//! - a delimiter line is `--` and a boundary of *any* enclosing multipart
//!   at the start of a line, matched as a prefix (RFC 2046 §5.1.1 forbids
//!   such lines inside parts, so a prefix match only decides input that is
//!   broken anyway); the longest matching boundary wins;
//! - the line break before a delimiter belongs to the delimiter (§5.1.1),
//!   so a part's body ends before it; a delimiter met while a part's header
//!   is still being read ends the header, without its last line break;
//! - a delimiter of an outer multipart ends every inner part, and the
//!   close delimiter `--boundary--` retires a boundary and those inside it;
//! - a multipart without boundary, or whose body holds no delimiter, gets
//!   one empty text/plain part, as IMAP's body-type-mpart needs one part;
//! - nesting and part counts are bounded, so no message can make the
//!   parser recurse or allocate without limit.

use std::ops::Range;

use crate::content_fields::{ContentType, MimeFields};
use crate::header::{field_end, is_blank_line, line_end};

/// Deeper parts are not split further (Dovecot's default limit too).
const MAX_DEPTH: usize = 100;
/// After this many parts, multiparts and messages are not split further.
const MAX_PARTS: usize = 10_000;
/// RFC 2046 §5.1.1 allows 70 characters; longer boundaries are cut here
/// (as Dovecot does), which only matters for broken input.
const MAX_BOUNDARY: usize = 80;

/// One part: a whole message or a body part.
#[derive(Debug)]
pub(crate) struct Part {
    /// The header, with the blank line that ends it when there is one.
    pub header: Range<usize>,
    pub body: Range<usize>,
    pub mime: MimeFields,
    pub kind: Kind,
    /// Line breaks in the body, as IMAP reports for text and message/rfc822
    /// parts; counted once while parsing, so nested messages cost no more.
    pub lines: usize,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Leaf,
    /// Never empty.
    Multipart(Vec<Part>),
    /// message/rfc822: the body is a message of its own.
    Message(Box<Part>),
}

impl Part {
    /// An empty text/plain part at `pos`: what a multipart without parts
    /// is given, and what a message/rfc822 past the limits holds.
    fn empty(pos: usize) -> Part {
        Part {
            header: pos..pos,
            body: pos..pos,
            mime: MimeFields::default(),
            kind: Kind::Leaf,
            lines: 0,
        }
    }

    /// Whether this part's body is text that SEARCH decodes and looks into:
    /// text/* and message/* leaves (Dovecot's rule), including parts whose
    /// Content-Type is missing or invalid (text/plain by default).
    pub fn is_searchable_text(&self) -> bool {
        matches!(self.kind, Kind::Leaf)
            && match &self.mime.content_type {
                ContentType::Absent | ContentType::Invalid => true,
                ct => ct.is("text", None) || ct.is("message", None),
            }
    }
}

/// Parses the whole message.
pub(crate) fn parse(raw: &[u8]) -> Part {
    let mut parser = Parser {
        raw,
        boundaries: Vec::new(),
        parts: 0,
    };
    parser.part(0, 0, false, false).0
}

struct Boundary {
    text: Vec<u8>,
    /// The depth of the multipart it belongs to.
    depth: usize,
}

/// A delimiter line that ends parts.
#[derive(Debug, Clone, Copy)]
struct Hit {
    /// Depth of the multipart whose boundary it is.
    depth: usize,
    /// `--boundary--`.
    close: bool,
    /// Where the delimiter line starts.
    line: usize,
    /// Where the parts it ends end: before the line break that precedes the
    /// delimiter.
    end: usize,
}

enum Stop {
    Eof,
    Delimiter(Hit),
}

struct Parser<'a> {
    raw: &'a [u8],
    /// Boundaries of the enclosing multiparts, outermost first.
    boundaries: Vec<Boundary>,
    parts: usize,
}

impl Parser<'_> {
    /// Parses the part that starts at `start` until a delimiter of an
    /// enclosing multipart or the end of the message.
    fn part(&mut self, start: usize, depth: usize, in_digest: bool, mime_part: bool) -> (Part, Stop) {
        self.parts += 1;
        let (header_end, cut) = self.header(start);
        let mime = MimeFields::parse(&self.raw[start..header_end], mime_part);
        let limited = depth >= MAX_DEPTH || self.parts >= MAX_PARTS;
        let body_start = header_end;
        let is_multipart = mime.content_type.is("multipart", None);
        // RFC 2046 §5.1.5: in a digest, a part without Content-Type is a
        // message; an invalid Content-Type is still text/plain (§5.2).
        let is_message = mime.content_type.is("message", Some("rfc822"))
            || (in_digest && mime_part && mime.content_type == ContentType::Absent);

        if let Some(hit) = cut {
            // The header was cut short by a delimiter: the part is empty.
            let kind = if is_multipart {
                Kind::Multipart(vec![Part::empty(body_start)])
            } else if is_message {
                Kind::Message(Box::new(Part::empty(body_start)))
            } else {
                Kind::Leaf
            };
            let part = self.make(start..header_end, body_start..body_start, mime, kind);
            return (part, Stop::Delimiter(hit));
        }

        if is_message && !limited {
            let (child, stop) = self.part(body_start, depth + 1, false, false);
            let end = self.end_of(&stop);
            let part = self.make(start..header_end, body_start..end, mime, Kind::Message(Box::new(child)));
            return (part, stop);
        }

        let boundary = mime
            .content_type
            .param("boundary")
            .filter(|b| !b.is_empty())
            .map(|b| b[..b.len().min(MAX_BOUNDARY)].to_vec());
        if let (true, Some(boundary), false) = (is_multipart, boundary, limited) {
            let digest = mime.content_type.is("multipart", Some("digest"));
            self.boundaries.push(Boundary { text: boundary, depth });
            let (children, end, stop) = self.children(body_start, depth, digest);
            let part = self.make(start..header_end, body_start..end, mime, Kind::Multipart(children));
            return (part, stop);
        }

        // A leaf, or a multipart/message that is not split: its body runs to
        // the next delimiter.
        let (end, stop) = self.scan(body_start);
        let kind = if is_multipart {
            Kind::Multipart(vec![Part::empty(body_start)])
        } else if is_message {
            Kind::Message(Box::new(Part::empty(body_start)))
        } else {
            Kind::Leaf
        };
        let part = self.make(start..header_end, body_start..end, mime, kind);
        (part, stop)
    }

    /// The body parts of the multipart at `depth`, whose boundary is on top
    /// of the stack: preamble, parts, epilogue. Returns where its body ends.
    fn children(&mut self, body_start: usize, depth: usize, digest: bool) -> (Vec<Part>, usize, Stop) {
        let mut children = Vec::new();
        // Where a body ends follows from what ends it, so only that is kept.
        let (_, mut stop) = self.scan(body_start);
        let end = loop {
            match stop {
                Stop::Eof => break self.raw.len(),
                Stop::Delimiter(hit) if hit.depth != depth => break hit.end,
                Stop::Delimiter(hit) => {
                    // The rest of the delimiter line is transport padding
                    // (RFC 2046 §5.1.1) and goes with it.
                    let next = line_end(self.raw, hit.line);
                    let terminated = self.raw.get(next.wrapping_sub(1)) == Some(&b'\n');
                    if !terminated {
                        stop = Stop::Eof;
                    } else if hit.close {
                        // The epilogue, up to an outer delimiter.
                        stop = self.scan(next).1;
                    } else {
                        if self.parts >= MAX_PARTS {
                            // No more parts: from here on no delimiter is
                            // recognised, and this last part runs to the end.
                            self.boundaries.clear();
                        }
                        let (child, s) = self.part(next, depth + 1, digest, true);
                        children.push(child);
                        stop = s;
                    }
                }
            }
        };
        // At the end of the message the boundary is still on the stack.
        self.boundaries.retain(|b| b.depth < depth);
        if children.is_empty() {
            children.push(Part::empty(body_start));
        }
        (children, end, stop)
    }

    /// Builds a part and counts its body's line breaks: those of its
    /// children are known, so only the octets between them are counted.
    fn make(&self, header: Range<usize>, body: Range<usize>, mime: MimeFields, kind: Kind) -> Part {
        let count = |range: Range<usize>| {
            self.raw
                .get(range)
                .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        };
        let children: &[Part] = match &kind {
            Kind::Leaf => &[],
            Kind::Multipart(children) => children,
            Kind::Message(child) => std::slice::from_ref(child.as_ref()),
        };
        let mut lines = 0;
        let mut pos = body.start;
        for child in children {
            lines += count(pos..child.header.start) + count(child.header.clone()) + child.lines;
            pos = child.body.end.max(pos);
        }
        lines += count(pos..body.end);
        Part {
            header,
            body,
            mime,
            kind,
            lines,
        }
    }

    fn end_of(&self, stop: &Stop) -> usize {
        match stop {
            Stop::Eof => self.raw.len(),
            Stop::Delimiter(hit) => hit.end,
        }
    }

    /// Reads a header from `start`: up to the blank line (included), the
    /// end of the message, or a delimiter line, which cuts it short.
    fn header(&mut self, start: usize) -> (usize, Option<Hit>) {
        let raw = self.raw;
        let mut pos = start;
        // The size of the line break that ends the previous field.
        let mut last_break = 0;
        loop {
            if pos >= raw.len() {
                return (raw.len(), None);
            }
            if is_blank_line(raw, pos) {
                return (line_end(raw, pos), None);
            }
            if let Some(hit) = self.delimiter(pos, pos) {
                // The line break before the delimiter belongs to it.
                return (pos - last_break, Some(hit));
            }
            let end = field_end(raw, pos);
            last_break = match raw.get(end.wrapping_sub(1)) {
                Some(b'\n') if end >= 2 && raw[end - 2] == b'\r' => 2,
                Some(b'\n') => 1,
                _ => 0,
            };
            pos = end;
        }
    }

    /// Reads a body from `from` to the next delimiter line of any enclosing
    /// multipart; returns where the body ends and what ended it.
    fn scan(&mut self, from: usize) -> (usize, Stop) {
        if self.boundaries.is_empty() {
            return (self.raw.len(), Stop::Eof);
        }
        // The body's first line may be a delimiter: then it is empty.
        if let Some(hit) = self.delimiter(from, from) {
            return (from, Stop::Delimiter(hit));
        }
        let raw = self.raw;
        let mut pos = from;
        while let Some(i) = raw.get(pos..).and_then(|rest| rest.iter().position(|&b| b == b'\n')) {
            let lf = pos + i;
            let line = lf + 1;
            let end = if lf > from && raw[lf - 1] == b'\r' { lf - 1 } else { lf };
            if let Some(hit) = self.delimiter(line, end) {
                return (end, Stop::Delimiter(hit));
            }
            pos = line;
        }
        (raw.len(), Stop::Eof)
    }

    /// Whether a delimiter line starts at `line`; if so, retires the
    /// boundaries it ends (RFC 2046 §5.1.2: inner ones with it, and its own
    /// when it is a close delimiter). `end` is where the parts it ends end.
    fn delimiter(&mut self, line: usize, end: usize) -> Option<Hit> {
        if self.boundaries.is_empty() {
            return None;
        }
        let rest = self.raw.get(line..)?.strip_prefix(b"--")?;
        let line_len = rest.iter().position(|&b| b == b'\n');
        let mut candidate = &rest[..line_len.unwrap_or(rest.len())];
        if line_len.is_some() {
            candidate = candidate.strip_suffix(b"\r").unwrap_or(candidate);
            if candidate.len() > 2 {
                candidate = candidate.strip_suffix(b"--").unwrap_or(candidate);
            }
        }
        // The innermost of the longest matching boundaries.
        let mut best: Option<(usize, usize)> = None;
        for (index, boundary) in self.boundaries.iter().enumerate().rev() {
            let len = boundary.text.len();
            if candidate.starts_with(&boundary.text) && best.is_none_or(|(_, best_len)| best_len < len) {
                best = Some((index, len));
            }
        }
        let (index, len) = best?;
        let close = rest.get(len..len + 2) == Some(b"--");
        let depth = self.boundaries[index].depth;
        self.boundaries.truncate(if close { index } else { index + 1 });
        Some(Hit {
            depth,
            close,
            line,
            end,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(raw: &[u8], range: Range<usize>) -> &str {
        std::str::from_utf8(&raw[range]).unwrap()
    }

    fn children(part: &Part) -> &[Part] {
        match &part.kind {
            Kind::Multipart(children) => children,
            other => panic!("not a multipart: {other:?}"),
        }
    }

    #[test]
    fn delimiter_takes_the_preceding_line_break() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\npreamble\r\n--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n\r\n--b--\r\nepilogue\r\n";
        let root = parse(raw);
        let parts = children(&root);
        assert_eq!(parts.len(), 2);
        assert_eq!(slice(raw, parts[0].header.clone()), "\r\n");
        assert_eq!(slice(raw, parts[0].body.clone()), "one");
        assert_eq!(parts[0].lines, 0);
        assert_eq!(slice(raw, parts[1].body.clone()), "two\r\n");
        assert_eq!(parts[1].lines, 1);
        assert_eq!(
            root.lines,
            raw[root.body.clone()].iter().filter(|&&b| b == b'\n').count()
        );
        assert_eq!(root.body.end, raw.len());
    }

    #[test]
    fn boundary_prefix_lines_split_and_cut_headers() {
        // A line that merely starts with the delimiter splits (Dovecot); the
        // rest of that line is ignored and the next part's header runs into
        // the next delimiter.
        let raw = b"Content-Type: multipart/mixed; boundary=\"edge\"\r\n\r\n--edge\r\n\r\none\r\n--edge-longer x\r\nNo colon\r\n\r\n--edge\r\nA: b\r\n--edge--";
        let root = parse(raw);
        let parts = children(&root);
        assert_eq!(parts.len(), 3);
        assert_eq!(slice(raw, parts[0].body.clone()), "one");
        assert_eq!(slice(raw, parts[1].header.clone()), "No colon\r\n\r\n");
        assert_eq!(parts[1].body.len(), 0);
        // A header cut by a delimiter loses its last line break.
        assert_eq!(slice(raw, parts[2].header.clone()), "A: b");
        assert_eq!(parts[2].body.len(), 0);
    }

    #[test]
    fn outer_delimiter_ends_inner_multipart() {
        let raw = b"Content-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n--in\r\n\r\ninner\r\n--out\r\n\r\nsecond\r\n--out--\r\n";
        let root = parse(raw);
        let parts = children(&root);
        assert_eq!(parts.len(), 2);
        let inner = children(&parts[0]);
        assert_eq!(inner.len(), 1);
        assert_eq!(slice(raw, inner[0].body.clone()), "inner");
        assert_eq!(parts[0].body.end, inner[0].body.end);
        assert_eq!(slice(raw, parts[1].body.clone()), "second");
    }

    #[test]
    fn multipart_without_boundary_gets_one_empty_part() {
        let raw = b"Content-Type: multipart/mixed\r\n\r\n--x\r\ntext\r\n--x--\r\n";
        let root = parse(raw);
        let parts = children(&root);
        assert_eq!(parts.len(), 1);
        assert!(parts[0].header.is_empty() && parts[0].body.is_empty());
        assert_eq!(root.body.end, raw.len());
    }

    #[test]
    fn digest_parts_default_to_messages() {
        let raw = b"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: inner\r\n\r\nhello\r\n--d\r\nContent-Type: text/plain\r\n\r\nplain\r\n--d--\r\n";
        let root = parse(raw);
        let parts = children(&root);
        let Kind::Message(inner) = &parts[0].kind else {
            panic!("digest part is no message");
        };
        assert_eq!(slice(raw, inner.header.clone()), "Subject: inner\r\n\r\n");
        assert_eq!(slice(raw, inner.body.clone()), "hello");
        assert!(matches!(parts[1].kind, Kind::Leaf));
    }

    #[test]
    fn header_only_message() {
        let raw = b"Subject: only\r\n";
        let root = parse(raw);
        assert_eq!(root.header, 0..raw.len());
        assert!(root.body.is_empty());
    }

    #[test]
    fn line_counts_match_a_direct_count() {
        fn check(raw: &[u8], part: &Part) {
            let direct = raw[part.body.clone()].iter().filter(|&&b| b == b'\n').count();
            assert_eq!(part.lines, direct, "{part:?}");
            match &part.kind {
                Kind::Leaf => {}
                Kind::Multipart(children) => children.iter().for_each(|c| check(raw, c)),
                Kind::Message(child) => check(raw, child),
            }
        }
        let samples: [&[u8]; 3] = [
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n\
              Content-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\n\r\nx\r\ny\r\n--c--\r\nepi\r\n\
              --b\r\nContent-Type: message/rfc822\r\n\r\nA: b\r\n--b--\r\nend\r\n",
            b"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\nX: y\r\n\r\n1\n2\n3",
            b"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nS: 1\r\n\r\na\r\n\r\n--d\r\n",
        ];
        for raw in samples {
            check(raw, &parse(raw));
        }
    }

    #[test]
    fn part_count_is_bounded() {
        let mut raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n".to_vec();
        for _ in 0..3 * MAX_PARTS {
            raw.extend_from_slice(b"--b\r\n");
        }
        let root = parse(&raw);
        let parts = children(&root);
        assert!(parts.len() <= MAX_PARTS);
        // The last part holds the rest of the message.
        assert_eq!(parts.last().map(|p| p.body.end), Some(raw.len()));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut raw = Vec::new();
        for _ in 0..5000 {
            raw.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
        }
        raw.extend_from_slice(b"end");
        let mut depth = 0;
        let root = parse(&raw);
        let mut part = &root;
        while let Kind::Message(child) = &part.kind {
            depth += 1;
            part = child;
        }
        assert!(depth <= MAX_DEPTH + 1);
    }
}
