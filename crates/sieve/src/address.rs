//! The addresses a script names or tests: a redirect target must be a
//! mailbox (RFC 5228 §4.2), and address tests split one into its local
//! part and domain, and the local part into user and detail (RFC 5233).

/// Whether `address` is a plain `local@domain` mailbox: what redirect
/// takes. Display names, routes and groups are not addresses to send to.
pub fn is_valid_mailbox(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let plain =
        |part: &str| !part.is_empty() && !part.chars().any(|c| c.is_whitespace() || "<>()[],;:\\\"".contains(c));
    let quoted_local = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    (plain(local) || quoted_local) && plain(domain) && !domain.starts_with('.') && !domain.ends_with('.')
}

/// The separator between user and detail (RFC 5233 §4), as Postfix's
/// `recipient_delimiter` and Dovecot's default.
pub const DETAIL_SEPARATOR: char = '+';

/// The local part's user: what comes before the first separator.
pub fn user(local: &str) -> &str {
    local.split_once(DETAIL_SEPARATOR).map_or(local, |(user, _)| user)
}

/// The local part's detail, None when it has no separator (RFC 5233 §4:
/// then a :detail test fails whatever its key).
pub fn detail(local: &str) -> Option<&str> {
    local.split_once(DETAIL_SEPARATOR).map(|(_, detail)| detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes() {
        for good in ["a@b.example", "first.last+tag@example.org", "\"a b\"@example.org"] {
            assert!(is_valid_mailbox(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "@b",
            "a@",
            "a b@c",
            "<a@b>",
            "Name <a@b>",
            "a@b.",
            "a@.b",
            "a@b,c@d",
        ] {
            assert!(!is_valid_mailbox(bad), "{bad}");
        }
    }

    #[test]
    fn user_and_detail() {
        assert_eq!((user("ken+sieve"), detail("ken+sieve")), ("ken", Some("sieve")));
        assert_eq!((user("ken"), detail("ken")), ("ken", None));
        assert_eq!((user("ken+"), detail("ken+")), ("ken", Some("")));
        assert_eq!((user("a+b+c"), detail("a+b+c")), ("a", Some("b+c")));
    }
}
