//! IMAP commands, grouped by what they act on.

mod auth;
mod catenate;
mod copy;
mod fetch;
mod idle;
mod keywords;
mod mailbox;
mod objects;
mod replace;
mod search;
mod select;
mod special_use;
mod store;

pub(crate) use mailbox::ListCommand;
pub(crate) use store::FlagStore;
