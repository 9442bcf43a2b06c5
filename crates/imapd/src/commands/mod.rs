//! IMAP commands, grouped by what they act on.

mod auth;
mod compress;
mod copy;
mod fetch;
mod idle;
mod keywords;
mod mailbox;
mod metadata;
mod search;
mod select;
mod store;

pub(crate) use mailbox::ListCommand;
pub(crate) use metadata::MetadataQuery;
pub(crate) use store::FlagStore;
