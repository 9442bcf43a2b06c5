//! postamt-bench: a load generator for any mail server. It drives SMTP
//! (concurrent sessions sending messages, a connection per message or
//! reused), POP3 (login, STAT, RETR all, QUIT) and IMAP (login, select,
//! fetch headers and bodies, store flags, search, append), and prints the
//! throughput and the p50/p99 latency of each operation. The same run can
//! point at postamt or at a peer such as Postfix or Dovecot.

mod client;
mod hold;
mod imap;
mod pop3;
mod report;
mod sign;
mod smtp;
mod steps;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "postamt-bench",
    version,
    about = "Measure a mail server: SMTP, POP3 and IMAP load with throughput and latency."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Send messages over SMTP; prints messages/s and per-message latency.
    Smtp(SmtpArgs),
    /// Log in over POP3, STAT, RETR every message, QUIT; prints commands/s.
    Pop3(MailboxArgs),
    /// Log in over IMAP and run a mix of commands; prints commands/s.
    Imap(MailboxArgs),
    /// Log in many IMAP sessions and hold them idle until standard input
    /// closes (to measure the server's memory meanwhile).
    Hold(HoldArgs),
    /// Time single IMAP commands one by one in one session (e.g. on a
    /// large mailbox); prints the fastest, median and slowest run of each.
    Steps(StepsArgs),
    /// Sign messages with postamt's own DKIM signing code (ed25519 and
    /// RSA-2048, as submission signs); prints µs per message. Needs no
    /// server.
    Sign(SignArgs),
}

#[derive(Args)]
pub struct SignArgs {
    /// Messages signed per size and algorithm.
    #[arg(long, default_value_t = 1000)]
    pub messages: usize,
    /// Message size in bytes; give several times for several sizes.
    #[arg(long, default_values_t = [4096, 102400])]
    pub size: Vec<usize>,
}

#[derive(Args)]
pub struct StepsArgs {
    /// The server's IMAP address; implicit TLS with --tls (993).
    #[arg(long)]
    pub server: SocketAddr,
    #[arg(long)]
    pub tls: bool,
    #[arg(long)]
    pub user: String,
    #[arg(long)]
    pub password: String,
    /// Runs of each `time:` step.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// A step, `KIND:COMMAND` with KIND one of time, once, run, mark (see
    /// bench/README.md); give several, they run in order.
    #[arg(long, required = true)]
    pub step: Vec<String>,
}

#[derive(Args)]
pub struct HoldArgs {
    #[command(flatten)]
    pub mailbox: MailboxArgs,
    /// Accounts the sessions spread over: session n logs in as `{n}` =
    /// n modulo this.
    #[arg(long, default_value_t = 10)]
    pub accounts: usize,
    /// Enter IDLE in every session after selecting INBOX.
    #[arg(long)]
    pub idle: bool,
}

#[derive(Args)]
pub struct SmtpArgs {
    /// The server's SMTP address (no TLS: the MX role).
    #[arg(long, default_value = "127.0.0.1:25")]
    pub server: SocketAddr,
    /// Concurrent sessions.
    #[arg(long, default_value_t = 20)]
    pub sessions: usize,
    /// Messages in all.
    #[arg(long, default_value_t = 2000)]
    pub messages: usize,
    /// Message size in bytes.
    #[arg(long, default_value_t = 4096)]
    pub size: usize,
    /// Send many messages per connection instead of one.
    #[arg(long)]
    pub reuse: bool,
    /// Send this file as every message instead of a generated one of
    /// `--size` bytes: the message as it goes on the wire, lines ending
    /// in CRLF (dot-stuffing is done here), e.g. signed by a DKIM signer.
    #[arg(long)]
    pub message: Option<PathBuf>,
    #[arg(long, default_value = "bench@bench.test")]
    pub from: String,
    /// The name given in EHLO.
    #[arg(long, default_value = "bench.test")]
    pub helo: String,
    /// Recipient; give several times to spread the load.
    #[arg(long = "to", default_value = "alice@example.test")]
    pub to: Vec<String>,
}

#[derive(Args)]
pub struct MailboxArgs {
    /// The server's address; implicit TLS with --tls (995 or 993).
    #[arg(long)]
    pub server: SocketAddr,
    #[arg(long)]
    pub tls: bool,
    #[arg(long, default_value_t = 10)]
    pub sessions: usize,
    /// Rounds of the command mix per session.
    #[arg(long, default_value_t = 10)]
    pub rounds: usize,
    /// The login; `{n}` is replaced by the session's number (0, 1, ...),
    /// so sessions can use mailboxes of their own (POP3 locks a maildrop).
    #[arg(long)]
    pub user: String,
    #[arg(long)]
    pub password: String,
}

impl MailboxArgs {
    /// The login of session `n`.
    pub fn user(&self, n: usize) -> String {
        self.user.replace("{n}", &n.to_string())
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Signing is measured on this thread, without a runtime beside it.
    let cli = match cli.command {
        Command::Sign(args) => return sign::run(args),
        command => Cli { command },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Smtp(args) => smtp::run(args).await,
            Command::Pop3(args) => pop3::run(args).await,
            Command::Imap(args) => imap::run(args).await,
            Command::Hold(args) => hold::run(args).await,
            Command::Steps(args) => steps::run(args).await,
            Command::Sign(_) => unreachable!("handled before the runtime starts"),
        }
    })
}
