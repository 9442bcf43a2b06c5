//! IMAP load: each session logs in, selects INBOX, then runs `rounds` of a
//! mix: fetch flags of all, fetch headers, fetch a body, store a flag,
//! search, append.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::MailboxArgs;
use crate::client::Client;
use crate::report::{Phase, Samples, print};

struct Session {
    client: Client,
    count: usize,
}

impl Session {
    async fn command(&mut self, command: &str) -> anyhow::Result<Duration> {
        self.count += 1;
        let tag = format!("b{}", self.count);
        let begun = Instant::now();
        self.client.send(format!("{tag} {command}\r\n").as_bytes());
        self.client.imap_ok(&tag).await?;
        Ok(begun.elapsed())
    }
}

pub async fn run(args: MailboxArgs) -> anyhow::Result<()> {
    let args = Arc::new(args);
    let started = Instant::now();
    let mix = Arc::new(Phase::new(args.sessions));
    let mut tasks = tokio::task::JoinSet::new();
    let names = [
        "login",
        "select",
        // The mix, timed apart from the logins (whose cost is the password
        // hash each server chose, not its mailbox work).
        "fetch flags",
        "fetch headers",
        "fetch body",
        "store",
        "search",
        "append",
    ];
    for number in 0..args.sessions {
        let args = args.clone();
        let mix = mix.clone();
        tasks.spawn(async move {
            let mut latencies: Vec<Vec<Duration>> = vec![Vec::new(); 8];
            let client = Client::connect(args.server, args.tls).await?;
            let mut session = Session { client, count: 0 };
            session.client.line().await?;
            latencies[0].push(
                session
                    .command(&format!("LOGIN \"{}\" \"{}\"", args.user(number), args.password))
                    .await?,
            );
            latencies[1].push(session.command("SELECT INBOX").await?);
            // APPEND goes to Archive; postamt makes it for every account,
            // other servers may not have it yet (NO if it exists: fine).
            session.command("CREATE Archive").await.ok();
            mix.begin().await;
            for round in 0..args.rounds {
                latencies[2].push(session.command("FETCH 1:* (FLAGS)").await?);
                latencies[3].push(session.command("FETCH 1:20 (BODY.PEEK[HEADER])").await?);
                latencies[4].push(
                    session
                        .command(&format!("FETCH {} (BODY.PEEK[])", round % 5 + 1))
                        .await?,
                );
                latencies[5].push(session.command("STORE 1 +FLAGS.SILENT (\\Flagged)").await?);
                latencies[6].push(session.command("SEARCH UNSEEN FROM bench").await?);
                let message = "Subject: appended\r\n\r\nbenchmark\r\n";
                let begun = Instant::now();
                session.count += 1;
                let tag = format!("b{}", session.count);
                session
                    .client
                    .send(format!("{tag} APPEND Archive {{{}+}}\r\n{message}\r\n", message.len()).as_bytes());
                session.client.imap_ok(&tag).await?;
                latencies[7].push(begun.elapsed());
            }
            mix.end().await;
            session.command("LOGOUT").await.ok();
            Ok::<_, anyhow::Error>(latencies)
        });
    }
    let mut samples: Vec<Samples> = names.iter().map(|n| Samples::new(n)).collect();
    // The first failure ends the run (dropping the set stops the others,
    // which would otherwise wait for it at the phase's barrier).
    while let Some(task) = tasks.join_next().await {
        for (sample, latencies) in samples.iter_mut().zip(task??) {
            sample.latencies.extend(latencies);
        }
    }
    let (setup, mix_samples) = samples.split_at_mut(2);
    print("cmds", started.elapsed() - mix.elapsed(), setup);
    print("cmds", mix.elapsed(), mix_samples);
    Ok(())
}
