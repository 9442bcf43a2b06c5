//! The commands: control (if, stop, include, return), actions (keep,
//! fileinto, redirect, reject, vacation, discard), variables (set,
//! global), flags (RFC 5232) and header edits (RFC 5293).

use std::collections::{HashMap, HashSet};

use super::actions::{Action, Collected};
use super::{Envelope, Host, Limits, Mail, Outcome, RuntimeError};
use crate::matching::{Budget, Exhausted};
use crate::program::{Command, FlagAction, Index, Matcher, Program};
use crate::variables::{Variables, modify};

/// What a block asks of the blocks around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Next,
    /// `stop`: the whole run ends (RFC 5228 §3.3).
    Stop,
    /// `return`: the current script ends (RFC 6609 §3.3).
    Return,
}

pub(crate) struct Run<'a> {
    pub mail: &'a dyn Mail,
    pub envelope: &'a Envelope,
    pub host: &'a dyn Host,
    pub limits: &'a Limits,
    pub budget: Budget,
    /// The header as the script sees it, edits included.
    pub header: Vec<(String, String)>,
    edited: bool,
    header_edits: usize,
    /// The running script's own variables, and whether its strings expand.
    pub vars: Variables,
    pub expand: bool,
    /// Variables shared across included scripts (RFC 6609 §3.4), and the
    /// names the running script declared global.
    globals: HashMap<String, String>,
    global_names: HashSet<String>,
    /// The internal flags variable (RFC 5232 §3).
    pub flags: Vec<String>,
    collected: Collected,
    include_stack: Vec<(bool, String)>,
    includes: usize,
    /// Every script included so far, for :once.
    included: HashSet<(bool, String)>,
    pub duplicates: Vec<super::DuplicateKey>,
}

pub(crate) fn exhausted(_: Exhausted) -> RuntimeError {
    RuntimeError("the script did too much work for one message and was stopped".into())
}

impl<'a> Run<'a> {
    pub fn new(mail: &'a dyn Mail, envelope: &'a Envelope, host: &'a dyn Host, limits: &'a Limits) -> Self {
        Run {
            mail,
            envelope,
            host,
            limits,
            budget: Budget::new(limits.steps),
            header: mail.fields(),
            edited: false,
            header_edits: 0,
            vars: Variables::default(),
            expand: false,
            globals: HashMap::new(),
            global_names: HashSet::new(),
            flags: Vec::new(),
            collected: Collected::new(),
            include_stack: Vec::new(),
            includes: 0,
            included: HashSet::new(),
            duplicates: Vec::new(),
        }
    }

    /// Runs a whole script; `stop` and `return` both end it here.
    pub fn script(&mut self, program: &Program) -> Result<(), RuntimeError> {
        self.expand = program.variables;
        self.block(&program.commands).map(|_| ())
    }

    pub fn finish(self) -> Outcome {
        Outcome {
            actions: self.collected.finish(&self.flags),
            edited_header: self.edited.then_some(self.header),
            duplicates: self.duplicates,
            error: None,
        }
    }

    /// A string as the script means it: with variables expanded when the
    /// script uses them.
    pub fn text(&self, text: &str) -> String {
        if !self.expand {
            return text.to_string();
        }
        let globals = &self.globals;
        let names = &self.global_names;
        self.vars.expand(text, &|name| {
            let name = name.to_ascii_lowercase();
            if let Some(name) = crate::variables::global_name(&name) {
                return Some(globals.get(name).cloned().unwrap_or_default());
            }
            names
                .contains(&name)
                .then(|| globals.get(&name).cloned().unwrap_or_default())
        })
    }

    pub fn texts(&self, texts: &[String]) -> Vec<String> {
        texts.iter().map(|t| self.text(t)).collect()
    }

    fn block(&mut self, commands: &[Command]) -> Result<Flow, RuntimeError> {
        for command in commands {
            self.budget.charge(1).map_err(exhausted)?;
            let flow = self.command(command)?;
            if flow != Flow::Next {
                return Ok(flow);
            }
        }
        Ok(Flow::Next)
    }

    fn command(&mut self, command: &Command) -> Result<Flow, RuntimeError> {
        match command {
            Command::If { branches, otherwise } => {
                for (test, block) in branches {
                    if self.test(test)? {
                        return self.block(block);
                    }
                }
                if let Some(block) = otherwise {
                    return self.block(block);
                }
            }
            Command::Stop => return Ok(Flow::Stop),
            Command::Return => return Ok(Flow::Return),
            Command::Keep { flags } => {
                let flags = self.action_flags(flags.as_deref());
                self.collected.add(Action::Keep { flags }, false, self.limits)?;
            }
            Command::Discard => self.collected.implicit_keep = false,
            Command::Redirect { address, copy } => {
                let address = self.text(address);
                if !crate::address::is_valid_mailbox(&address) {
                    return Err(RuntimeError(format!(
                        "redirect to {address:?}, which is not an address"
                    )));
                }
                self.collected.add(Action::Redirect { address }, !copy, self.limits)?;
            }
            Command::FileInto { .. } => self.file_into(command)?,
            Command::Reject { reason, protocol_level } => {
                let action = Action::Reject {
                    reason: self.text(reason),
                    protocol_level: *protocol_level,
                };
                self.collected.add(action, true, self.limits)?;
            }
            Command::Vacation(vacation) => {
                if let Some(reply) = crate::vacation::reply(self, vacation) {
                    self.collected.add(Action::Vacation(reply), false, self.limits)?;
                }
            }
            Command::Set { name, value, modifiers } => {
                let value = modify(self.text(value), modifiers);
                self.set_variable(name, value)?;
            }
            Command::Flags {
                action,
                variable,
                flags,
            } => self.flag_command(*action, variable.as_deref(), flags)?,
            Command::AddHeader { last, name, value } => self.add_header(*last, name, value)?,
            Command::DeleteHeader {
                index,
                matcher,
                name,
                patterns,
            } => {
                self.header_edit()?;
                self.delete_header(*index, matcher, name, patterns.as_deref())?;
            }
            Command::Include {
                global,
                once,
                optional,
                name,
            } => {
                return self.include(*global, *once, *optional, name);
            }
            Command::Global { names } => {
                for name in names {
                    self.global_names.insert(name.to_ascii_lowercase());
                }
            }
        }
        Ok(Flow::Next)
    }

    fn file_into(&mut self, command: &Command) -> Result<(), RuntimeError> {
        let Command::FileInto {
            mailbox,
            copy,
            create,
            flags,
            special_use,
        } = command
        else {
            return Ok(());
        };
        let mailbox = self.text(mailbox);
        // As at compile time for a name written out (RFC 5228 §4.1 names
        // a mailbox; the empty string names none).
        if mailbox.is_empty() {
            return Err(RuntimeError(
                "fileinto needs a mailbox name, and the name is empty".into(),
            ));
        }
        let action = Action::FileInto {
            mailbox,
            flags: self.action_flags(flags.as_deref()),
            create: *create,
            special_use: special_use.as_ref().map(|s| self.text(s)),
        };
        self.collected.add(action, !copy, self.limits)
    }

    /// RFC 5293 §4: at the top, or with `:last` at the end; protected
    /// fields are left alone.
    fn add_header(&mut self, last: bool, name: &str, value: &str) -> Result<(), RuntimeError> {
        self.header_edit()?;
        let field = (
            field_name(self.text(name))?,
            crate::header::field_value(&self.text(value)),
        );
        if !crate::header::protected(&field.0) {
            if last {
                self.header.push(field);
            } else {
                self.header.insert(0, field);
            }
            self.edited = true;
        }
        Ok(())
    }

    /// The flags of keep/fileinto: `:flags` if given, else the internal
    /// variable's (RFC 5232 §5).
    fn action_flags(&self, flags: Option<&[String]>) -> Vec<String> {
        match flags {
            Some(flags) => flag_list(&self.texts(flags)),
            None => self.flags.clone(),
        }
    }

    fn set_variable(&mut self, name: &str, value: String) -> Result<(), RuntimeError> {
        let key = name.to_ascii_lowercase();
        if let Some(global) = crate::variables::global_name(&key) {
            let value = crate::variables::truncate(value);
            self.globals.insert(global.to_string(), value);
            return Ok(());
        }
        if self.global_names.contains(&key) {
            let value = crate::variables::truncate(value);
            self.globals.insert(key, value);
            return Ok(());
        }
        if self.vars.set(name, value) {
            Ok(())
        } else {
            Err(RuntimeError(format!(
                "more than {} variables",
                crate::variables::MAX_VARIABLES
            )))
        }
    }

    fn flag_command(
        &mut self,
        action: FlagAction,
        variable: Option<&str>,
        flags: &[String],
    ) -> Result<(), RuntimeError> {
        let given = flag_list(&self.texts(flags));
        let mut current = match variable {
            None => self.flags.clone(),
            Some(name) => flag_list(&[self.text(&format!("${{{name}}}"))]),
        };
        match action {
            FlagAction::Set => current = given,
            FlagAction::Add => {
                for flag in given {
                    if !current.iter().any(|f| f.eq_ignore_ascii_case(&flag)) {
                        current.push(flag);
                    }
                }
            }
            FlagAction::Remove => current.retain(|f| !given.iter().any(|g| g.eq_ignore_ascii_case(f))),
        }
        match variable {
            None => {
                self.flags = current;
                Ok(())
            }
            Some(name) => self.set_variable(name, current.join(" ")),
        }
    }

    fn header_edit(&mut self) -> Result<(), RuntimeError> {
        self.header_edits += 1;
        if self.header_edits > self.limits.header_edits {
            return Err(RuntimeError(format!(
                "more than {} header edits",
                self.limits.header_edits
            )));
        }
        Ok(())
    }

    /// RFC 5293 §5: the occurrences of a field, all or the one `:index`
    /// names, that match one of the patterns if any are given.
    fn delete_header(
        &mut self,
        index: Option<Index>,
        matcher: &Matcher,
        name: &str,
        patterns: Option<&[String]>,
    ) -> Result<(), RuntimeError> {
        let name = field_name(self.text(name))?;
        if crate::header::protected(&name) {
            return Ok(());
        }
        let positions: Vec<usize> = (0..self.header.len())
            .filter(|&i| self.header[i].0.eq_ignore_ascii_case(&name))
            .collect();
        let chosen: Vec<usize> = match index {
            None => positions,
            Some(index) => pick(&positions, index).into_iter().collect(),
        };
        let patterns = patterns.map(|p| self.texts(p));
        let mut delete = Vec::new();
        for i in chosen {
            let keep = match &patterns {
                None => false,
                Some(patterns) => {
                    let value = self.mail.decode(self.header[i].1.trim());
                    !self.match_values(matcher, &[value], patterns)?
                }
            };
            if !keep {
                delete.push(i);
            }
        }
        for i in delete.into_iter().rev() {
            self.header.remove(i);
            self.edited = true;
        }
        Ok(())
    }

    /// RFC 6609 §3.2: the included script runs with its own variables,
    /// sharing the globals; it cannot include itself or a script that is
    /// including it.
    fn include(&mut self, global: bool, once: bool, optional: bool, name: &str) -> Result<Flow, RuntimeError> {
        let id = (global, name.to_string());
        // RFC 6609 §3.2: :once skips a script that was already included
        // at any earlier point of the run, with :once or without.
        if once && self.included.contains(&id) {
            return Ok(Flow::Next);
        }
        if self.include_stack.contains(&id) {
            return Err(RuntimeError(format!("the script {name:?} includes itself")));
        }
        if self.include_stack.len() >= self.limits.include_depth || self.includes >= self.limits.includes {
            return Err(RuntimeError(format!(
                "includes nest deeper than {} or number more than {}",
                self.limits.include_depth, self.limits.includes
            )));
        }
        let Some(program) = self.host.include(global, name) else {
            if optional {
                return Ok(Flow::Next);
            }
            return Err(RuntimeError(format!("there is no script {name:?} to include")));
        };
        self.includes += 1;
        self.included.insert(id.clone());
        self.include_stack.push(id);
        let saved = (
            std::mem::take(&mut self.vars),
            std::mem::take(&mut self.global_names),
            self.expand,
        );
        self.expand = program.variables;
        let flow = self.block(&program.commands);
        (self.vars, self.global_names, self.expand) = saved;
        self.include_stack.pop();
        // Return ends only the included script; stop ends the run.
        Ok(match flow? {
            Flow::Stop => Flow::Stop,
            _ => Flow::Next,
        })
    }
}

/// A header field name as the script's strings expand to it; one that
/// is no field name is an error (RFC 5293 §4, §5).
fn field_name(name: String) -> Result<String, RuntimeError> {
    if crate::header::valid_field_name(&name) {
        Ok(name)
    } else {
        Err(RuntimeError(format!("{name:?} is not a header field name")))
    }
}

/// Space-separated flags from every string, each once, in order
/// (RFC 5232 §3: flags compare case-insensitively).
pub(crate) fn flag_list(strings: &[String]) -> Vec<String> {
    let mut flags: Vec<String> = Vec::new();
    for flag in strings.iter().flat_map(|s| s.split_whitespace()) {
        if !flags.iter().any(|f| f.eq_ignore_ascii_case(flag)) {
            flags.push(flag.to_string());
        }
    }
    flags
}

/// The position `index` picks among `positions` (RFC 5260 §6).
pub(crate) fn pick(positions: &[usize], index: Index) -> Option<usize> {
    let n = usize::try_from(index.position).ok()?.checked_sub(1)?;
    if index.from_last {
        positions.len().checked_sub(n + 1).map(|i| positions[i])
    } else {
        positions.get(n).copied()
    }
}
