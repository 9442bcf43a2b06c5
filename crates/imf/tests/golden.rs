//! Replays the IMAP golden fixtures (`tests/fixtures/imap-golden`, Dovecot
//! 2.3.19 answers; see its README.md) against this crate: every recorded
//! FETCH is answered the way the IMAP server will answer it, from `facts`,
//! `section` and `binary`, and compared with Dovecot's answer; every
//! recorded SEARCH is evaluated with the SEARCH helpers over all messages.
//!
//! Answers are compared as token trees (atoms, strings, lists), so a quoted
//! string equals a literal with the same octets (README "Allowed
//! differences"). Everything else must match exactly, except the answers
//! in `DEVIATIONS`, where this crate knowingly differs from Dovecot; those
//! are compared with the answer given there instead. `KNOWN_MISMATCHES`
//! would list anything that differs without being meant to; it is empty.
//!
//! The fixtures are looked up in `$IMAP_GOLDEN_DIR`, else in the
//! workspace's `tests/fixtures/imap-golden`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use wire::imap::{CommandBody, FetchItem, Limits, SearchKey, SectionText, parse_command};

/// The INTERNALDATE every fixture was APPENDed with.
const INTERNALDATE: &str = "01-Jan-2026 12:00:00 +0000";

/// Where this crate deliberately answers differently from Dovecot; the
/// README's "Dovecot quirks" section names these as places where Dovecot's
/// answer is not the only right one. (message, FETCH item, our answer).
///
/// The other quirks are followed, because Dovecot's answer is as good as
/// any and clients are used to it: subject and display-name normalisation
/// (25, 09, 10), unfolded-only Message-ID and Date (25), comments as names
/// and NIL for `""` names (29), the group encoding (28), the invented empty
/// text/plain part of a multipart without boundary (40), delimiter lines
/// matched by prefix (21: RFC 2046 forbids such lines in a part, so any
/// answer is allowed), dropped comments and value-less parameters (45),
/// line counts that leave the delimiter's line break out (21, 46), HEADER
/// of a header-only message and the blank line HEADER.FIELDS adds (38),
/// BINARY.SIZE as decoded size and UNKNOWN-CTE (04, 05, 43), top-level-only
/// SEARCH HEADER (41), what SEARCH BODY and TEXT look at, per-word RFC 2047
/// decoding in SEARCH (09, 10), and RFC 2231 values kept percent-encoded
/// for IMAP4rev1 (11).
const DEVIATIONS: &[(u32, &str, &str)] = &[
    // Repeated fields (27): Dovecot's ENVELOPE takes the last Subject, Date
    // and Message-ID but its SENTON and BODYSTRUCTURE the first. RFC 5322
    // §3.6 allows one of each; we take the first everywhere, so ENVELOPE,
    // SENTON and BODYSTRUCTURE agree (and most other servers do the same).
    (
        27,
        "ENVELOPE",
        "* 27 FETCH (RFC822.SIZE 450 ENVELOPE (\"Wed, 26 Mar 2025 08:00:00 +0000\" \"First subject\" \
         ((\"Dup\" NIL \"dup\" \"example.test\")) ((\"Dup\" NIL \"dup\" \"example.test\")) \
         ((\"Dup\" NIL \"dup\" \"example.test\")) ((NIL NIL \"bob\" \"example.test\")) NIL NIL NIL \
         \"<27.first@example.test>\"))\r\n",
    ),
    // Obsolete syntax (30): `john . doe @ example . test` is a valid
    // obs-local-part and obs-domain (RFC 5322 §4.4), i.e. john.doe@example.test,
    // not a name with MISSING_MAILBOX; and the null members of `a, , , b`
    // "are to be ignored" (§4.4), not reported as broken addresses.
    (
        30,
        "ENVELOPE",
        "* 30 FETCH (RFC822.SIZE 429 ENVELOPE (\"21 Nov 97 09:55:06 GMT\" \
         \"obsolete syntax (space before the colon)\" \
         ((\"Joe Q. Public\" \"@relay1.example.test,@relay2.example.test\" \"jqp\" \"example.test\")) \
         ((\"Joe Q. Public\" \"@relay1.example.test,@relay2.example.test\" \"jqp\" \"example.test\")) \
         ((\"Joe Q. Public\" \"@relay1.example.test,@relay2.example.test\" \"jqp\" \"example.test\")) \
         ((\"Route Person\" \"@hop.example.test\" \"rp\" \"example.test\")(NIL NIL \"john.doe\" \"example.test\")) \
         ((\"Mary Smith\" NIL \"mary\" \"example.test\")(NIL NIL \"bob\" \"example.test\")) \
         NIL NIL \"<30.obs@example.test>\"))\r\n",
    ),
    // Folded Content-Location (33): RFC 2557 §4.4.1 says the blanks that
    // folding puts into a URI are not part of it; Dovecot keeps one.
    (
        33,
        "BODYSTRUCTURE",
        "* 33 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 1 \
         \"cxszfkSlya3GVyjxKN+qFA==\" NIL (\"en-GB\") \"https://example.test/notes/en.txt\")\
         (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 22 1 NIL NIL (\"de\" \"fr\") \
         \"https://example.test/a/very/long/path/that-is-folded/notes-de.txt\") \"mixed\" \
         (\"boundary\" \"lang-33\") NIL (\"en\") \"https://example.test/messages/33\"))\r\n",
    ),
    // Content-Type without subtype (42): Dovecot answers `"" ""` with no
    // line count, which clients can do little with. RFC 2045 §5.2 recommends
    // taking a syntactically invalid Content-Type as the default,
    // text/plain; charset=us-ascii.
    (
        42,
        "BODYSTRUCTURE",
        "* 42 FETCH (BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 38 1 \
         NIL NIL NIL NIL))\r\n",
    ),
    (
        42,
        "BODY",
        "* 42 FETCH (BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 38 1))\r\n",
    ),
];

/// Answers that differ from the reference without being meant to, with
/// the reason they are tolerated: (message, command, reason). The test
/// fails on any mismatch not listed here, and on any entry that matches.
const KNOWN_MISMATCHES: &[(u32, &str, &str)] = &[];

fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IMAP_GOLDEN_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/imap-golden")
}

/// The fixture messages, by sequence number, with their `.expected` files.
fn fixtures() -> Vec<(u32, Vec<u8>, PathBuf)> {
    let dir = fixtures_dir();
    let mut out = Vec::new();
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("golden fixtures at {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "eml") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let n: u32 = name[..2].parse().unwrap();
            let raw = fs::read(&path).unwrap();
            out.push((n, raw, path.with_extension("expected")));
        }
    }
    out.sort_by_key(|(n, _, _)| *n);
    assert_eq!(out.len(), 46, "expected 46 fixture messages in {}", dir.display());
    for (i, (n, _, _)) in out.iter().enumerate() {
        assert_eq!(*n as usize, i + 1);
    }
    out
}

/// One command with Dovecot's answer.
struct Record {
    command: Vec<u8>,
    /// The untagged responses, verbatim (Z records: literal content cut).
    untagged: Vec<u8>,
    /// For Z records: the cut literal's length and SHA-256 (hex).
    cut: Option<(usize, String)>,
    /// The tagged status without tag: `OK ...`, `NO [UNKNOWN-CTE] ...`.
    status: String,
}

/// Reads the record format of the README.
fn records(path: &Path) -> Vec<Record> {
    let data = fs::read(path).unwrap();
    let mut out: Vec<Record> = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let lf = data[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |i| pos + i);
        let line = String::from_utf8_lossy(&data[pos..lf]).into_owned();
        pos = lf + 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split(' ').collect();
        match words[0] {
            "C" => {
                let n: usize = words[1].parse().unwrap();
                out.push(Record {
                    command: data[pos..pos + n].to_vec(),
                    untagged: Vec::new(),
                    cut: None,
                    status: String::new(),
                });
                pos += n + 1;
            }
            "S" | "Z" => {
                let n: usize = words[1].parse().unwrap();
                let record = out.last_mut().unwrap();
                record.untagged = data[pos..pos + n].to_vec();
                if words[0] == "Z" {
                    record.cut = Some((words[2].parse().unwrap(), words[3].to_string()));
                }
                pos += n;
            }
            "T" => out.last_mut().unwrap().status = line[2..].to_string(),
            other => panic!("{}: unknown record {other}", path.display()),
        }
    }
    out
}

fn parse(command: &[u8]) -> CommandBody {
    let mut line = b"A1 ".to_vec();
    line.extend_from_slice(command);
    line.extend_from_slice(b"\r\n");
    match parse_command(&line, Limits::default()) {
        Ok((command, _)) => command.body,
        Err(e) => panic!("{}: {e:?}", String::from_utf8_lossy(command)),
    }
}

/// How the server answers one FETCH: the untagged response, and the
/// tagged status (`OK`, or `NO [UNKNOWN-CTE]`).
fn answer(n: u32, raw: &[u8], items: &[FetchItem]) -> (Vec<u8>, String) {
    let facts = imf::facts(raw);
    let mut out = format!("* {n} FETCH (").into_bytes();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        match item {
            FetchItem::InternalDate => out.extend_from_slice(format!("INTERNALDATE \"{INTERNALDATE}\"").as_bytes()),
            FetchItem::Rfc822Size => out.extend_from_slice(format!("RFC822.SIZE {}", raw.len()).as_bytes()),
            FetchItem::Envelope => out.extend_from_slice(format!("ENVELOPE {}", facts.envelope).as_bytes()),
            FetchItem::BodyStructure => {
                out.extend_from_slice(format!("BODYSTRUCTURE {}", facts.body_structure).as_bytes())
            }
            FetchItem::Body => out.extend_from_slice(format!("BODY {}", facts.body).as_bytes()),
            FetchItem::BodySection {
                section, partial: None, ..
            } => {
                let content = imf::section(raw, &section.part, section.text.as_ref());
                out.extend_from_slice(
                    format!("BODY[{}] ", section_spec(&section.part, section.text.as_ref())).as_bytes(),
                );
                match content {
                    Some(content) => {
                        out.extend_from_slice(format!("{{{}}}\r\n", content.len()).as_bytes());
                        out.extend_from_slice(&content);
                    }
                    None => out.extend_from_slice(b"NIL"),
                }
            }
            FetchItem::BinarySize { part } => match imf::binary(raw, part) {
                Ok(content) => {
                    let spec = part.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
                    let size = content.map_or(0, |c| c.len());
                    out.extend_from_slice(format!("BINARY.SIZE[{spec}] {size}").as_bytes());
                }
                // RFC 3516 §4.3; Dovecot sends an untagged UID response as
                // well, which is no part of this crate's answer.
                Err(imf::UnknownEncoding) => return (Vec::new(), "NO [UNKNOWN-CTE]".to_string()),
            },
            other => panic!("FETCH item not in the fixtures: {other:?}"),
        }
    }
    out.extend_from_slice(b")\r\n");
    (out, "OK".to_string())
}

fn section_spec(part: &[u32], text: Option<&SectionText>) -> String {
    let mut spec: Vec<String> = part.iter().map(u32::to_string).collect();
    match text {
        None => {}
        Some(SectionText::Header) => spec.push("HEADER".into()),
        Some(SectionText::Text) => spec.push("TEXT".into()),
        Some(SectionText::Mime) => spec.push("MIME".into()),
        Some(SectionText::HeaderFields(names)) => spec.push(format!("HEADER.FIELDS ({})", names.join(" "))),
        Some(SectionText::HeaderFieldsNot(names)) => spec.push(format!("HEADER.FIELDS.NOT ({})", names.join(" "))),
    }
    spec.join(".")
}

/// The status word and response code of a tagged status.
fn status_key(status: &str) -> String {
    let mut words = status.split(' ');
    let word = words.next().unwrap_or_default().to_string();
    match words.next() {
        Some(code) if code.starts_with('[') => format!("{word} {code}"),
        _ => word,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Atom(Vec<u8>),
    /// A quoted string or a literal: only the octets count.
    Str(Vec<u8>),
    List(Vec<Token>),
}

/// Splits untagged responses into token trees, one per response.
fn tokenize(input: &[u8]) -> Vec<Vec<Token>> {
    let mut responses = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let (tokens, next) = tokens(input, pos, false);
        responses.push(tokens);
        pos = next;
    }
    responses
}

/// Reads tokens from `pos` up to the closing `)` (`in_list`) or the CRLF
/// that ends the response; returns them and the position after the end.
fn tokens(input: &[u8], mut pos: usize, in_list: bool) -> (Vec<Token>, usize) {
    let mut out = Vec::new();
    loop {
        let Some(&b) = input.get(pos) else {
            assert!(!in_list, "unterminated list");
            return (out, pos);
        };
        match b {
            b' ' => pos += 1,
            b'\r' if !in_list && input.get(pos + 1) == Some(&b'\n') => return (out, pos + 2),
            b')' if in_list => return (out, pos + 1),
            b'(' => {
                let (list, next) = tokens(input, pos + 1, true);
                out.push(Token::List(list));
                pos = next;
            }
            b'"' => {
                let mut text = Vec::new();
                pos += 1;
                loop {
                    match input[pos] {
                        b'"' => break,
                        b'\\' => {
                            text.push(input[pos + 1]);
                            pos += 2;
                        }
                        c => {
                            text.push(c);
                            pos += 1;
                        }
                    }
                }
                out.push(Token::Str(text));
                pos += 1;
            }
            b'{' => {
                let close = pos + input[pos..].iter().position(|&c| c == b'}').unwrap();
                let len: usize = std::str::from_utf8(&input[pos + 1..close]).unwrap().parse().unwrap();
                assert_eq!(&input[close + 1..close + 3], b"\r\n");
                let start = close + 3;
                out.push(Token::Str(input[start..start + len].to_vec()));
                pos = start + len;
            }
            _ => {
                // An atom; `[...]` inside it (BODY[HEADER.FIELDS (A B)]) may
                // hold blanks and parentheses.
                let start = pos;
                let mut depth = 0;
                while let Some(&c) = input.get(pos) {
                    match c {
                        b'[' => depth += 1,
                        b']' => depth -= 1,
                        b' ' | b'(' | b')' | b'\r' if depth == 0 => break,
                        _ => {}
                    }
                    pos += 1;
                }
                out.push(Token::Atom(input[start..pos].to_vec()));
            }
        }
    }
}

/// The response with the content of its (single) literal cut out, the way
/// Z records store it, and the content.
fn cut_literal(response: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let open = response.iter().position(|&b| b == b'{').unwrap();
    let close = open + response[open..].iter().position(|&b| b == b'}').unwrap();
    let len: usize = std::str::from_utf8(&response[open + 1..close])
        .unwrap()
        .parse()
        .unwrap();
    let start = close + 3;
    let mut cut = response[..start].to_vec();
    cut.extend_from_slice(&response[start + len..]);
    (cut, response[start..start + len].to_vec())
}

#[test]
fn fetch_answers_match_dovecot() {
    let mut mismatches: Vec<(u32, String, String)> = Vec::new();
    let mut compared = 0;
    let mut deviations_used = BTreeSet::new();
    for (n, raw, expected) in fixtures() {
        for record in records(&expected) {
            let command = String::from_utf8_lossy(&record.command).into_owned();
            let CommandBody::Fetch { items, .. } = parse(&record.command) else {
                panic!("{n}: not a FETCH: {command}");
            };
            let (ours, status) = answer(n, &raw, &items);
            compared += 1;
            let mut problems = Vec::new();
            if status != status_key(&record.status) {
                problems.push(format!("status {status}, Dovecot {}", record.status));
            }
            if status != "OK" {
                // NO: Dovecot's untagged UID response is not ours to give.
            } else if let Some((len, sha)) = &record.cut {
                let (cut, content) = cut_literal(&ours);
                if content.len() != *len || sha256_hex(&content) != *sha || cut != record.untagged {
                    problems.push(format!(
                        "literal of {} octets, sha256 {}; Dovecot {len}, {sha}",
                        content.len(),
                        sha256_hex(&content)
                    ));
                }
            } else {
                let deviation = DEVIATIONS
                    .iter()
                    .position(|(m, item, _)| *m == n && command.split(['(', ' ', ')']).any(|w| w == *item));
                let reference = match deviation {
                    Some(i) => {
                        deviations_used.insert(i);
                        assert_ne!(
                            tokenize(DEVIATIONS[i].2.as_bytes()),
                            tokenize(&record.untagged),
                            "{n} {command}: Dovecot now answers as the deviation says; drop the entry"
                        );
                        DEVIATIONS[i].2.as_bytes().to_vec()
                    }
                    None => record.untagged.clone(),
                };
                if tokenize(&ours) != tokenize(&reference) {
                    problems.push(format!(
                        "\n  ours:      {}\n  reference: {}",
                        String::from_utf8_lossy(&ours).escape_debug(),
                        String::from_utf8_lossy(&reference).escape_debug()
                    ));
                }
            }
            if !problems.is_empty() {
                mismatches.push((n, command, problems.join("; ")));
            }
        }
    }
    assert_eq!(compared, 46 * 10 - 2, "every recorded FETCH is compared");
    assert_eq!(deviations_used.len(), DEVIATIONS.len(), "every deviation applies");

    let listed = |n: u32, command: &str| KNOWN_MISMATCHES.iter().any(|(m, c, _)| *m == n && *c == command);
    let unexpected: Vec<String> = mismatches
        .iter()
        .filter(|(n, command, _)| !listed(*n, command))
        .map(|(n, command, problem)| format!("{n:02} {command}: {problem}"))
        .collect();
    let stale: Vec<String> = KNOWN_MISMATCHES
        .iter()
        .filter(|(n, command, _)| !mismatches.iter().any(|(m, c, _)| m == n && c == command))
        .map(|(n, command, _)| format!("{n:02} {command}"))
        .collect();
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "{} unexpected mismatches:\n{}\nKNOWN_MISMATCHES entries that match now: {stale:?}",
        unexpected.len(),
        unexpected.join("\n")
    );
}

#[test]
fn search_answers_match_dovecot() {
    let messages = fixtures();
    let records = records(&fixtures_dir().join("search.expected"));
    assert!(records.len() >= 30);
    let mut failures = Vec::new();
    for record in &records {
        let CommandBody::Search { key, .. } = parse(&record.command) else {
            panic!("not a SEARCH: {}", String::from_utf8_lossy(&record.command));
        };
        let expected: BTreeSet<u32> = String::from_utf8_lossy(&record.untagged)
            .trim_end()
            .strip_prefix("* SEARCH")
            .unwrap()
            .split_whitespace()
            .map(|w| w.parse().unwrap())
            .collect();
        let ours: BTreeSet<u32> = messages
            .iter()
            .filter(|(_, raw, _)| matches(&key, raw))
            .map(|(n, _, _)| *n)
            .collect();
        if ours != expected {
            failures.push(format!(
                "{}: ours {ours:?}, Dovecot {expected:?}",
                String::from_utf8_lossy(&record.command)
            ));
        }
    }
    assert!(failures.is_empty(), "SEARCH mismatches:\n{}", failures.join("\n"));
}

/// Evaluates a SEARCH key the way the IMAP server will, with this crate's
/// helpers for everything that looks into the message.
fn matches(key: &SearchKey, raw: &[u8]) -> bool {
    let internal = wire::imap::Date {
        year: 2026,
        month: 1,
        day: 1,
    };
    let sent = imf::sent_date(raw);
    match key {
        SearchKey::All => true,
        SearchKey::Subject(v) => imf::header_contains(raw, "Subject", v),
        SearchKey::From(v) => imf::header_contains(raw, "From", v),
        SearchKey::To(v) => imf::header_contains(raw, "To", v),
        SearchKey::Cc(v) => imf::header_contains(raw, "Cc", v),
        SearchKey::Bcc(v) => imf::header_contains(raw, "Bcc", v),
        SearchKey::Header(field, v) => imf::header_contains(raw, field, v),
        SearchKey::Body(v) => imf::body_contains(raw, v),
        SearchKey::Text(v) => imf::text_contains(raw, v),
        // A message without a usable Date: Dovecot takes it as sent very
        // long ago (README, "No Date header"); RFC 9051 leaves it open. The
        // server author decides; this replays Dovecot's choice.
        SearchKey::SentBefore(d) => sent.is_none_or(|s| s < *d),
        SearchKey::SentOn(d) => sent == Some(*d),
        SearchKey::SentSince(d) => sent.is_some_and(|s| s >= *d),
        SearchKey::Before(d) => internal < *d,
        SearchKey::On(d) => internal == *d,
        SearchKey::Since(d) => internal >= *d,
        SearchKey::Larger(n) => raw.len() as u64 > *n,
        SearchKey::Smaller(n) => (raw.len() as u64) < *n,
        SearchKey::Not(k) => !matches(k, raw),
        SearchKey::Or(a, b) => matches(a, raw) || matches(b, raw),
        SearchKey::And(keys) => keys.iter().all(|k| matches(k, raw)),
        other => panic!("SEARCH key not in the fixtures: {other:?}"),
    }
}

/// SHA-256 (FIPS 180-4), for the Z records; no dependency for one test.
fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
        0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
        0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
        0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (state, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(v);
        }
    }
    h.iter().map(|v| format!("{v:08x}")).collect()
}

#[test]
fn sha256_known_answers() {
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        sha256_hex(&[b'a'; 1000]),
        "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
    );
}

#[test]
fn tokenizer_equates_quoted_and_literal() {
    assert_eq!(
        tokenize(b"* 1 FETCH (X \"a\\\"b\" NIL)\r\n"),
        tokenize(b"* 1 FETCH (X {3}\r\na\"b NIL)\r\n")
    );
    assert_ne!(tokenize(b"* 1 FETCH (X \"a\")\r\n"), tokenize(b"* 1 FETCH (X NIL)\r\n"));
    assert_eq!(
        tokenize(b"* 1 FETCH (BODY[HEADER.FIELDS (A B)] {0}\r\n)\r\n")[0][3],
        Token::List(vec![
            Token::Atom(b"BODY[HEADER.FIELDS (A B)]".to_vec()),
            Token::Str(Vec::new())
        ])
    );
}
