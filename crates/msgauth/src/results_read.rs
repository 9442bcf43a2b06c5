//! Reading an Authentication-Results value (RFC 8601 §2.2) back: our own
//! verdict, recorded on a message when it arrived, is what we vouch for
//! when we forward it (the ARC-Authentication-Results of our ARC set).
//!
//! Property values in it came from outside (an address, a domain); the
//! reading is arc_trust's, which takes methods and results only from
//! keywords outside quoted strings and comments.

use crate::results::{header_fields, is_ours};

/// The value of the first Authentication-Results field under
/// `authserv_id` in the header of `message` (ours: any that arrived under
/// our name was removed), folded as it is, without the white space
/// around it; None if there is none.
pub fn ours(message: &[u8], authserv_id: &str) -> Option<String> {
    let field = header_fields(message).find(|field| is_ours(&message[field.clone()], authserv_id))?;
    let field = String::from_utf8_lossy(&message[field]).into_owned();
    let (_, value) = field.split_once(':')?;
    Some(value.trim().to_string())
}

/// The result each method reached, in order: `[("spf", "pass"), ("arc",
/// "fail"), ...]`, from a value whose first part is the authserv-id.
/// Methods and results are keywords, never quoted strings (arc_trust's
/// reader), so a sender who writes `; arc=pass` into an address or a
/// comment adds no result.
pub fn method_results(value: &str) -> Vec<(String, String)> {
    crate::arc_trust::aar_results(value.as_bytes())
        .unwrap_or_default()
        .into_iter()
        .map(|result| (result.method, result.result))
        .collect()
}

/// The domains (`header.d`, lower case) of the DKIM signatures that
/// passed, from an Authentication-Results value read as
/// [`method_results`] reads it: for TLS reports, which count only when
/// signed by their reporting domain (RFC 8460 §3).
pub fn dkim_pass_domains(value: &str) -> Vec<String> {
    crate::arc_trust::aar_results(value.as_bytes())
        .unwrap_or_default()
        .into_iter()
        .filter(|result| result.method == "dkim" && result.result == "pass")
        .filter_map(|result| {
            result
                .properties
                .into_iter()
                .find(|(name, _)| name == "header.d")
                .map(|(_, domain)| domain.to_ascii_lowercase())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_field_unfolded() {
        let message = b"Received: x\r\nAuthentication-Results: other.test; arc=pass\r\n\
Authentication-Results: mx.us.test;\r\n\tspf=pass smtp.mailfrom=a@b.test;\r\n\tarc=fail (broken)\r\n\r\nbody";
        let value = ours(message, "mx.us.test").unwrap();
        assert_eq!(
            value,
            "mx.us.test;\r\n\tspf=pass smtp.mailfrom=a@b.test;\r\n\tarc=fail (broken)"
        );
        assert_eq!(
            method_results(&value),
            vec![("spf".into(), "pass".into()), ("arc".into(), "fail".into())]
        );
        assert_eq!(ours(b"Subject: x\r\n\r\n", "mx.us.test"), None);
    }

    #[test]
    fn values_from_outside_cannot_add_a_result() {
        let value = "mx.us.test; spf=fail smtp.mailfrom=\"x; arc=pass (\"@evil.test;\
 dkim=fail (reason; arc=pass) header.d=evil.test; arc=none; (c) dmarc/1=PASS";
        assert_eq!(
            method_results(value),
            vec![
                ("spf".into(), "fail".into()),
                ("dkim".into(), "fail".into()),
                ("arc".into(), "none".into()),
                ("dmarc".into(), "pass".into()),
            ]
        );
        assert_eq!(method_results("mx.us.test; none"), vec![]);
    }

    #[test]
    fn passing_dkim_domains_are_read_from_keywords_only() {
        let value = "mx.example.org; dkim=pass (good; signature) header.d=Reports.Example header.s=s1; \
                     dkim=fail header.d=bad.example; spf=pass smtp.mailfrom=\"x; dkim=pass header.d=fake.example\"";
        assert_eq!(dkim_pass_domains(value), ["reports.example"]);
        assert!(dkim_pass_domains("mx.example.org; none").is_empty());
    }
}
