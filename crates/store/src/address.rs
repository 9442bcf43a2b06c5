//! How the store compares addresses: domains in their lower-case A-label
//! form (RFC 6531 §3.2: internationalized domains compare as A-labels),
//! local parts in lower case (as Postfix's and Dovecot's lookups do),
//! quotes that protect nothing removed (RFC 5321 §4.1.2: `"bob"@x` is `bob@x`).

/// Lower-cases a domain, converts U-labels to A-labels (UTS 46) and drops
/// one trailing dot. Address literals and names IDNA refuses are only
/// lower-cased; they then match nothing hosted.
pub fn normalize_domain(domain: &str) -> String {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.starts_with('[') {
        return domain.to_lowercase();
    }
    idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_lowercase())
}

/// Lower-cases a local part and unquotes it when quoting was not needed.
pub fn normalize_local_part(local: &str) -> String {
    let unquoted = local
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .filter(|inner| {
            !inner.is_empty()
                && inner.split('.').all(|atom| {
                    !atom.is_empty()
                        && atom
                            .chars()
                            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
                })
        });
    unquoted.unwrap_or(local).to_lowercase()
}

/// Splits `local@domain` at the last '@' into normalized parts. A leading
/// '@' (a catch-all alias) gives an empty local part.
pub fn split_address(address: &str) -> Option<(String, String)> {
    let (local, domain) = address.rsplit_once('@')?;
    let quoted = local.starts_with('"');
    if domain.is_empty() || (!quoted && local.contains(char::is_whitespace)) {
        return None;
    }
    Some((normalize_local_part(local), normalize_domain(domain)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(
            split_address("Alice@Example.TEST"),
            Some(("alice".into(), "example.test".into()))
        );
        assert_eq!(split_address("\"Bob\"@x.test"), Some(("bob".into(), "x.test".into())));
        assert_eq!(split_address("\"a b\"@x.test").unwrap().0, "\"a b\"");
        assert_eq!(split_address("@x.test"), Some((String::new(), "x.test".into())));
        assert_eq!(split_address("nodomain"), None);
        assert_eq!(normalize_domain("Example.test."), "example.test");
        assert_eq!(normalize_domain("Bücher.TEST"), "xn--bcher-kva.test");
        assert_eq!(normalize_domain("xn--bcher-kva.test"), "xn--bcher-kva.test");
        assert_eq!(normalize_domain("[IPv6:::1]"), "[ipv6:::1]");
    }
}
