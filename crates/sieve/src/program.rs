//! A compiled script: what `compile` makes of the generic syntax tree
//! once every name, tag and argument has been checked. This is the form
//! postamt stores beside the script's text (serialised with serde), so a
//! delivery never parses a script again.
//!
//! Strings are kept as written; when the script requires "variables"
//! (RFC 5229), the interpreter expands `${...}` in them as it runs.

use serde::{Deserialize, Serialize};

/// A whole compiled script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    /// The extensions its `require` commands named.
    pub extensions: Vec<String>,
    /// Whether strings are expanded (RFC 5229 §3).
    pub variables: bool,
    pub commands: Vec<Command>,
}

impl Program {
    /// The form a server stores beside the script's text (JSON): what
    /// deliveries load instead of compiling again.
    pub fn stored(&self) -> String {
        // A program holds only strings, numbers and enums: always JSON.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A program from its stored form, or, if that is of another
    /// version, `script` compiled again.
    pub fn load(stored: &str, script: &str) -> Result<Program, crate::CompileError> {
        serde_json::from_str(stored).or_else(|_| crate::compile(script))
    }

    /// Whether a run could reject the message: it has a reject or
    /// ereject, or includes a script that might. A server asks before it
    /// runs a script while the SMTP transaction is still open (RFC 5429
    /// §2.1: ereject refuses at the protocol level), so scripts that
    /// cannot reject cost nothing there.
    pub fn may_reject(&self) -> bool {
        self.count(&|c| matches!(c, Command::Reject { .. } | Command::Include { .. })) > 0
    }

    /// The redirect commands, those in every branch included (what a
    /// server compares with its redirect limit at upload).
    pub fn redirects(&self) -> usize {
        self.count(&|c| matches!(c, Command::Redirect { .. }))
    }

    /// The commands for which `is` holds, in every branch.
    fn count(&self, is: &dyn Fn(&Command) -> bool) -> usize {
        fn block(commands: &[Command], is: &dyn Fn(&Command) -> bool) -> usize {
            commands
                .iter()
                .map(|command| match command {
                    Command::If { branches, otherwise } => {
                        branches.iter().map(|(_, commands)| block(commands, is)).sum::<usize>()
                            + otherwise.as_deref().map_or(0, |commands| block(commands, is))
                    }
                    command => usize::from(is(command)),
                })
                .sum()
        }
        block(&self.commands, is)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// `if`/`elsif` branches in order, then `else` (RFC 5228 §3.1).
    If {
        branches: Vec<(Test, Vec<Command>)>,
        otherwise: Option<Vec<Command>>,
    },
    Stop,
    Keep {
        flags: Option<Vec<String>>,
    },
    Discard,
    Redirect {
        address: String,
        copy: bool,
    },
    FileInto {
        mailbox: String,
        copy: bool,
        /// RFC 5490 §3.2: create the mailbox when it is missing.
        create: bool,
        flags: Option<Vec<String>>,
        /// RFC 8579 §4: file into the mailbox with this special use.
        special_use: Option<String>,
    },
    /// RFC 5429: `reject` ends the transaction with a DSN or MDN,
    /// `ereject` refuses it at the protocol level when it can.
    Reject {
        reason: String,
        protocol_level: bool,
    },
    Vacation(Box<Vacation>),
    /// RFC 5229 §4.
    Set {
        name: String,
        value: String,
        modifiers: Vec<Modifier>,
    },
    /// RFC 5232 §3: setflag, addflag, removeflag on the internal flag
    /// variable or a named one.
    Flags {
        action: FlagAction,
        variable: Option<String>,
        flags: Vec<String>,
    },
    /// RFC 5293 §4.
    AddHeader {
        last: bool,
        name: String,
        value: String,
    },
    /// RFC 5293 §5.
    DeleteHeader {
        index: Option<Index>,
        matcher: Matcher,
        name: String,
        patterns: Option<Vec<String>>,
    },
    /// RFC 6609 §3.2.
    Include {
        global: bool,
        once: bool,
        optional: bool,
        name: String,
    },
    /// RFC 6609 §3.3.
    Return,
    /// RFC 6609 §3.4: names shared with including scripts.
    Global {
        names: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vacation {
    /// `:days` or `:seconds` (RFC 6131); None for the default.
    pub period: Option<Period>,
    pub subject: Option<String>,
    pub from: Option<String>,
    pub addresses: Vec<String>,
    /// The reason is a whole MIME entity (RFC 5230 §4.8).
    pub mime: bool,
    pub handle: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    Days(u64),
    Seconds(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlagAction {
    Set,
    Add,
    Remove,
}

/// The modifiers of `set`, in the order they apply (RFC 5229 §4.1: by
/// precedence, highest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Modifier {
    Lower,
    Upper,
    LowerFirst,
    UpperFirst,
    QuoteWildcard,
    Length,
}

impl Modifier {
    /// RFC 5229 §4.1: 40 for :lower/:upper, 30 for the -first ones, 20
    /// for :quotewildcard, 10 for :length; one modifier per precedence.
    pub fn precedence(self) -> u8 {
        match self {
            Modifier::Lower | Modifier::Upper => 40,
            Modifier::LowerFirst | Modifier::UpperFirst => 30,
            Modifier::QuoteWildcard => 20,
            Modifier::Length => 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Test {
    True,
    False,
    Not(Box<Test>),
    AllOf(Vec<Test>),
    AnyOf(Vec<Test>),
    /// RFC 5228 §5.5: every named header field is present.
    Exists(Vec<String>),
    Size {
        over: bool,
        limit: u64,
    },
    Header {
        matcher: Matcher,
        index: Option<Index>,
        names: Vec<String>,
        keys: Vec<String>,
    },
    Address {
        matcher: Matcher,
        part: AddressPart,
        index: Option<Index>,
        names: Vec<String>,
        keys: Vec<String>,
    },
    Envelope {
        matcher: Matcher,
        part: AddressPart,
        names: Vec<String>,
        keys: Vec<String>,
    },
    /// RFC 5173.
    Body {
        matcher: Matcher,
        transform: BodyTransform,
        keys: Vec<String>,
    },
    /// RFC 5260 §4: a part of the date in a header field.
    Date {
        matcher: Matcher,
        zone: Zone,
        index: Option<Index>,
        name: String,
        part: String,
        keys: Vec<String>,
    },
    /// RFC 5260 §5.
    CurrentDate {
        matcher: Matcher,
        zone: Zone,
        part: String,
        keys: Vec<String>,
    },
    /// RFC 5229 §5.
    String {
        matcher: Matcher,
        sources: Vec<String>,
        keys: Vec<String>,
    },
    /// RFC 5232 §4.
    HasFlag {
        matcher: Matcher,
        variables: Vec<String>,
        keys: Vec<String>,
    },
    /// RFC 5183 §4.
    Environment {
        matcher: Matcher,
        name: String,
        keys: Vec<String>,
    },
    /// RFC 7352 §3.
    Duplicate {
        handle: Option<String>,
        source: DuplicateSource,
        seconds: Option<u64>,
        last: bool,
    },
    /// RFC 5490 §3.1.
    MailboxExists(Vec<String>),
    /// RFC 8579 §3: the uses exist (on the named mailbox, or any).
    SpecialUseExists {
        mailbox: Option<String>,
        uses: Vec<String>,
    },
}

/// A comparator and a match type, which every matching test has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matcher {
    pub comparator: Comparator,
    pub kind: MatchKind,
}

impl Default for Matcher {
    /// RFC 5228 §2.7.1, §2.7.3: `:is` with "i;ascii-casemap".
    fn default() -> Self {
        Matcher {
            comparator: Comparator::AsciiCasemap,
            kind: MatchKind::Is,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparator {
    /// "i;octet" (RFC 4790 §9.3).
    Octet,
    /// "i;ascii-casemap" (RFC 4790 §9.2).
    AsciiCasemap,
    /// "i;ascii-numeric" (RFC 4790 §9.1).
    AsciiNumeric,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchKind {
    Is,
    Contains,
    Matches,
    /// RFC 5231 §4.
    Value(Relation),
    /// RFC 5231 §4.
    Count(Relation),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Relation {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Relation {
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Relation::Gt => ordering == Greater,
            Relation::Ge => ordering != Less,
            Relation::Lt => ordering == Less,
            Relation::Le => ordering != Greater,
            Relation::Eq => ordering == Equal,
            Relation::Ne => ordering != Equal,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddressPart {
    All,
    LocalPart,
    Domain,
    /// RFC 5233: the local part before the separator.
    User,
    /// RFC 5233: what follows the separator.
    Detail,
}

/// RFC 5260 §6: which occurrence of a header field, counted from the
/// first or, with `:last`, the last; 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub position: u64,
    pub from_last: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BodyTransform {
    /// The body as it is, without decoding.
    Raw,
    /// The decoded text of the parts of these content types ("" for
    /// all, "text" for a type, "text/html" for one subtype).
    Content(Vec<String>),
    /// The decoded text parts, as :content "text" (RFC 5173 §5.3).
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Zone {
    /// The server's local zone (RFC 5260 §4.1 when neither tag is given).
    Local,
    /// `:zone "+0100"`.
    Fixed(String),
    /// `:originalzone`: the zone written in the field.
    Original,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DuplicateSource {
    MessageId,
    Header(String),
    UniqueId(String),
}

#[cfg(test)]
mod tests {
    #[test]
    fn scripts_that_may_reject() {
        let may = |script: &str| crate::compile(script).unwrap().may_reject();
        assert!(!may("keep;"));
        assert!(!may(
            "require \"fileinto\"; if true { fileinto \"A\"; } else { discard; }"
        ));
        assert!(may(
            "require \"reject\"; if header :is \"x\" \"y\" { stop; } elsif true { reject \"no\"; }"
        ));
        assert!(may("require \"ereject\"; if false {} else { ereject \"no\"; }"));
        assert!(may("require \"include\"; include \"other\";"));
    }
}
