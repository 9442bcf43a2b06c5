//! Small edits of a message's header section (RFC 5322 §2.2): finding,
//! replacing and removing fields, with their folded lines, and writing a
//! field whose value came from elsewhere without letting it end the field
//! early. The body is never touched. Fields are found by imf, as every
//! other reader of headers here finds them.

use std::ops::Range;

/// The byte ranges of the header fields called `name`, in order.
fn spans(message: &[u8], name: &str) -> Vec<Range<usize>> {
    imf::field_spans(message)
        .filter(|(field, _)| field.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, span)| span)
        .collect()
}

/// Replaces the first Subject field of the header (or adds one).
pub fn replace_subject(message: &mut Vec<u8>, subject: &str) {
    let subject: String = subject.chars().filter(|c| !c.is_control()).collect();
    let field = format!("Subject: {subject}\r\n").into_bytes();
    let at = spans(message, "Subject").into_iter().next().unwrap_or(0..0);
    message.splice(at, field);
}

/// Removes every header field called one of `names`.
pub fn remove_fields(message: &mut Vec<u8>, names: &[&str]) {
    for name in names {
        remove_field(message, name, 0);
    }
}

/// Removes the `index`-th field named `name` (1 the first; 0 every one;
/// below 0 counting from the last), as rspamd's milter block asks.
pub fn remove_field(message: &mut Vec<u8>, name: &str, index: i64) {
    let fields = spans(message, name);
    let chosen: Vec<Range<usize>> = match index {
        0 => fields,
        n if n > 0 => fields.into_iter().nth(n as usize - 1).into_iter().collect(),
        n => fields
            .into_iter()
            .rev()
            .nth(n.unsigned_abs() as usize - 1)
            .into_iter()
            .collect(),
    };
    // From the last, so the earlier ranges stay where they are.
    for range in chosen.into_iter().rev() {
        message.drain(range);
    }
}

/// A header field `name: value` with every line break in the value made
/// a fold and other control characters taken out, or None if the name is
/// not a field name (RFC 5322 §2.2: printable ASCII but the colon).
pub fn field(name: &str, value: &str) -> Option<String> {
    if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
        return None;
    }
    let mut text = format!("{name}: ");
    for line in value.lines() {
        if text.ends_with("\r\n") {
            text.push('\t');
        }
        text.extend(line.chars().filter(|c| !c.is_control()));
        text.push_str("\r\n");
    }
    if !text.ends_with("\r\n") {
        text.push_str("\r\n");
    }
    Some(text)
}
