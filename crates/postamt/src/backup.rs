//! `postamt backup DIR` and `postamt restore DIR`: the store's consistent
//! copy (`Store::backup_to`, `store::restore_backup`), told in counts.
//! On PostgreSQL both say what to do instead (pg_dump, pg_restore) and
//! exit non-zero: the database holds everything, content included, and
//! its own tools copy it consistently with the credentials and version
//! checks only the database's administrator has.

use std::path::Path;

use anyhow::{Context, bail};
use store::BackupSummary;

use crate::config::Config;

const POSTGRES_BACKUP: &str = "this store is on PostgreSQL, where everything, message contents included \
    (table content_chunks), is in the database: back it up with pg_dump, e.g. \
    `pg_dump --format=custom --file=postamt.dump DATABASE`, which takes a consistent snapshot while \
    postamt runs; see docs/backup.md";

const POSTGRES_RESTORE: &str = "this store is on PostgreSQL: restore a pg_dump into a new, empty database \
    with pg_restore (`pg_restore --dbname=DATABASE postamt.dump`) and point `[store] url` at it; see \
    docs/backup.md";

pub async fn backup(config: &Config, dir: &Path) -> anyhow::Result<()> {
    if config.store.url.is_some() {
        bail!(POSTGRES_BACKUP);
    }
    let store = crate::admin::open(config).await?;
    let summary = store
        .backup_to(dir)
        .await
        .with_context(|| format!("the backup into {} failed", dir.display()))?;
    report("Backed up", &config.store_location(), dir, &summary);
    Ok(())
}

pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<()> {
    if config.store.url.is_some() {
        bail!(POSTGRES_RESTORE);
    }
    if !from.join("postamt.db").is_file() {
        bail!(
            "{} is not a backup: it has no postamt.db (make one with `postamt backup DIR`)",
            from.display()
        );
    }
    let to = &config.data_dir;
    // A data directory without a database has no server: `serve` makes
    // the database before it listens.
    if to.join("postamt.db").exists() {
        bail!(
            "{} already holds a store: restore only into a new or empty data directory (stop the \
             server and move the old one aside first)",
            to.display()
        );
    }
    let summary = store::restore_backup(from, to)
        .await
        .with_context(|| format!("the restore into {} failed", to.display()))?;
    report("Restored", &from.display().to_string(), to, &summary);
    Ok(())
}

fn report(what: &str, from: &str, to: &Path, summary: &BackupSummary) {
    for (table, rows) in &summary.tables {
        println!("  {table:<22} {rows:>10} rows");
    }
    println!(
        "{what} {from} into {}: {} tables, {} rows, {} files copied; verified {} content hashes ({} bytes)",
        to.display(),
        summary.tables.len(),
        summary.rows,
        summary.files,
        summary.contents,
        summary.content_bytes
    );
}
