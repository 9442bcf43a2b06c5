//! `[store]`: where the store's database is, and how the rest of the
//! program opens it.

use serde::Deserialize;

use crate::config::Config;

/// `[store]`: where the store's database is. Without a `url`, SQLite in
/// `data_dir`; with one, a PostgreSQL server that several nodes share (see
/// docs/cluster.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `postgres://user:password@host/database` or
    /// `host=/run/postgresql dbname=postamt`; `POSTAMT_STORE_URL` or
    /// `--store-url` override it.
    pub url: Option<String>,
    /// PostgreSQL connections for reads at most, per node (the writer has
    /// one more).
    pub pool_size: usize,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            url: None,
            pool_size: store::DEFAULT_POOL_SIZE,
        }
    }
}

impl Config {
    /// How the store is opened, from `data_dir` and `[store]`.
    pub fn store_options(&self) -> store::StoreOptions {
        store::StoreOptions {
            data_dir: self.data_dir.clone(),
            url: self.store.url.clone().filter(|url| !url.is_empty()),
            pool_size: self.store.pool_size,
        }
    }

    /// Where the store is, for messages: the data directory, or the
    /// PostgreSQL URL without its password.
    pub fn store_location(&self) -> String {
        match &self.store_options().url {
            Some(url) => store::redact_store_url(url),
            None => self.data_dir.display().to_string(),
        }
    }
}
