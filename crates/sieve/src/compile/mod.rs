//! From the generic syntax tree to a [`Program`]: every command and test
//! known, every argument of the right shape, every extension used also
//! required (RFC 5228 §3.2), every string a variable name must be a valid
//! one. Errors name the line and say what to write instead.

mod args;
mod commands;
mod matcher;
mod tests;

pub(crate) use tests::valid_zone;

use std::collections::BTreeSet;

use crate::error::CompileError;
use crate::parser::Node;
use crate::program::{Command, Program};

/// The extensions this interpreter implements, as `require` names them.
pub const EXTENSIONS: &[&str] = &[
    "fileinto",
    "envelope",
    "imap4flags",
    "copy",
    "body",
    "variables",
    "relational",
    "subaddress",
    "date",
    "index",
    "vacation",
    "vacation-seconds",
    "reject",
    "ereject",
    "include",
    "environment",
    "mailbox",
    "special-use",
    "duplicate",
    "editheader",
    "comparator-i;octet",
    "comparator-i;ascii-casemap",
    "comparator-i;ascii-numeric",
];

/// Compiles the nodes of a whole script.
pub(crate) fn program(nodes: &[Node]) -> Result<Program, CompileError> {
    let mut compiler = Compiler::default();
    let mut start = 0;
    // RFC 5228 §3.2: require comes before every other command.
    for node in nodes.iter().take_while(|n| n.name == "require") {
        compiler.require(node)?;
        start += 1;
    }
    let commands = compiler.block(&nodes[start..])?;
    Ok(Program {
        extensions: compiler.extensions.iter().cloned().collect(),
        variables: compiler.extensions.contains("variables"),
        commands,
    })
}

#[derive(Default)]
pub(crate) struct Compiler {
    extensions: BTreeSet<String>,
}

impl Compiler {
    fn require(&mut self, node: &Node) -> Result<(), CompileError> {
        let mut args = args::Args::read(node, &[])?;
        let names = args.strings("the extensions to use")?;
        args.done()?;
        for name in names {
            let name = name.to_ascii_lowercase();
            if !EXTENSIONS.contains(&name.as_str()) {
                return Err(CompileError::new(
                    node.line,
                    format!("the extension {name:?} is not supported"),
                ));
            }
            // RFC 6131 §2: "vacation-seconds" implies "vacation"; a
            // script that requires the one need not require the other.
            if name == "vacation-seconds" {
                self.extensions.insert("vacation".to_string());
            }
            self.extensions.insert(name);
        }
        Ok(())
    }

    /// Whether the script required `extension`.
    pub(crate) fn has(&self, extension: &str) -> bool {
        self.extensions.contains(extension)
    }

    /// Fails unless the script required `extension` for `what`.
    pub(crate) fn needs(&self, extension: &str, what: &str, line: u32) -> Result<(), CompileError> {
        if self.has(extension) {
            Ok(())
        } else {
            Err(CompileError::new(
                line,
                format!("{what} needs require \"{extension}\" at the top of the script"),
            ))
        }
    }

    /// A block of commands; `if` collects the `elsif` and `else` after it.
    pub(crate) fn block(&mut self, nodes: &[Node]) -> Result<Vec<Command>, CompileError> {
        let mut commands = Vec::new();
        let mut i = 0;
        while i < nodes.len() {
            let node = &nodes[i];
            i += 1;
            match node.name.as_str() {
                "if" => {
                    let mut branches = vec![(self.condition(node)?, self.body(node)?)];
                    let mut otherwise = None;
                    while let Some(next) = nodes.get(i) {
                        match next.name.as_str() {
                            "elsif" => branches.push((self.condition(next)?, self.body(next)?)),
                            "else" => {
                                no_arguments(next)?;
                                otherwise = Some(self.body(next)?);
                                i += 1;
                                break;
                            }
                            _ => break,
                        }
                        i += 1;
                    }
                    commands.push(Command::If { branches, otherwise });
                }
                "elsif" | "else" => {
                    return Err(CompileError::new(
                        node.line,
                        format!("{} must follow an if or elsif", node.name),
                    ));
                }
                "require" => {
                    return Err(CompileError::new(
                        node.line,
                        "require must come before every other command",
                    ));
                }
                _ => {
                    if node.block.is_some() {
                        return Err(CompileError::new(
                            node.line,
                            format!("{} takes no block; end it with ';'", node.name),
                        ));
                    }
                    // `fileinto "A"` then `keep;` on the next line reads as
                    // one command with a test: the ';' is what is missing.
                    if let Some(test) = node.tests.first() {
                        return Err(CompileError::new(
                            test.line,
                            format!("expected ';' to end {} before {}", node.name, test.name),
                        ));
                    }
                    commands.push(self.command(node)?);
                }
            }
        }
        Ok(commands)
    }

    /// The one test of `if`/`elsif` (RFC 5228 §3.1).
    fn condition(&mut self, node: &Node) -> Result<crate::program::Test, CompileError> {
        if !node.args.is_empty() {
            return Err(CompileError::new(
                node.line,
                format!("{} takes a test, not arguments", node.name),
            ));
        }
        match node.tests.as_slice() {
            [test] if !node.test_list => self.test(test),
            _ => Err(CompileError::new(
                node.line,
                format!("{} takes one test; use anyof(...) or allof(...) for several", node.name),
            )),
        }
    }

    fn body(&mut self, node: &Node) -> Result<Vec<Command>, CompileError> {
        match &node.block {
            Some(block) => self.block(block),
            None => Err(CompileError::new(
                node.line,
                format!("{} needs a block in {{ }}", node.name),
            )),
        }
    }
}

fn no_arguments(node: &Node) -> Result<(), CompileError> {
    if node.args.is_empty() && node.tests.is_empty() {
        Ok(())
    } else {
        Err(CompileError::new(
            node.line,
            format!("{} takes no arguments", node.name),
        ))
    }
}

impl Compiler {
    /// A variable that `set`, the flag commands and hasflag name: a
    /// plain name, or one in the "global" namespace, which comes with
    /// the include extension (RFC 6609 §3.5).
    pub(crate) fn variable_name(&self, name: &str, line: u32) -> Result<(), CompileError> {
        match crate::variables::global_name(name) {
            Some(global) => {
                self.needs("include", &format!("the variable {name:?}"), line)?;
                check_variable_name(global, line)
            }
            None => check_variable_name(name, line),
        }
    }
}

/// A variable name as `set` and the flag commands take it (RFC 5229 §3:
/// an identifier; namespaced names belong to extensions we lack).
pub(crate) fn check_variable_name(name: &str, line: u32) -> Result<(), CompileError> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(CompileError::new(
            line,
            format!("{name:?} is not a valid variable name"),
        ))
    }
}
