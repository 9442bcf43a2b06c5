//! SMTP load: sessions that each send their share of the messages.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use wire::smtp::{ResponseError, parse_response};

use crate::SmtpArgs;
use crate::client::Client;
use crate::report::{Samples, print};

async fn reply(client: &mut Client) -> anyhow::Result<u16> {
    loop {
        match parse_response(client.conn.buffered(), 4096) {
            Ok((reply, used)) => {
                client.conn.consume(used);
                return Ok(reply.code);
            }
            Err(ResponseError::Incomplete) => {
                if client.conn.fill().await.is_err() {
                    bail!("the server closed the connection");
                }
            }
            Err(ResponseError::Invalid(e)) => bail!("bad reply: {e}"),
        }
    }
}

async fn expect(client: &mut Client, code: u16) -> anyhow::Result<()> {
    let got = reply(client).await?;
    if got != code {
        bail!("expected {code}, got {got}");
    }
    Ok(())
}

async fn open(args: &SmtpArgs) -> anyhow::Result<Client> {
    let mut client = Client::connect(args.server, false).await?;
    expect(&mut client, 220).await?;
    client.send(format!("EHLO {}\r\n", args.helo).as_bytes());
    expect(&mut client, 250).await?;
    Ok(client)
}

/// A message as DATA sends it (RFC 5321 §4.5.2): a dot doubled at the
/// start of a line, the last line ended, then the lone dot.
fn data(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    let mut line_start = true;
    for &byte in message {
        if line_start && byte == b'.' {
            out.push(b'.');
        }
        out.push(byte);
        line_start = byte == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

pub async fn run(args: SmtpArgs) -> anyhow::Result<()> {
    let args = Arc::new(args);
    let body = match &args.message {
        Some(path) => {
            let message = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            data(&message)
        }
        None => {
            let mut body = b"Subject: benchmark\r\nFrom: bench@bench.test\r\n\r\n".to_vec();
            while body.len() < args.size {
                body.extend_from_slice(b"The quick brown fox jumps over the lazy dog, again and again.\r\n");
            }
            body.extend_from_slice(b".\r\n");
            body
        }
    };
    let body = Arc::new(body);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.sessions {
        let (args, body, next) = (args.clone(), body.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut client: Option<Client> = None;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= args.messages {
                    break;
                }
                let begun = Instant::now();
                let mut session = match client.take() {
                    Some(session) => session,
                    None => open(&args).await?,
                };
                let to = &args.to[n % args.to.len()];
                // PIPELINING (RFC 2920): the envelope in one write.
                session.send(format!("MAIL FROM:<{}>\r\nRCPT TO:<{to}>\r\nDATA\r\n", args.from).as_bytes());
                expect(&mut session, 250).await?;
                expect(&mut session, 250).await?;
                expect(&mut session, 354).await?;
                session.send(&body);
                expect(&mut session, 250).await?;
                if args.reuse {
                    client = Some(session);
                } else {
                    session.send(b"QUIT\r\n");
                    let _ = reply(&mut session).await;
                }
                latencies.push(begun.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut samples = Samples::new("message");
    for task in tasks {
        samples.latencies.extend(task.await??);
    }
    print("msgs", started.elapsed(), &mut [samples]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::data;

    #[test]
    fn dot_stuffs_and_ends_the_data() {
        assert_eq!(data(b".a\r\nb.\r\n..c\r\n"), b"..a\r\nb.\r\n...c\r\n.\r\n");
        assert_eq!(data(b"no end"), b"no end\r\n.\r\n");
    }
}
