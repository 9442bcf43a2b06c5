//! imf (Internet Message Format): the facts about a message that IMAP
//! needs, computed from its bytes:
//! ENVELOPE, BODY and BODYSTRUCTURE (RFC 9051 §7.5.2), the content of
//! BODY[section] and BINARY[part] (RFC 9051 §6.4.5, RFC 3516), and the
//! text and date matching of SEARCH (RFC 9051 §6.4.4), and the sort and
//! thread keys of SORT and THREAD (RFC 5256).
//!
//! The MIME tree is this crate's own (`tree`), because what IMAP clients
//! expect is byte ranges, sizes and line counts exactly as Dovecot reports
//! them, including on broken input; mail-parser supplies the charset
//! tables. The golden fixtures in `tests/fixtures/imap-golden` (Dovecot
//! 2.3 answers) are the reference; `tests/golden.rs` replays them and lists
//! where this crate deliberately answers differently and why.
//!
//! Nothing here keeps state: every function parses the raw message again.
//! `facts` is meant to be computed once at delivery and stored; `section`,
//! `binary` and the SEARCH helpers cost one pass over the message each.

#![forbid(unsafe_code)]

mod address;
mod binary;
mod content_fields;
mod date;
mod decode;
mod envelope;
pub mod filter;
#[doc(hidden)]
pub mod fuzz;
mod header;
mod imap;
mod lexer;
mod message_header;
mod message_ids;
mod preview;
mod search;
mod section;
mod sort_keys;
mod structure;
mod subject;
mod tree;

pub use sort_keys::{KeyFields, SortKeys, StoredThreadKeys, fold, sort_keys};
pub use subject::{BaseSubject, base_subject};

use message_header::MessageHeader;

/// Computed once at delivery and stored; all strings are in IMAP syntax,
/// ready to be written after "ENVELOPE ", "BODYSTRUCTURE ", "BODY ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// RFC 9051 §7.5.2 ENVELOPE, e.g. `("date" "subject" ((..)) ...)`.
    pub envelope: String,
    /// BODYSTRUCTURE with all extension data.
    pub body_structure: String,
    /// BODY: the structure without extension data.
    pub body: String,
    /// Where the header section ends: its length, with the blank line that
    /// ends it (the whole message when it has no body).
    pub header_len: usize,
    /// From, To, Cc, Bcc and Subject as SEARCH matches them, for
    /// [`stored_field_contains`]; None if they cannot be stored.
    pub search_fields: Option<String>,
    /// PREVIEW (RFC 8970): at most 256 characters of the message's text,
    /// empty when it has none.
    pub preview: String,
    /// The Message-ID, without angle brackets, for THREADID.
    pub message_id: Option<String>,
    /// The Message-IDs of the messages this one answers (In-Reply-To, then
    /// References from the nearest back), a bounded number.
    pub parents: Vec<String>,
    /// The SORT and THREAD keys, as [`sort_keys`] of the header gives them.
    pub sort_keys: SortKeys,
}

/// Computes the stored facts of a message: one parse of its MIME tree,
/// one read of its top-level header fields (`message_header`) that every
/// fact made of them shares.
pub fn facts(raw: &[u8]) -> Facts {
    let root = tree::parse(raw);
    let header = MessageHeader::parse(raw.get(root.header.clone()).unwrap_or_default());
    let mut envelope = Vec::new();
    envelope::write(&mut envelope, &header);
    let mut body_structure = Vec::new();
    structure::write(&mut body_structure, raw, &root, true);
    let mut body = Vec::new();
    structure::write(&mut body, raw, &root, false);
    let (message_id, parents) = message_ids::message_ids(&header);
    Facts {
        preview: preview::of_tree(raw, &root),
        message_id,
        parents,
        envelope: utf8(envelope),
        body_structure: utf8(body_structure),
        body: utf8(body),
        header_len: root.header.end,
        search_fields: search::stored_fields(&header),
        sort_keys: sort_keys::of(&header),
    }
}

/// PREVIEW (RFC 8970) of a message, as [`Facts::preview`]: for messages
/// stored before previews were kept.
pub fn preview(raw: &[u8]) -> String {
    preview::preview(raw)
}

/// Every string written is valid UTF-8 (`imap` makes it so); this only
/// spares an `expect`.
fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// BODY[section] content (RFC 9051 §6.4.5): `part` are the MIME part
/// numbers (empty = whole message), `text` the section text. None when the
/// part does not exist, or when HEADER/TEXT name a part that is not
/// message/rfc822 (IMAP then returns an empty string or NIL, server
/// decides).
pub fn section(raw: &[u8], part: &[u32], text: Option<&wire::imap::SectionText>) -> Option<Vec<u8>> {
    section::section(raw, part, text)
}

/// BINARY[part] (RFC 3516): the part's content with its
/// Content-Transfer-Encoding removed. Err(UnknownEncoding) for an encoding
/// it cannot decode (the server answers NO [UNKNOWN-CTE]); Ok(None) if no
/// such part. An empty `part` is the whole message, as stored.
pub fn binary(raw: &[u8], part: &[u32]) -> Result<Option<Vec<u8>>, UnknownEncoding> {
    section::binary(raw, part)
}

/// The message to store for an APPEND with a literal8 (RFC 3516 §4.4):
/// leaf parts with Content-Transfer-Encoding: binary re-encoded as base64
/// (see `binary.rs` for why); None when it has none.
pub fn encode_binary_parts(raw: &[u8]) -> Option<Vec<u8>> {
    binary::encode_binary_parts(raw)
}

/// Whether [`binary`] can answer for `part` without UnknownEncoding,
/// found without decoding anything.
pub fn binary_decodable(raw: &[u8], part: &[u32]) -> bool {
    section::binary_decodable(raw, part)
}

/// A Content-Transfer-Encoding other than 7bit, 8bit, binary, base64 and
/// quoted-printable (RFC 3516 §4.3: UNKNOWN-CTE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEncoding;

/// The fields of a message's header, in order up to the blank line: each
/// one's name (blanks before the colon dropped) and the byte range of the
/// whole field in `message`, folded lines and line break included. For
/// callers that edit a header in place (removing, replacing fields).
pub fn field_spans(message: &[u8]) -> impl Iterator<Item = (&[u8], std::ops::Range<usize>)> + '_ {
    let mut at = 0;
    header::fields(message).map(move |field| {
        let span = at..at + field.raw.len();
        at = span.end;
        (field.name, span)
    })
}

/// SEARCH HEADER (and SUBJECT/FROM/TO/CC/BCC): whether a top-level field
/// called `field` contains `needle` (UTF-8), case-insensitively, in its
/// decoded value (RFC 2047 encoded words, RFC 6532 raw UTF-8). An empty
/// needle asks whether the field is present.
pub fn header_contains(raw: &[u8], field: &str, needle: &[u8]) -> bool {
    search::header_contains(raw, field, needle)
}

/// `header_contains` for FROM, TO, CC, BCC and SUBJECT, answered from
/// [`Facts::search_fields`] without the header; None when they cannot
/// answer (another field, a needle with a line feed), and the header must.
pub fn stored_field_contains(search_fields: &str, field: &str, needle: &[u8]) -> Option<bool> {
    search::stored_field_contains(search_fields, field, needle)
}

/// Whether stored [`Facts::search_fields`] can answer SEARCH: always those
/// this version computes; those stored by older versions only where they
/// cannot miss an address written with comments, quotes or groups (else
/// SEARCH reads that message's header).
pub fn stored_fields_usable(search_fields: &str) -> bool {
    search::is_usable(search_fields)
}

/// Whether `field` is one of those [`Facts::search_fields`] keeps.
pub fn is_stored_field(field: &str) -> bool {
    search::STORED_FIELDS
        .iter()
        .any(|name| name.eq_ignore_ascii_case(field))
}

/// SEARCH BODY: whether the decoded text of the body parts (not headers)
/// contains `needle`, case-insensitively.
pub fn body_contains(raw: &[u8], needle: &[u8]) -> bool {
    search::body_contains(raw, needle)
}

/// SEARCH TEXT: like `body_contains`, but every header counts too.
pub fn text_contains(raw: &[u8], needle: &[u8]) -> bool {
    search::text_contains(raw, needle)
}

/// The Date header's calendar date, in its own time zone (as Dovecot does
/// for SENTON/SENTBEFORE/SENTSINCE): the first Date field that parses.
/// None when there is none; what that means for SEARCH is the server's
/// choice (Dovecot treats such a message as sent very long ago).
pub fn sent_date(raw: &[u8]) -> Option<wire::imap::Date> {
    header::fields(raw)
        .filter(|f| f.is("Date"))
        .find_map(|f| date::parse(&f.value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_of_a_simple_message() {
        let raw = b"Date: Mon, 3 Mar 2025 09:15:00 +0000\r\nFrom: A <a@x.test>\r\nSubject: Hi\r\n\r\nbody\r\n";
        let facts = facts(raw);
        assert_eq!(
            facts.envelope,
            "(\"Mon, 3 Mar 2025 09:15:00 +0000\" \"Hi\" ((\"A\" NIL \"a\" \"x.test\")) \
             ((\"A\" NIL \"a\" \"x.test\")) ((\"A\" NIL \"a\" \"x.test\")) NIL NIL NIL NIL NIL)"
        );
        assert_eq!(
            facts.body,
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1)"
        );
        assert_eq!(
            sent_date(raw),
            Some(wire::imap::Date {
                year: 2025,
                month: 3,
                day: 3
            })
        );
    }

    #[test]
    fn facts_carry_the_sort_keys_of_the_header() {
        let raw = b"From: A <a@x.test>\r\nTo: g: b@y.test;\r\nSubject: Re: Hi\r\n\
            Message-ID: <m@x.test>\r\nReferences: <p@x.test>\r\nContent-Type: text/plain\r\n\r\nSubject: no\r\n";
        let facts = facts(raw);
        assert_eq!(facts.sort_keys, sort_keys(&raw[..facts.header_len]));
        assert_eq!(facts.sort_keys.subject, "HI");
        assert_eq!(facts.sort_keys.to, "G");
        assert_eq!(facts.message_id.as_deref(), Some("m@x.test"));
    }

    #[test]
    fn garbage_never_panics() {
        let samples: [&[u8]; 8] = [
            b"",
            b"\r\n",
            b"\n\n\n",
            b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
            b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n--a\r\n--a--",
            b"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n",
            b"From: <<<@@@>>>\r\nTo: ;;;:::\r\nDate: 99 Foo 1\r\n\r\n",
            b"\xff\xfe\0\0: \0\r\n\r\n\0",
        ];
        for raw in samples {
            let _ = facts(raw);
            let _ = section(raw, &[1, 2, 3], None);
            let _ = binary(raw, &[1]);
            let _ = text_contains(raw, b"x");
            let _ = sent_date(raw);
            let _ = sort_keys(raw);
        }
    }
}
