//! The cost of postamt's own outbound DKIM signing per message, the code
//! submission runs (`postamt::dkim::Signer`): the domain's stored keys
//! parsed, one signature per key over the message (`msgauth::sign`), and
//! the fields put in front of it. Not a load on a server: the signing
//! code itself, one message after another on one thread, so the figures
//! are CPU time per message (a server signs on as many cores as it has,
//! off its async threads).

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use msgauth::keys::{Algorithm, GeneratedKey};
use msgauth::sign::{DomainKey, insert_position, load_key, sign_all};

use crate::SignArgs;
use crate::report::Samples;

/// Messages signed (and not counted) before each measurement, so that
/// caches and the CPU's clock have settled.
const WARM_UP: usize = 20;

pub fn run(args: SignArgs) -> anyhow::Result<()> {
    // Fresh keys of the kinds `postamt domain add` makes: ed25519 and
    // RSA-2048 (RSA generation takes a moment).
    let keys = msgauth::keys::generate_all().context("generating DKIM keys")?;
    let of = |algorithm: Algorithm| keys.iter().filter(move |key| key.algorithm == algorithm);
    let choices: [(&str, Vec<&GeneratedKey>); 3] = [
        ("ed25519", of(Algorithm::Ed25519Sha256).collect()),
        ("rsa-2048", of(Algorithm::RsaSha256).collect()),
        ("both", keys.iter().collect()),
    ];
    println!("DKIM signing, {} messages per line, µs per message", args.messages);
    for &size in &args.size {
        let message = message(size);
        for (name, chosen) in &choices {
            let mut samples = Samples::new(&format!("{name}, {} kB", size / 1024));
            for n in 0..WARM_UP + args.messages {
                let begun = Instant::now();
                let signed = sign(&message, chosen)?;
                let spent = begun.elapsed();
                ensure!(signed.len() > message.len(), "signing left the message unchanged");
                black_box(signed);
                if n >= WARM_UP {
                    samples.latencies.push(spent);
                }
            }
            print(&mut samples);
        }
    }
    Ok(())
}

/// What `Signer::sign` does for one message, the store read aside: parse
/// each key, sign with each, splice the fields in.
fn sign(message: &[u8], keys: &[&GeneratedKey]) -> anyhow::Result<Vec<u8>> {
    let parsed = keys
        .iter()
        .map(|key| {
            Ok(DomainKey {
                domain: "bench.test".into(),
                selector: format!("bench-{}", key.algorithm.name()),
                key: load_key(key.algorithm, &key.private_key)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let refs: Vec<&DomainKey> = parsed.iter().collect();
    let fields = sign_all(message, &refs)?;
    let at = insert_position(message);
    let mut signed = Vec::with_capacity(message.len() + fields.len());
    signed.extend_from_slice(&message[..at]);
    signed.extend_from_slice(&fields);
    signed.extend_from_slice(&message[at..]);
    Ok(signed)
}

/// A submitted message of about `size` bytes: a Received field (as the
/// server adds before signing), the header fields a mail client writes,
/// and plain text.
fn message(size: usize) -> Vec<u8> {
    let mut message = b"Received: from client.bench.test ([127.0.0.1])\r\n\tby bench.example.test with ESMTPSA; \
Tue, 1 Dec 2026 08:00:00 +0000\r\n\
From: Bench <bench@bench.test>\r\nTo: Someone <someone@example.test>\r\nSubject: Benchmark\r\n\
Date: Tue, 1 Dec 2026 08:00:00 +0000\r\nMessage-ID: <bench.1@bench.test>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        .to_vec();
    while message.len() < size {
        message.extend_from_slice(b"The quick brown fox jumps over the lazy dog, again and again.\r\n");
    }
    message
}

/// One line: count, single-thread rate, p50 and p99 in µs.
fn print(samples: &mut Samples) {
    samples.latencies.sort_unstable();
    let total: Duration = samples.latencies.iter().sum();
    let count = samples.latencies.len();
    println!(
        "{:<16} {count:>7} msgs  {:>9.1} msgs/s on one core  p50 {:>8.1} µs  p99 {:>8.1} µs",
        samples.name,
        count as f64 / total.as_secs_f64().max(f64::EPSILON),
        micros(Samples::percentile(&samples.latencies, 0.50)),
        micros(Samples::percentile(&samples.latencies, 0.99)),
    );
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
