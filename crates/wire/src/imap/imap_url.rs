//! IMAP URLs (RFC 5092) as CATENATE names message data with them (RFC
//! 4469 §5): absolute (`imap://user@host/INBOX;UIDVALIDITY=3/;UID=20`),
//! absolute paths (`/INBOX/;UID=20/;SECTION=1.2`) and references relative
//! to the selected mailbox (`;UID=20`). Only message references are read
//! (a UID is required); URLAUTH (`;URLAUTH=`, `;EXPIRE=`) is not
//! supported and makes the URL invalid, as do search and list forms.

/// A message, or a section of one, named by an IMAP URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapUrl {
    /// The `user` of an absolute URL, to be compared with the session's.
    pub user: Option<String>,
    /// The host of an absolute URL, to be compared with the server's.
    pub host: Option<String>,
    /// The mailbox (percent-decoded, UTF-8 or modified UTF-7 as sent);
    /// None for a reference relative to the selected mailbox.
    pub mailbox: Option<String>,
    pub uidvalidity: Option<u32>,
    pub uid: u32,
    /// `;SECTION=` as written (`1.2.MIME`, `HEADER`), upper-cased.
    pub section: Option<String>,
    /// `;PARTIAL=start[.length]`.
    pub partial: Option<(u64, Option<u64>)>,
}

/// Reads a URL; None when it is not a message reference this server reads.
pub fn parse(url: &str) -> Option<ImapUrl> {
    let (user, host, path) = if let Some(rest) = strip_prefix_ignore_case(url, "imap://") {
        let (authority, path) = rest.split_once('/')?;
        let (user, host) = match authority.rsplit_once('@') {
            Some((user, host)) => {
                // ;AUTH=* only: anything else is an authentication mechanism
                // this session does not use.
                let user = match user.split_once(';') {
                    Some((user, auth)) if auth.eq_ignore_ascii_case("AUTH=*") => user,
                    Some(_) => return None,
                    None => user,
                };
                (Some(decode(user)?), host)
            }
            None => (None, authority),
        };
        (user, Some(host.to_ascii_lowercase()), format!("/{path}"))
    } else {
        (None, None, url.to_string())
    };
    let (mailbox, rest) = match path.strip_prefix('/') {
        // `/mailbox[;UIDVALIDITY=n]/;UID=...`
        Some(rest) => {
            let (mailbox_part, rest) = rest.split_once("/;")?;
            let (name, validity) = match mailbox_part.split_once(';') {
                Some((name, param)) => (name, Some(param)),
                None => (mailbox_part, None),
            };
            (Some((decode(name)?, validity)), format!(";{rest}"))
        }
        None => (None, path),
    };
    let uidvalidity = match mailbox.as_ref().and_then(|(_, v)| *v) {
        Some(param) => Some(number_param(param, "UIDVALIDITY=")?),
        None => None,
    };
    let mut url = ImapUrl {
        user,
        host,
        mailbox: mailbox.map(|(name, _)| name),
        uidvalidity,
        uid: 0,
        section: None,
        partial: None,
    };
    // `;UID=n[/;SECTION=s][/;PARTIAL=p[.l]]`, in that order.
    for (i, param) in rest.split("/;").enumerate() {
        let param = param.strip_prefix(';').filter(|_| i == 0).unwrap_or(param);
        let (name, value) = param.split_once('=')?;
        match (i, name.to_ascii_uppercase().as_str()) {
            (0, "UID") => url.uid = value.parse().ok().filter(|&n| n > 0)?,
            (1, "SECTION") if url.partial.is_none() => url.section = Some(decode(value)?.to_ascii_uppercase()),
            (1 | 2, "PARTIAL") if url.partial.is_none() => {
                let (start, length) = match value.split_once('.') {
                    Some((start, length)) => (start, Some(length.parse().ok().filter(|&n| n > 0)?)),
                    None => (value, None),
                };
                url.partial = Some((start.parse().ok()?, length));
            }
            _ => return None,
        }
    }
    (url.uid > 0).then_some(url)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// `NAME=digits` as a number.
fn number_param(param: &str, name: &str) -> Option<u32> {
    strip_prefix_ignore_case(param, name)?.parse().ok().filter(|&n| n > 0)
}

/// Percent-decoding (RFC 3986 §2.1), to UTF-8.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_4469_examples() {
        // RFC 4469 §5, first example.
        let url = parse("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER").unwrap();
        assert_eq!(url.mailbox.as_deref(), Some("Drafts"));
        assert_eq!((url.uidvalidity, url.uid), (Some(385_759_045), 20));
        assert_eq!(url.section.as_deref(), Some("HEADER"));
        let url = parse("/Drafts;UIDVALIDITY=385759045/;UID=30").unwrap();
        assert_eq!((url.uid, url.section), (30, None));
        // An absolute URL, and one relative to the selected mailbox.
        let url = parse("imap://bob;AUTH=*@mail.example.COM/Drafts;UIDVALIDITY=7/;UID=2/;SECTION=1.MIME").unwrap();
        assert_eq!(url.user.as_deref(), Some("bob"));
        assert_eq!(url.host.as_deref(), Some("mail.example.com"));
        assert_eq!(url.section.as_deref(), Some("1.MIME"));
        let url = parse(";UID=20/;PARTIAL=0.1024").unwrap();
        assert_eq!(url.mailbox, None);
        assert_eq!(url.partial, Some((0, Some(1024))));
        let url = parse("/Sent%20Items/;UID=3").unwrap();
        assert_eq!(url.mailbox.as_deref(), Some("Sent Items"));
    }

    #[test]
    fn what_is_not_a_message_reference_is_refused() {
        for url in [
            "/Drafts",
            "/Drafts;UIDVALIDITY=x/;UID=1",
            "/Drafts/;UID=0",
            "/Drafts/;UID=1;URLAUTH=anonymous:internal:abc",
            "/Drafts/;UID=1/;EXPIRE=2026-01-01T00:00:00Z",
            "imap://bob;AUTH=GSSAPI@host/INBOX/;UID=1",
            "/INBOX?SUBJECT%20x",
            "/INBOX/;UID=1/;PARTIAL=0.0",
            "/IN%ZZBOX/;UID=1",
        ] {
            assert_eq!(parse(url), None, "{url}");
        }
    }
}
