//! The command line: `postamt serve` and the administration commands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "postamt",
    version,
    about = "A complete mail server in one binary: SMTP and submission, a durable queue, \
        mailboxes served over IMAP and POP3.",
    long_about = "A complete mail server in one binary: SMTP (port 25) and submission (587, 465), \
        a durable queue that delivers locally and to other servers, and mailboxes served over \
        IMAP (143, 993) and POP3 (110, 995).\n\n\
        Start the server with `postamt serve`; manage domains, users, aliases, DKIM keys and the \
        queue with the other commands, which work while the server runs. Every command reads the \
        same config file (--config) and data directory (--data-dir), or the PostgreSQL store \
        several nodes share (--store-url)."
)]
pub struct Cli {
    /// The config file (TOML). Default: /etc/postamt/postamt.toml where it
    /// exists (the Debian package's); without one, every setting has its default.
    #[arg(long, global = true, env = "POSTAMT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where mail and state are kept; overrides `data_dir` in the config.
    #[arg(long, global = true, env = "POSTAMT_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The PostgreSQL store the nodes of a cluster share; overrides `[store]
    /// url` in the config (see docs/cluster.md).
    #[arg(
        long,
        global = true,
        env = "POSTAMT_STORE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub store_url: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// First run on a new machine: the config, the domain, its postmaster
    /// and the DNS records to publish.
    ///
    /// Writes the config file (as root, /etc/postamt/postamt.toml) with this
    /// machine's public name and the standard listeners, hosts DOMAIN with
    /// DKIM keys, creates the account postmaster@DOMAIN (its password is
    /// printed once) with abuse@DOMAIN as its alias, and prints the DNS
    /// records and the next steps. Safe to run again: an existing config
    /// is replaced only with --force, which keeps the domain, its keys and
    /// the postmaster.
    Setup(crate::setup::SetupArgs),
    /// Run the mail server (SMTP, submission, IMAP, POP3, delivery) until stopped with Ctrl-C or SIGTERM.
    ///
    /// Started as root, it binds its ports, then runs as the `[server] user` of the config.
    /// SIGHUP reloads the config file and the certificate; SIGTERM lets messages being
    /// received finish (up to `[server] stop_timeout`), and a second SIGTERM stops at once.
    Serve,
    /// Manage the domains whose mail is delivered here.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Manage user accounts (mailboxes with a password).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage aliases: addresses that forward to other addresses.
    #[command(subcommand)]
    Alias(AliasCommand),
    /// Manage the DKIM keys that sign mail from hosted domains.
    #[command(subcommand)]
    Dkim(DkimCommand),
    /// Print the DNS records a hosted domain needs, as zone-file lines to
    /// paste; with --check, look them up and say which are missing or wrong.
    Dns {
        /// The hosted domain, e.g. example.org
        domain: String,
        /// Look each record up through the configured resolver (`[dns]
        /// nameservers`) instead of printing; exits non-zero if any differs.
        #[arg(long)]
        check: bool,
    },
    /// Reports about mail delivery: SMTP TLS reports (RFC 8460) received
    /// about our domains, and sending ours.
    #[command(subcommand)]
    Reports(crate::tls_reports::ReportsCommand),
    /// The certificate obtained by ACME (`[tls] acme`): its status, or a renewal now.
    #[command(subcommand)]
    Tls(crate::acme::TlsCommand),
    /// Manage users' Sieve scripts (mail filters that run at delivery)
    /// and domains' default scripts.
    #[command(subcommand)]
    Sieve(crate::sieve_cli::SieveCommand),
    /// Look into and act on the queue of messages still being delivered.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Remove message files that no mailbox or queue entry refers to any
    /// more (the server also does this every hour).
    Gc {
        /// Only files older than this many seconds (younger ones may belong
        /// to a message being stored right now).
        #[arg(long, default_value_t = 3600)]
        min_age: u64,
    },
    /// Work on a store as a whole: move it to another backend.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Copy the store into DIR while the server runs: a consistent
    /// snapshot of the database and the message files, verified.
    #[command(
        long_about = "Copy the store into DIR while the server runs, then verify the copy.\n\n\
        The database is copied as one consistent snapshot (SQLite's VACUUM INTO) while the server goes on \
        writing; then the message files it refers to are copied, each checked against its SHA-256. The copy \
        is then checked on its own: the database's integrity, the rows of every table (printed), and every \
        message's content read back and hashed. DIR is itself a data directory: `postamt serve --data-dir DIR` \
        runs from it, and `postamt restore DIR` puts it in place. DIR must not hold a store already.\n\n\
        A store on PostgreSQL keeps everything, message contents too, in the database: back it up with \
        pg_dump (this command says how and exits non-zero). See docs/backup.md."
    )]
    Backup {
        /// A new or empty directory for the copy.
        dir: PathBuf,
    },
    /// Put a backup made by `postamt backup` in place as the data
    /// directory (which must not hold a store yet), verified.
    Restore {
        /// The backup: a directory `postamt backup` wrote.
        dir: PathBuf,
    },
    /// Move a user's mail in from a Maildir, an mbox, or another IMAP
    /// server, with flags, keywords, dates and folders.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write a user's mailboxes out as a Maildir++ tree (Dovecot's layout)
    /// or as mbox files, with flags, keywords and dates, verified.
    Export {
        /// maildir or mbox.
        #[arg(value_enum)]
        format: crate::export::Format,
        /// A new or empty directory.
        dir: PathBuf,
        /// Whose mail, e.g. alice@example.org
        #[arg(long, value_name = "ADDRESS")]
        user: String,
    },
    /// Write the manual pages (postamt.1, postamt-serve.1, ...) into DIR.
    #[command(hide = true)]
    Manpages { dir: PathBuf },
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import a Maildir++ tree (Dovecot's layout: cur/ new/ tmp/ for the
    /// INBOX, .Folder/ for the others, dovecot-keywords for keywords).
    /// Messages already there (same content and date) are skipped, so it
    /// may be run again.
    Maildir {
        /// The Maildir's top directory (the one with cur/).
        path: PathBuf,
        /// The user whose mailboxes receive it, e.g. alice@example.org
        #[arg(long, value_name = "ADDRESS")]
        user: String,
        /// Put it all under this mailbox (the source's INBOX becomes
        /// NAME, its folders NAME/Folder) instead of the user's own.
        #[arg(long, value_name = "NAME")]
        mailbox: Option<String>,
    },
    /// Import an mbox file (into INBOX, or --mailbox), or a directory of
    /// them (each file a mailbox; children in FILE.sbd/). Flags come from
    /// Status, X-Status and X-Keywords, dates from the From lines.
    Mbox {
        /// An mbox file, or a directory of them.
        path: PathBuf,
        /// The user whose mailboxes receive it, e.g. alice@example.org
        #[arg(long, value_name = "ADDRESS")]
        user: String,
        /// The mailbox for a single file (default INBOX), or the parent
        /// of a directory's mailboxes.
        #[arg(long, value_name = "NAME")]
        mailbox: Option<String>,
    },
    /// Copy a whole account from another IMAP server: every mailbox, with
    /// flags and dates. Run again, it copies only what is new.
    Imap(crate::import::imap::ImapArgs),
}

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Copy a whole store into a new, empty one (SQLite to PostgreSQL or
    /// back), then verify the copy. The source must be stopped.
    #[command(
        long_about = "Copy a whole store into a new, empty one, SQLite to PostgreSQL or back, then verify the copy.\n\n\
            Everything comes along: domains, users, aliases, DKIM keys, mailboxes with their UIDVALIDITY, \
            messages with their UIDs, flags and MODSEQs, the queue, greylisting and the SRS secret. Then \
            every table's rows are compared on both sides, counts and values, and every message's content is read back from \
            the target and checked against its SHA-256; a difference is an error that names the first one.\n\n\
            The source must be stopped: stop every `postamt serve` that uses it first (a running node is \
            refused). The target must be new and empty; it is created if needed, and a target that holds \
            any row is refused. After a failed copy, delete the target (the directory, or the database) \
            and run the copy again. Then point `[store] url` (or `data_dir`) at the target.\n\n\
            A LOCATION is `sqlite:DIR`, a data directory (DIR/postamt.db and the message files in \
            DIR/blobs), or a PostgreSQL connection string: `postgres://user@host/database` or \
            `host=/run/postgresql dbname=postamt`.\n\n\
            Example: postamt store copy --from sqlite:/var/lib/postamt --to postgres://postamt@db.example.org/postamt"
    )]
    Copy {
        /// The store to copy, stopped: sqlite:DIR or a PostgreSQL connection string.
        #[arg(long, value_name = "LOCATION")]
        from: String,
        /// The new, empty store to copy into: sqlite:DIR or a PostgreSQL connection string.
        #[arg(long, value_name = "LOCATION")]
        to: String,
    },
}

#[derive(Subcommand)]
pub enum QueueCommand {
    /// List queued messages: id, age, sender, recipients, next attempt, last reply.
    List,
    /// Show one message: its envelope, every recipient's state and its header.
    Show { id: String },
    /// Try pending recipients now, of one message or (with --all) of all.
    Retry {
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Stop trying a message and return it to its sender.
    Bounce { id: String },
    /// Remove a message from the queue without telling anyone.
    Delete { id: String },
}

#[derive(Subcommand)]
pub enum DomainCommand {
    /// Host a domain: accept and deliver its mail here.
    Add {
        /// The domain, e.g. example.org
        domain: String,
    },
    /// List hosted domains with their numbers of users and aliases.
    List,
    /// Stop hosting a domain (it must have no users or aliases left).
    Remove { domain: String },
}

#[derive(Subcommand)]
pub enum DkimCommand {
    /// List a domain's keys: selector, algorithm, state and creation date
    /// (never the private key).
    List { domain: String },
    /// Make a new pair of keys (ed25519 and RSA) that signs from now on.
    /// The previous keys stay published, so mail already sent still
    /// verifies; publish the new records (`postamt dns DOMAIN`) at once.
    Rotate { domain: String },
    /// Stop using a rotated-out key: its DNS record may then go, and its
    /// private key is deleted.
    Retire { domain: String, selector: String },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user with INBOX, Sent, Drafts, Trash, Junk and Archive.
    Add {
        /// The user's address, which is also their login, e.g. alice@example.org
        address: String,
        /// Read the password from the first line of standard input instead
        /// of asking for it.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users, of all domains or of one.
    List { domain: Option<String> },
    /// Delete a user with all their mail.
    Remove { address: String },
    /// Change a user's password.
    Passwd {
        address: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Choose where a user's spam goes: `junk` (their Junk mailbox),
    /// `inbox` (marked in its header only), or `default` (as `[spam] junk`
    /// says).
    Spam {
        address: String,
        #[arg(value_parser = ["junk", "inbox", "default"])]
        filing: String,
    },
    /// Show a user's quota usage and limits (IMAP QUOTA, RFC 9208), or
    /// set the limits: a size such as 2G, 500M or a number of octets, a
    /// number of messages, `none` for no limit, or `default` for the
    /// `[quota]` setting. Over a limit, mail to the user waits in the
    /// queue (452 4.2.2) and IMAP APPEND/COPY are refused.
    Quota {
        address: String,
        /// Octets: 2G, 500M, 100K, a number, none or default.
        #[arg(long, value_name = "SIZE|none|default")]
        storage: Option<String>,
        /// Messages: a number, none or default.
        #[arg(long, value_name = "N|none|default")]
        messages: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum AliasCommand {
    /// Forward an address to one or more addresses. The source may be
    /// `@domain` to catch all otherwise unknown addresses of a domain.
    Add {
        /// The alias, e.g. postmaster@example.org, or @example.org for a catch-all
        source: String,
        /// Where its mail goes: local users, other aliases or outside addresses
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// List aliases, of all domains or of one.
    List { domain: Option<String> },
    /// Remove an alias, or only one of its targets.
    Remove { source: String, target: Option<String> },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // These two read no config: setup writes it.
    let command = match cli.command {
        Command::Setup(args) => return crate::setup::setup(cli.config, cli.data_dir, cli.store_url, args).await,
        Command::Manpages { dir } => return crate::manpages::write(&dir),
        command => command,
    };
    let config_file = cli.config.or_else(crate::setup::installed_config);
    // The same file and overrides again, for `serve`'s reload on SIGHUP.
    let load = move || {
        let mut config = Config::load(config_file.as_deref(), cli.data_dir.clone())?;
        if let Some(url) = &cli.store_url {
            config.store.url = Some(url.clone());
        }
        Ok(config)
    };
    let config = load()?;
    match command {
        Command::Setup(_) | Command::Manpages { .. } => unreachable!("handled above"),
        Command::Serve => crate::serve::serve(config, Box::new(load)).await,
        Command::Domain(command) => crate::admin::domain(&config, command).await,
        Command::User(command) => crate::admin::user(&config, command).await,
        Command::Alias(command) => crate::admin::alias(&config, command).await,
        Command::Dkim(command) => crate::admin::dkim(&config, command).await,
        Command::Dns { domain, check } => crate::dns_records::dns(&config, &domain, check).await,
        Command::Queue(command) => crate::admin::queue(&config, command).await,
        Command::Tls(command) => crate::acme::tls(&config, command).await,
        Command::Reports(command) => crate::tls_reports::reports(&config, command).await,
        Command::Sieve(command) => crate::sieve_cli::sieve(&config, command).await,
        Command::Gc { min_age } => crate::admin::collect_garbage(&config, min_age).await,
        // Names both stores itself: the config's store is neither.
        Command::Store(StoreCommand::Copy { from, to }) => crate::store_copy::copy(&from, &to).await,
        Command::Backup { dir } => crate::backup::backup(&config, &dir).await,
        Command::Restore { dir } => crate::backup::restore(&config, &dir).await,
        Command::Import(command) => crate::import::run(&config, command).await,
        Command::Export { format, dir, user } => crate::export::export(&config, format, &dir, &user).await,
    }
}
