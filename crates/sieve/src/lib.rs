//! sieve: postamt's own interpreter of Sieve (RFC 5228), the language in
//! which users tell the server what to do with their mail as it arrives:
//! file it, flag it, forward it, answer it, refuse it.
//!
//! A script is compiled once, when it is uploaded ([`compile`]): tokens
//! (`lexer`), the generic tree of commands and tests (`parser`), then a
//! typed [`Program`] with every name, argument and extension checked
//! (`compile`). The program is what postamt stores and runs at each
//! delivery, within limits that keep a script from stalling or
//! amplifying delivery. The maintained Rust Sieve crate is AGPL, which
//! postamt's license does not allow; this one is written from the RFCs.

#![forbid(unsafe_code)]

pub mod address;
mod compile;
mod error;
#[doc(hidden)]
pub mod fuzz;
mod header;
mod interpret;
mod lexer;
pub mod mail;
mod matching;
mod parser;
pub mod program;
mod reply;
mod vacation;
mod variables;

pub use compile::EXTENSIONS;
pub use error::CompileError;
pub use interpret::{
    Action, DuplicateKey, Envelope, Host, Limits, Mail, MailAddress, Outcome, RuntimeError, VacationReply, run,
};
pub use matching::Budget;
pub use program::Program;

/// The largest script accepted, in bytes: Dovecot's default too. Scripts
/// of real users are a few kilobytes.
pub const MAX_SCRIPT_SIZE: usize = 1024 * 1024;

/// Compiles a script (UTF-8 text, RFC 5228 §2.2), or says on which line
/// it is wrong and why.
pub fn compile(script: &str) -> Result<Program, CompileError> {
    if script.len() > MAX_SCRIPT_SIZE {
        return Err(CompileError::new(
            1,
            format!(
                "the script is {} bytes; at most {MAX_SCRIPT_SIZE} are accepted",
                script.len()
            ),
        ));
    }
    let tokens = lexer::tokenize(script)?;
    let nodes = parser::parse(&tokens)?;
    compile::program(&nodes)
}
