//! Idle sessions: logs in many IMAP sessions, selects INBOX and (with
//! --idle) enters IDLE in each, as mail clients left open do, then holds
//! them until standard input closes, so the server's memory can be read
//! meanwhile.

use std::sync::Arc;

use anyhow::bail;
use tokio::sync::Semaphore;

use crate::HoldArgs;
use crate::client::Client;

/// Sessions being opened at once: enough to keep the server's login
/// slots busy, few enough that none waits long for its turn.
const OPENING: usize = 64;

pub async fn run(args: HoldArgs) -> anyhow::Result<()> {
    let args = Arc::new(args);
    let opening = Arc::new(Semaphore::new(OPENING));
    let mut tasks = tokio::task::JoinSet::new();
    for number in 0..args.mailbox.sessions {
        let (args, opening) = (args.clone(), opening.clone());
        tasks.spawn(async move {
            let _turn = opening.acquire().await?;
            let mut client = Client::connect(args.mailbox.server, args.mailbox.tls).await?;
            client.line().await?;
            let user = args.mailbox.user(number % args.accounts.max(1));
            command(
                &mut client,
                &format!("a LOGIN \"{user}\" \"{}\"", args.mailbox.password),
            )
            .await?;
            command(&mut client, "b SELECT INBOX").await?;
            if args.idle {
                client.send(b"c IDLE\r\n");
                if !client.line().await?.starts_with(b"+") {
                    bail!("the server refused IDLE");
                }
            }
            Ok::<_, anyhow::Error>(client)
        });
    }
    let mut held = Vec::with_capacity(args.mailbox.sessions);
    while let Some(task) = tasks.join_next().await {
        held.push(task??);
    }
    println!("holding {} sessions; close standard input to end them", held.len());
    tokio::task::spawn_blocking(|| std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new())).await??;
    drop(held);
    Ok(())
}

/// Sends a tagged command and reads to its OK.
async fn command(client: &mut Client, line: &str) -> anyhow::Result<()> {
    let tag = line.split(' ').next().unwrap_or_default();
    client.send(format!("{line}\r\n").as_bytes());
    client.imap_ok(tag).await?;
    Ok(())
}
