//! The generic shape of a script (RFC 5228 §8.2): commands with their
//! arguments, tests and blocks, before anyone knows what the names mean.
//! `compile` gives them meaning. Nesting is bounded, so that a script of
//! a million `(` cannot exhaust the stack of the server that reads it.

use crate::error::CompileError;
use crate::lexer::{Token, TokenKind};

/// How deep blocks and tests may nest. Real scripts nest a handful of
/// levels; the bound only stops hostile ones.
pub(crate) const MAX_NESTING: usize = 32;

/// A command (`name args... ;` or `name args... { block }`) or a test
/// (`name args...`, where `block` is None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub name: String,
    pub line: u32,
    pub args: Vec<Arg>,
    /// The test, or the test list in parentheses, after the arguments.
    pub tests: Vec<Node>,
    /// Whether the tests came as a parenthesised list, even of one.
    pub test_list: bool,
    pub block: Option<Vec<Node>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    /// A string, or a list of them in brackets.
    Strings {
        values: Vec<String>,
        list: bool,
        line: u32,
    },
    Number {
        value: u64,
        line: u32,
    },
    Tag {
        name: String,
        line: u32,
    },
}

/// Reads the commands of a whole script.
pub(crate) fn parse(tokens: &[Token]) -> Result<Vec<Node>, CompileError> {
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let commands = parser.commands()?;
    if let Some(token) = parser.tokens.get(parser.pos) {
        return Err(CompileError::new(token.line, "a '}' closes no block"));
    }
    Ok(commands)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&TokenKind> {
        self.tokens.get(self.pos).map(|t| &t.kind)
    }

    fn line(&self) -> u32 {
        self.tokens.get(self.pos).or(self.tokens.last()).map_or(1, |t| t.line)
    }

    fn eat(&mut self, punct: u8) -> bool {
        if self.peek() == Some(&TokenKind::Punct(punct)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, punct: u8, what: &str) -> Result<(), CompileError> {
        if self.eat(punct) {
            Ok(())
        } else {
            Err(CompileError::new(self.line(), format!("expected {what}")))
        }
    }

    fn nest(&mut self) -> Result<(), CompileError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(CompileError::new(
                self.line(),
                format!("blocks and tests nest deeper than {MAX_NESTING} levels"),
            ));
        }
        Ok(())
    }

    /// `*command`, up to the end or a `}`.
    fn commands(&mut self) -> Result<Vec<Node>, CompileError> {
        let mut commands = Vec::new();
        while let Some(kind) = self.peek() {
            match kind {
                TokenKind::Punct(b'}') => break,
                TokenKind::Identifier(_) => commands.push(self.command()?),
                _ => return Err(CompileError::new(self.line(), "expected a command such as keep or if")),
            }
        }
        Ok(commands)
    }

    /// `identifier arguments (";" / block)`.
    fn command(&mut self) -> Result<Node, CompileError> {
        let mut node = self.test()?;
        if self.eat(b'{') {
            self.nest()?;
            let block = self.commands()?;
            self.expect(b'}', "a '}' to close the block")?;
            self.depth -= 1;
            node.block = Some(block);
        } else if !self.eat(b';') {
            return Err(CompileError::new(
                self.line(),
                format!("expected ';' after the arguments of {}", node.name),
            ));
        }
        Ok(node)
    }

    /// `identifier arguments`, where arguments end in an optional test or
    /// parenthesised test list.
    fn test(&mut self) -> Result<Node, CompileError> {
        let line = self.line();
        let Some(TokenKind::Identifier(name)) = self.peek() else {
            return Err(CompileError::new(line, "expected a test such as header or true"));
        };
        let mut node = Node {
            name: name.clone(),
            line,
            args: Vec::new(),
            tests: Vec::new(),
            test_list: false,
            block: None,
        };
        self.pos += 1;
        while let Some(arg) = self.argument()? {
            node.args.push(arg);
        }
        match self.peek() {
            Some(TokenKind::Identifier(_)) => {
                self.nest()?;
                node.tests.push(self.test()?);
                self.depth -= 1;
            }
            Some(TokenKind::Punct(b'(')) => {
                self.pos += 1;
                self.nest()?;
                node.test_list = true;
                loop {
                    node.tests.push(self.test()?);
                    if !self.eat(b',') {
                        break;
                    }
                }
                self.expect(b')', "',' or ')' in the test list")?;
                self.depth -= 1;
            }
            _ => {}
        }
        Ok(node)
    }

    fn argument(&mut self) -> Result<Option<Arg>, CompileError> {
        let line = self.line();
        let arg = match self.peek() {
            Some(TokenKind::Tag(name)) => Arg::Tag {
                name: name.clone(),
                line,
            },
            Some(TokenKind::Number(value)) => Arg::Number { value: *value, line },
            Some(TokenKind::String(value)) => Arg::Strings {
                values: vec![value.clone()],
                list: false,
                line,
            },
            Some(TokenKind::Punct(b'[')) => {
                self.pos += 1;
                let mut values = Vec::new();
                loop {
                    match self.peek() {
                        Some(TokenKind::String(value)) => values.push(value.clone()),
                        _ => return Err(CompileError::new(self.line(), "expected a string in the list")),
                    }
                    self.pos += 1;
                    if !self.eat(b',') {
                        break;
                    }
                }
                self.expect(b']', "',' or ']' in the string list")?;
                return Ok(Some(Arg::Strings {
                    values,
                    list: true,
                    line,
                }));
            }
            _ => return Ok(None),
        };
        self.pos += 1;
        Ok(Some(arg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokenize;

    fn parse_script(script: &str) -> Result<Vec<Node>, CompileError> {
        parse(&tokenize(script)?)
    }

    #[test]
    fn an_if_with_a_test_list_and_a_block() {
        let nodes = parse_script("if anyof (true, header :is \"a\" [\"b\", \"c\"]) { keep; }\nstop;").unwrap();
        assert_eq!(nodes.len(), 2);
        let if_node = &nodes[0];
        assert_eq!(if_node.name, "if");
        assert!(if_node.test_list || if_node.tests.len() == 1);
        let anyof = &if_node.tests[0];
        assert!(anyof.test_list);
        assert_eq!(anyof.tests.len(), 2);
        assert_eq!(
            anyof.tests[1].args,
            vec![
                Arg::Tag {
                    name: "is".into(),
                    line: 1
                },
                Arg::Strings {
                    values: vec!["a".into()],
                    list: false,
                    line: 1
                },
                Arg::Strings {
                    values: vec!["b".into(), "c".into()],
                    list: true,
                    line: 1
                },
            ]
        );
        assert_eq!(if_node.block.as_ref().unwrap()[0].name, "keep");
        assert_eq!(nodes[1].line, 2);
    }

    #[test]
    fn malformed_scripts_say_where() {
        for (script, line) in [
            ("keep", 1),
            ("keep;\n}", 2),
            ("if true {\nkeep;", 2),
            ("if anyof (true,\n) {}", 2),
            ("fileinto [\"a\",];", 1),
            ("fileinto [];", 1),
            ("\"x\";", 1),
            ("if true { keep }", 1),
        ] {
            let error = parse_script(script).unwrap_err();
            assert_eq!(error.line, line, "{script}: {error}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep_tests = format!("if {}true{} {{}}", "not ".repeat(40), "");
        assert!(parse_script(&deep_tests).unwrap_err().message.contains("nest"));
        let deep_lists = format!("if {}true{} {{}}", "anyof(".repeat(40), ")".repeat(40));
        assert!(parse_script(&deep_lists).is_err());
        let deep_blocks = format!("{}{}", "if true {".repeat(40), "}".repeat(40));
        assert!(parse_script(&deep_blocks).is_err());
        let fine = format!("{}{}", "if true {".repeat(10), "}".repeat(10));
        assert!(parse_script(&fine).is_ok());
        // A million open parentheses end in an error, not a stack overflow.
        assert!(parse_script(&"anyof(".repeat(1_000_000)).is_err());
    }
}
