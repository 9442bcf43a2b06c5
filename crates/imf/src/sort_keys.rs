//! What SORT (RFC 5256 §3, RFC 5957) and THREAD (RFC 5256 §3) need of one
//! message, worked out from its header once so that ordering a mailbox
//! compares prepared values only.
//!
//! Strings that SORT compares are folded for the i;ascii-casemap
//! collation (RFC 4790 §9.2: ASCII letters to upper case, every other
//! octet as it is), so that comparing them octet by octet is comparing
//! them in that collation.

use crate::address::Address;
use crate::message_header::MessageHeader;
use crate::subject;

/// The sort and thread keys of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortKeys {
    /// The Date field in Unix seconds (UTC); None when missing or not
    /// parseable, and the caller uses INTERNALDATE (RFC 5256 §2.2).
    pub sent: Option<i64>,
    /// The base subject (RFC 5256 §2.1), folded.
    pub subject: String,
    /// Whether the subject marked a reply or forward (REFERENCES step 5).
    pub reply_or_forward: bool,
    /// The addr-mailbox (local part, or a group's name) of the first
    /// From/To/Cc address, folded; empty without one (RFC 5256 §3).
    pub from: String,
    pub to: String,
    pub cc: String,
    /// The display value of the first From/To address (RFC 5957 §3),
    /// folded.
    pub display_from: String,
    pub display_to: String,
    /// The Message-ID, when valid.
    pub message_id: Option<String>,
    /// The message's parents for REFERENCES step 1: the valid ids of
    /// References, else the first valid one of In-Reply-To; oldest first.
    pub references: Vec<String>,
}

/// Works out the keys from a header section.
pub fn sort_keys(header: &[u8]) -> SortKeys {
    of(&MessageHeader::parse(header))
}

/// Works out the keys from a header already read (see `message_header`).
pub(crate) fn of(header: &MessageHeader<'_>) -> SortKeys {
    // The first entry of the field's ENVELOPE address list: for a group,
    // its start marker, whose addr-mailbox is the group's name (RFC 9051
    // §7.5.2), as Dovecot sorts it too.
    let base = subject::base_subject(header.text("Subject").unwrap_or_default());
    let from = header.first_address("From");
    let to = header.first_address("To");
    let mut references = header.text("References").map(message_ids).unwrap_or_default();
    if references.is_empty() {
        references = header
            .text("In-Reply-To")
            .and_then(|v| message_ids(v).into_iter().next())
            .into_iter()
            .collect();
    }
    SortKeys {
        sent: header.text("Date").and_then(crate::date::parse_time),
        subject: fold(&base.text),
        reply_or_forward: base.reply_or_forward,
        from: fold(&local_part(from)),
        to: fold(&local_part(to)),
        cc: fold(&local_part(header.first_address("Cc"))),
        display_from: fold(&display(from)),
        display_to: fold(&display(to)),
        message_id: header
            .text("Message-ID")
            .and_then(|v| message_ids(v).into_iter().next()),
        references,
    }
}

/// Marks the stored form; another form later gets another.
const STORED_VERSION: &str = "k1";

impl SortKeys {
    /// The keys as one string for the store: the version, then every
    /// field in declaration order, each string written `length:text` so
    /// that no character of a subject can break the form.
    pub fn to_stored(&self) -> String {
        let mut out = String::from(STORED_VERSION);
        let text = |out: &mut String, s: &str| {
            out.push_str(&s.len().to_string());
            out.push(':');
            out.push_str(s);
        };
        out.push_str(&self.sent.map(|s| s.to_string()).unwrap_or_default());
        out.push(';');
        out.push(if self.reply_or_forward { '1' } else { '0' });
        for field in [
            &self.subject,
            &self.from,
            &self.to,
            &self.cc,
            &self.display_from,
            &self.display_to,
        ] {
            text(&mut out, field);
        }
        match &self.message_id {
            Some(id) => {
                out.push('+');
                text(&mut out, id);
            }
            None => out.push('-'),
        }
        for reference in &self.references {
            text(&mut out, reference);
        }
        out
    }

    /// Reads [`SortKeys::to_stored`]; None for another form or a damaged
    /// string (the caller then works the keys out from the header).
    pub fn from_stored(stored: &str) -> Option<SortKeys> {
        SortKeys::from_stored_only(stored, KeyFields::ALL)
    }

    /// As [`SortKeys::from_stored`], reading only the `fields` asked for
    /// (the others stay empty): a SORT by DATE of a large mailbox then
    /// copies no strings at all. `sent` and `reply_or_forward` are always
    /// read; they cost nothing.
    pub fn from_stored_only(stored: &str, fields: KeyFields) -> Option<SortKeys> {
        let (sent, reply_or_forward, mut read) = Reader::open(stored)?;
        let wanted = [
            fields.subject,
            fields.from,
            fields.to,
            fields.cc,
            fields.display_from,
            fields.display_to,
        ];
        // Read as far as the last field wanted, and no further.
        let reach = match fields.threading {
            true => wanted.len(),
            false => wanted.iter().rposition(|&w| w).map_or(0, |last| last + 1),
        };
        let mut texts: [String; 6] = Default::default();
        for (text, &wanted) in texts.iter_mut().zip(&wanted).take(reach) {
            *text = read.text(wanted)?;
        }
        let [subject, from, to, cc, display_from, display_to] = texts;
        let mut keys = SortKeys {
            sent,
            reply_or_forward,
            subject,
            from,
            to,
            cc,
            display_from,
            display_to,
            ..SortKeys::default()
        };
        if fields.threading {
            let (message_id, references) = read.threading()?;
            keys.message_id = message_id.map(str::to_string);
            keys.references = references.into_iter().map(str::to_string).collect();
        }
        Some(keys)
    }
}

/// What THREAD needs of a stored form (see [`SortKeys::to_stored`]),
/// borrowed from it: threading a large mailbox then copies a message id
/// only where its caller keeps one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredThreadKeys<'a> {
    pub sent: Option<i64>,
    pub reply_or_forward: bool,
    pub subject: &'a str,
    pub message_id: Option<&'a str>,
    pub references: Vec<&'a str>,
}

impl<'a> StoredThreadKeys<'a> {
    /// None for another form or a damaged string.
    pub fn read(stored: &'a str) -> Option<StoredThreadKeys<'a>> {
        let (sent, reply_or_forward, mut read) = Reader::open(stored)?;
        let subject = read.slice()?;
        // From, To, Cc and their display forms.
        for _ in 0..5 {
            read.slice()?;
        }
        let (message_id, references) = read.threading()?;
        Some(StoredThreadKeys {
            sent,
            reply_or_forward,
            subject,
            message_id,
            references,
        })
    }
}

/// Which keys a reader of the stored form needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyFields {
    pub subject: bool,
    pub from: bool,
    pub to: bool,
    pub cc: bool,
    pub display_from: bool,
    pub display_to: bool,
    /// `message_id` and `references`.
    pub threading: bool,
}

impl KeyFields {
    pub const ALL: KeyFields = KeyFields {
        subject: true,
        from: true,
        to: true,
        cc: true,
        display_from: true,
        display_to: true,
        threading: true,
    };
}

/// A cursor over the stored form.
struct Reader<'a>(&'a str);

impl<'a> Reader<'a> {
    /// The stored form's version, sent date and reply mark, and a reader
    /// at its first string; None for another form.
    fn open(stored: &'a str) -> Option<(Option<i64>, bool, Reader<'a>)> {
        let rest = stored.strip_prefix(STORED_VERSION)?;
        let (sent, rest) = rest.split_once(';')?;
        let sent = if sent.is_empty() {
            None
        } else {
            Some(sent.parse().ok()?)
        };
        let (reply, rest) = (rest.get(..1)?, rest.get(1..)?);
        Some((sent, reply == "1", Reader(rest)))
    }

    /// The Message-ID and the references, the form's last fields.
    fn threading(&mut self) -> Option<(Option<&'a str>, Vec<&'a str>)> {
        let message_id = match self.marker()? {
            '+' => Some(self.slice()?),
            _ => None,
        };
        let mut references = Vec::new();
        while !self.0.is_empty() {
            references.push(self.slice()?);
        }
        Some((message_id, references))
    }

    /// `length:text`
    fn slice(&mut self) -> Option<&'a str> {
        let (len, after) = self.0.split_once(':')?;
        let len: usize = len.parse().ok()?;
        let value = after.get(..len)?;
        self.0 = after.get(len..)?;
        Some(value)
    }

    /// `length:text`, copied when `wanted`, else passed over (empty).
    fn text(&mut self, wanted: bool) -> Option<String> {
        let value = self.slice()?;
        Some(if wanted { value.to_string() } else { String::new() })
    }

    fn marker(&mut self) -> Option<char> {
        let c = self.0.chars().next()?;
        self.0 = &self.0[c.len_utf8()..];
        Some(c)
    }
}

/// i;ascii-casemap folding (RFC 4790 §9.2).
pub fn fold(text: &str) -> String {
    text.to_ascii_uppercase()
}

fn local_part(address: Option<&Address>) -> String {
    address
        .and_then(|a| a.mailbox.as_deref())
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .unwrap_or_default()
}

/// RFC 5957 §3: the display name with its encoded words decoded when it
/// is there and not empty, else the address written `local@domain`; a
/// group's name for a group.
fn display(address: Option<&Address>) -> String {
    let Some(address) = address else {
        return String::new();
    };
    // A group shows as its name.
    if address.host.is_none() {
        return crate::decode::rfc2047(address.mailbox.as_deref().unwrap_or_default());
    }
    if let Some(name) = &address.name {
        let decoded = crate::decode::rfc2047(name);
        let trimmed = decoded.trim();
        if !trimmed.is_empty() {
            return trimmed.to_string();
        }
    }
    let part = |p: &Option<Vec<u8>>| String::from_utf8_lossy(p.as_deref().unwrap_or_default()).into_owned();
    format!("{}@{}", part(&address.mailbox), part(&address.host))
}

/// The message ids of a field, in order, in their `<...>` form.
fn message_ids(value: &[u8]) -> Vec<String> {
    crate::message_ids::ids(value)
        .into_iter()
        .map(|id| format!("<{id}>"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_a_header() {
        let keys = sort_keys(
            b"From: \"=?UTF-8?Q?J=C3=BCrgen?= Weber\" <jw@x.test>\r\n\
              To: group: a@b.test;, \"\" <Zed@y.test>\r\n\
              Cc: (c) Carl.Cc@z.test\r\n\
              Subject: Re: [list] Hello\r\n\
              Date: Mon, 3 Mar 2025 10:15:00 +0100\r\n\
              Message-ID: <id1@x.test>\r\n\
              In-Reply-To: <ignored@x.test>\r\n\
              References: <a@x.test>\r\n <b@x.test> <not an id> <c@x.test>\r\n\r\n",
        );
        assert_eq!(keys.sent, Some(1_740_993_300));
        assert_eq!(keys.subject, "HELLO");
        assert!(keys.reply_or_forward);
        assert_eq!(keys.from, "JW");
        assert_eq!(keys.display_from, "JüRGEN WEBER");
        // A group comes first: its name counts, as in ENVELOPE.
        assert_eq!(keys.to, "GROUP");
        assert_eq!(keys.display_to, "GROUP");
        assert_eq!(keys.cc, "CARL.CC");
        assert_eq!(keys.message_id.as_deref(), Some("<id1@x.test>"));
        assert_eq!(keys.references, ["<a@x.test>", "<b@x.test>", "<c@x.test>"]);
    }

    #[test]
    fn missing_fields_and_in_reply_to() {
        let keys = sort_keys(b"In-Reply-To: Your message of <p@x.test> (and <q@x.test>)\r\n\r\n");
        assert_eq!(keys.sent, None);
        assert_eq!(keys.subject, "");
        assert_eq!(keys.from, "");
        assert_eq!(keys.display_from, "");
        assert_eq!(keys.message_id, None);
        assert_eq!(keys.references, ["<p@x.test>"]);
        // References without a valid id fall back to In-Reply-To.
        let keys = sort_keys(b"References: <nothing>\r\nIn-Reply-To: <p@x.test>\r\n\r\n");
        assert_eq!(keys.references, ["<p@x.test>"]);
    }

    #[test]
    fn stored_form_round_trips() {
        let keys = sort_keys(
            "Subject: a;b:1:\u{1}\r\nFrom: x <y@z>\r\nDate: 1 Jan 1970 00:00:00 -0100\r\n\
             Message-ID: <m@x>\r\nReferences: <a@x> <b:2@x>\r\n\r\n"
                .as_bytes(),
        );
        assert_eq!(keys.sent, Some(3600));
        let stored = keys.to_stored();
        assert_eq!(SortKeys::from_stored(&stored), Some(keys.clone()));
        let empty = SortKeys::default();
        assert_eq!(SortKeys::from_stored(&empty.to_stored()), Some(empty));
        assert_eq!(SortKeys::from_stored("k0;0"), None);
        assert_eq!(SortKeys::from_stored(&stored[..stored.len() - 2]), None);
        // Only what is asked for is read; the rest stays empty.
        let subject_only = KeyFields {
            subject: true,
            ..KeyFields::default()
        };
        let read = SortKeys::from_stored_only(&stored, subject_only).unwrap();
        assert_eq!((read.sent, read.subject.as_str()), (Some(3600), "A;B:1:\u{1}"));
        assert_eq!(
            (read.from.as_str(), read.message_id, read.references.len()),
            ("", None, 0)
        );
        let threading = KeyFields {
            threading: true,
            ..KeyFields::default()
        };
        let read = SortKeys::from_stored_only(&stored, threading).unwrap();
        assert_eq!((read.subject.as_str(), read.message_id.as_deref()), ("", Some("<m@x>")));
        assert_eq!(read.references, ["<a@x>", "<b:2@x>"]);
        let borrowed = StoredThreadKeys::read(&stored).unwrap();
        assert_eq!((borrowed.sent, borrowed.subject), (keys.sent, keys.subject.as_str()));
        assert_eq!(borrowed.message_id, keys.message_id.as_deref());
        assert_eq!(borrowed.references, keys.references);
        assert_eq!(StoredThreadKeys::read(&stored[..stored.len() - 2]), None);
    }

    #[test]
    fn display_falls_back_to_the_address() {
        let keys = sort_keys(b"From: =?UTF-8?Q?_?= <bob@x.test>\r\nTo: Ann <ann@y.test>\r\n\r\n");
        assert_eq!(keys.display_from, "BOB@X.TEST");
        assert_eq!(keys.display_to, "ANN");
    }
}
