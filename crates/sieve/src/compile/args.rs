//! Reading a command's or test's arguments by their shape (RFC 5228
//! §2.6): tagged arguments first, in any order, some with a value after
//! them; then the positional ones. Each command says which tags it knows
//! and what their values are; what is left over is an error that names
//! the argument.

use crate::error::CompileError;
use crate::parser::{Arg, Node};

/// A tag's value: what follows the tag when the tag takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagValue {
    None,
    String,
    StringList,
    Number,
}

/// A tag as found, with its value if it takes one.
#[derive(Debug, Clone)]
pub(crate) struct FoundTag {
    pub name: String,
    pub line: u32,
    pub value: Option<Arg>,
}

impl FoundTag {
    pub fn string(&self) -> String {
        match &self.value {
            Some(Arg::Strings { values, .. }) => values.first().cloned().unwrap_or_default(),
            _ => String::new(),
        }
    }

    pub fn strings(&self) -> Vec<String> {
        match &self.value {
            Some(Arg::Strings { values, .. }) => values.clone(),
            _ => Vec::new(),
        }
    }

    pub fn number(&self) -> u64 {
        match self.value {
            Some(Arg::Number { value, .. }) => value,
            _ => 0,
        }
    }
}

/// The arguments of one node, split into tags and positional arguments.
pub(crate) struct Args<'a> {
    node: &'a Node,
    pub tags: Vec<FoundTag>,
    positional: std::collections::VecDeque<&'a Arg>,
}

impl<'a> Args<'a> {
    /// Splits `node`'s arguments; `known` gives each tag it accepts and
    /// the value the tag takes. A tag twice, an unknown tag or a tag after
    /// a positional argument is an error.
    pub fn read(node: &'a Node, known: &[(&str, TagValue)]) -> Result<Self, CompileError> {
        let mut tags: Vec<FoundTag> = Vec::new();
        let mut positional = std::collections::VecDeque::new();
        let mut iter = node.args.iter();
        while let Some(arg) = iter.next() {
            let Arg::Tag { name, line } = arg else {
                positional.push_back(arg);
                continue;
            };
            if !positional.is_empty() {
                return Err(CompileError::new(
                    *line,
                    format!(":{name} must come before the other arguments of {}", node.name),
                ));
            }
            let Some(&(_, value_kind)) = known.iter().find(|(known, _)| known == name) else {
                return Err(CompileError::new(
                    *line,
                    format!("{} has no :{name} argument", node.name),
                ));
            };
            if tags.iter().any(|t| t.name == *name) {
                return Err(CompileError::new(*line, format!(":{name} is given twice")));
            }
            let value = match value_kind {
                TagValue::None => None,
                kind => {
                    let value = iter.next();
                    if !value.is_some_and(|v| shape_fits(v, kind)) {
                        return Err(CompileError::new(
                            *line,
                            format!(":{name} must be followed by {}", describe(kind)),
                        ));
                    }
                    value.cloned()
                }
            };
            tags.push(FoundTag {
                name: name.clone(),
                line: *line,
                value,
            });
        }
        Ok(Args { node, tags, positional })
    }

    pub fn has(&self, name: &str) -> bool {
        self.tags.iter().any(|t| t.name == name)
    }

    pub fn tag(&self, name: &str) -> Option<&FoundTag> {
        self.tags.iter().find(|t| t.name == name)
    }

    /// At most one of `names` (mutually exclusive tags such as :is and
    /// :contains); which one, if any.
    pub fn one_of(&self, names: &[&str]) -> Result<Option<&FoundTag>, CompileError> {
        let mut found = self.tags.iter().filter(|t| names.contains(&t.name.as_str()));
        let first = found.next();
        if let Some(second) = found.next() {
            return Err(CompileError::new(
                second.line,
                format!(":{} cannot go with :{}", second.name, first.map_or("", |t| &t.name)),
            ));
        }
        Ok(first)
    }

    /// The next positional argument, which must be one string.
    pub fn string(&mut self, what: &str) -> Result<String, CompileError> {
        match self.positional.pop_front() {
            Some(Arg::Strings {
                values, list: false, ..
            }) => Ok(values[0].clone()),
            other => Err(self.missing(other, &format!("{what} (a string)"))),
        }
    }

    /// The next positional argument, a string or a string list.
    pub fn strings(&mut self, what: &str) -> Result<Vec<String>, CompileError> {
        match self.positional.pop_front() {
            Some(Arg::Strings { values, .. }) => Ok(values.clone()),
            other => Err(self.missing(other, &format!("{what} (a string or list of strings)"))),
        }
    }

    /// The next positional argument, a number.
    pub fn number(&mut self, what: &str) -> Result<u64, CompileError> {
        match self.positional.pop_front() {
            Some(Arg::Number { value, .. }) => Ok(*value),
            other => Err(self.missing(other, &format!("{what} (a number)"))),
        }
    }

    /// Whether a positional argument is left.
    pub fn more(&self) -> bool {
        !self.positional.is_empty()
    }

    /// Everything was read: a leftover argument is an error.
    pub fn done(self) -> Result<(), CompileError> {
        match self.positional.front() {
            None => Ok(()),
            Some(arg) => Err(CompileError::new(
                line_of(arg),
                format!("{} has an argument too many", self.node.name),
            )),
        }
    }

    fn missing(&self, found: Option<&Arg>, what: &str) -> CompileError {
        let line = found.map_or(self.node.line, line_of);
        CompileError::new(line, format!("{} needs {what} here", self.node.name))
    }
}

fn shape_fits(arg: &Arg, kind: TagValue) -> bool {
    matches!(
        (arg, kind),
        (Arg::Strings { list: false, .. }, TagValue::String)
            | (Arg::Strings { .. }, TagValue::StringList)
            | (Arg::Number { .. }, TagValue::Number)
    )
}

fn describe(kind: TagValue) -> &'static str {
    match kind {
        TagValue::None => "nothing",
        TagValue::String => "a string",
        TagValue::StringList => "a string or list of strings",
        TagValue::Number => "a number",
    }
}

fn line_of(arg: &Arg) -> u32 {
    match arg {
        Arg::Strings { line, .. } | Arg::Number { line, .. } | Arg::Tag { line, .. } => *line,
    }
}
