//! Entry point for the `imf_facts` fuzz target in `fuzz/`, kept here so
//! that `cargo test` replays its committed corpus on stable Rust: whatever
//! the bytes, computing the facts, sections, BINARY and the search helpers
//! must not panic, and ENVELOPE and BODYSTRUCTURE must be balanced IMAP
//! lists.

/// Checks one input; a violated property panics.
pub fn facts(data: &[u8]) {
    let facts = crate::facts(data);
    for (name, text) in [
        ("ENVELOPE", &facts.envelope),
        ("BODYSTRUCTURE", &facts.body_structure),
        ("BODY", &facts.body),
    ] {
        assert!(balanced(text.as_bytes()), "{name} is not a balanced list: {text}");
    }
    for part in [&[][..], &[1], &[1, 1], &[2, 3]] {
        let _ = crate::section(data, part, None);
        let _ = crate::section(data, part, Some(&wire::imap::SectionText::Header));
        let _ = crate::section(data, part, Some(&wire::imap::SectionText::Text));
        let _ = crate::binary(data, part);
    }
    let _ = crate::header_contains(data, "Subject", b"x");
    let _ = crate::body_contains(data, b"x");
    let _ = crate::text_contains(data, b"x");
    let _ = crate::sent_date(data);
    // What APPEND stores for a literal8 must have no binary part left.
    if let Some(encoded) = crate::encode_binary_parts(data) {
        assert!(crate::encode_binary_parts(&encoded).is_none(), "a binary part was left");
    }
}

/// True if parentheses balance outside quoted strings and literals.
fn balanced(text: &[u8]) -> bool {
    let (mut depth, mut i) = (0i64, 0);
    while i < text.len() {
        match text[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            b'"' => {
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' => {
                let Some(close) = text[i..].iter().position(|&b| b == b'}') else {
                    return false;
                };
                let size: usize = std::str::from_utf8(&text[i + 1..i + close])
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                i += close + 2 + size;
            }
            _ => {}
        }
        i += 1;
    }
    depth == 0
}

/// One header field's value as each reader of a single field sees it:
/// Date (RFC 5322 §3.3 and the obsolete §4.3 forms), address lists (§3.4),
/// message ids (§3.6.4), encoded words (RFC 2047), the base subject of
/// SORT and THREAD (RFC 5256), and the sort keys of a header.
pub fn header_field(data: &[u8]) {
    // The date and the date-time agree on the day, within the largest zone
    // offset the syntax allows (±99:59) and the day's own length.
    if let (Some(date), Some(time)) = (crate::date::parse(data), crate::date::parse_time(data)) {
        let day = days_from_civil(i64::from(date.year), i64::from(date.month), i64::from(date.day));
        assert!((time.div_euclid(86_400) - day).abs() <= 5, "{date:?} but {time}");
    }
    // Each address (or group marker) takes at least one byte of the value.
    assert!(crate::address::parse_list(data).len() <= data.len() + 1);
    // The plain writing SEARCH also looks in (a line break in it is
    // harmless: stored fields refuse needles with one).
    let _ = crate::address::searchable(data);
    for id in crate::message_ids::ids(data) {
        assert!(!id.contains(['\r', '\n', ' ']), "{id:?}");
    }
    let decoded = crate::decode::rfc2047(data);
    assert!(decoded.len() <= data.len().saturating_mul(4) + 4);
    // Extraction removes every prefix and trailer it can: the result has
    // none left. (Unless decoding made new encoded words: `=?` in an
    // encoded word's text is decoded again by a second extraction.)
    let base = crate::base_subject(data);
    if !base.text.contains("=?") {
        assert_eq!(crate::base_subject(base.text.as_bytes()).text, base.text, "{data:?}");
    }
    let mut header = b"Subject: ".to_vec();
    header.extend_from_slice(data);
    header.extend_from_slice(b"\r\nDate: ");
    header.extend_from_slice(data);
    header.extend_from_slice(b"\r\nFrom: ");
    header.extend_from_slice(data);
    header.extend_from_slice(b"\r\n\r\n");
    let _ = crate::sort_keys(&header);
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days
/// inverse; month 1..=12).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}
