//! IMAP commands, grouped by what they act on.

mod auth;
mod catenate;
mod compress;
mod condstore;
mod context;
mod contexts;
mod copy;
mod fetch;
mod fetch_meta;
mod idle;
mod keywords;
mod mailbox;
mod metadata;
mod notify;
mod notify_new;
mod objects;
mod quota;
mod replace;
mod search;
mod search_flags;
mod select;
mod sort;
mod sort_keys;
mod special_use;
mod store;
mod thread;

pub(crate) use contexts::Contexts;
pub(crate) use mailbox::ListCommand;
pub(crate) use metadata::MetadataQuery;
pub(crate) use sort::SortCommand;
pub(crate) use store::FlagStore;
