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

    /// A connection of the test's own to the store's PostgreSQL database,
    /// if it has one.
    pub async fn postgres(&self) -> Option<tokio_postgres::Client> {
        let url = self.options.url.as_ref()?;
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to the store's PostgreSQL");
        tokio::spawn(connection);
        Some(client)
    }

    /// The one integer `sql` answers, read from the store's database
    /// directly (whichever engine it is).
    pub async fn count(&self, sql: &str) -> i64 {
        match self.postgres().await {
            Some(client) => client.query_one(sql, &[]).await.expect(sql).get(0),
            None => rusqlite::Connection::open(self.dir.path().join("postamt.db"))
                .expect("open the SQLite database")
                .query_row(sql, [], |row| row.get(0))
                .expect(sql),
        }
    }

    /// Blob files in this node's data directory, in the fan-out
    /// directories.
    pub fn blob_files(&self) -> usize {
        let Ok(fan_outs) = std::fs::read_dir(self.dir.path().join("blobs")) else {
            return 0;
        };
        fan_outs
            .flatten()
            .filter(|e| e.file_name().len() == 2)
            .map(|fan_out| std::fs::read_dir(fan_out.path()).unwrap().count())
            .sum()
    }

    /// Contents held by the backend's content store (not inline).
    pub async fn large_contents(&self) -> i64 {
        match self.options.url {
            Some(_) => self.count("SELECT COUNT(*) FROM chunked_content").await,
            None => self.blob_files() as i64,
        }
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
