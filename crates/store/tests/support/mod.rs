//! What the store's integration tests share: one suite, two backends.
//! A test written once as `async fn name(backend: Backend)` is listed in
//! [`on_both_backends!`], which makes it a test on SQLite (in a temporary
//! directory) and a test on PostgreSQL (a fresh database on this test
//! process's server, see the `test-postgres` crate).

#![allow(dead_code)]

use store::{Store, StoreOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where a test's store lives, kept for as long as the test runs.
pub struct Place {
    pub dir: tempfile::TempDir,
    pub options: StoreOptions,
}

impl Place {
    pub async fn open(&self) -> Store {
        Store::open_with(&self.options).await.expect("open the store")
    }
}

impl Backend {
    /// False (with the reason printed) when this backend cannot run here.
    pub fn available(self) -> bool {
        match self {
            Backend::Sqlite => true,
            Backend::Postgres => test_postgres::server().is_some(),
        }
    }

    /// A new, empty place for a store.
    pub fn place(self) -> Place {
        let dir = tempfile::tempdir().unwrap();
        let mut options = StoreOptions::sqlite(dir.path());
        if self == Backend::Postgres {
            options.url = Some(test_postgres::fresh_database().expect("a PostgreSQL server"));
        }
        Place { dir, options }
    }

    /// A new, empty store.
    pub async fn store(self) -> (Place, Store) {
        let place = self.place();
        let store = place.open().await;
        (place, store)
    }
}

/// Makes each named `async fn(Backend)` a test on each backend, in the
/// modules `sqlite` and `postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test($crate::support::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    if $crate::support::Backend::Postgres.available() {
                        super::$test($crate::support::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}
