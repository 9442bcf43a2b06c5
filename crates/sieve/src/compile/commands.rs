//! The commands (actions and control) and their arguments.

use super::args::{Args, TagValue};
use super::matcher::{INDEX_TAGS, MATCHER_TAGS, tags};
use super::{Compiler, check_variable_name};
use crate::error::CompileError;
use crate::parser::Node;
use crate::program::{Command, FlagAction, Modifier, Period, Vacation};

impl Compiler {
    pub(crate) fn command(&mut self, node: &Node) -> Result<Command, CompileError> {
        let line = node.line;
        let name = node.name.as_str();
        let command = match name {
            "stop" => no_args(node, Command::Stop)?,
            "discard" => no_args(node, Command::Discard)?,
            "keep" => {
                let args = Args::read(node, &[("flags", TagValue::StringList)])?;
                let flags = self.flags_tag(&args)?;
                args.done()?;
                Command::Keep { flags }
            }
            "redirect" => {
                let mut args = Args::read(node, &[("copy", TagValue::None)])?;
                let copy = self.copy_tag(&args)?;
                let address = args.string("the address to redirect to")?;
                args.done()?;
                if !address.contains("${") && !crate::address::is_valid_mailbox(&address) {
                    return Err(CompileError::new(
                        line,
                        format!("redirect needs an address such as user@example.org, not {address:?}"),
                    ));
                }
                Command::Redirect { address, copy }
            }
            "fileinto" => {
                self.needs("fileinto", "fileinto", line)?;
                let args = Args::read(
                    node,
                    &[
                        ("copy", TagValue::None),
                        ("create", TagValue::None),
                        ("flags", TagValue::StringList),
                        ("specialuse", TagValue::String),
                    ],
                )?;
                let copy = self.copy_tag(&args)?;
                let flags = self.flags_tag(&args)?;
                if let Some(tag) = args.tag("create") {
                    self.needs("mailbox", ":create", tag.line)?;
                }
                let special_use = match args.tag("specialuse") {
                    Some(tag) => {
                        self.needs("special-use", ":specialuse", tag.line)?;
                        Some(tag.string())
                    }
                    None => None,
                };
                let mut args = args;
                let mailbox = args.string("the mailbox to file into")?;
                let create = args.has("create");
                args.done()?;
                if mailbox.is_empty() {
                    return Err(CompileError::new(line, "fileinto needs a mailbox name"));
                }
                Command::FileInto {
                    mailbox,
                    copy,
                    create,
                    flags,
                    special_use,
                }
            }
            "reject" | "ereject" => {
                self.needs(name, name, line)?;
                let mut args = Args::read(node, &[])?;
                let reason = args.string("the reason")?;
                args.done()?;
                Command::Reject {
                    reason,
                    protocol_level: name == "ereject",
                }
            }
            "vacation" => self.vacation(node)?,
            "set" => self.set(node)?,
            "setflag" | "addflag" | "removeflag" => {
                self.needs("imap4flags", name, line)?;
                let mut args = Args::read(node, &[])?;
                let first = args.strings("the flags")?;
                let (variable, flags) = if args.more() {
                    self.needs("variables", &format!("{name} with a variable name"), line)?;
                    let [variable] = <[String; 1]>::try_from(first)
                        .map_err(|_| CompileError::new(line, format!("{name} takes one variable name")))?;
                    self.variable_name(&variable, line)?;
                    (Some(variable), args.strings("the flags")?)
                } else {
                    (None, first)
                };
                args.done()?;
                let action = match name {
                    "setflag" => FlagAction::Set,
                    "addflag" => FlagAction::Add,
                    _ => FlagAction::Remove,
                };
                Command::Flags {
                    action,
                    variable,
                    flags,
                }
            }
            "addheader" => {
                self.needs("editheader", name, line)?;
                let mut args = Args::read(node, &[("last", TagValue::None)])?;
                let last = args.has("last");
                let field = args.string("the header field name")?;
                let value = args.string("the header field value")?;
                args.done()?;
                check_field_name(&field, line)?;
                Command::AddHeader {
                    last,
                    name: field,
                    value,
                }
            }
            "deleteheader" => {
                self.needs("editheader", name, line)?;
                let mut args = Args::read(node, &tags(&[MATCHER_TAGS, INDEX_TAGS]))?;
                let matcher = self.matcher(&args)?;
                let index = self.index(&args)?;
                let field = args.string("the header field name")?;
                let patterns = if args.more() {
                    Some(args.strings("the values to delete")?)
                } else {
                    None
                };
                args.done()?;
                check_field_name(&field, line)?;
                Command::DeleteHeader {
                    index,
                    matcher,
                    name: field,
                    patterns,
                }
            }
            "include" => {
                self.needs("include", name, line)?;
                let mut args = Args::read(
                    node,
                    &[
                        ("personal", TagValue::None),
                        ("global", TagValue::None),
                        ("once", TagValue::None),
                        ("optional", TagValue::None),
                    ],
                )?;
                let global = args
                    .one_of(&["personal", "global"])?
                    .is_some_and(|t| t.name == "global");
                let (once, optional) = (args.has("once"), args.has("optional"));
                let script = args.string("the name of the script")?;
                args.done()?;
                if script.is_empty() || script.contains('/') || script.contains("${") {
                    return Err(CompileError::new(
                        line,
                        format!("include needs a plain script name, not {script:?}"),
                    ));
                }
                Command::Include {
                    global,
                    once,
                    optional,
                    name: script,
                }
            }
            "return" => {
                self.needs("include", name, line)?;
                no_args(node, Command::Return)?
            }
            "global" => {
                self.needs("include", name, line)?;
                self.needs("variables", name, line)?;
                let mut args = Args::read(node, &[])?;
                let names = args.strings("the variable names")?;
                args.done()?;
                for name in &names {
                    check_variable_name(name, line)?;
                }
                Command::Global { names }
            }
            _ => return Err(CompileError::new(line, format!("there is no command {name:?}"))),
        };
        Ok(command)
    }

    fn copy_tag(&self, args: &Args) -> Result<bool, CompileError> {
        match args.tag("copy") {
            Some(tag) => self.needs("copy", ":copy", tag.line).map(|()| true),
            None => Ok(false),
        }
    }

    fn flags_tag(&self, args: &Args) -> Result<Option<Vec<String>>, CompileError> {
        match args.tag("flags") {
            Some(tag) => self
                .needs("imap4flags", ":flags", tag.line)
                .map(|()| Some(tag.strings())),
            None => Ok(None),
        }
    }

    /// RFC 5230 §4 with RFC 6131's `:seconds`.
    fn vacation(&mut self, node: &Node) -> Result<Command, CompileError> {
        self.needs("vacation", "vacation", node.line)?;
        let mut args = Args::read(
            node,
            &[
                ("days", TagValue::Number),
                ("seconds", TagValue::Number),
                ("subject", TagValue::String),
                ("from", TagValue::String),
                ("addresses", TagValue::StringList),
                ("mime", TagValue::None),
                ("handle", TagValue::String),
            ],
        )?;
        let period = match args.one_of(&["days", "seconds"])? {
            None => None,
            Some(tag) if tag.name == "days" => Some(Period::Days(tag.number())),
            Some(tag) => {
                self.needs("vacation-seconds", ":seconds", tag.line)?;
                Some(Period::Seconds(tag.number()))
            }
        };
        let vacation = Vacation {
            period,
            subject: args.tag("subject").map(|t| t.string()),
            from: args.tag("from").map(|t| t.string()),
            addresses: args.tag("addresses").map(|t| t.strings()).unwrap_or_default(),
            mime: args.has("mime"),
            handle: args.tag("handle").map(|t| t.string()),
            reason: args.string("the text of the reply")?,
        };
        args.done()?;
        Ok(Command::Vacation(Box::new(vacation)))
    }

    /// RFC 5229 §4: `set [modifiers] name value`.
    fn set(&mut self, node: &Node) -> Result<Command, CompileError> {
        self.needs("variables", "set", node.line)?;
        let mut args = Args::read(
            node,
            &[
                ("lower", TagValue::None),
                ("upper", TagValue::None),
                ("lowerfirst", TagValue::None),
                ("upperfirst", TagValue::None),
                ("quotewildcard", TagValue::None),
                ("length", TagValue::None),
            ],
        )?;
        let mut modifiers: Vec<Modifier> = Vec::new();
        for tag in &args.tags {
            let modifier = match tag.name.as_str() {
                "lower" => Modifier::Lower,
                "upper" => Modifier::Upper,
                "lowerfirst" => Modifier::LowerFirst,
                "upperfirst" => Modifier::UpperFirst,
                "quotewildcard" => Modifier::QuoteWildcard,
                _ => Modifier::Length,
            };
            if modifiers.iter().any(|m| m.precedence() == modifier.precedence()) {
                return Err(CompileError::new(
                    tag.line,
                    format!(":{} cannot go with a modifier of the same kind", tag.name),
                ));
            }
            modifiers.push(modifier);
        }
        modifiers.sort_by_key(|m| std::cmp::Reverse(m.precedence()));
        let name = args.string("the variable name")?;
        let value = args.string("the value")?;
        args.done()?;
        self.variable_name(&name, node.line)?;
        Ok(Command::Set { name, value, modifiers })
    }
}

fn no_args(node: &Node, command: Command) -> Result<Command, CompileError> {
    Args::read(node, &[])?.done()?;
    Ok(command)
}

/// RFC 5322 §3.6.8 field-name: printable ASCII except the colon.
fn check_field_name(name: &str, line: u32) -> Result<(), CompileError> {
    if name.contains("${") || crate::header::valid_field_name(name) {
        Ok(())
    } else {
        Err(CompileError::new(line, format!("{name:?} is not a header field name")))
    }
}
