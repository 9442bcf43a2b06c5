//! IMAP commands, grouped by what they act on.

mod auth;
mod compress;
mod condstore;
mod copy;
mod fetch;
mod idle;
mod keywords;
mod mailbox;
mod metadata;
mod notify;
mod quota;
mod search;
mod select;
mod sort;
mod sort_keys;
mod store;
mod thread;

pub(crate) use mailbox::ListCommand;
pub(crate) use metadata::MetadataQuery;
pub(crate) use sort::SortCommand;
pub(crate) use store::FlagStore;
