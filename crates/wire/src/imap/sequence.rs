//! Sequence sets (RFC 9051 §9 sequence-set): `1,3:5,7:*`, and `$` for the
//! result saved by SEARCH RETURN (SAVE) (RFC 5182).

use super::parser::{Cursor, Step, bad};

/// One end of a range: a number, or `*` (the largest in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqNumber {
    Value(u32),
    Largest,
}

impl SeqNumber {
    /// The number, with `*` standing for `largest`.
    pub fn resolve(self, largest: u32) -> u32 {
        match self {
            SeqNumber::Value(n) => n,
            SeqNumber::Largest => largest,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SequenceSet {
    /// Ranges as written; `a:b` with a > b means the same as `b:a`.
    Ranges(Vec<(SeqNumber, SeqNumber)>),
    /// `$`: the saved search result.
    Saved,
}

impl SequenceSet {
    /// True if `n` is in the set, `largest` being what `*` means.
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        match self {
            SequenceSet::Saved => false,
            SequenceSet::Ranges(ranges) => ranges.iter().any(|(a, b)| {
                let (a, b) = (a.resolve(largest), b.resolve(largest));
                let (low, high) = if a <= b { (a, b) } else { (b, a) };
                (low..=high).contains(&n)
            }),
        }
    }
}

/// Bounds how many ranges one set may hold.
const MAX_RANGES: usize = 10_000;

pub(crate) fn sequence_set(c: &mut Cursor<'_>) -> Step<SequenceSet> {
    if c.peek() == Some(b'$') {
        c.pos += 1;
        return Ok(SequenceSet::Saved);
    }
    let text = c.token(
        |b| b.is_ascii_digit() || b == b':' || b == b',' || b == b'*',
        "a sequence set",
    )?;
    parse(text).map_or_else(|| bad(format!("{text:?} is not a valid sequence set")), Ok)
}

fn number(text: &str) -> Option<SeqNumber> {
    if text == "*" {
        return Some(SeqNumber::Largest);
    }
    // RFC 9051 §9: nz-number, no leading zero, at most 2^32-1.
    if text.starts_with('0') {
        return None;
    }
    text.parse::<u32>().ok().filter(|n| *n > 0).map(SeqNumber::Value)
}

fn parse(text: &str) -> Option<SequenceSet> {
    let mut ranges = Vec::new();
    for part in text.split(',') {
        let range = match part.split_once(':') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(part)?;
                (n, n)
            }
        };
        ranges.push(range);
        if ranges.len() > MAX_RANGES {
            return None;
        }
    }
    Some(SequenceSet::Ranges(ranges))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let set = parse("1,3:5,9:*").unwrap();
        let hits: Vec<u32> = (1..=12).filter(|n| set.contains(*n, 12)).collect();
        assert_eq!(hits, [1, 3, 4, 5, 9, 10, 11, 12]);
        assert!(parse("5:2").unwrap().contains(3, 10), "reversed ranges count");
        assert!(parse("*").unwrap().contains(7, 7));
        for bad in ["", "0", "1,", ":", "1:", "01", "4294967296", "1::2", "a"] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
