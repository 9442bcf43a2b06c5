//! What is wrong with a script, and where: ManageSieve clients show the
//! line of a syntax error to their user (RFC 5804 §1.3), so every error
//! carries one.

use std::fmt;

/// A script that cannot run: the line it is on (1-based) and what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub line: u32,
    pub message: String,
}

impl CompileError {
    pub(crate) fn new(line: u32, message: impl Into<String>) -> Self {
        CompileError {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for CompileError {}
