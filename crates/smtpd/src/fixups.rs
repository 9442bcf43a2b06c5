//! RFC 6409 §8: a submission server adds what a message must have and
//! clients sometimes leave out, Date (§8.3) and Message-ID (§8.2).

/// Which of Date and Message-ID the header section of `message` lacks.
pub(crate) fn missing_date_and_id(message: &[u8]) -> (bool, bool) {
    let mut has_date = false;
    let mut has_id = false;
    for line in message.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let name = line.split(|&b| b == b':').next().unwrap_or_default();
        has_date |= name.eq_ignore_ascii_case(b"date");
        has_id |= name.eq_ignore_ascii_case(b"message-id");
    }
    (!has_date, !has_id)
}

/// The header fields to add to a submitted message, empty if none.
pub(crate) fn fixup_headers(message: &[u8], id: &str, hostname: &str, now: i64) -> String {
    let (no_date, no_id) = missing_date_and_id(message);
    let mut fields = String::new();
    if no_date {
        fields.push_str(&format!("Date: {}\r\n", wire::date::rfc5322(now)));
    }
    if no_id {
        fields.push_str(&format!("Message-ID: <{id}.{now}@{hostname}>\r\n"));
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_missing_fields_in_the_header_only() {
        assert_eq!(
            missing_date_and_id(b"Subject: x\r\n\r\nDate: in body\r\n"),
            (true, true)
        );
        assert_eq!(
            missing_date_and_id(b"DATE: now\r\nMessage-Id: <a@b>\r\n\r\nbody"),
            (false, false)
        );
        assert_eq!(missing_date_and_id(b"Message-ID: <a@b>\r\n\r\n"), (true, false));
        assert_eq!(missing_date_and_id(b"X-Date: no\r\n\r\n"), (true, true));
    }

    #[test]
    fn builds_the_missing_fields() {
        let fields = fixup_headers(b"Subject: x\r\n\r\nbody", "ABC", "mx.test", 0);
        assert_eq!(
            fields,
            "Date: Thu, 1 Jan 1970 00:00:00 +0000\r\nMessage-ID: <ABC.0@mx.test>\r\n"
        );
        assert_eq!(
            fixup_headers(b"Date: x\r\nMessage-ID: <a@b>\r\n\r\n", "ABC", "mx.test", 0),
            ""
        );
    }
}
