//! TLS reporting (RFC 8460), both ways. Outbound: the queue counts what
//! each session to another domain's MX met (`queue::TlsRecorder`); once a
//! day, shortly after midnight UTC, the day before is reported to every
//! domain that asks for it (`sending`). Inbound: our domains publish an
//! `_smtp._tls` record naming an address of ours (`postamt dns`), and
//! `postamt reports tls` reads what arrives there (`reading`).

mod json;
mod reading;
mod sending;
mod settings;

use std::time::Duration;

use clap::Subcommand;
use store::Store;

use crate::config::Config;
pub(crate) use reading::parse_message;
pub use sending::{Rua, parse_rua};
pub use settings::TlsReportSettings;

/// `postamt reports`.
#[derive(Subcommand)]
pub enum ReportsCommand {
    /// SMTP TLS reports (RFC 8460): list those other servers sent about
    /// our domains, or (`send`) send ours now.
    Tls(TlsArgs),
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TlsArgs {
    /// Whose INBOX to read; default: the address in our `_smtp._tls`
    /// records (`[tls_reports] address`).
    #[arg(long, value_name = "ADDRESS")]
    address: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    action: Option<TlsAction>,
}

#[derive(Subcommand)]
enum TlsAction {
    /// Send the reports of a day now (the server sends yesterday's each
    /// day by itself), to every domain we held sessions with that day and
    /// that asks for reports. A day that is over is then not sent again by
    /// the server; today's reports cover the day so far, and the server
    /// still sends the whole day tomorrow.
    Send {
        /// The UTC day, YYYY-MM-DD; yesterday by default.
        #[arg(long, value_name = "YYYY-MM-DD")]
        day: Option<String>,
    },
}

pub async fn reports(config: &Config, command: ReportsCommand) -> anyhow::Result<()> {
    let ReportsCommand::Tls(args) = command;
    let store = crate::admin::open(config).await?;
    let reporter = config.tls_reports.reporter(&store, &config.hostname).await?;
    match args.action {
        Some(TlsAction::Send { day }) => {
            let day = match day {
                Some(text) => {
                    json::parse_date(&text).ok_or_else(|| anyhow::anyhow!("--day {text} is not a YYYY-MM-DD date"))?
                }
                None => store::utc_day(store::now()) - 86_400,
            };
            // A day that is over is claimed, so the server does not send it
            // again; today is not: its full report is still to come.
            if day < store::utc_day(store::now()) {
                store.claim_tls_report_day(day, store::now()).await?;
            }
            let sent = outbox_send(config, &store, &reporter, day).await?;
            println!("Queued {sent} TLS report(s) for {}", json::date(day));
            Ok(())
        }
        None => {
            let address = args.address.unwrap_or(reporter.address);
            let listing = reading::read_inbox(&store, &address, &config.hostname).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&listing)?);
            } else {
                reading::print(&listing, &address);
            }
            Ok(())
        }
    }
}

async fn outbox_send(config: &Config, store: &Store, reporter: &settings::Reporter, day: i64) -> anyhow::Result<usize> {
    let resolver = dns::Resolver::dns_only(&config.dns.nameservers)?;
    let signer = crate::dkim::Signer::new(store.clone(), &config.hostname);
    let outbox = sending::Outbox {
        store,
        resolver: &resolver,
        signer: &signer,
        reporter,
    };
    outbox.send_day(day).await
}

/// Longest random wait after midnight UTC before sending: receivers get
/// the reports of many senders for the same day, and a random delay
/// spreads them out (RFC 8460 §4.1 leaves the hour to the sender).
const MAX_DELAY: i64 = 3600;

/// The server's daily sending: yesterday's reports once the day's random
/// delay has passed, unless sent already (by this node before a restart,
/// by another node, or by `postamt reports tls send`); then the counts of
/// the days before are forgotten.
pub async fn daily(config: Config, store: Store) {
    if !config.tls_reports.send {
        return;
    }
    let mut delay = random_delay();
    let mut done: Option<i64> = None;
    loop {
        let now = store::now();
        if let Step::Send { yesterday, today } = step(now, delay, done) {
            match send_yesterday(&config, &store, yesterday).await {
                Ok(()) => {
                    done = Some(today);
                    delay = random_delay();
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "sending yesterday's TLS reports failed; trying again in an hour")
                }
            }
        }
        let Step::Sleep(until) = step(store::now(), delay, done) else {
            // Failed: try again in an hour.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            continue;
        };
        // Woken at least hourly, so a changed clock is noticed.
        tokio::time::sleep(Duration::from_secs((until - store::now()).clamp(1, 3600) as u64)).await;
    }
}

/// What the daily run does at `now`.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Send the day starting at `yesterday` (unless sent), then mark `today` done.
    Send { yesterday: i64, today: i64 },
    /// Nothing to do before this time.
    Sleep(i64),
}

/// At `now`, with today's random `delay` after midnight and the last day
/// whose run is `done`: send yesterday's reports once the delay passed,
/// else sleep until it does, or (done) until tomorrow's.
fn step(now: i64, delay: i64, done: Option<i64>) -> Step {
    let today = store::utc_day(now);
    if done == Some(today) {
        Step::Sleep(today + 86_400 + delay)
    } else if now < today + delay {
        Step::Sleep(today + delay)
    } else {
        Step::Send {
            yesterday: today - 86_400,
            today,
        }
    }
}

async fn send_yesterday(config: &Config, store: &Store, day: i64) -> anyhow::Result<()> {
    if store.tls_report_day_sent(day).await?.is_none() && store.claim_tls_report_day(day, store::now()).await? {
        let reporter = config.tls_reports.reporter(store, &config.hostname).await?;
        let sent = outbox_send(config, store, &reporter, day).await?;
        tracing::info!(day = %json::date(day), sent, "TLS reports of yesterday queued");
    }
    store.forget_tls_counts(day).await?;
    Ok(())
}

fn random_delay() -> i64 {
    let mut byte = [0u8; 2];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut byte);
    60 + i64::from(u16::from_le_bytes(byte)) % (MAX_DELAY - 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yesterday_is_sent_once_after_the_delay() {
        let midnight = 20_000 * 86_400;
        assert_eq!(step(midnight + 10, 600, None), Step::Sleep(midnight + 600));
        let send = Step::Send {
            yesterday: midnight - 86_400,
            today: midnight,
        };
        assert_eq!(step(midnight + 600, 600, None), send);
        // A start late in the day (a restart) still sends; the store says
        // whether the day went out already.
        assert_eq!(step(midnight + 80_000, 600, None), send);
        assert_eq!(
            step(midnight + 700, 900, Some(midnight)),
            Step::Sleep(midnight + 86_400 + 900)
        );
        assert_eq!(
            step(midnight + 86_400 + 100, 900, Some(midnight)),
            Step::Sleep(midnight + 86_400 + 900)
        );
        for _ in 0..100 {
            assert!((60..MAX_DELAY).contains(&random_delay()));
        }
    }
}
