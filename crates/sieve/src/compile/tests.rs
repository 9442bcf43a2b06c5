//! The tests and their arguments.

use super::Compiler;
use super::args::{Args, TagValue};
use super::matcher::{ADDRESS_PART_TAGS, INDEX_TAGS, MATCHER_TAGS, tags};
use crate::error::CompileError;
use crate::parser::Node;
use crate::program::{BodyTransform, DuplicateSource, Test, Zone};

/// RFC 5260 §4.2: the date parts a date test can extract.
pub(crate) const DATE_PARTS: &[&str] = &[
    "year", "month", "day", "date", "julian", "hour", "minute", "second", "time", "iso8601", "std11", "zone", "weekday",
];

impl Compiler {
    pub(crate) fn test(&mut self, node: &Node) -> Result<Test, CompileError> {
        let line = node.line;
        let name = node.name.as_str();
        if node.block.is_some() {
            return Err(CompileError::new(line, format!("{name} is a test and takes no block")));
        }
        // Only not, allof and anyof take tests.
        if !node.tests.is_empty() && !matches!(name, "not" | "allof" | "anyof") {
            return Err(CompileError::new(line, format!("{name} takes no test")));
        }
        let test = match name {
            "true" | "false" => {
                Args::read(node, &[])?.done()?;
                if name == "true" { Test::True } else { Test::False }
            }
            "not" => {
                Args::read(node, &[])?.done()?;
                match node.tests.as_slice() {
                    [test] if !node.test_list => Test::Not(Box::new(self.test(test)?)),
                    _ => return Err(CompileError::new(line, "not takes one test")),
                }
            }
            "allof" | "anyof" => {
                Args::read(node, &[])?.done()?;
                if !node.test_list {
                    return Err(CompileError::new(line, format!("{name} takes a list of tests in ( )")));
                }
                let tests = node.tests.iter().map(|t| self.test(t)).collect::<Result<Vec<_>, _>>()?;
                if name == "allof" {
                    Test::AllOf(tests)
                } else {
                    Test::AnyOf(tests)
                }
            }
            "exists" => {
                let mut args = Args::read(node, &[])?;
                let names = args.strings("the header field names")?;
                args.done()?;
                Test::Exists(names)
            }
            "size" => {
                let mut args = Args::read(node, &[("over", TagValue::None), ("under", TagValue::None)])?;
                let over = match args.one_of(&["over", "under"])? {
                    Some(tag) => tag.name == "over",
                    None => return Err(CompileError::new(line, "size needs :over or :under")),
                };
                let limit = args.number("the size limit")?;
                args.done()?;
                Test::Size { over, limit }
            }
            "header" => {
                let mut args = Args::read(node, &tags(&[MATCHER_TAGS, INDEX_TAGS]))?;
                let (matcher, index) = (self.matcher(&args)?, self.index(&args)?);
                let names = args.strings("the header field names")?;
                let keys = args.strings("the values to look for")?;
                args.done()?;
                Test::Header {
                    matcher,
                    index,
                    names,
                    keys,
                }
            }
            "address" => {
                let mut args = Args::read(node, &tags(&[MATCHER_TAGS, ADDRESS_PART_TAGS, INDEX_TAGS]))?;
                let (matcher, part, index) = (self.matcher(&args)?, self.address_part(&args)?, self.index(&args)?);
                let names = args.strings("the header field names")?;
                let keys = args.strings("the values to look for")?;
                args.done()?;
                Test::Address {
                    matcher,
                    part,
                    index,
                    names,
                    keys,
                }
            }
            "envelope" => {
                self.needs("envelope", name, line)?;
                let mut args = Args::read(node, &tags(&[MATCHER_TAGS, ADDRESS_PART_TAGS]))?;
                let (matcher, part) = (self.matcher(&args)?, self.address_part(&args)?);
                let names = args.strings("the envelope parts, \"from\" or \"to\"")?;
                let keys = args.strings("the values to look for")?;
                args.done()?;
                for part in &names {
                    if !matches!(part.to_ascii_lowercase().as_str(), "from" | "to" | "auth") && !part.contains("${") {
                        return Err(CompileError::new(
                            line,
                            format!("the envelope has no part {part:?}; use \"from\" or \"to\""),
                        ));
                    }
                }
                Test::Envelope {
                    matcher,
                    part,
                    names,
                    keys,
                }
            }
            "body" => self.body_test(node)?,
            "date" | "currentdate" => self.date_test(node)?,
            "string" => {
                self.needs("variables", name, line)?;
                let mut args = Args::read(node, MATCHER_TAGS)?;
                let matcher = self.matcher(&args)?;
                let sources = args.strings("the strings to test")?;
                let keys = args.strings("the values to look for")?;
                args.done()?;
                Test::String { matcher, sources, keys }
            }
            "hasflag" => {
                self.needs("imap4flags", name, line)?;
                let mut args = Args::read(node, MATCHER_TAGS)?;
                let matcher = self.matcher(&args)?;
                let first = args.strings("the flags")?;
                let (variables, keys) = if args.more() {
                    self.needs("variables", "hasflag with variable names", line)?;
                    for variable in &first {
                        self.variable_name(variable, line)?;
                    }
                    (first, args.strings("the flags")?)
                } else {
                    (Vec::new(), first)
                };
                args.done()?;
                Test::HasFlag {
                    matcher,
                    variables,
                    keys,
                }
            }
            "environment" => {
                self.needs("environment", name, line)?;
                let mut args = Args::read(node, MATCHER_TAGS)?;
                let matcher = self.matcher(&args)?;
                let item = args.string("the name of the environment item")?;
                let keys = args.strings("the values to look for")?;
                args.done()?;
                Test::Environment {
                    matcher,
                    name: item.to_ascii_lowercase(),
                    keys,
                }
            }
            "duplicate" => self.duplicate_test(node)?,
            "mailboxexists" => {
                self.needs("mailbox", name, line)?;
                let mut args = Args::read(node, &[])?;
                let mailboxes = args.strings("the mailbox names")?;
                args.done()?;
                Test::MailboxExists(mailboxes)
            }
            "specialuse_exists" => {
                self.needs("special-use", name, line)?;
                let mut args = Args::read(node, &[])?;
                let first = args.strings("the special uses")?;
                let (mailbox, uses) = if args.more() {
                    let [mailbox] = <[String; 1]>::try_from(first)
                        .map_err(|_| CompileError::new(line, "specialuse_exists takes one mailbox name"))?;
                    (Some(mailbox), args.strings("the special uses")?)
                } else {
                    (None, first)
                };
                args.done()?;
                Test::SpecialUseExists { mailbox, uses }
            }
            _ => return Err(CompileError::new(line, format!("there is no test {name:?}"))),
        };
        Ok(test)
    }

    /// RFC 5173 §4: `body [comparator] [match-type] [transform] keys`.
    fn body_test(&mut self, node: &Node) -> Result<Test, CompileError> {
        self.needs("body", "body", node.line)?;
        let transforms = [
            ("raw", TagValue::None),
            ("content", TagValue::StringList),
            ("text", TagValue::None),
        ];
        let mut args = Args::read(node, &tags(&[MATCHER_TAGS, &transforms]))?;
        let matcher = self.matcher(&args)?;
        if matches!(matcher.kind, crate::program::MatchKind::Count(_)) {
            return Err(CompileError::new(node.line, "body cannot use :count"));
        }
        let transform = match args.one_of(&["raw", "content", "text"])? {
            None => BodyTransform::Text,
            Some(tag) => match tag.name.as_str() {
                "raw" => BodyTransform::Raw,
                "text" => BodyTransform::Text,
                _ => BodyTransform::Content(tag.strings()),
            },
        };
        let keys = args.strings("the text to look for")?;
        args.done()?;
        Ok(Test::Body {
            matcher,
            transform,
            keys,
        })
    }

    /// RFC 5260 §4, §5: `date [:zone z / :originalzone] [comparator]
    /// [match-type] [:index n [:last]] header date-part keys` and
    /// `currentdate [:zone z] [comparator] [match-type] date-part keys`.
    fn date_test(&mut self, node: &Node) -> Result<Test, CompileError> {
        let current = node.name == "currentdate";
        self.needs("date", &node.name, node.line)?;
        let mut zone_tags = vec![("zone", TagValue::String)];
        if !current {
            zone_tags.push(("originalzone", TagValue::None));
        }
        let mut args = Args::read(node, &tags(&[MATCHER_TAGS, INDEX_TAGS, &zone_tags]))?;
        let matcher = self.matcher(&args)?;
        let index = self.index(&args)?;
        let zone = match args.one_of(&["zone", "originalzone"])? {
            None => Zone::Local,
            Some(tag) if tag.name == "originalzone" => Zone::Original,
            Some(tag) => {
                let zone = tag.string();
                if !valid_zone(&zone) {
                    return Err(CompileError::new(
                        tag.line,
                        format!(":zone takes a zone such as \"+0100\", not {zone:?}"),
                    ));
                }
                Zone::Fixed(zone)
            }
        };
        let name = if current {
            String::new()
        } else {
            args.string("the header field with the date")?
        };
        let part = args
            .string("the date part, such as \"date\" or \"hour\"")?
            .to_ascii_lowercase();
        let keys = args.strings("the values to look for")?;
        args.done()?;
        if !DATE_PARTS.contains(&part.as_str()) && !part.contains("${") {
            return Err(CompileError::new(node.line, format!("there is no date part {part:?}")));
        }
        if current {
            if index.is_some() {
                return Err(CompileError::new(node.line, "currentdate takes no :index"));
            }
            return Ok(Test::CurrentDate {
                matcher,
                zone,
                part,
                keys,
            });
        }
        Ok(Test::Date {
            matcher,
            zone,
            index,
            name,
            part,
            keys,
        })
    }

    /// RFC 7352 §3: `duplicate [:handle h] [:header name / :uniqueid id]
    /// [:seconds n] [:last]`.
    fn duplicate_test(&mut self, node: &Node) -> Result<Test, CompileError> {
        self.needs("duplicate", "duplicate", node.line)?;
        let args = Args::read(
            node,
            &[
                ("handle", TagValue::String),
                ("header", TagValue::String),
                ("uniqueid", TagValue::String),
                ("seconds", TagValue::Number),
                ("last", TagValue::None),
            ],
        )?;
        let source = match args.one_of(&["header", "uniqueid"])? {
            None => DuplicateSource::MessageId,
            Some(tag) if tag.name == "header" => DuplicateSource::Header(tag.string()),
            Some(tag) => DuplicateSource::UniqueId(tag.string()),
        };
        let test = Test::Duplicate {
            handle: args.tag("handle").map(|t| t.string()),
            source,
            seconds: args.tag("seconds").map(|t| t.number()),
            last: args.has("last"),
        };
        args.done()?;
        Ok(test)
    }
}

/// `+hhmm` or `-hhmm` (RFC 5260 §4.1.1).
pub(crate) fn valid_zone(zone: &str) -> bool {
    let bytes = zone.as_bytes();
    bytes.len() == 5
        && matches!(bytes[0], b'+' | b'-')
        && bytes[1..].iter().all(u8::is_ascii_digit)
        && zone[3..5] < *"60"
}
