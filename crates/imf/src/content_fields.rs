//! The MIME fields of one part: Content-Type with its parameters (RFC 2045
//! §5, RFC 2231 continuations and charsets), Content-Transfer-Encoding
//! (RFC 2045 §6), Content-ID and -Description (RFC 2045 §7, §8),
//! Content-Disposition (RFC 2183), Content-Language (RFC 3282),
//! Content-Location (RFC 2557) and Content-MD5 (RFC 1864).

use crate::header;
use crate::lexer::Lexer;

/// Parameters in the order IMAP reports them: plain ones as written, then
/// the RFC 2231 ones, merged.
pub(crate) type Params = Vec<(Vec<u8>, Vec<u8>)>;

/// RFC 2045 §5 Content-Type, as found in the first such field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum ContentType {
    /// No Content-Type (or no MIME at all): the context decides, text/plain
    /// or, in a multipart/digest, message/rfc822 (RFC 2046 §5.1.5).
    #[default]
    Absent,
    /// Present but without `type/subtype`; RFC 2045 §5.2 recommends taking
    /// it as the default text/plain; charset=us-ascii.
    Invalid,
    Valid {
        main: Vec<u8>,
        sub: Vec<u8>,
        params: Params,
    },
}

impl ContentType {
    /// Whether this is `main/sub` (case-insensitive; `sub` None: any).
    pub fn is(&self, main: &str, sub: Option<&str>) -> bool {
        match self {
            ContentType::Valid { main: m, sub: s, .. } => {
                m.eq_ignore_ascii_case(main.as_bytes()) && sub.is_none_or(|sub| s.eq_ignore_ascii_case(sub.as_bytes()))
            }
            _ => false,
        }
    }

    pub fn param(&self, name: &str) -> Option<&[u8]> {
        match self {
            ContentType::Valid { params, .. } => param(params, name),
            _ => None,
        }
    }
}

/// The value of parameter `name` (names are case-insensitive).
pub(crate) fn param<'p>(params: &'p Params, name: &str) -> Option<&'p [u8]> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| v.as_slice())
}

/// The MIME fields of one part. Only the first of each counts.
#[derive(Debug, Clone, Default)]
pub(crate) struct MimeFields {
    pub content_type: ContentType,
    /// The Content-Transfer-Encoding token, when the field holds exactly one.
    pub encoding: Option<Vec<u8>>,
    pub id: Option<Vec<u8>>,
    pub description: Option<Vec<u8>>,
    pub md5: Option<Vec<u8>>,
    pub disposition: Option<(Vec<u8>, Params)>,
    pub language: Option<Vec<Vec<u8>>>,
    pub location: Option<Vec<u8>>,
}

impl MimeFields {
    /// Reads the fields of a header. `mime_part` says the header is that of
    /// a body part of a multipart, which is MIME by definition; a message
    /// header is MIME when it has MIME-Version (RFC 2045 §4) or, leniently,
    /// a Content-Type. Content-* fields of a non-MIME header mean nothing.
    ///
    /// One pass over the header: whether it is MIME is known only at its
    /// end (MIME-Version may come last), so the fields are read anyway and
    /// dropped then if it is not.
    pub fn parse(header: &[u8], mime_part: bool) -> MimeFields {
        let mut out = MimeFields::default();
        let mut is_mime = mime_part;
        let mut seen_type = false;
        for field in header::fields(header) {
            if field.is("MIME-Version") {
                is_mime = true;
                continue;
            }
            let Some(name) = field
                .name
                .get(..8)
                .filter(|prefix| prefix.eq_ignore_ascii_case(b"Content-"))
                .map(|_| &field.name[8..])
            else {
                continue;
            };
            let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
            if is("Type") && !seen_type {
                seen_type = true;
                is_mime = true;
                out.content_type = content_type(&field.value());
            } else if is("Transfer-Encoding") && out.encoding.is_none() {
                out.encoding = encoding(&field.value());
            } else if is("ID") && out.id.is_none() {
                out.id = Some(field.value());
            } else if is("Description") && out.description.is_none() {
                out.description = Some(field.value());
            } else if is("MD5") && out.md5.is_none() {
                out.md5 = Some(field.value());
            } else if is("Disposition") && out.disposition.is_none() {
                out.disposition = disposition(&field.value());
            } else if is("Language") && out.language.is_none() {
                out.language = language(&field.value());
            } else if is("Location") && out.location.is_none() {
                // RFC 2557 §4.4.1: blanks that folding put into a URI are
                // not part of it.
                out.location = Some(field.value_unfolded_tight());
            }
        }
        if is_mime { out } else { MimeFields::default() }
    }
}

/// Content-Type: `type "/" subtype *(";" parameter)`, comments allowed
/// anywhere (RFC 2045 §5.1).
pub(crate) fn content_type(value: &[u8]) -> ContentType {
    let mut lx = Lexer::new(value);
    lx.skip_cfws();
    let main = lx.token().to_vec();
    lx.skip_cfws();
    if main.is_empty() || !lx.eat(b'/') {
        return ContentType::Invalid;
    }
    lx.skip_cfws();
    let sub = lx.token().to_vec();
    if sub.is_empty() {
        return ContentType::Invalid;
    }
    lx.skip_cfws();
    ContentType::Valid {
        main,
        sub,
        params: params(&mut lx),
    }
}

/// Content-Transfer-Encoding: one token and nothing else but comments.
fn encoding(value: &[u8]) -> Option<Vec<u8>> {
    let mut lx = Lexer::new(value);
    lx.skip_cfws();
    let token = lx.token().to_vec();
    lx.skip_cfws();
    (!token.is_empty() && lx.at_end()).then_some(token)
}

/// Content-Disposition (RFC 2183 §2): `type *(";" parameter)`.
fn disposition(value: &[u8]) -> Option<(Vec<u8>, Params)> {
    let mut lx = Lexer::new(value);
    lx.skip_cfws();
    let kind = lx.token().to_vec();
    if kind.is_empty() {
        return None;
    }
    lx.skip_cfws();
    Some((kind, params(&mut lx)))
}

/// Content-Language (RFC 3282 §2): a comma-separated list of tags.
fn language(value: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut lx = Lexer::new(value);
    let mut tags = Vec::new();
    lx.skip_cfws();
    while let Some(tag) = lx.atom() {
        tags.push(tag.to_vec());
        lx.skip_cfws();
        if !lx.eat(b',') {
            break;
        }
        lx.skip_cfws();
    }
    (!tags.is_empty()).then_some(tags)
}

/// One RFC 2231 §3/§4 segment: `name*N` or `name*N*`, or `name*` alone.
struct Segment {
    name: Vec<u8>,
    index: u32,
    extended: bool,
    value: Vec<u8>,
}

/// Parameters beyond this many in one field are ignored: real mail has a
/// handful (a long RFC 2231 filename a few dozen segments), and each one
/// read ends up in every BODYSTRUCTURE sent.
const MAX_PARAMS: usize = 256;

/// `*(";" attribute "=" value)` (RFC 2045 §5.1), with RFC 2231 segments
/// merged into one parameter each. A parameter that cannot be read (no
/// `=`, say) is skipped up to the next `;`.
pub(crate) fn params(lx: &mut Lexer<'_>) -> Params {
    let mut plain = Params::new();
    let mut segments: Vec<Segment> = Vec::new();
    loop {
        lx.skip_cfws();
        if lx.at_end() || plain.len() + segments.len() >= MAX_PARAMS {
            break;
        }
        if !lx.eat(b';') {
            lx.skip_to(b";");
            continue;
        }
        lx.skip_cfws();
        let name = lx.token().to_vec();
        lx.skip_cfws();
        if name.is_empty() || !lx.eat(b'=') {
            lx.skip_to(b";");
            continue;
        }
        lx.skip_cfws();
        let value = match lx.peek() {
            Some(b'"') => lx.quoted(),
            // A raw encoded word as value (`name==?utf-8?b?...?=`) is not a
            // token, but common enough to keep whole.
            Some(b'=') => lx
                .run(|b| !matches!(b, b';' | b' ' | b'\t' | b'\r' | b'\n'))
                .unwrap_or(&[])
                .to_vec(),
            _ => lx.token().to_vec(),
        };
        match segment(&name) {
            Some((base, index, extended)) => segments.push(Segment {
                name: base.to_vec(),
                index,
                extended,
                value,
            }),
            None => plain.push((name, value)),
        }
    }
    merge_segments(plain, segments)
}

/// Splits an RFC 2231 parameter name into its base, index and whether the
/// segment is extended (charset'lang'%XX); None for a plain name.
fn segment(name: &[u8]) -> Option<(&[u8], u32, bool)> {
    let star = name.iter().position(|&b| b == b'*')?;
    let (base, rest) = (&name[..star], &name[star + 1..]);
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let index = if digits == 0 {
        0
    } else {
        std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?
    };
    match &rest[digits..] {
        b"" if digits > 0 => Some((base, index, false)),
        b"*" => Some((base, index, true)),
        b"" => Some((base, 0, true)),
        _ => None,
    }
}

/// Joins the segments of each RFC 2231 parameter in numeric order (they may
/// arrive out of order, §3). The result keeps the wire form, as Dovecot
/// does for IMAP4rev1: an extended value stays `charset'lang'%XX` and is
/// reported as `name*`; a plain segment inside an extended value gets its
/// `%` escaped. With a gap in the numbering the segments are reported as
/// they came.
fn merge_segments(mut out: Params, mut segments: Vec<Segment>) -> Params {
    segments.sort_by_cached_key(|s| (s.name.to_ascii_lowercase(), s.index));
    let mut i = 0;
    while i < segments.len() {
        let group_len = segments[i..]
            .iter()
            .take_while(|s| s.name.eq_ignore_ascii_case(&segments[i].name))
            .count();
        let group = &segments[i..i + group_len];
        i += group_len;
        let complete = group.iter().enumerate().all(|(n, s)| s.index as usize == n);
        let extended = group.iter().any(|s| s.extended);
        if !complete {
            for s in group {
                let mut name = s.name.clone();
                name.extend_from_slice(format!("*{}", s.index).as_bytes());
                if s.extended {
                    name.push(b'*');
                }
                out.push((name, s.value.clone()));
            }
            continue;
        }
        let mut value = Vec::new();
        if extended && !group[0].extended {
            // RFC 2231 §4: the charset and language come first, even empty.
            value.extend_from_slice(b"''");
        }
        for s in group {
            if extended && !s.extended {
                for &b in &s.value {
                    if b == b'%' {
                        value.extend_from_slice(b"%25");
                    } else {
                        value.push(b);
                    }
                }
            } else {
                value.extend_from_slice(&s.value);
            }
        }
        let mut name = group[0].name.clone();
        if extended {
            name.push(b'*');
        }
        out.push((name, value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(value: &str) -> (String, String, Vec<(String, String)>) {
        match content_type(value.as_bytes()) {
            ContentType::Valid { main, sub, params } => (
                String::from_utf8(main).unwrap(),
                String::from_utf8(sub).unwrap(),
                params
                    .into_iter()
                    .map(|(n, v)| (String::from_utf8(n).unwrap(), String::from_utf8(v).unwrap()))
                    .collect(),
            ),
            other => panic!("{value}: {other:?}"),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn comments_quotes_and_broken_parameters() {
        let (main, sub, params) = valid(
            "text/plain (plain text) ; charset=\"us-ascii\" (the charset);\
             name=\"semi;colon \\\"quoted\\\" (paren) name.txt\"; x-empty=\"\"; X-Token=abc; x-novalue",
        );
        assert_eq!((main.as_str(), sub.as_str()), ("text", "plain"));
        assert_eq!(
            params,
            pairs(&[
                ("charset", "us-ascii"),
                ("name", "semi;colon \"quoted\" (paren) name.txt"),
                ("x-empty", ""),
                ("X-Token", "abc"),
            ])
        );
    }

    #[test]
    fn missing_subtype_is_invalid() {
        assert_eq!(content_type(b"text; charset=us-ascii"), ContentType::Invalid);
        assert_eq!(content_type(b""), ContentType::Invalid);
        assert_eq!(content_type(b"text/"), ContentType::Invalid);
    }

    #[test]
    fn rfc2231_segments_merge_in_numeric_order() {
        let (_, _, params) = valid(
            "application/pdf; name*0=\"very-long-\"; name*1=\"name.pdf\"; \
             title*1*=%20second; title*0*=us-ascii'en'first; charset=x",
        );
        assert_eq!(
            params,
            pairs(&[
                ("charset", "x"),
                ("name", "very-long-name.pdf"),
                ("title*", "us-ascii'en'first%20second"),
            ])
        );
        let (_, _, params) = valid("a/b; f*0*=UTF-8''%E6%97%A5; f*1*=%E3%81%AE; f*2=\"re%port.pdf\"");
        assert_eq!(params, pairs(&[("f*", "UTF-8''%E6%97%A5%E3%81%AEre%25port.pdf")]));
        let (_, _, params) = valid("a/b; filename*=iso-8859-1'de'Gr%FC%DFe.txt");
        assert_eq!(params, pairs(&[("filename*", "iso-8859-1'de'Gr%FC%DFe.txt")]));
        let (_, _, params) = valid("a/b; n*0=a; n*2=c");
        assert_eq!(params, pairs(&[("n*0", "a"), ("n*2", "c")]));
    }

    #[test]
    fn parameter_count_is_bounded() {
        let value = format!("a/b{}", "; x=1".repeat(1000));
        let ContentType::Valid { params, .. } = content_type(value.as_bytes()) else {
            panic!("invalid");
        };
        assert_eq!(params.len(), MAX_PARAMS);
    }

    #[test]
    fn other_fields() {
        assert_eq!(encoding(b" BASE64 (why not)"), Some(b"BASE64".to_vec()));
        assert_eq!(encoding(b"base64 junk"), None);
        assert_eq!(language(b"de, fr"), Some(vec![b"de".to_vec(), b"fr".to_vec()]));
        let (kind, params) = disposition(b"INLINE; filename=notes.txt").unwrap();
        assert_eq!(kind, b"INLINE");
        assert_eq!(params, vec![(b"filename".to_vec(), b"notes.txt".to_vec())]);
    }

    #[test]
    fn fields_count_only_in_mime_headers() {
        let header = b"Content-Transfer-Encoding: base64\r\n\r\n";
        assert_eq!(MimeFields::parse(header, false).encoding, None);
        assert_eq!(MimeFields::parse(header, true).encoding, Some(b"base64".to_vec()));
        let header = b"Content-Type: text/plain\r\nContent-Type: text/html\r\n\r\n";
        let mime = MimeFields::parse(header, false);
        assert!(mime.content_type.is("text", Some("plain")));
    }
}
