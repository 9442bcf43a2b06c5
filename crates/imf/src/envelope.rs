//! ENVELOPE (RFC 9051 §7.5.2, RFC 3501 §7.4.2) from a message header.
//!
//! Values are reported as written: encoded words stay encoded (the client
//! decodes them), Date, In-Reply-To and Message-ID are only unfolded, and
//! the subject and display names are normalised for reading (`imap::human`).
//! Of repeated fields (which RFC 5322 §3.6 forbids) the first counts, the
//! same field SEARCH SENTON and BODYSTRUCTURE use.

use crate::address::Address;
use crate::imap;
use crate::message_header::MessageHeader;

/// Writes the parenthesised ENVELOPE of the message whose header is `header`.
pub(crate) fn write(out: &mut Vec<u8>, header: &MessageHeader<'_>) {
    let addresses = |name: &str| header.addresses(name).filter(|list| !list.is_empty());
    let from = addresses("From");
    // RFC 9051 §7.5.2: sender and reply-to default to from.
    let sender = addresses("Sender").or(from);
    let reply_to = addresses("Reply-To").or(from);

    out.push(b'(');
    imap::nstring(out, header.text("Date"));
    out.push(b' ');
    imap::human(out, header.text("Subject"));
    for list in [
        from,
        sender,
        reply_to,
        addresses("To"),
        addresses("Cc"),
        addresses("Bcc"),
    ] {
        out.push(b' ');
        write_addresses(out, list);
    }
    out.push(b' ');
    imap::nstring(out, header.text("In-Reply-To"));
    out.push(b' ');
    imap::nstring(out, header.text("Message-ID"));
    out.push(b')');
}

fn write_addresses(out: &mut Vec<u8>, list: Option<&[Address]>) {
    let Some(list) = list else {
        out.extend_from_slice(b"NIL");
        return;
    };
    out.push(b'(');
    for a in list {
        out.push(b'(');
        imap::human(out, a.name.as_deref());
        out.push(b' ');
        imap::nstring(out, a.route.as_deref());
        out.push(b' ');
        imap::nstring(out, a.mailbox.as_deref());
        out.push(b' ');
        imap::nstring(out, a.host.as_deref());
        out.push(b')');
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(header: &str) -> String {
        let mut out = Vec::new();
        write(&mut out, &MessageHeader::parse(header.as_bytes()));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn defaults_and_missing_fields() {
        assert_eq!(
            envelope("Subject: Hi\r\nTo: bob@example.test\r\n\r\n"),
            "(NIL \"Hi\" NIL NIL NIL ((NIL NIL \"bob\" \"example.test\")) NIL NIL NIL NIL)"
        );
        assert_eq!(
            envelope("From: A <a@x.test>\r\nReply-To: r@x.test\r\nMessage-ID: <1@x>\r\n\r\n"),
            "(NIL NIL ((\"A\" NIL \"a\" \"x.test\")) ((\"A\" NIL \"a\" \"x.test\")) \
             ((NIL NIL \"r\" \"x.test\")) NIL NIL NIL NIL \"<1@x>\")"
        );
    }

    #[test]
    fn first_of_repeated_fields_and_folding() {
        assert_eq!(
            envelope("Subject: one\r\n  folded\r\nSubject: two\r\nDate: Tue, 25 Mar 2025\r\n 12:00:00 +0000\r\n\r\n"),
            "(\"Tue, 25 Mar 2025 12:00:00 +0000\" \"one folded\" NIL NIL NIL NIL NIL NIL NIL NIL)"
        );
    }
}
