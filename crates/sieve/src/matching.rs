//! Comparing a value with a key (RFC 5228 §2.7): the comparators of RFC
//! 4790 (i;octet, i;ascii-casemap, i;ascii-numeric), the match types :is,
//! :contains, :matches and the relational :value (RFC 5231).
//!
//! Every comparison is charged to a [`Budget`] by the work it does, so
//! that no key, however many wildcards it holds, can make one delivery
//! slow: the wildcard matcher is the linear-space, at most
//! value × pattern steps algorithm, never exponential backtracking.

use std::cmp::Ordering;

use crate::program::{Comparator, MatchKind};

/// What a script may spend on one delivery, in steps of work (a command,
/// a character compared). Running out stops the script; the message is
/// then kept (RFC 5228 §2.10.6).
#[derive(Debug)]
pub struct Budget {
    left: u64,
}

/// The budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

impl Budget {
    pub fn new(steps: u64) -> Self {
        Budget { left: steps }
    }

    pub fn charge(&mut self, steps: u64) -> Result<(), Exhausted> {
        self.left = self.left.checked_sub(steps).ok_or(Exhausted)?;
        Ok(())
    }
}

/// Whether `value` matches `key`; for :matches, `captures` receives the
/// whole value and what each wildcard matched (RFC 5229 §3.2).
pub(crate) fn matches(
    comparator: Comparator,
    kind: MatchKind,
    value: &str,
    key: &str,
    captures: Option<&mut Vec<String>>,
    budget: &mut Budget,
) -> Result<bool, Exhausted> {
    budget.charge(1 + (value.len() + key.len()) as u64)?;
    Ok(match kind {
        MatchKind::Is => order(comparator, value, key) == Ordering::Equal,
        MatchKind::Contains => match comparator {
            Comparator::Octet => value.contains(key),
            _ => value.to_ascii_lowercase().contains(&key.to_ascii_lowercase()),
        },
        MatchKind::Matches => return wildcard(comparator, value, key, captures, budget),
        MatchKind::Value(relation) => relation.holds(order(comparator, value, key)),
        // Counting is the caller's: it counts values, not characters.
        MatchKind::Count(relation) => relation.holds(order(comparator, value, key)),
    })
}

/// The order of two strings under a comparator (RFC 4790 §9).
pub(crate) fn order(comparator: Comparator, a: &str, b: &str) -> Ordering {
    match comparator {
        Comparator::Octet => a.as_bytes().cmp(b.as_bytes()),
        // §9.2: both strings in upper case, then as octets.
        Comparator::AsciiCasemap => a
            .bytes()
            .map(|b| b.to_ascii_uppercase())
            .cmp(b.bytes().map(|b| b.to_ascii_uppercase())),
        Comparator::AsciiNumeric => numeric_order(a, b),
    }
}

/// RFC 4790 §9.1: the number of leading digits, any length; a string
/// that does not start with a digit is positive infinity, equal to any
/// other such string.
fn numeric_order(a: &str, b: &str) -> Ordering {
    fn digits(s: &str) -> Option<&str> {
        let end = s.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
        (end > 0).then(|| s[..end].trim_start_matches('0'))
    }
    match (digits(a), digits(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Literal(char),
    /// `?`: one character.
    One,
    /// `*`: any run of characters.
    Any,
}

/// `*` and `?` with `\` escaping (RFC 5228 §2.7.1). Each wildcard takes
/// as little as it can, leftmost first, which is what RFC 5229's examples
/// show (`[*] *` on `[acme-users] [fwd] ...` gives `acme-users`). The
/// classic single-backtrack-point algorithm finds exactly that match: on a
/// mismatch only the last `*` grows, as every earlier one already took
/// the least it could.
fn wildcard(
    comparator: Comparator,
    value: &str,
    pattern: &str,
    captures: Option<&mut Vec<String>>,
    budget: &mut Budget,
) -> Result<bool, Exhausted> {
    let pieces = parse_pattern(pattern);
    let chars: Vec<char> = value.chars().collect();
    let same = |a: char, b: char| match comparator {
        Comparator::Octet => a == b,
        _ => a.eq_ignore_ascii_case(&b),
    };
    // Where in the value each piece matched, for the captures.
    let mut at = vec![0usize; pieces.len()];
    let (mut v, mut p) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while v < chars.len() {
        budget.charge(1)?;
        match pieces.get(p) {
            Some(Piece::Any) => {
                at[p] = v;
                backtrack = Some((p, v));
                p += 1;
            }
            Some(&Piece::Literal(c)) if same(c, chars[v]) => {
                at[p] = v;
                p += 1;
                v += 1;
            }
            Some(Piece::One) => {
                at[p] = v;
                p += 1;
                v += 1;
            }
            _ => match backtrack {
                // Let the last `*` take one more character and retry.
                Some((star, start)) => {
                    backtrack = Some((star, start + 1));
                    p = star + 1;
                    v = start + 1;
                }
                None => return Ok(false),
            },
        }
    }
    while pieces.get(p) == Some(&Piece::Any) {
        at[p] = v;
        p += 1;
    }
    if p != pieces.len() {
        return Ok(false);
    }
    if let Some(captures) = captures {
        captures.clear();
        captures.push(value.to_string());
        for (i, piece) in pieces.iter().enumerate() {
            match piece {
                Piece::Literal(_) => {}
                Piece::One => captures.push(chars[at[i]].to_string()),
                Piece::Any => {
                    let end = at.get(i + 1).copied().unwrap_or(chars.len());
                    captures.push(chars[at[i]..end].iter().collect());
                }
            }
        }
    }
    Ok(true)
}

fn parse_pattern(pattern: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        pieces.push(match c {
            '*' => Piece::Any,
            '?' => Piece::One,
            '\\' => match chars.next() {
                Some(escaped) => Piece::Literal(escaped),
                None => Piece::Literal('\\'),
            },
            c => Piece::Literal(c),
        });
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::Relation;

    fn budget() -> Budget {
        Budget::new(u64::MAX)
    }

    fn glob(value: &str, pattern: &str) -> Option<Vec<String>> {
        let mut captures = Vec::new();
        wildcard(
            Comparator::AsciiCasemap,
            value,
            pattern,
            Some(&mut captures),
            &mut budget(),
        )
        .unwrap()
        .then_some(captures)
    }

    #[test]
    fn wildcards_take_the_least_leftmost_first() {
        // RFC 5229 §3.2's examples.
        assert_eq!(
            glob("[acme-users] [fwd] version 1.0 is out", "[*] *").unwrap(),
            [
                "[acme-users] [fwd] version 1.0 is out",
                "acme-users",
                "[fwd] version 1.0 is out"
            ]
        );
        assert_eq!(
            glob("coyote@example.com", "*@*").unwrap(),
            ["coyote@example.com", "coyote", "example.com"]
        );
        assert_eq!(glob("a.b.c", "*.*").unwrap()[1..], ["a", "b.c"]);
        assert_eq!(glob("abc", "**").unwrap()[1..], ["", "abc"]);
        assert_eq!(glob("abcd", "?b*").unwrap()[1..], ["a", "cd"]);
        assert_eq!(glob("", "*").unwrap()[1..], [""]);
        assert!(glob("", "?").is_none());
        assert!(glob("abc", "*d").is_none());
        assert!(glob("aXb", "a?b").is_some());
        assert!(glob("ABC", "a*c").is_some());
        assert!(glob("a*c", "a\\*c").is_some());
        assert!(glob("abc", "a\\*c").is_none());
        assert!(glob("a\\", "a\\\\").is_some());
        assert_eq!(glob("ünï", "?n?").unwrap()[1..], ["ü", "ï"]);
    }

    #[test]
    fn the_octet_comparator_is_case_sensitive() {
        let mut b = budget();
        assert!(!wildcard(Comparator::Octet, "ABC", "a*", None, &mut b).unwrap());
        assert!(!matches(Comparator::Octet, MatchKind::Is, "A", "a", None, &mut b).unwrap());
        assert!(matches(Comparator::AsciiCasemap, MatchKind::Is, "A", "a", None, &mut b).unwrap());
        assert!(
            matches(
                Comparator::AsciiCasemap,
                MatchKind::Contains,
                "Hello World",
                "O W",
                None,
                &mut b
            )
            .unwrap()
        );
        assert!(matches(Comparator::Octet, MatchKind::Contains, "x", "", None, &mut b).unwrap());
    }

    #[test]
    fn ascii_numeric_orders_by_value_and_puts_words_last() {
        use Ordering::*;
        assert_eq!(numeric_order("10", "9"), Greater);
        assert_eq!(numeric_order("007", "7"), Equal);
        assert_eq!(numeric_order("12abc", "12"), Equal);
        assert_eq!(numeric_order("abc", "99999999999999999999999"), Greater);
        assert_eq!(numeric_order("abc", "x"), Equal);
        assert_eq!(numeric_order("0", "00"), Equal);
        let mut b = budget();
        let value = |r, a, k| {
            matches(
                Comparator::AsciiNumeric,
                MatchKind::Value(r),
                a,
                k,
                None,
                &mut Budget::new(100),
            )
            .unwrap()
        };
        assert!(value(Relation::Gt, "10", "9"));
        assert!(value(Relation::Le, "3", "3"));
        assert!(!value(Relation::Ne, "3", "003"));
        assert!(
            matches(
                Comparator::AsciiCasemap,
                MatchKind::Value(Relation::Lt),
                "a",
                "B",
                None,
                &mut b
            )
            .unwrap()
        );
    }

    #[test]
    fn a_wildcard_bomb_is_bounded_by_the_budget() {
        // The matcher's worst case: every start of the star retries a
        // long literal run (value × pattern steps).
        let value = "a".repeat(20_000);
        let pattern = format!("*{}b", "a".repeat(5_000));
        let mut small = Budget::new(1_000_000);
        assert_eq!(
            wildcard(Comparator::Octet, &value, &pattern, None, &mut small),
            Err(Exhausted)
        );
        // Many stars cost no more than one: each grows only once.
        let mut steps = Budget::new(100_000);
        let many_stars = format!("{}b", "*a".repeat(5_000));
        assert!(!wildcard(Comparator::Octet, &value, &many_stars, None, &mut steps).unwrap());
        let mut b = budget();
        assert!(
            wildcard(
                Comparator::Octet,
                &"a".repeat(200),
                &format!("{}*", "*a".repeat(50)),
                None,
                &mut b
            )
            .unwrap()
        );
    }
}
