//! POP3 load: each session logs in, STATs, RETRs every message and QUITs,
//! `rounds` times.

use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;

use crate::MailboxArgs;
use crate::client::Client;
use crate::report::{Phase, Samples, print};

async fn status(client: &mut Client) -> anyhow::Result<Vec<u8>> {
    let line = client.line().await?;
    if !line.starts_with(b"+OK") {
        bail!("{}", String::from_utf8_lossy(&line));
    }
    Ok(line)
}

/// A multi-line response, up to the lone ".".
async fn body(client: &mut Client) -> anyhow::Result<()> {
    status(client).await?;
    while client.line().await? != b"." {}
    Ok(())
}

pub async fn run(args: MailboxArgs) -> anyhow::Result<()> {
    let args = Arc::new(args);
    let started = Instant::now();
    // RETR is timed apart from the logins (whose cost is the password hash
    // each server chose, not its maildrop work).
    let retrieval = Arc::new(Phase::new(args.sessions));
    let mut tasks = tokio::task::JoinSet::new();
    for number in 0..args.sessions {
        let args = args.clone();
        let retrieval = retrieval.clone();
        tasks.spawn(async move {
            let (mut login, mut stat, mut retr) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..args.rounds {
                let begun = Instant::now();
                let mut client = Client::connect(args.server, args.tls).await?;
                status(&mut client).await?;
                client.send(format!("USER {}\r\nPASS {}\r\n", args.user(number), args.password).as_bytes());
                status(&mut client).await?;
                status(&mut client).await?;
                login.push(begun.elapsed());
                let begun = Instant::now();
                client.send(b"STAT\r\n");
                let line = status(&mut client).await?;
                stat.push(begun.elapsed());
                let count: usize = String::from_utf8_lossy(&line)
                    .split(' ')
                    .nth(1)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                retrieval.begin().await;
                for n in 1..=count {
                    let begun = Instant::now();
                    client.send(format!("RETR {n}\r\n").as_bytes());
                    body(&mut client).await?;
                    retr.push(begun.elapsed());
                }
                retrieval.end().await;
                client.send(b"QUIT\r\n");
                let _ = client.line().await;
            }
            Ok::<_, anyhow::Error>((login, stat, retr))
        });
    }
    let mut samples = [Samples::new("login"), Samples::new("STAT"), Samples::new("RETR")];
    // The first failure ends the run (dropping the set stops the others,
    // which would otherwise wait for it at the phase's barrier).
    while let Some(task) = tasks.join_next().await {
        let (login, stat, retr) = task??;
        samples[0].latencies.extend(login);
        samples[1].latencies.extend(stat);
        samples[2].latencies.extend(retr);
    }
    let (setup, retrieval_samples) = samples.split_at_mut(2);
    print("cmds", started.elapsed() - retrieval.elapsed(), setup);
    print("cmds", retrieval.elapsed(), retrieval_samples);
    Ok(())
}
