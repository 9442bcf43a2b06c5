//! Variables (RFC 5229): `${name}` and `${N}` in strings, and the
//! modifiers of `set`. Names are case-insensitive (§3); an unknown
//! variable expands to the empty string; text that only looks like a
//! reference (`${`, `${a b}`) stays as written. Values are bounded, so
//! that doubling a variable in a loop of `set`s cannot grow without end.

use std::collections::HashMap;

use crate::program::Modifier;

/// The longest value a variable holds; longer ones are cut at a
/// character boundary. RFC 5229 §4 asks for at least 4000 octets.
pub const MAX_VARIABLE_SIZE: usize = 16 * 1024;

/// How many distinct variables a script may set.
pub const MAX_VARIABLES: usize = 256;

/// The variables of one script run: named ones, and the match variables
/// of the last successful :matches (§3.2).
#[derive(Debug, Default, Clone)]
pub(crate) struct Variables {
    pub named: HashMap<String, String>,
    pub matched: Vec<String>,
}

impl Variables {
    pub fn get(&self, name: &str) -> &str {
        self.named.get(&name.to_ascii_lowercase()).map_or("", String::as_str)
    }

    /// Sets a variable; false when the script already has the most
    /// variables allowed and this would be a new one.
    pub fn set(&mut self, name: &str, value: String) -> bool {
        let name = name.to_ascii_lowercase();
        if self.named.len() >= MAX_VARIABLES && !self.named.contains_key(&name) {
            return false;
        }
        self.named.insert(name, truncate(value));
        true
    }

    /// Expands every reference in `text`; `global` resolves the names a
    /// script declared global (RFC 6609 §3.4).
    pub fn expand(&self, text: &str, global: &dyn Fn(&str) -> Option<String>) -> String {
        if !text.contains("${") {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after.find('}').map(|end| (&after[..end], end)) {
                Some((name, end)) if is_reference(name) => {
                    let value = match name.parse::<usize>() {
                        Ok(n) => self.matched.get(n).map_or("", String::as_str).to_string(),
                        Err(_) => global(name).unwrap_or_else(|| self.get(name).to_string()),
                    };
                    out.push_str(&value);
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push_str("${");
                    rest = after;
                }
            }
            if out.len() > MAX_VARIABLE_SIZE * 4 {
                break;
            }
        }
        out.push_str(rest);
        truncate_to(out, MAX_VARIABLE_SIZE * 4)
    }
}

/// The name within the "global" namespace of `global.NAME` (RFC 6609
/// §3.5: the namespace of the include extension, no sub-namespaces).
pub(crate) fn global_name(name: &str) -> Option<&str> {
    name.get(..7)
        .filter(|prefix| prefix.eq_ignore_ascii_case("global."))
        .map(|_| &name[7..])
}

/// An identifier, `global.` and an identifier, or a number (RFC 5229
/// §3: `variable-ref`, `num-variable`).
fn is_reference(name: &str) -> bool {
    if let Some(name) = global_name(name) {
        return !name.starts_with(|c: char| c.is_ascii_digit()) && is_reference(name);
    }
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_digit() => name.bytes().all(|b| b.is_ascii_digit()) && name.len() <= 3,
        Some(c) if c.is_ascii_alphabetic() || c == '_' => chars.all(|c| c.is_ascii_alphanumeric() || c == '_'),
        _ => false,
    }
}

/// Applies `set`'s modifiers, already in their order of precedence.
pub(crate) fn modify(mut value: String, modifiers: &[Modifier]) -> String {
    for modifier in modifiers {
        value = match modifier {
            Modifier::Lower => value.to_lowercase(),
            Modifier::Upper => value.to_uppercase(),
            Modifier::LowerFirst => first_changed(&value, |c| c.to_lowercase().collect()),
            Modifier::UpperFirst => first_changed(&value, |c| c.to_uppercase().collect()),
            Modifier::QuoteWildcard => {
                let mut out = String::with_capacity(value.len());
                for c in value.chars() {
                    if matches!(c, '*' | '?' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out
            }
            Modifier::Length => value.chars().count().to_string(),
        };
    }
    value
}

fn first_changed(value: &str, change: impl Fn(char) -> String) -> String {
    let mut chars = value.chars();
    match chars.next() {
        Some(first) => change(first) + chars.as_str(),
        None => String::new(),
    }
}

pub(crate) fn truncate(value: String) -> String {
    truncate_to(value, MAX_VARIABLE_SIZE)
}

fn truncate_to(mut value: String, max: usize) -> String {
    if value.len() > max {
        let mut end = max;
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        value.truncate(end);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_globals(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn references_expand_and_lookalikes_stay() {
        let mut vars = Variables::default();
        vars.set("Company", "ACME".into());
        vars.matched = vec!["all".into(), "one".into()];
        // RFC 5229 §3's examples.
        assert_eq!(vars.expand("${company}", &no_globals), "ACME");
        assert_eq!(
            vars.expand("${President, ${Company} Inc.}", &no_globals),
            "${President, ACME Inc.}"
        );
        assert_eq!(vars.expand("${BAD${Company}", &no_globals), "${BADACME");
        assert_eq!(vars.expand("${unknown}${1}${01}${9}", &no_globals), "oneone");
        assert_eq!(vars.expand("${", &no_globals), "${");
        assert_eq!(vars.expand("$${company}}", &no_globals), "$ACME}");
        assert_eq!(
            vars.expand("${company}", &|n| (n == "company").then(|| "global".into())),
            "global"
        );
    }

    #[test]
    fn modifiers_apply_in_precedence_order() {
        use Modifier::*;
        assert_eq!(
            modify("juMBlEd lETteRS".into(), &[Lower, UpperFirst]),
            "Jumbled letters"
        );
        assert_eq!(modify("Ab*?\\".into(), &[QuoteWildcard]), "Ab\\*\\?\\\\");
        assert_eq!(modify("ÄÖ*".into(), &[QuoteWildcard, Length]), "4");
        assert_eq!(modify("ÄB".into(), &[LowerFirst]), "äB");
        assert_eq!(modify(String::new(), &[UpperFirst]), "");
    }

    #[test]
    fn values_and_counts_are_bounded() {
        let mut vars = Variables::default();
        vars.set("big", "é".repeat(MAX_VARIABLE_SIZE));
        assert_eq!(vars.get("BIG").len(), MAX_VARIABLE_SIZE);
        let doubled = vars.expand(&"${big}".repeat(100), &no_globals);
        assert!(doubled.len() <= MAX_VARIABLE_SIZE * 4);
        // "big" and these make the most a script may have.
        for i in 1..MAX_VARIABLES {
            assert!(vars.set(&format!("v{i}"), String::new()));
        }
        assert!(!vars.set("one_too_many", String::new()));
        assert!(vars.set("big", "still settable".into()));
    }
}
