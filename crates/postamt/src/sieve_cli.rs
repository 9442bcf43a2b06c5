//! `postamt sieve`: users' Sieve scripts (RFC 5228) from the command
//! line, for administrators: list, show, upload, activate and check them,
//! and set a domain's default script, which runs for its users who have
//! no active script of their own (for example, spam into Junk).

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::config::Config;

#[derive(Subcommand)]
pub enum SieveCommand {
    /// List a user's scripts; the active one is marked.
    List {
        /// The user, e.g. alice@example.org
        address: String,
    },
    /// Print one of a user's scripts.
    Get { address: String, name: String },
    /// Upload a script (from FILE, or standard input with -), checking it
    /// first; --activate makes it the one that runs.
    Put {
        address: String,
        name: String,
        /// The script's file; - reads standard input.
        file: PathBuf,
        #[arg(long)]
        activate: bool,
    },
    /// Make a script the one that runs for the user; --none turns Sieve
    /// off for them (their domain's default runs, if it has one).
    Activate {
        address: String,
        #[arg(required_unless_present = "none")]
        name: Option<String>,
        #[arg(long, conflicts_with = "name")]
        none: bool,
    },
    /// Delete a script that is not active.
    Delete { address: String, name: String },
    /// Check a script file without storing it: prints the line and reason
    /// of the first error, and exits non-zero if there is one.
    Check {
        /// The script's file; - reads standard input.
        file: PathBuf,
    },
    /// Set (FILE) or remove (--remove) a domain's default script, which
    /// runs for its users without an active script of their own.
    Default {
        domain: String,
        #[arg(required_unless_present = "remove")]
        file: Option<PathBuf>,
        #[arg(long, conflicts_with = "file")]
        remove: bool,
    },
}

pub async fn sieve(config: &Config, command: SieveCommand) -> anyhow::Result<()> {
    if let SieveCommand::Check { file } = &command {
        compiled(&read(file)?)?;
        println!("{}: the script is valid", file.display());
        return Ok(());
    }
    let store = crate::admin::open(config).await?;
    let account = |address: &str| {
        let store = store.clone();
        let address = address.to_string();
        async move {
            store
                .find_account(&address)
                .await?
                .map(|a| a.id)
                .ok_or_else(|| anyhow::anyhow!("there is no user {address}; see `postamt user list`"))
        }
    };
    match command {
        SieveCommand::List { address } => {
            for script in store.sieve_scripts(account(&address).await?).await? {
                let active = if script.active { "  (active)" } else { "" };
                println!("{}  {} bytes{active}", script.name, script.size);
            }
        }
        SieveCommand::Get { address, name } => {
            let script = store
                .sieve_script(account(&address).await?, &name)?
                .ok_or_else(|| anyhow::anyhow!("{address} has no script {name:?}"))?;
            print!("{}", script.script);
        }
        SieveCommand::Put {
            address,
            name,
            file,
            activate,
        } => {
            check_name(&name)?;
            let text = read(&file)?;
            let compiled = compiled(&text)?;
            let id = account(&address).await?;
            store
                .put_sieve_script(id, &name, &text, &compiled, config.sieve.storage()?)
                .await?
                .map_err(|refusal| {
                    anyhow::anyhow!("{address} cannot store it: {}", crate::sieve_cli::refusal(refusal))
                })?;
            if activate {
                store.activate_sieve_script(id, Some(&name)).await?;
            }
            println!("stored {name} for {address}{}", if activate { ", active" } else { "" });
        }
        SieveCommand::Activate { address, name, .. } => {
            match store
                .activate_sieve_script(account(&address).await?, name.as_deref())
                .await?
            {
                store::SieveChange::Done => {}
                _ => anyhow::bail!("{address} has no script {:?}", name.unwrap_or_default()),
            }
        }
        SieveCommand::Delete { address, name } => {
            match store.delete_sieve_script(account(&address).await?, &name).await? {
                store::SieveChange::Done => {}
                store::SieveChange::Active => {
                    anyhow::bail!("{name} is {address}'s active script; activate another (or --none) first")
                }
                _ => anyhow::bail!("{address} has no script {name:?}"),
            }
        }
        SieveCommand::Default { domain, file, .. } => match file {
            Some(file) => {
                let text = read(&file)?;
                let compiled = compiled(&text)?;
                store.set_domain_sieve_script(&domain, Some((&text, &compiled))).await?;
            }
            None => store.set_domain_sieve_script(&domain, None).await?,
        },
        SieveCommand::Check { .. } => unreachable!("answered before the store is opened"),
    }
    Ok(())
}

/// The script compiled and serialised as the store keeps it, or the line
/// and reason of its first error.
pub(crate) fn compiled(text: &str) -> anyhow::Result<String> {
    let program = sieve::compile(text).map_err(|e| anyhow::anyhow!("the script is not valid: {e}"))?;
    Ok(program.stored())
}

/// What an account is told when its limits refuse a script.
pub(crate) fn refusal(refusal: store::SieveRefusal) -> String {
    match refusal {
        store::SieveRefusal::TooManyScripts { max_scripts } => {
            format!("it has {max_scripts} scripts already, the most allowed (`[sieve] max_scripts`)")
        }
        store::SieveRefusal::TooLarge { max_size } => {
            format!("the script is larger than {max_size} bytes (`[sieve] max_script_size`)")
        }
    }
}

/// Script names as ManageSieve allows them (RFC 5804 §1.6): no control
/// characters, not empty, at most 512 bytes.
pub(crate) fn check_name(name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 512 && !name.chars().any(char::is_control),
        "{name:?} is not a script name (1 to 512 bytes, no control characters)"
    );
    Ok(())
}

fn read(file: &Path) -> anyhow::Result<String> {
    let mut text = String::new();
    if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    }
    Ok(text)
}
