//! LIST mailbox patterns (RFC 9051 §6.3.9): `*` matches anything, `%`
//! anything but the hierarchy separator, every other character itself.
//!
//! A pattern is matched as a set of positions reached in it, moved along
//! the name one character at a time (a bit per position), so a name costs
//! len(name) × (len(pattern) / 64 word operations + a binary search among
//! the pattern's distinct characters) whatever the pattern: a
//! backtracking matcher tried every way of spreading the name over the
//! wildcards, exponential in their number (issue 12, attack 3).

use store::SEPARATOR;

/// Why a pattern is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatternError {
    TooLong,
    TooManyWildcards,
}

/// How big the patterns of one LIST may be, all together: matching costs
/// their length times the names' length.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PatternLimits {
    /// Characters, reference name included with each pattern.
    pub max_len: usize,
    /// `*` and `%`.
    pub max_wildcards: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Star,
    Percent,
    Char(char),
}

#[derive(Debug)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
    /// Positions holding `*` and `%`, as bit sets over the positions.
    star: Vec<u64>,
    percent: Vec<u64>,
    /// For each distinct literal character, the positions holding it,
    /// sorted by character: one binary search per character of a name.
    literals: Vec<(char, Vec<u64>)>,
}

impl Pattern {
    /// Compiles `pattern`, taking what it spends from `limits`, which
    /// then says what is left for the LIST's other patterns.
    pub(crate) fn new(pattern: &str, limits: &mut PatternLimits) -> Result<Pattern, PatternError> {
        let len = pattern.chars().count();
        let wildcards = pattern.chars().filter(|&c| c == '*' || c == '%').count();
        limits.max_len = limits.max_len.checked_sub(len).ok_or(PatternError::TooLong)?;
        limits.max_wildcards = limits
            .max_wildcards
            .checked_sub(wildcards)
            .ok_or(PatternError::TooManyWildcards)?;
        // A run of wildcards matches what its widest member matches, so it
        // becomes one: then no wildcard follows another, which `close`
        // relies on.
        let mut tokens: Vec<Token> = Vec::new();
        for c in pattern.chars() {
            let token = match c {
                '*' => Token::Star,
                '%' => Token::Percent,
                c => Token::Char(c),
            };
            match (tokens.last_mut(), token) {
                (Some(last @ (Token::Star | Token::Percent)), Token::Star | Token::Percent) => {
                    if token == Token::Star {
                        *last = Token::Star;
                    }
                }
                _ => tokens.push(token),
            }
        }
        let words = (tokens.len() + 1).div_ceil(64);
        let mut star = vec![0; words];
        let mut percent = vec![0; words];
        let mut literals: std::collections::BTreeMap<char, Vec<u64>> = std::collections::BTreeMap::new();
        for (i, token) in tokens.iter().enumerate() {
            let set = match token {
                Token::Star => &mut star,
                Token::Percent => &mut percent,
                Token::Char(c) => literals.entry(*c).or_insert_with(|| vec![0; words]),
            };
            set[i / 64] |= 1 << (i % 64);
        }
        Ok(Pattern {
            tokens,
            star,
            percent,
            literals: literals.into_iter().collect(),
        })
    }

    /// Whether `name` matches, all of it.
    pub(crate) fn matches(&self, name: &str) -> bool {
        let words = self.star.len();
        let mut reached = vec![0u64; words];
        reached[0] = 1;
        self.close(&mut reached);
        let mut next = vec![0u64; words];
        for c in name.chars() {
            let literal = self
                .literals
                .binary_search_by_key(&c, |(l, _)| *l)
                .ok()
                .map(|at| &self.literals[at].1);
            // A literal moves on by one; `*` stays on any character, `%`
            // on any but the separator.
            let mut carry = 0;
            for w in 0..words {
                let step = literal.map_or(0, |set| reached[w] & set[w]);
                let mut stay = reached[w] & self.star[w];
                if c != SEPARATOR {
                    stay |= reached[w] & self.percent[w];
                }
                next[w] = (step << 1) | carry | stay;
                carry = step >> 63;
            }
            self.close(&mut next);
            std::mem::swap(&mut reached, &mut next);
            if reached.iter().all(|&w| w == 0) {
                return false;
            }
        }
        let end = self.tokens.len();
        reached[end / 64] & (1 << (end % 64)) != 0
    }

    /// Adds the positions reached by letting each reached wildcard match
    /// nothing: one step, as no wildcard follows another.
    fn close(&self, reached: &mut [u64]) {
        let mut carry = 0;
        for ((word, star), percent) in reached.iter_mut().zip(&self.star).zip(&self.percent) {
            let skip = *word & (star | percent);
            *word |= (skip << 1) | carry;
            carry = skip >> 63;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: PatternLimits = PatternLimits {
        max_len: 2000,
        max_wildcards: 1000,
    };

    fn m(pattern: &str, name: &str) -> bool {
        Pattern::new(pattern, &mut LIMITS.clone()).unwrap().matches(name)
    }

    #[test]
    fn wildcards() {
        assert!(m("*", "a/b/c") && m("*", ""));
        assert!(m("%", "Sent") && !m("%", "a/b"));
        assert!(m("a/%", "a/b") && !m("a/%", "a/b/c"));
        assert!(m("a*c", "a/b/c") && !m("a%c", "a/b/c"));
        assert!(!m("Sent", "Sent2") && !m("Sent2", "Sent") && m("Sent", "Sent"));
        assert!(m("%/%", "a/b") && !m("%/%", "a/b/c") && m("%*", "a/b/c") && m("*%", "a/b"));
        assert!(m("%%/b", "a/b") && !m("%%", "a/b"));
        assert!(m("a*b*c", "aXbYc") && !m("a*b*c", "aXcYb") && m("*a", "bba") && !m("*a", "ab"));
        assert!(m("", "") && !m("", "a"));
    }

    #[test]
    fn long_patterns_cross_word_boundaries() {
        let name: String = (0..300).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        assert!(m(&name, &name));
        let mut starred = name.clone();
        starred.replace_range(70..140, "*");
        assert!(m(&starred, &name) && !m(&starred, &name[1..]));
        let mut percent = name.clone();
        percent.replace_range(63..65, "%");
        assert!(m(&percent, &name));
    }

    #[test]
    fn backtracking_patterns_cost_nothing() {
        let name = "a".repeat(10_000);
        let pattern = format!("{}*b", "*a".repeat(400));
        let started = std::time::Instant::now();
        assert!(!m(&pattern, &name));
        assert!(m(&format!("{}*", "*a".repeat(400)), &name));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn limits() {
        let limits = PatternLimits {
            max_len: 10,
            max_wildcards: 3,
        };
        assert_eq!(
            Pattern::new("abcdefghijk", &mut limits.clone()).unwrap_err(),
            PatternError::TooLong
        );
        assert_eq!(
            Pattern::new("*a*b%c*", &mut limits.clone()).unwrap_err(),
            PatternError::TooManyWildcards
        );
        let mut left = limits;
        assert!(Pattern::new("*a*b%c", &mut left).is_ok());
        assert_eq!((left.max_len, left.max_wildcards), (4, 0));
        assert_eq!(
            Pattern::new("%", &mut left).unwrap_err(),
            PatternError::TooManyWildcards
        );
        assert_eq!(Pattern::new("abcde", &mut left).unwrap_err(), PatternError::TooLong);
    }
}
