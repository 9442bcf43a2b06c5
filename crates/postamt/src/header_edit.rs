//! Small edits of a message's header section (RFC 5322 §2.2): finding,
//! replacing and removing fields, with their folded lines, and writing a
//! field whose value came from elsewhere without letting it end the field
//! early. The body is never touched.

/// Replaces the first Subject field of the header (or adds one).
pub fn replace_subject(message: &mut Vec<u8>, subject: &str) {
    let subject: String = subject.chars().filter(|c| !c.is_control()).collect();
    let field = format!("Subject: {subject}\r\n").into_bytes();
    let mut at = 0;
    while at < message.len() && !message[at..].starts_with(b"\r\n") && !message[at..].starts_with(b"\n") {
        let end = next_field(message, at);
        if message[at..end].len() >= 8 && message[at..at + 8].eq_ignore_ascii_case(b"subject:") {
            message.splice(at..end, field);
            return;
        }
        at = end;
    }
    message.splice(0..0, field);
}

/// Removes the header fields whose names (lower case, with the colon)
/// are in `names`.
pub fn remove_fields(message: &mut Vec<u8>, names: &[&[u8]]) {
    let mut at = 0;
    while at < message.len() && !message[at..].starts_with(b"\r\n") && !message[at..].starts_with(b"\n") {
        let end = next_field(message, at);
        let field = &message[at..end];
        if names
            .iter()
            .any(|name| field.len() >= name.len() && field[..name.len()].eq_ignore_ascii_case(name))
        {
            message.drain(at..end);
        } else {
            at = end;
        }
    }
}

/// Where the header field starting at `at` ends, its folded lines included.
fn next_field(message: &[u8], at: usize) -> usize {
    let mut end = at;
    loop {
        end = match message[end..].iter().position(|&b| b == b'\n') {
            Some(n) => end + n + 1,
            None => return message.len(),
        };
        if !matches!(message.get(end), Some(b' ' | b'\t')) {
            return end;
        }
    }
}

/// Removes the `index`-th field named `name` (1 the first; 0 every one;
/// below 0 counting from the last), as rspamd's milter block asks.
pub fn remove_field(message: &mut Vec<u8>, name: &str, index: i64) {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let mut fields = Vec::new();
    let mut at = 0;
    while at < message.len() && !message[at..].starts_with(b"\r\n") && !message[at..].starts_with(b"\n") {
        let end = next_field(message, at);
        let field = &message[at..end];
        if field.len() >= prefix.len() && field[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes()) {
            fields.push(at..end);
        }
        at = end;
    }
    let chosen: Vec<std::ops::Range<usize>> = match index {
        0 => fields,
        n if n > 0 => fields.into_iter().nth(n as usize - 1).into_iter().collect(),
        n => fields.into_iter().rev().nth((-n) as usize - 1).into_iter().collect(),
    };
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
