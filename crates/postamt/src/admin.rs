//! The administration commands. They open the same store as the server, so
//! they work while it runs (SQLite's WAL lets both read and take turns to
//! write).

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use store::{RecipientStatus, Store};

use crate::cli::{AliasCommand, DkimCommand, DomainCommand, QueueCommand, UserCommand};
use crate::config::Config;

/// Opens the store the server uses. Only `serve` makes a new one: an
/// administration command pointed at the wrong place says so, instead of
/// making an empty store there and answering as if all were well.
pub(crate) async fn open(config: &Config) -> anyhow::Result<Store> {
    let options = config.store_options();
    let exists = match &options.url {
        None => options.data_dir.join("postamt.db").exists(),
        Some(url) => store::postgres::holds_store(url)
            .await
            .with_context(|| format!("cannot reach the store at {}", config.store_location()))?,
    };
    if !exists {
        bail!(
            "there is no store at {}: `postamt serve` makes it when it first starts. If the server \
             keeps it elsewhere, name its config with --config (or POSTAMT_CONFIG), or the data \
             directory with --data-dir (or POSTAMT_DATA_DIR)",
            config.store_location()
        );
    }
    open_or_create(config).await
}

/// Opens the store, making it (and applying migrations) if need be: what
/// `serve` does.
pub(crate) async fn open_or_create(config: &Config) -> anyhow::Result<Store> {
    let store = Store::open_with(&config.store_options())
        .await
        .with_context(|| format!("cannot open the store at {}", config.store_location()))?;
    // Every write that adds messages checks the quota (`[quota]`).
    store.set_quota_policy(config.quota.policy()?);
    Ok(store)
}

/// Adds the next step to store errors a person can fix.
pub(crate) fn explain(error: store::Error) -> anyhow::Error {
    let hint = match &error {
        store::Error::NoSuchDomain(domain) => format!("; add it first with `postamt domain add {domain}`"),
        store::Error::NoSuchAccount(_) => "; `postamt user list` shows the users".to_string(),
        store::Error::NoSuchAlias(_) => "; `postamt alias list` shows the aliases".to_string(),
        store::Error::InvalidAddress(_) => "; write it as name@example.org".to_string(),
        store::Error::NoSuchDkimKey { domain, .. } => format!("; `postamt dkim list {domain}` shows its keys"),
        _ => String::new(),
    };
    anyhow::anyhow!("{error}{hint}")
}

pub async fn domain(config: &Config, command: DomainCommand) -> anyhow::Result<()> {
    let store = open(config).await?;
    match command {
        DomainCommand::Add { domain } => {
            let keys = crate::dkim::new_keys().await?;
            let selectors = store.add_domain_with_dkim(&domain, keys).await.map_err(explain)?;
            let domain = store::normalize_domain(&domain);
            println!("Added domain {domain} with DKIM keys {}", selectors.join(" and "));
            println!("Publish its DNS records: `postamt dns {domain}` prints them");
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

pub async fn dkim(config: &Config, command: DkimCommand) -> anyhow::Result<()> {
    let store = open(config).await?;
    match command {
        DkimCommand::List { domain } => {
            let keys = store.dkim_keys(&domain).await.map_err(explain)?;
            if keys.is_empty() {
                eprintln!("{domain} has no DKIM keys yet; `postamt dkim rotate {domain}` makes them");
            }
            for key in keys {
                println!(
                    "{}\t{}\t{}\t{}",
                    key.selector,
                    key.algorithm,
                    key.state.name(),
                    wire::date::rfc5322(key.created_at)
                );
            }
        }
        DkimCommand::Rotate { domain } => {
            // Checked first: making an RSA key takes a moment.
            store.dkim_keys(&domain).await.map_err(explain)?;
            let selectors = store
                .rotate_dkim_keys(&domain, crate::dkim::new_keys().await?)
                .await
                .map_err(explain)?;
            let domain = store::normalize_domain(&domain);
            println!(
                "New DKIM keys {} sign mail from {domain} from now on",
                selectors.join(" and ")
            );
            println!(
                "Publish them now (`postamt dns {domain}`); retire the old ones once mail signed with them is delivered"
            );
        }
        DkimCommand::Retire { domain, selector } => {
            store.retire_dkim_key(&domain, &selector).await.map_err(explain)?;
            println!(
                "Retired DKIM key {selector} of {}; its DNS record may be removed",
                store::normalize_domain(&domain)
            );
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
        UserCommand::Spam { address, filing } => {
            let to_junk = match filing.as_str() {
                "junk" => Some(true),
                "inbox" => Some(false),
                _ => None,
            };
            store.set_spam_to_junk(&address, to_junk).await.map_err(explain)?;
            println!("Spam for {} goes to: {filing}", address.to_lowercase());
        }
        UserCommand::Quota {
            address,
            storage,
            messages,
        } => crate::quota_settings::user_quota(&store, &address, storage, messages).await?,
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

pub async fn queue(config: &Config, command: QueueCommand) -> anyhow::Result<()> {
    let store = open(config).await?;
    let now = store::now();
    match command {
        QueueCommand::List => list_queue(&store, now).await?,
        QueueCommand::Show { id } => show_queued(&store, &id, now).await?,
        QueueCommand::Retry { id, all } => {
            let id = if all { None } else { id };
            if let Some(id) = &id
                && !store.is_queued(id).await?
            {
                bail!("no message {id} in the queue; `postamt queue list` shows what is there");
            }
            let count = store.retry_now(id.as_deref()).await?;
            println!("{count} recipient(s) will be tried now (the running server picks them up within seconds)");
        }
        QueueCommand::Bounce { id } => {
            if !store.is_queued(&id).await? {
                bail!("no message {id} in the queue; `postamt queue list` shows what is there");
            }
            let count = store
                .bounce_now(&id, "550 5.0.0 returned by the postmaster", "5.0.0")
                .await?;
            println!("{count} recipient(s) of {id} failed; the sender is told by the running server");
        }
        QueueCommand::Delete { id } => {
            if !store.delete_queued(&id).await? {
                bail!("no message {id} in the queue; `postamt queue list` shows what is there");
            }
            println!("Deleted {id} from the queue");
        }
    }
    Ok(())
}

/// `postamt queue list`: each message with its recipients' states.
async fn list_queue(store: &Store, now: i64) -> anyhow::Result<()> {
    let messages = store.queued_messages().await?;
    if messages.is_empty() {
        println!("The queue is empty.");
    }
    for message in messages {
        println!(
            "{}  {:>6}  {:>8} bytes  from <{}>",
            message.id,
            age(now - message.received_at),
            message.size,
            message.reverse_path
        );
        for r in message.recipients {
            let next = if r.status == RecipientStatus::Pending {
                format!(", next try in {}", age(r.next_attempt_at - now))
            } else {
                String::new()
            };
            let reply = r.last_reply.map(|reply| format!(": {reply}")).unwrap_or_default();
            println!("    {} ({}{next}){reply}", r.address, r.status);
        }
    }
    Ok(())
}

/// `postamt queue show`: a message's envelope, each recipient's attempts,
/// and its header.
async fn show_queued(store: &Store, id: &str, now: i64) -> anyhow::Result<()> {
    let Some(message) = store.queued_messages().await?.into_iter().find(|m| m.id == id) else {
        bail!("no message {id} in the queue; `postamt queue list` shows what is there");
    };
    let first = &message.recipients[0];
    println!("Queue-ID: {}", message.id);
    println!(
        "Received: {} ({} ago)",
        wire::date::rfc5322(message.received_at),
        age(now - message.received_at)
    );
    println!("From: <{}>", message.reverse_path);
    println!(
        "Size: {} bytes, body {}{}",
        message.size,
        first.body,
        if first.smtputf8 { ", SMTPUTF8" } else { "" }
    );
    // RFC 8689: what the sender asked of the transport.
    if first.require_tls {
        println!("Requires: REQUIRETLS (verified TLS on every hop, or returned)");
    } else if first.tls_optional {
        println!("Requires: nothing (TLS-Required: No; MTA-STS and DANE do not hold it back)");
    }
    let attempts = store.queue_attempts(id).await?;
    for r in &message.recipients {
        println!();
        println!("To: <{}>", r.address);
        println!("  Status: {} after {} attempt(s)", r.status, r.attempts);
        if r.status == RecipientStatus::Pending {
            println!("  Next attempt: {}", wire::date::rfc5322(r.next_attempt_at));
        }
        if let Some(reply) = &r.last_reply {
            println!("  Last reply: {reply}");
        }
        if let Some(host) = &r.remote_mta {
            println!("  From host: {host}");
        }
        print_attempts(attempts.iter().filter(|a| a.recipient_id == r.id));
    }
    let message = store::StoredMessage {
        trace_headers: b"",
        blob_hash: &first.blob_hash,
        header: None,
    };
    let content = store.open_message(message, false).await?.read_all().await?;
    let header_end = content
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(content.len(), |i| i + 2);
    println!();
    print!("{}", String::from_utf8_lossy(&content[..header_end]));
    Ok(())
}

/// The last attempts at other hosts, oldest first: when, which host, the
/// transport security policy, TLS version and cipher, and the reply.
fn print_attempts<'a>(attempts: impl Iterator<Item = &'a store::QueueAttempt>) {
    let mut attempts = attempts.peekable();
    if attempts.peek().is_none() {
        return;
    }
    println!(
        "  Attempts (oldest first; the last {} are kept):",
        store::MAX_ATTEMPTS_KEPT
    );
    for attempt in attempts {
        let transport = &attempt.transport;
        let host = attempt.host.as_deref().unwrap_or("no host reached");
        let mut line = format!("    {}  {host}", wire::date::rfc5322(attempt.at));
        if let Some(policy) = &transport.policy {
            line.push_str(&format!("  policy {policy}"));
        }
        if let (Some(version), Some(cipher)) = (&transport.tls_version, &transport.tls_cipher) {
            line.push_str(&format!("  {version} {cipher}"));
        }
        println!("{line}");
        println!("      {}", attempt.reply);
    }
}

/// A duration in seconds as `45s`, `12m`, `3h` or `2d`.
fn age(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

pub async fn collect_garbage(config: &Config, min_age: u64) -> anyhow::Result<()> {
    let store = open(config).await?;
    let removed = store.collect_garbage(std::time::Duration::from_secs(min_age)).await?;
    println!("Removed {removed} unreferenced message file(s)");
    Ok(())
}
