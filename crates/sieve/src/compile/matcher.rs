//! The tags every matching test shares: the comparator (RFC 5228 §2.7.3),
//! the match type (§2.7.1, relational RFC 5231), the address part (§2.7.4,
//! subaddress RFC 5233) and the index (RFC 5260 §6).

use super::Compiler;
use super::args::{Args, TagValue};
use crate::error::CompileError;
use crate::program::{AddressPart, Comparator, Index, MatchKind, Matcher, Relation};

/// The tags of a comparator and match type, to add to a test's own.
pub(crate) const MATCHER_TAGS: &[(&str, TagValue)] = &[
    ("comparator", TagValue::String),
    ("is", TagValue::None),
    ("contains", TagValue::None),
    ("matches", TagValue::None),
    ("value", TagValue::String),
    ("count", TagValue::String),
];

pub(crate) const ADDRESS_PART_TAGS: &[(&str, TagValue)] = &[
    ("all", TagValue::None),
    ("localpart", TagValue::None),
    ("domain", TagValue::None),
    ("user", TagValue::None),
    ("detail", TagValue::None),
];

pub(crate) const INDEX_TAGS: &[(&str, TagValue)] = &[("index", TagValue::Number), ("last", TagValue::None)];

/// Tags of several groups, for [`Args::read`].
pub(crate) fn tags(groups: &[&[(&'static str, TagValue)]]) -> Vec<(&'static str, TagValue)> {
    groups.iter().flat_map(|g| g.iter().copied()).collect()
}

impl Compiler {
    pub(crate) fn matcher(&self, args: &Args) -> Result<Matcher, CompileError> {
        let comparator = match args.tag("comparator") {
            None => Comparator::AsciiCasemap,
            Some(tag) => {
                let name = tag.string().to_ascii_lowercase();
                match name.as_str() {
                    "i;octet" => Comparator::Octet,
                    "i;ascii-casemap" => Comparator::AsciiCasemap,
                    "i;ascii-numeric" => {
                        self.needs(
                            "comparator-i;ascii-numeric",
                            "the comparator \"i;ascii-numeric\"",
                            tag.line,
                        )?;
                        Comparator::AsciiNumeric
                    }
                    _ => {
                        return Err(CompileError::new(
                            tag.line,
                            format!("the comparator {name:?} is not supported"),
                        ));
                    }
                }
            }
        };
        let kind = match args.one_of(&["is", "contains", "matches", "value", "count"])? {
            None => MatchKind::Is,
            Some(tag) => match tag.name.as_str() {
                "is" => MatchKind::Is,
                "contains" => MatchKind::Contains,
                "matches" => MatchKind::Matches,
                name => {
                    self.needs("relational", &format!(":{name}"), tag.line)?;
                    let relation = relation(&tag.string()).ok_or_else(|| {
                        CompileError::new(
                            tag.line,
                            format!(":{name} takes one of \"gt\", \"ge\", \"lt\", \"le\", \"eq\", \"ne\""),
                        )
                    })?;
                    if name == "value" {
                        MatchKind::Value(relation)
                    } else {
                        MatchKind::Count(relation)
                    }
                }
            },
        };
        // RFC 4790 §9.1: i;ascii-numeric offers equality and ordering only.
        if comparator == Comparator::AsciiNumeric && matches!(kind, MatchKind::Contains | MatchKind::Matches) {
            let line = args.tag("comparator").map_or(0, |t| t.line);
            return Err(CompileError::new(
                line,
                "\"i;ascii-numeric\" cannot be used with :contains or :matches",
            ));
        }
        Ok(Matcher { comparator, kind })
    }

    pub(crate) fn address_part(&self, args: &Args) -> Result<AddressPart, CompileError> {
        Ok(match args.one_of(&["all", "localpart", "domain", "user", "detail"])? {
            None => AddressPart::All,
            Some(tag) => match tag.name.as_str() {
                "localpart" => AddressPart::LocalPart,
                "domain" => AddressPart::Domain,
                "all" => AddressPart::All,
                name => {
                    self.needs("subaddress", &format!(":{name}"), tag.line)?;
                    if name == "user" {
                        AddressPart::User
                    } else {
                        AddressPart::Detail
                    }
                }
            },
        })
    }

    /// `:index N [:last]` (RFC 5260 §6); :last alone is an error.
    pub(crate) fn index(&self, args: &Args) -> Result<Option<Index>, CompileError> {
        let last = args.tag("last");
        match args.tag("index") {
            None => match last {
                Some(tag) => Err(CompileError::new(tag.line, ":last needs :index")),
                None => Ok(None),
            },
            Some(tag) => {
                self.needs("index", ":index", tag.line)?;
                let position = tag.number();
                if position == 0 {
                    return Err(CompileError::new(tag.line, ":index counts from 1"));
                }
                Ok(Some(Index {
                    position,
                    from_last: last.is_some(),
                }))
            }
        }
    }
}

fn relation(name: &str) -> Option<Relation> {
    Some(match name.to_ascii_lowercase().as_str() {
        "gt" => Relation::Gt,
        "ge" => Relation::Ge,
        "lt" => Relation::Lt,
        "le" => Relation::Le,
        "eq" => Relation::Eq,
        "ne" => Relation::Ne,
        _ => return None,
    })
}
