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
