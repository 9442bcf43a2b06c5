//! `postamt setup DOMAIN`: the first run on a new machine. Writes a config
//! file with the public hostname, makes the store, hosts the domain with
//! its DKIM keys, creates the postmaster account (password printed once)
//! with abuse@ as its alias (RFC 2142 §2 names both as addresses every
//! mail domain should have), then prints the DNS records and what is left
//! to do by hand.
//!
//! Idempotent: an existing config is replaced only with `--force` (or when
//! it is the untouched file the Debian package installed), and a second run
//! keeps the domain, its keys and the postmaster with their password.

use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::admin::{explain, open_or_create};
use crate::config::Config;

/// The config file the Debian package installs (contrib/postamt.toml):
/// setup may replace it without --force as long as nobody changed it.
const PACKAGED_CONFIG: &str = include_str!("../../../contrib/postamt.toml");

/// Where a system-wide installation keeps its config.
const SYSTEM_CONFIG: &str = "/etc/postamt/postamt.toml";

/// The system user and group the Debian package makes and the systemd unit
/// runs the server as.
const SERVICE_ACCOUNT: &str = "postamt";

/// The system-wide config, where it exists: what every command reads when
/// not given --config, so `postamt dns` and the rest see what the service
/// sees.
pub fn installed_config() -> Option<PathBuf> {
    let path = PathBuf::from(SYSTEM_CONFIG);
    path.exists().then_some(path)
}

#[derive(clap::Args)]
pub struct SetupArgs {
    /// The mail domain to host here, e.g. example.org
    pub domain: String,
    /// The public name of this machine, e.g. mail.example.org: its MX
    /// record, greeting and certificate name. Default: the machine's name
    /// if it has a dot, else mail.DOMAIN.
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Replace an existing config file. The domain, its DKIM keys and the
    /// postmaster account with its password are kept.
    #[arg(long)]
    pub force: bool,
}

pub async fn setup(
    config_file: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    store_url: Option<String>,
    args: SetupArgs,
) -> anyhow::Result<()> {
    let root = crate::unix_account::is_root();
    let config_path = match config_file {
        Some(path) => path,
        None if root => PathBuf::from(SYSTEM_CONFIG),
        None => bail!(
            "name the config file to write with --config FILE (as root it is {SYSTEM_CONFIG}); \
             every later command and the server read that file"
        ),
    };
    let domain = store::normalize_domain(&args.domain);
    if !domain.contains('.') {
        bail!("{domain:?} is not a mail domain; give one like example.org");
    }
    let hostname = match args.hostname {
        Some(name) => name.trim_end_matches('.').to_ascii_lowercase(),
        None => default_hostname(&domain),
    };
    if !hostname.contains('.') {
        bail!("--hostname {hostname:?} must be this machine's full public name, like mail.{domain}");
    }
    refuse_to_overwrite(&config_path, args.force)?;
    let data_dir = match data_dir {
        Some(dir) => std::path::absolute(dir)?,
        None => Config::default().data_dir,
    };
    write_config(
        &config_path,
        &config_text(&domain, &hostname, &data_dir, store_url.as_deref()),
    )?;
    println!("Wrote {}", config_path.display());

    let config = Config::load(Some(&config_path), None)?;
    let store = open_or_create(&config).await?;
    if store.list_domains().await?.iter().any(|d| d.name == domain) {
        println!("Kept domain {domain} and its DKIM keys");
    } else {
        let selectors = store
            .add_domain_with_dkim(&domain, crate::dkim::new_keys().await?)
            .await
            .map_err(explain)?;
        println!("Added domain {domain} with DKIM keys {}", selectors.join(" and "));
    }
    let postmaster = format!("postmaster@{domain}");
    if store.find_account(&postmaster).await?.is_some() {
        println!("Kept account {postmaster} and its password (`postamt user passwd {postmaster}` sets a new one)");
    } else {
        let password = random_password()?;
        let hash = {
            let password = password.clone();
            tokio::task::spawn_blocking(move || auth::hash_password(&password)).await??
        };
        store.add_account(&postmaster, &hash).await.map_err(explain)?;
        println!("Added account {postmaster} with the password\n\n    {password}\n");
        println!("It is shown only this once: keep it in a password manager.");
    }
    let abuse = format!("abuse@{domain}");
    if !store
        .list_aliases(Some(&domain))
        .await?
        .iter()
        .any(|a| a.source == abuse)
    {
        store
            .add_alias(&abuse, std::slice::from_ref(&postmaster))
            .await
            .map_err(explain)?;
        println!("{abuse} -> {postmaster}");
    }
    drop(store);

    println!();
    crate::dns_records::dns(&config, &domain, false).await?;
    if root && config.store.url.is_none() {
        hand_over_data_dir(&config.data_dir)?;
    }
    print_next_steps(&config_path, &domain, &hostname);
    Ok(())
}

/// The machine's name when it is a full one (has a dot), else the usual
/// `mail.` name under the domain.
fn default_hostname(domain: &str) -> String {
    let machine = crate::config::machine_hostname().to_ascii_lowercase();
    if machine.contains('.') && machine != "localhost.localdomain" {
        machine
    } else {
        format!("mail.{domain}")
    }
}

fn refuse_to_overwrite(path: &Path, force: bool) -> anyhow::Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if force || existing == PACKAGED_CONFIG {
        return Ok(());
    }
    bail!(
        "{} exists already; `postamt setup --force` replaces it (the domain, its DKIM keys and the \
         postmaster account are kept), or edit it by hand",
        path.display()
    )
}

/// The config file: what setup decides, every other key at its default.
fn config_text(domain: &str, hostname: &str, data_dir: &Path, store_url: Option<&str>) -> String {
    let listen = |port: u16| format!("[\"{}\"]", any_address(port));
    let store = store_url.map_or(String::new(), |url| format!("\n[store]\nurl = {url:?}\n"));
    // Started by hand as root, the server becomes the package's user after
    // binding its ports (under systemd it starts as that user already);
    // without that user, a root start is refused until one is named.
    let server = if crate::unix_account::user_ids(SERVICE_ACCOUNT).is_some() {
        format!("\n[server]\nuser = {SERVICE_ACCOUNT:?}\n")
    } else {
        "\n# Started as root, the server becomes this user after binding its ports:\n\
         # [server]\n\
         # user = \"postamt\"\n"
            .to_string()
    };
    format!(
        "# Written by `postamt setup {domain}`. Every key not named here has its default:\n\
         # see the README's Configuration section. After a change: `systemctl reload postamt`\n\
         # (or restart, for the keys the log names as needing one).\n\
         \n\
         # The public name of this machine: MX target, SMTP greeting, TLS certificate name.\n\
         hostname = {hostname:?}\n\
         data_dir = {:?}\n\
         {store}\
         \n\
         # [::] takes IPv4 and IPv6 connections where the system has IPv6.\n\
         [listen]\n\
         smtp = {}\n\
         submission = {}\n\
         submissions = {}\n\
         imap = {}\n\
         imaps = {}\n\
         pop3 = {}\n\
         pop3s = {}\n\
         # ManageSieve (RFC 5804): users edit their Sieve filters from their mail client.\n\
         managesieve = {}\n\
         # Client autoconfiguration, MTA-STS policies, ACME validations; /metrics\n\
         # answers only this machine (see the README's web listener section).\n\
         http = {}\n\
         https = {}\n\
         {server}",
        data_dir.display().to_string(),
        listen(25),
        listen(587),
        listen(465),
        listen(143),
        listen(993),
        listen(110),
        listen(995),
        listen(4190),
        listen(80),
        listen(443),
    )
}

/// `[::]:PORT` where one IPv6 socket takes IPv4 connections too (Linux's
/// default, net.ipv6.bindv6only = 0), else `0.0.0.0:PORT`: binding both
/// would collide on the same port.
fn any_address(port: u16) -> String {
    let dual_stack = std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only").is_ok_and(|v| v.trim() == "0")
        && std::net::TcpListener::bind("[::]:0").is_ok();
    if dual_stack {
        format!("[::]:{port}")
    } else {
        format!("0.0.0.0:{port}")
    }
}

/// Writes the config readable by its owner and, when the service's group
/// exists and we are root, by that group only (it may hold a relay
/// password).
fn write_config(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let written = path.with_extension("toml.new");
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o640)
        .open(&written)
        .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()))
        .with_context(|| format!("cannot write {}", written.display()))?;
    std::fs::set_permissions(&written, std::fs::Permissions::from_mode(0o640))?;
    if crate::unix_account::is_root()
        && let Some(group) = crate::unix_account::group_id(SERVICE_ACCOUNT)
    {
        std::os::unix::fs::chown(&written, Some(0), Some(group))
            .with_context(|| format!("cannot give {} to group {SERVICE_ACCOUNT}", written.display()))?;
    }
    std::fs::rename(&written, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Gives the data directory and all in it to the user the service runs
/// as, when that user exists: setup ran as root, the server will not.
fn hand_over_data_dir(dir: &Path) -> anyhow::Result<()> {
    let Some((uid, gid)) = crate::unix_account::user_ids(SERVICE_ACCOUNT) else {
        return Ok(());
    };
    chown_tree(dir, uid, gid).with_context(|| format!("cannot give {} to user {SERVICE_ACCOUNT}", dir.display()))
}

fn chown_tree(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
    if std::fs::symlink_metadata(path)?.is_dir() {
        for entry in std::fs::read_dir(path)? {
            // SQLite removes its -wal and -shm files as the store closes,
            // which may be while this walks: a file gone needs no owner.
            match chown_tree(&entry?.path(), uid, gid) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
    }
    Ok(())
}

/// 20 characters from an alphabet of 32 without look-alikes (no 0/O, 1/l/I):
/// 100 bits from the system's random source.
fn random_password() -> anyhow::Result<String> {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 20];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .context("cannot read /dev/urandom for a password")?;
    let password: String = bytes.iter().map(|b| ALPHABET[usize::from(b % 32)] as char).collect();
    // Groups of five are easier to copy by eye.
    Ok(password
        .as_bytes()
        .chunks(5)
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-"))
}

fn print_next_steps(config: &Path, domain: &str, hostname: &str) {
    // Every command reads the system-wide config by itself.
    let postamt = if config == Path::new(SYSTEM_CONFIG) {
        "postamt".to_string()
    } else {
        format!("postamt --config {}", config.display())
    };
    println!(
        "\nNext steps:\n\
         1. Publish the records above in the zone of {domain}, and give {hostname} A/AAAA records.\n\
         2. Ask whoever runs this machine's addresses (the hosting provider) for PTR records naming {hostname}.\n\
         3. Open TCP ports 25, 587, 465, 143, 993, 110, 995, 4190, 80 and 443 in the firewall \
            (4190: ManageSieve, for filters; 80 and 443: ACME certificate checks and client autoconfiguration).\n\
         4. Start the server: `systemctl restart postamt`, or `{postamt} serve` where there is no systemd.\n\
         5. Once DNS has the records: `{postamt} dns {domain} --check`.\n\
         6. Log in with a mail client as postmaster@{domain} ({hostname}, IMAP 993, submission 465 or 587)."
    );
}
