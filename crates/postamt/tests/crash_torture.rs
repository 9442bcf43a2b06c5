//! Crash torture (ARCHITECTURE.md invariant 1): SMTP load against the real
//! binary, killed with SIGKILL at random moments and started again, many
//! times. Afterwards every message that got 250 is in each recipient's
//! mailbox exactly once, the store opens cleanly every time, and after
//! garbage collection no message file is left unreferenced.
//!
//! `POSTAMT_TORTURE_ROUNDS` sets the number of kills (CI runs a few; try
//! a few hundred locally).

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Server;

/// A small deterministic generator, so a failing run can be repeated.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn acknowledged_mail_survives_random_sigkills() {
    let rounds: usize = std::env::var("POSTAMT_TORTURE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(6);
    let mut random = Random(0x5eed_cafe_f00d_1234);
    let mut server = Server::with_users("[smtp]\npregreet_wait_ms = 0");
    let mut acknowledged = BTreeSet::new();
    let mut next = 0u64;
    for _ in 0..rounds {
        let mut sender = Command::new("python3")
            .arg(common::clients_dir().join("torture_sender.py"))
            .arg(next.to_string())
            .env("PYTHONPATH", common::clients_dir())
            .env("SMTP_PORT", server.smtp.port().to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let stdout = sender.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.parse::<u64>().ok())
                .collect::<Vec<_>>()
        });
        // Let some mail flow, then kill the server mid-stream.
        std::thread::sleep(Duration::from_millis(600 + random.below(900)));
        server.kill();
        let acked = reader.join().expect("reader");
        let _ = sender.wait();
        next = acked.iter().max().map_or(next, |m| m + 1) + 1000;
        acknowledged.extend(acked);
        // The store must open cleanly after every kill.
        server.restart();
    }
    // A loaded machine may let little through in a round; some mail must
    // get through for the test to mean anything.
    assert!(
        !acknowledged.is_empty(),
        "no message was acknowledged in {rounds} rounds"
    );

    // Let the queue finish what was acknowledged before the last kill.
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.admin(&["queue", "list"]) != "The queue is empty.\n" {
        assert!(
            Instant::now() < deadline,
            "the queue does not drain:\n{}",
            server.admin(&["queue", "list"])
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let expected: Vec<String> = acknowledged.iter().map(u64::to_string).collect();
    server.python(&format!(
        r#"
import collections, mailtest
acknowledged = set([{}])
for user in ["alice@example.test", "bob@example.test"]:
    client = mailtest.imap(user, "implicit")
    client.select("INBOX")
    typ, data = client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    numbers = [int(part[1].split(b"torture ")[1].split(b"\r\n")[0]) for part in data if isinstance(part, tuple)]
    counts = collections.Counter(numbers)
    missing = sorted(acknowledged - set(counts))
    assert not missing, (user, "acknowledged but lost", missing[:20])
    twice = sorted(n for n, c in counts.items() if c > 1)
    assert not twice, (user, "delivered twice", twice[:20])
    client.logout()
"#,
        expected.join(",")
    ));

    // Collection leaves no message content that nothing refers to, and
    // every row's content is there (inline or as a file).
    server.admin(&["gc", "--min-age", "0"]);
    server.python(
        r#"
import os, sqlite3
data = os.path.join(os.environ["DATA_DIR"], "data")
db = sqlite3.connect("file:" + os.path.join(data, "postamt.db") + "?mode=ro", uri=True)
referenced = {row[0] for row in db.execute("SELECT blob_hash FROM messages UNION SELECT blob_hash FROM queue_messages")}
files = set()
for fan_out in os.listdir(os.path.join(data, "blobs")):
    if len(fan_out) == 2:
        files.update(os.listdir(os.path.join(data, "blobs", fan_out)))
inline = {row[0] for row in db.execute("SELECT hash FROM inline_blobs")}
orphans = (files | inline) - referenced
assert not orphans, ("unreferenced message content", sorted(orphans)[:5])
assert referenced <= files | inline, ("rows refer to missing content", sorted(referenced - files - inline)[:5])
"#,
    );
}
