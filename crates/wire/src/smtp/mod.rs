//! SMTP (RFC 5321) codec, server side: command lines to [`Command`]s,
//! [`Reply`]s to bytes, and the DATA reader that undoes dot-stuffing.

mod address;
mod command;
mod data;
mod reply;
mod xtext;

pub use address::{Mailbox, RcptPath, ReversePath, parse_path};
pub use command::{Command, CommandError, Param, parse_command};
pub use data::{DataOutcome, DataReader};
pub use reply::Reply;
pub use xtext::{decode_xtext, is_xtext};
