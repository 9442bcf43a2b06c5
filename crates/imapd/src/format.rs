//! Writing IMAP response data: flag lists, dates, section names, mailbox
//! names in UTF-8 or modified UTF-7.

use wire::imap::{Section, SectionText};

/// `(\Seen $Junk)`
pub(crate) fn flag_list(names: &[String]) -> String {
    format!("({})", names.join(" "))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// INTERNALDATE: `"01-Jan-2026 12:00:00 +0000"` (RFC 9051 §9 date-time).
pub(crate) fn date_time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = wire::date::civil_from_days(days);
    format!(
        "\"{day:02}-{}-{year:04} {:02}:{:02}:{:02} +0000\"",
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// How a section is named in the response, as the client wrote it.
pub(crate) fn section_name(section: &Section) -> String {
    let mut name: Vec<String> = section.part.iter().map(u32::to_string).collect();
    match &section.text {
        None => {}
        Some(SectionText::Header) => name.push("HEADER".into()),
        Some(SectionText::Text) => name.push("TEXT".into()),
        Some(SectionText::Mime) => name.push("MIME".into()),
        Some(SectionText::HeaderFields(fields)) => name.push(format!("HEADER.FIELDS ({})", fields.join(" "))),
        Some(SectionText::HeaderFieldsNot(fields)) => name.push(format!("HEADER.FIELDS.NOT ({})", fields.join(" "))),
    }
    name.join(".")
}

/// A mailbox name for the client: UTF-8 once it enabled UTF8=ACCEPT or
/// IMAP4rev2, modified UTF-7 before (RFC 9051 §5.1, RFC 3501 §5.1.3).
pub(crate) fn mailbox_name(out: &mut Vec<u8>, name: &str, utf8: bool) {
    let name = if utf8 {
        name.to_string()
    } else {
        wire::imap::utf7::encode(name)
    };
    wire::imap::string(out, name.as_bytes());
}

/// A mailbox name from the client; `None` if it is not valid.
pub(crate) fn client_mailbox(raw: &[u8], utf8: bool) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?;
    if utf8 || !text.contains('&') {
        Some(store::canonical_name(text))
    } else {
        wire::imap::utf7::decode(text).map(|n| store::canonical_name(&n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_sections() {
        assert_eq!(date_time(1_767_268_800), "\"01-Jan-2026 12:00:00 +0000\"");
        assert_eq!(date_time(951_782_400), "\"29-Feb-2000 00:00:00 +0000\"");
        let section = Section {
            part: vec![1, 2],
            text: Some(SectionText::HeaderFields(vec!["From".into(), "To".into()])),
        };
        assert_eq!(section_name(&section), "1.2.HEADER.FIELDS (From To)");
        assert_eq!(
            section_name(&Section {
                part: vec![],
                text: None
            }),
            ""
        );
    }
}
