//! `postamt store copy --from LOCATION --to LOCATION`: a whole store moved
//! to another backend (issue 18), SQLite to PostgreSQL or back, while no
//! server uses the source. The work and its verification are the store's
//! (`Store::copy_to`); this is where the two stores are named, opened
//! with the checks a person needs (a source that is not there is not made
//! empty, a source still served is refused) and the outcome is told.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use store::{Store, StoreOptions};

/// Where a store is, as the command line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    /// A data directory: `postamt.db` and `blobs/`.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string.
    Postgres(String),
}

impl Location {
    fn parse(text: &str) -> anyhow::Result<Location> {
        if let Some(dir) = text.strip_prefix("sqlite:") {
            if dir.is_empty() {
                bail!("{text:?} names no directory: write sqlite:DIR, the data directory that holds postamt.db");
            }
            return Ok(Location::Sqlite(PathBuf::from(dir)));
        }
        // A URL, or key=value pairs (libpq's two forms of connection
        // string, PostgreSQL documentation 34.1.1).
        if text.starts_with("postgres://") || text.starts_with("postgresql://") || text.contains('=') {
            return Ok(Location::Postgres(text.to_string()));
        }
        bail!(
            "{text:?} is not a store location: write sqlite:DIR for a data directory, or a PostgreSQL \
             connection string (postgres://user@host/database, or host=/run/postgresql dbname=postamt)"
        )
    }

    /// For messages: the directory, or the URL without its password.
    fn describe(&self) -> String {
        match self {
            Location::Sqlite(dir) => format!("sqlite:{}", dir.display()),
            Location::Postgres(url) => store::redact_store_url(url),
        }
    }

    /// How to open it; `scratch` is the data directory a store on
    /// PostgreSQL is given, which keeps nothing there.
    fn options(&self, scratch: &Path) -> StoreOptions {
        match self {
            Location::Sqlite(dir) => StoreOptions::sqlite(dir),
            Location::Postgres(url) => StoreOptions {
                url: Some(url.clone()),
                ..StoreOptions::sqlite(scratch)
            },
        }
    }

    /// Opens the store to copy, which must exist: opening an empty place
    /// would make an empty store of it.
    async fn open_source(&self, scratch: &Path) -> anyhow::Result<Store> {
        let exists = match self {
            Location::Sqlite(dir) => dir.join("postamt.db").is_file(),
            Location::Postgres(url) => store::postgres::holds_store(url)
                .await
                .with_context(|| format!("cannot reach the source {}", self.describe()))?,
        };
        if !exists {
            match self {
                Location::Sqlite(dir) => bail!(
                    "there is no store at {}: {} does not exist",
                    self.describe(),
                    dir.join("postamt.db").display()
                ),
                Location::Postgres(_) => bail!(
                    "there is no store at {}: the database has no postamt tables",
                    self.describe()
                ),
            }
        }
        self.open(scratch, "source").await
    }

    async fn open(&self, scratch: &Path, role: &str) -> anyhow::Result<Store> {
        Store::open_with(&self.options(scratch))
            .await
            .with_context(|| format!("cannot open the {role} store at {}", self.describe()))
    }
}

pub async fn copy(from: &str, to: &str) -> anyhow::Result<()> {
    let (from, to) = (Location::parse(from)?, Location::parse(to)?);
    if from == to {
        bail!("--from and --to name the same store ({})", from.describe());
    }
    let scratch = tempfile::tempdir().context("cannot make a temporary directory")?;
    let source = from.open_source(scratch.path()).await?;
    let host = crate::config::machine_hostname();
    if let Some((id, claim)) = source.live_node_claims(&host).await?.first() {
        bail!(
            "the source {} is in use: node {id:?} ({}) is running, its claim holds for {} s more; \
             stop every postamt that serves it first",
            from.describe(),
            claim.instance,
            (claim.alive_until - store::now()).max(0)
        );
    }
    let target = to.open(scratch.path(), "target").await?;
    println!("Copying {} to {}", from.describe(), to.describe());
    let summary = source
        .copy_to(&target)
        .await
        .with_context(|| format!("the copy to {} failed", to.describe()))?;
    let verified = &summary.verified;
    for (table, rows) in &verified.tables {
        println!("  {table:<22} {rows:>10} rows");
    }
    println!(
        "Copied and verified {} tables, {} rows and {} contents ({} bytes; {} contents, {} bytes, kept outside the \
         database) in {:.1} s",
        verified.tables.len(),
        verified.rows,
        verified.contents,
        verified.content_bytes,
        summary.contents_copied,
        summary.content_bytes_copied,
        summary.elapsed.as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_a_directory_or_a_connection_string() {
        assert_eq!(
            Location::parse("sqlite:/var/lib/postamt").unwrap(),
            Location::Sqlite("/var/lib/postamt".into())
        );
        for url in ["postgres://u@h/db", "postgresql://h/db", "host=/tmp/x dbname=y"] {
            assert_eq!(Location::parse(url).unwrap(), Location::Postgres(url.into()));
        }
        assert!(Location::parse("sqlite:").is_err());
        let error = Location::parse("/var/lib/postamt").unwrap_err().to_string();
        assert!(error.contains("sqlite:DIR"), "{error}");
    }
}
