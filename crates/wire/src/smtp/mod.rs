//! SMTP (RFC 5321) codec. Server side: command lines to [`Command`]s,
//! [`Reply`]s to bytes, and the DATA reader that undoes dot-stuffing.
//! Client side: [`Response`]s from bytes and the [`Extensions`] an EHLO
//! reply announces. Both sides share the values of the BODY, RET and
//! NOTIFY parameters, and the [`MailObject`] a server hands on.

mod address;
mod command;
mod data;
mod mail;
mod params;
mod reply;
mod response;
mod xtext;

pub use address::{Mailbox, RcptPath, ReversePath, parse_path};
pub use command::{Command, CommandError, Param, parse_command};
pub use data::{DataOutcome, DataReader};
pub use mail::{MailObject, MessageOptions, Recipient};
pub use params::{BodyType, DsnEvent, DsnReturn, Notify};
pub use reply::Reply;
pub use response::{Extensions, MAX_LINES as MAX_REPLY_LINES, Response, ResponseError, parse_response};
pub use xtext::{decode_xtext, encode_xtext};
