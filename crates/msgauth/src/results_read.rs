//! Reading an Authentication-Results value (RFC 8601 §2.2) back: our own
//! verdict, recorded on a message when it arrived, is what we vouch for
//! when we forward it (the ARC-Authentication-Results of our ARC set).
//!
//! Property values in it came from outside (an address, a domain), so it
//! is split only at the semicolons that separate results, never at one
//! inside a quoted string or a comment: a sender who writes `; arc=pass`
//! into its address cannot add a result.

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
pub fn method_results(value: &str) -> Vec<(String, String)> {
    top_level_parts(value)
        .into_iter()
        .skip(1)
        .filter_map(|part| {
            let part = strip_comments(part);
            let (method, rest) = part.trim().split_once('=')?;
            let result: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            let method = method.trim().to_ascii_lowercase();
            // `method/version=result` (RFC 8601 §2.2): the version is not
            // part of the name.
            let method = method.split('/').next().unwrap_or_default().trim().to_string();
            (!method.is_empty() && !result.is_empty()).then(|| (method, result.to_ascii_lowercase()))
        })
        .collect()
}

/// `value` split at semicolons outside quoted strings and comments.
fn top_level_parts(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut depth, mut quoted, mut escaped) = (0, 0usize, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted || depth > 0 => escaped = true,
            '"' if depth == 0 => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ';' if !quoted && depth == 0 => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// A part with its leading comments taken out (`(reason) dkim=pass`).
fn strip_comments(part: &str) -> &str {
    let mut part = part.trim_start();
    while let Some(rest) = part.strip_prefix('(') {
        let mut depth = 1usize;
        let end = rest.char_indices().find_map(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i + 1)
        });
        part = rest[end.unwrap_or(rest.len())..].trim_start();
    }
    part
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
}
