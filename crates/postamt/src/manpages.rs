//! `postamt manpages DIR` (hidden): writes a manual page for `postamt`
//! and for every subcommand (postamt-user-add.1, ...) from the clap
//! definition, so the command line stays the one source of its
//! documentation. The Debian package is built with these (contrib/build-deb.sh).

use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;

pub fn write(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(crate::cli::Cli::command(), dir)
        .with_context(|| format!("cannot write manual pages into {}", dir.display()))?;
    let count = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "1"))
        .count();
    println!("{count} manual pages in {}", dir.display());
    Ok(())
}
