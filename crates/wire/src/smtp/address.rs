//! Envelope addresses, RFC 5321 §4.1.2 (with RFC 6531's UTF-8 extension).

use std::fmt;

/// RFC 5321 §4.5.3.1.1 and §4.5.3.1.2.
const MAX_LOCAL_PART: usize = 64;
const MAX_DOMAIN: usize = 255;

/// A `local-part@domain` address as the client wrote it. The local part keeps
/// its quoting; comparisons for delivery are the store's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    pub local_part: String,
    pub domain: String,
}

impl Mailbox {
    /// True when no part needs SMTPUTF8 (RFC 6531).
    pub fn is_ascii(&self) -> bool {
        self.local_part.is_ascii() && self.domain.is_ascii()
    }

    /// Parses a bare `local@domain` (no angle brackets), as typed on the
    /// command line.
    pub fn parse(s: &str) -> Option<Mailbox> {
        match parse_path(&format!("<{s}>")) {
            Ok((Some(mailbox), "")) => Some(mailbox),
            _ => None,
        }
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local_part, self.domain)
    }
}

/// The argument of MAIL FROM: a mailbox or the null path `<>` that bounces use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReversePath {
    Null,
    Mailbox(Mailbox),
}

impl fmt::Display for ReversePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReversePath::Null => Ok(()),
            ReversePath::Mailbox(m) => m.fmt(f),
        }
    }
}

/// The argument of RCPT TO. RFC 5321 §4.1.1.3: `<Postmaster>` without a domain
/// must be accepted and delivered to the postmaster of this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptPath {
    Postmaster,
    Mailbox(Mailbox),
}

/// Parses a path `<[source-route:]local@domain>` or `<>` at the start of `s`.
/// Returns `None` for the null path, and the text after the closing `>`.
pub fn parse_path(s: &str) -> Result<(Option<Mailbox>, &str), &'static str> {
    let s = s.trim_start_matches(' ');
    let inner_and_rest = s.strip_prefix('<').ok_or("Address must be enclosed in <>")?;
    if let Some(rest) = inner_and_rest.strip_prefix('>') {
        return Ok((None, rest));
    }
    // RFC 5321 §4.1.2: a source route (A-d-l) is accepted and ignored.
    let mut s = inner_and_rest;
    if s.starts_with('@') {
        let colon = s.find(':').ok_or("Bad source route syntax")?;
        let route = &s[..colon];
        if !route.split(',').all(|hop| hop.strip_prefix('@').is_some_and(is_domain)) {
            return Err("Bad source route syntax");
        }
        s = &s[colon + 1..];
    }
    let (local_part, after_local) = split_local_part(s)?;
    let after_at = after_local.strip_prefix('@').ok_or("Address must have a domain")?;
    let close = after_at.find('>').ok_or("Address must end with >")?;
    let domain = &after_at[..close];
    if !is_domain(domain) && !is_address_literal(domain) {
        return Err("Bad domain syntax");
    }
    if local_part.len() > MAX_LOCAL_PART || domain.len() > MAX_DOMAIN {
        return Err("Address too long");
    }
    let mailbox = Mailbox {
        local_part: local_part.to_string(),
        domain: domain.to_string(),
    };
    Ok((Some(mailbox), &after_at[close + 1..]))
}

/// Splits off a Dot-string or Quoted-string local part.
fn split_local_part(s: &str) -> Result<(&str, &str), &'static str> {
    if let Some(body) = s.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                _ if escaped => {
                    if c < ' ' {
                        return Err("Bad quoted local part");
                    }
                    escaped = false;
                }
                '\\' => escaped = true,
                '"' => return Ok((&s[..i + 2], &body[i + 1..])),
                _ if c < ' ' || c == '\x7f' => return Err("Bad quoted local part"),
                _ => {}
            }
        }
        return Err("Unterminated quoted local part");
    }
    let end = s.find(['@', '>']).unwrap_or(s.len());
    let local = &s[..end];
    if local.is_empty() || !local.split('.').all(is_atom) {
        return Err("Bad local part syntax");
    }
    Ok((local, &s[end..]))
}

/// RFC 5322 atext, plus any non-ASCII character (RFC 6531 §3.3).
fn is_atom(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii())
}

/// RFC 5321 Domain: dot-separated labels of letters, digits and inner
/// hyphens (non-ASCII allowed for U-labels, RFC 6531).
fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_DOMAIN
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        })
}

/// RFC 5321 §4.1.3 address literal: `[192.0.2.1]` or `[IPv6:...]`.
fn is_address_literal(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')) else {
        return false;
    };
    match inner.get(..5) {
        Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => inner[5..].parse::<std::net::Ipv6Addr>().is_ok(),
        _ => inner.parse::<std::net::Ipv4Addr>().is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(s: &str) -> Mailbox {
        parse_path(s).unwrap().0.unwrap()
    }

    #[test]
    fn parses_plain_and_null_paths() {
        let m = mailbox("<alice@example.test>");
        assert_eq!((m.local_part.as_str(), m.domain.as_str()), ("alice", "example.test"));
        assert_eq!(parse_path("<>").unwrap(), (None, ""));
        assert_eq!(parse_path("<> SIZE=10").unwrap().1, " SIZE=10");
    }

    #[test]
    fn ignores_source_routes_and_keeps_quotes() {
        assert_eq!(mailbox("<@a.test,@b.test:bob@c.test>").to_string(), "bob@c.test");
        assert_eq!(mailbox("<\"john doe\"@x.test>").local_part, "\"john doe\"");
        assert_eq!(mailbox("<\"a\\\"b\"@x.test>").local_part, "\"a\\\"b\"");
    }

    #[test]
    fn accepts_literals_and_utf8() {
        assert_eq!(mailbox("<u@[192.0.2.1]>").domain, "[192.0.2.1]");
        assert_eq!(mailbox("<u@[IPv6:::1]>").domain, "[IPv6:::1]");
        let m = mailbox("<jürgen@bücher.test>");
        assert!(!m.is_ascii());
    }

    #[test]
    fn parses_bare_addresses() {
        assert_eq!(Mailbox::parse("a@b.test").unwrap().to_string(), "a@b.test");
        assert!(Mailbox::parse("a@b.test> X").is_none());
        assert!(Mailbox::parse("nodomain").is_none());
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "alice@example.test",
            "<alice>",
            "<alice@>",
            "<@example.test>",
            "<a..b@example.test>",
            "<.a@example.test>",
            "<a@-example.test>",
            "<a@example..test>",
            "<a@example.test.>",
            "<a@[300.1.1.1]>",
            "<\"unterminated@example.test>",
            "<a b@example.test>",
            "<a@example.test",
        ] {
            assert!(parse_path(bad).is_err(), "{bad} should be rejected");
        }
        let long = format!("<{}@example.test>", "a".repeat(65));
        assert!(parse_path(&long).is_err());
    }
}
