//! Message flags: the system flags of RFC 9051 §2.3.2 as a bit set, and
//! keywords. (\Recent is per session, not stored.)

/// The system flags, as stored in `messages.flags`.
pub const SEEN: i64 = 1;
pub const ANSWERED: i64 = 2;
pub const FLAGGED: i64 = 4;
pub const DELETED: i64 = 8;
pub const DRAFT: i64 = 16;

const SYSTEM: [(i64, &str); 5] = [
    (SEEN, "\\Seen"),
    (ANSWERED, "\\Answered"),
    (FLAGGED, "\\Flagged"),
    (DELETED, "\\Deleted"),
    (DRAFT, "\\Draft"),
];

/// The order of keywords, case-insensitive as RFC 9051 §2.3.2 compares
/// them; keywords are ASCII atoms, so this needs no lower-case copy.
pub fn keyword_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

/// A message's flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub system: i64,
    /// Keywords, as first written, sorted and without duplicates
    /// (compared case-insensitively, as RFC 9051 §2.3.2 asks).
    pub keywords: Vec<String>,
}

impl Flags {
    /// Reads IMAP flag names; unknown system flags (like \Recent) are
    /// ignored, since a client cannot set them.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Flags {
        let mut flags = Flags::default();
        for name in names {
            let name = name.as_ref();
            if let Some(system) = name.strip_prefix('\\') {
                if let Some((bit, _)) = SYSTEM.iter().find(|(_, n)| n[1..].eq_ignore_ascii_case(system)) {
                    flags.system |= bit;
                }
            } else {
                flags.keywords.push(name.to_string());
            }
        }
        // Sorted, then duplicates dropped: no comparison of each with all
        // the others, however many a command names. The sort is stable,
        // so the first spelling stays.
        flags.keywords.sort_by(|a, b| keyword_order(a, b));
        flags.keywords.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        flags
    }

    /// The flag names, system flags first.
    pub fn names(&self) -> Vec<String> {
        SYSTEM
            .iter()
            .filter(|(bit, _)| self.system & bit != 0)
            .map(|(_, name)| name.to_string())
            .chain(self.keywords.iter().cloned())
            .collect()
    }

    pub fn has(&self, bit: i64) -> bool {
        self.system & bit != 0
    }

    pub fn has_keyword(&self, keyword: &str) -> bool {
        self.keywords.iter().any(|k| k.eq_ignore_ascii_case(keyword))
    }

    /// `self` with `other` added.
    pub fn with(&self, other: &Flags) -> Flags {
        let mut names = self.names();
        names.extend(other.names());
        Flags::from_names(&names)
    }

    /// `self` with `other` taken away.
    pub fn without(&self, other: &Flags) -> Flags {
        Flags {
            system: self.system & !other.system,
            keywords: self
                .keywords
                .iter()
                .filter(|k| !other.has_keyword(k))
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_writes_and_combines() {
        let flags = Flags::from_names(&["\\seen", "$Junk", "\\Flagged", "$junk", "\\Recent"]);
        assert_eq!(flags.system, SEEN | FLAGGED);
        assert_eq!(flags.names(), ["\\Seen", "\\Flagged", "$Junk"]);
        let more = flags.with(&Flags::from_names(&["\\Deleted", "Work"]));
        assert_eq!(more.names(), ["\\Seen", "\\Flagged", "\\Deleted", "$Junk", "Work"]);
        assert_eq!(
            more.without(&Flags::from_names(&["\\Seen", "$JUNK"])).names(),
            ["\\Flagged", "\\Deleted", "Work"]
        );
    }
}
