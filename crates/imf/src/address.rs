//! Address lists (RFC 5322 §3.4, with the obsolete forms of §4.4 that
//! receivers must accept) as ENVELOPE wants them: name, source route,
//! mailbox and host per address, groups as start and end markers
//! (RFC 9051 §7.5.2). Encoded words stay encoded, as IMAP asks.

use crate::lexer::{Lexer, is_atext};

/// One ENVELOPE address structure.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Address {
    pub name: Option<Vec<u8>>,
    /// The obsolete source route, `@a.test,@b.test` (RFC 5322 §4.4).
    pub route: Option<Vec<u8>>,
    pub mailbox: Option<Vec<u8>>,
    pub host: Option<Vec<u8>>,
}

/// Stand-ins for the parts of an address that are not there, so that a
/// broken address cannot be mistaken for a group marker (whose host is
/// NIL); the same words as Dovecot and Cyrus use.
const MISSING_MAILBOX: &[u8] = b"MISSING_MAILBOX";
const MISSING_DOMAIN: &[u8] = b"MISSING_DOMAIN";

impl Address {
    fn mailbox(name: Option<Vec<u8>>, route: Option<Vec<u8>>, mailbox: Option<Vec<u8>>, host: Option<Vec<u8>>) -> Self {
        Address {
            name: name.filter(|n| !n.is_empty()),
            route,
            mailbox: Some(mailbox.unwrap_or_else(|| MISSING_MAILBOX.to_vec())),
            host: Some(
                host.filter(|h| !h.is_empty())
                    .unwrap_or_else(|| MISSING_DOMAIN.to_vec()),
            ),
        }
    }

    fn group_start(name: Vec<u8>) -> Self {
        Address {
            mailbox: Some(name),
            ..Address::default()
        }
    }
}

/// Parses an address-list. Empty list members (`a, , b`) are dropped, as
/// RFC 5322 §4.4 says; text that is no address is skipped up to the next
/// comma.
pub(crate) fn parse_list(value: &[u8]) -> Vec<Address> {
    let mut lx = Lexer::new(value);
    let mut out = Vec::new();
    loop {
        lx.skip_cfws();
        if lx.at_end() {
            break;
        }
        if lx.eat(b',') {
            continue;
        }
        let start = lx.pos;
        if !group(&mut lx, &mut out) {
            lx.pos = start;
            mailbox(&mut lx, &mut out);
        }
        lx.skip_cfws();
        if !lx.at_end() && lx.peek() != Some(b',') {
            lx.skip_to(b",");
        }
        if lx.pos == start {
            // Nothing could be read here; never loop in place.
            lx.pos += 1;
        }
    }
    out
}

/// An address-list written plainly for SEARCH FROM/TO/CC/BCC: per
/// address `name <local@domain>` with the name's encoded words decoded
/// (RFC 2047 §6), quoted local parts unquoted and every comment and
/// folding white space between the tokens gone (RFC 5322 §3.4.1, §4.4),
/// groups as `name: members;`. SEARCH looks for its needle in this text
/// as well as in the field as written, so `user@domain.org` finds
/// `<user (c)@ (c) domain.org>`; Dovecot likewise searches addresses in a
/// rewritten form.
pub(crate) fn searchable(value: &[u8]) -> String {
    let mut out = String::new();
    let mut after_group_start = false;
    for address in parse_list(value) {
        let separator = if out.is_empty() || after_group_start { "" } else { ", " };
        after_group_start = false;
        match (&address.mailbox, &address.host) {
            // A group's end marker (RFC 9051 §7.5.2).
            (None, None) => out.push(';'),
            // A group's start marker: the group's name.
            (Some(name), None) => {
                out.push_str(separator);
                out.push_str(&crate::decode::rfc2047(name));
                out.push_str(": ");
                after_group_start = true;
            }
            (mailbox, host) => {
                out.push_str(separator);
                if let Some(name) = &address.name {
                    out.push_str(&crate::decode::rfc2047(name));
                    out.push(' ');
                }
                out.push('<');
                fn present<'a>(part: &'a Option<Vec<u8>>, missing: &[u8]) -> Option<std::borrow::Cow<'a, str>> {
                    part.as_deref().filter(|p| *p != missing).map(String::from_utf8_lossy)
                }
                if let Some(local) = present(mailbox, MISSING_MAILBOX) {
                    out.push_str(&local);
                }
                if let Some(domain) = present(host, MISSING_DOMAIN) {
                    out.push('@');
                    out.push_str(&domain);
                }
                out.push('>');
            }
        }
    }
    out
}

/// `group = display-name ":" [group-list] ";"`. Returns false (having
/// pushed nothing) when no group starts here.
fn group(lx: &mut Lexer<'_>, out: &mut Vec<Address>) -> bool {
    let Some(name) = phrase(lx) else { return false };
    lx.skip_cfws();
    if !lx.eat(b':') {
        return false;
    }
    out.push(Address::group_start(name));
    loop {
        lx.skip_cfws();
        if lx.at_end() || lx.eat(b';') {
            break;
        }
        if lx.eat(b',') {
            continue;
        }
        let start = lx.pos;
        mailbox(lx, out);
        lx.skip_cfws();
        if !lx.at_end() && !matches!(lx.peek(), Some(b',' | b';')) {
            lx.skip_to(b",;");
        }
        if lx.pos == start {
            lx.pos += 1;
        }
    }
    out.push(Address::default());
    true
}

/// `mailbox = name-addr / addr-spec`; also takes a bare phrase (no
/// address at all) as a name with the address parts missing.
fn mailbox(lx: &mut Lexer<'_>, out: &mut Vec<Address>) {
    let start = lx.pos;
    let name = phrase(lx);
    lx.skip_cfws();
    if lx.peek() == Some(b'<') {
        let parts = angle_addr(lx);
        out.push(Address::mailbox(name, parts.route, parts.mailbox, parts.host));
        return;
    }
    // addr-spec; a trailing comment can carry the name (RFC 5322 §3.4 notes
    // that some writers do this).
    lx.pos = start;
    lx.last_comment = None;
    let local = local_part(lx);
    lx.skip_cfws();
    let host = if lx.eat(b'@') { domain(lx) } else { None };
    if local.is_some() && host.is_none() && !lx.at_end() && !matches!(lx.peek(), Some(b',' | b';')) {
        // Words without an address: a name alone.
        lx.pos = start;
        let name = phrase(lx);
        out.push(Address::mailbox(name, None, None, None));
        return;
    }
    lx.skip_cfws();
    let name = lx.last_comment.take();
    if local.is_none() && host.is_none() && name.is_none() {
        return;
    }
    out.push(Address::mailbox(name, None, local, host));
}

/// `angle-addr = "<" [obs-route] addr-spec ">"`, at the `<`; the result
/// has no name yet.
fn angle_addr(lx: &mut Lexer<'_>) -> Address {
    lx.eat(b'<');
    lx.skip_cfws();
    let mut route = None;
    if lx.peek() == Some(b'@') {
        // obs-route = obs-domain-list ":" (RFC 5322 §4.4)
        let mut list = Vec::new();
        while lx.eat(b'@') {
            if !list.is_empty() {
                list.push(b',');
            }
            list.push(b'@');
            list.extend(domain(lx).unwrap_or_default());
            lx.skip_cfws();
            while lx.eat(b',') {
                lx.skip_cfws();
            }
        }
        lx.eat(b':');
        route = Some(list);
        lx.skip_cfws();
    }
    let mailbox = local_part(lx);
    lx.skip_cfws();
    let host = if lx.eat(b'@') { domain(lx) } else { None };
    lx.skip_to(b">");
    lx.eat(b'>');
    Address {
        name: None,
        route,
        mailbox,
        host,
    }
}

/// `word = atom / quoted-string`.
fn word(lx: &mut Lexer<'_>) -> Option<Vec<u8>> {
    match lx.peek() {
        Some(b'"') => Some(lx.quoted()),
        _ => lx.atom().map(<[u8]>::to_vec),
    }
}

/// `local-part`, including `obs-local-part = word *("." word)` with CFWS
/// around the dots (`john . doe`).
fn local_part(lx: &mut Lexer<'_>) -> Option<Vec<u8>> {
    lx.skip_cfws();
    let mut out = word(lx)?;
    loop {
        let save = lx.pos;
        lx.skip_cfws();
        if !lx.eat(b'.') {
            lx.pos = save;
            return Some(out);
        }
        out.push(b'.');
        lx.skip_cfws();
        if let Some(w) = word(lx) {
            out.extend(w);
        }
    }
}

/// `domain = dot-atom / domain-literal / obs-domain`, with CFWS around dots.
fn domain(lx: &mut Lexer<'_>) -> Option<Vec<u8>> {
    lx.skip_cfws();
    if lx.peek() == Some(b'[') {
        let start = lx.pos;
        lx.skip_to(b"]");
        lx.eat(b']');
        return lx.slice(start).map(<[u8]>::to_vec);
    }
    let mut out = lx.atom()?.to_vec();
    loop {
        let save = lx.pos;
        lx.skip_cfws();
        if !lx.eat(b'.') {
            lx.pos = save;
            return Some(out);
        }
        out.push(b'.');
        lx.skip_cfws();
        if let Some(atom) = lx.atom() {
            out.extend_from_slice(atom);
        }
    }
}

/// `phrase = 1*word / obs-phrase` (words, dots and CFWS, §4.1): the words
/// joined by single spaces; a dot sticks to the word before it.
fn phrase(lx: &mut Lexer<'_>) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    loop {
        lx.skip_cfws();
        let piece = match lx.peek() {
            Some(b'"') => lx.quoted(),
            Some(b) if is_atext(b) || b == b'.' => match lx.run(|b| is_atext(b) || b == b'.') {
                Some(run) => run.to_vec(),
                None => break,
            },
            _ => break,
        };
        match &mut out {
            Some(text) => {
                text.push(b' ');
                text.extend(piece);
            }
            None => out = Some(piece),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(name: Option<&str>, route: Option<&str>, mailbox: Option<&str>, host: Option<&str>) -> Address {
        let v = |s: Option<&str>| s.map(|s| s.as_bytes().to_vec());
        Address {
            name: v(name),
            route: v(route),
            mailbox: v(mailbox),
            host: v(host),
        }
    }

    #[test]
    fn names_quotes_and_comments() {
        let list = parse_list(
            b"\"Smith \\\"The Hammer\\\" J.\" <hammer@example.test>, Plain Name <plain@example.test> (a comment), \
              jane@example.test (Jane Roe), \"\" <emptyname@example.test>, <bare@example.test>, \
              \"a@b.test\" <quoted-at@example.test>, Joe Q. Public <jqp@example.test>",
        );
        assert_eq!(
            list,
            vec![
                addr(
                    Some("Smith \"The Hammer\" J."),
                    None,
                    Some("hammer"),
                    Some("example.test")
                ),
                addr(Some("Plain Name"), None, Some("plain"), Some("example.test")),
                addr(Some("Jane Roe"), None, Some("jane"), Some("example.test")),
                addr(None, None, Some("emptyname"), Some("example.test")),
                addr(None, None, Some("bare"), Some("example.test")),
                addr(Some("a@b.test"), None, Some("quoted-at"), Some("example.test")),
                addr(Some("Joe Q. Public"), None, Some("jqp"), Some("example.test")),
            ]
        );
    }

    #[test]
    fn groups() {
        let list = parse_list(b"Team: alice@example.test, \"Bob B\" <bob@example.test>;, dave@example.test");
        assert_eq!(
            list,
            vec![
                addr(None, None, Some("Team"), None),
                addr(None, None, Some("alice"), Some("example.test")),
                addr(Some("Bob B"), None, Some("bob"), Some("example.test")),
                addr(None, None, None, None),
                addr(None, None, Some("dave"), Some("example.test")),
            ]
        );
        assert_eq!(
            parse_list(b"undisclosed-recipients:;"),
            vec![
                addr(None, None, Some("undisclosed-recipients"), None),
                addr(None, None, None, None)
            ]
        );
    }

    #[test]
    fn obsolete_syntax() {
        assert_eq!(
            parse_list(b"Joe <@relay1.example.test,@relay2.example.test:jqp@example.test>"),
            vec![addr(
                Some("Joe"),
                Some("@relay1.example.test,@relay2.example.test"),
                Some("jqp"),
                Some("example.test")
            )]
        );
        // obs-local-part and obs-domain with CFWS around the dots.
        assert_eq!(
            parse_list(b"john . doe @ example . test"),
            vec![addr(None, None, Some("john.doe"), Some("example.test"))]
        );
        // Null members are ignored (RFC 5322 §4.4).
        assert_eq!(parse_list(b"a@x.test, , , b@y.test").len(), 2);
    }

    #[test]
    fn searchable_forms() {
        let cases: [(&[u8], &str); 7] = [
            (b"<user-from (comment)@ (comment) domain.org>", "<user-from@domain.org>"),
            (
                b"(c) user-from (c) @ (c) domain (c) . (c) org (c)",
                "c <user-from@domain.org>",
            ),
            (
                b"\"John \\\"Q\\\" Doe\" <\"john doe\"@x.test>",
                "John \"Q\" Doe <john doe@x.test>",
            ),
            (
                b"=?UTF-8?Q?J=C3=BCrgen?= =?UTF-8?Q?_M=C3=BCller?= <jm@x.test>",
                "J\u{fc}rgen M\u{fc}ller <jm@x.test>",
            ),
            (
                b"Team: a@x.test, B <b@x.test>;, c@y.test",
                "Team: <a@x.test>, B <b@x.test>;, <c@y.test>",
            ),
            (b"undisclosed-recipients:;", "undisclosed-recipients: ;"),
            (b"Just A Name", "Just A Name <>"),
        ];
        for (value, expected) in cases {
            assert_eq!(searchable(value), expected, "{}", String::from_utf8_lossy(value));
        }
    }

    #[test]
    fn broken_addresses_are_filled_in() {
        assert_eq!(
            parse_list(b"bob"),
            vec![addr(None, None, Some("bob"), Some("MISSING_DOMAIN"))]
        );
        assert_eq!(
            parse_list(b"Undisclosed recipients"),
            vec![addr(
                Some("Undisclosed recipients"),
                None,
                Some("MISSING_MAILBOX"),
                Some("MISSING_DOMAIN")
            )]
        );
        assert_eq!(parse_list(b""), vec![]);
        assert_eq!(parse_list(b" , ;;; ").len(), 0);
        assert_eq!(
            parse_list("Jörg <jörg@bücher.test>".as_bytes())[0].host.as_deref(),
            Some("bücher.test".as_bytes())
        );
        // Garbage never makes the parser loop or panic.
        for junk in [&b"<<<>>>"[..], b"\"", b"(", b"@@@", b":;:;", b"a <b@c", b"<@x"] {
            parse_list(junk);
        }
    }
}
