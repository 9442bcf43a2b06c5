//! The administration commands. They open the same store as the server, so
//! they work while it runs (SQLite's WAL lets both read and take turns to
//! write).

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use store::Store;

use crate::cli::{AliasCommand, DomainCommand, UserCommand};
use crate::config::Config;

async fn open(config: &Config) -> anyhow::Result<Store> {
    Store::open(&config.data_dir)
        .await
        .with_context(|| format!("cannot open the store in {}", config.data_dir.display()))
}

/// Adds the next step to store errors a person can fix.
fn explain(error: store::Error) -> anyhow::Error {
    let hint = match &error {
        store::Error::NoSuchDomain(domain) => format!("; add it first with `postamt domain add {domain}`"),
        store::Error::NoSuchAccount(_) => "; `postamt user list` shows the users".to_string(),
        store::Error::NoSuchAlias(_) => "; `postamt alias list` shows the aliases".to_string(),
        store::Error::InvalidAddress(_) => "; write it as name@example.org".to_string(),
        _ => String::new(),
    };
    anyhow::anyhow!("{error}{hint}")
}

pub async fn domain(config: &Config, command: DomainCommand) -> anyhow::Result<()> {
    let store = open(config).await?;
    match command {
        DomainCommand::Add { domain } => {
            store.add_domain(&domain).await.map_err(explain)?;
            println!("Added domain {}", store::normalize_domain(&domain));
        }
        DomainCommand::List => {
            for domain in store.list_domains().await? {
                println!("{}\t{} users\t{} aliases", domain.name, domain.accounts, domain.aliases);
            }
        }
        DomainCommand::Remove { domain } => {
            store.remove_domain(&domain).await.map_err(explain)?;
            println!("Removed domain {}", store::normalize_domain(&domain));
        }
    }
    Ok(())
}

pub async fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let store = open(config).await?;
    match command {
        UserCommand::Add {
            address,
            password_stdin,
        } => {
            let password = read_password(&address, password_stdin)?;
            let hash = hash(password).await?;
            store.add_account(&address, &hash).await.map_err(explain)?;
            println!("Added user {}", address.to_lowercase());
        }
        UserCommand::List { domain } => {
            for address in store.list_accounts(domain.as_deref()).await? {
                println!("{address}");
            }
        }
        UserCommand::Remove { address } => {
            store.remove_account(&address).await.map_err(explain)?;
            println!("Removed user {} and their mail", address.to_lowercase());
        }
        UserCommand::Passwd {
            address,
            password_stdin,
        } => {
            if store.find_account(&address).await?.is_none() {
                return Err(explain(store::Error::NoSuchAccount(address)));
            }
            let password = read_password(&address, password_stdin)?;
            let hash = hash(password).await?;
            store.set_password(&address, &hash).await.map_err(explain)?;
            println!("Changed the password of {}", address.to_lowercase());
        }
    }
    Ok(())
}

pub async fn alias(config: &Config, command: AliasCommand) -> anyhow::Result<()> {
    let store = open(config).await?;
    match command {
        AliasCommand::Add { source, targets } => {
            store.add_alias(&source, &targets).await.map_err(explain)?;
            println!("{} -> {}", source.to_lowercase(), targets.join(", "));
        }
        AliasCommand::List { domain } => {
            for alias in store.list_aliases(domain.as_deref()).await? {
                println!("{}\t{}", alias.source, alias.targets.join(", "));
            }
        }
        AliasCommand::Remove { source, target } => {
            store.remove_alias(&source, target.as_deref()).await.map_err(explain)?;
            println!("Removed {}", source.to_lowercase());
        }
    }
    Ok(())
}

async fn hash(password: String) -> anyhow::Result<String> {
    Ok(tokio::task::spawn_blocking(move || auth::hash_password(&password)).await??)
}

/// The password from standard input (first line) or, on a terminal, typed
/// twice without echo.
fn read_password(address: &str, from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {address}: "))?;
        let second = rpassword::prompt_password("Repeat the password: ")?;
        if first != second {
            bail!("the passwords do not match; nothing was changed");
        }
        first
    } else {
        bail!("no terminal to ask for the password on; pass it on standard input with --password-stdin");
    };
    if password.is_empty() {
        bail!("the password must not be empty");
    }
    Ok(password)
}
