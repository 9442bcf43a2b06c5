//! Single IMAP commands, timed one by one in one session: how long a
//! server takes for each of a list of steps on a (large) mailbox, as a
//! client resynchronising or a webmail listing it would send them.
//!
//! A step is `KIND:COMMAND`:
//! - `time:` runs the command `--repeat` times and reports the fastest,
//!   the median and the slowest run;
//! - `once:` runs it once, timed (a destructive command such as EXPUNGE);
//! - `run:` runs it once, untimed (setting up the next step);
//! - `mark:` takes HIGHESTMODSEQ from the command's answer (e.g.
//!   `STATUS INBOX (HIGHESTMODSEQ)`); `{mark}` in later commands is that
//!   number, so `UID FETCH 1:* (FLAGS) (CHANGEDSINCE {mark})` asks for what
//!   changed since.
//!
//! The table names each step as given (`{mark}` unreplaced), so that
//! the tables of two servers line up.
//!
//! A command the server refuses (NO or BAD) is reported as such and the
//! run goes on, so one table can compare servers that lack an extension.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::StepsArgs;
use crate::client::Client;

struct Step<'a> {
    kind: &'a str,
    command: &'a str,
}

fn parse(step: &str) -> anyhow::Result<Step<'_>> {
    let (kind, command) = step
        .split_once(':')
        .with_context(|| format!("a step is KIND:COMMAND, not {step:?}"))?;
    if !["time", "once", "run", "mark"].contains(&kind) {
        bail!("a step's kind is time, once, run or mark, not {kind:?}");
    }
    Ok(Step { kind, command })
}

struct Session {
    client: Client,
    count: usize,
}

/// What one run of a command gave.
struct Run {
    took: Duration,
    octets: usize,
    /// The tagged line when it was not OK.
    refused: Option<String>,
    highestmodseq: Option<u64>,
}

impl Session {
    async fn run(&mut self, command: &str) -> anyhow::Result<Run> {
        self.count += 1;
        let tag = format!("s{}", self.count);
        let mut highestmodseq = None;
        let begun = Instant::now();
        self.client.send(format!("{tag} {command}\r\n").as_bytes());
        let answer = self
            .client
            .imap_answer(&tag, |line| {
                highestmodseq = highestmodseq.or_else(|| number_after(line, b"HIGHESTMODSEQ "));
            })
            .await?;
        let took = begun.elapsed();
        Ok(Run {
            took,
            octets: answer.octets,
            refused: (!answer.ok()).then(|| answer.text()),
            highestmodseq,
        })
    }
}

/// The number after `key` in `line`, if there is one.
fn number_after(line: &[u8], key: &[u8]) -> Option<u64> {
    let at = line.windows(key.len()).position(|w| w == key)? + key.len();
    let digits: Vec<u8> = line[at..].iter().take_while(|b| b.is_ascii_digit()).copied().collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

pub async fn run(args: StepsArgs) -> anyhow::Result<()> {
    let steps: Vec<Step> = args.step.iter().map(|s| parse(s)).collect::<anyhow::Result<_>>()?;
    let mut client = Client::connect(args.server, args.tls).await?;
    client.line().await?;
    let mut session = Session { client, count: 0 };
    let login = session
        .run(&format!("LOGIN \"{}\" \"{}\"", args.user, args.password))
        .await?;
    if let Some(refused) = login.refused {
        bail!("LOGIN refused: {refused}");
    }
    let mut mark = 0;
    println!(
        "{:<48} {:>4} {:>9} {:>9} {:>9} {:>11}",
        "step", "runs", "min ms", "p50 ms", "max ms", "octets"
    );
    for step in steps {
        let command = step.command.replace("{mark}", &mark.to_string());
        let runs = if step.kind == "time" { args.repeat.max(1) } else { 1 };
        let mut took = Vec::with_capacity(runs);
        let mut last = None;
        for _ in 0..runs {
            let run = session.run(&command).await?;
            took.push(run.took);
            last = Some(run);
        }
        let last = last.expect("at least one run");
        if step.kind == "mark" {
            mark = last
                .highestmodseq
                .with_context(|| format!("no HIGHESTMODSEQ in the answer to {command}"))?;
        }
        if step.kind == "run" || step.kind == "mark" {
            continue;
        }
        if let Some(refused) = last.refused {
            println!("{:<48} refused: {refused}", step.command);
            continue;
        }
        took.sort();
        println!(
            "{:<48} {:>4} {:>9} {:>9} {:>9} {:>11}",
            step.command,
            runs,
            ms(took[0]),
            ms(took[runs / 2]),
            ms(took[runs - 1]),
            last.octets
        );
    }
    session.run("LOGOUT").await.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_need_a_known_kind() {
        assert_eq!(parse("time:SELECT INBOX").unwrap().command, "SELECT INBOX");
        assert!(parse("SELECT INBOX").is_err());
        assert!(parse("often:NOOP").is_err());
    }

    #[test]
    fn the_mark_is_read_from_status_and_select_answers() {
        assert_eq!(
            number_after(b"* STATUS INBOX (HIGHESTMODSEQ 4711)", b"HIGHESTMODSEQ "),
            Some(4711)
        );
        assert_eq!(
            number_after(b"* OK [HIGHESTMODSEQ 12] Highest", b"HIGHESTMODSEQ "),
            Some(12)
        );
        assert_eq!(number_after(b"* 3 EXISTS", b"HIGHESTMODSEQ "), None);
    }
}
