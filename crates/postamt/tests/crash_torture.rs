//! Crash torture (docs/architecture.md invariant 1): SMTP load against the real
//! binary, killed with SIGKILL at random moments and started again, many
//! times. The load mixes small messages (kept in the database) with ones
//! above the inline limit and near the size limit (blob files), so kills
//! land in both ways of storing content (tests/python/torture_sender.py).
//!
//! Every round must get mail acknowledged, and no reply may be a refusal:
//! a server that refused everything after its first restart would
//! otherwise pass. Afterwards every message that got 250 is in each
//! recipient's mailbox exactly once, and every message there has exactly
//! the content that was sent (by SHA-256); the store opens cleanly every
//! time; no temporary blob file is left; every blob file's content matches
//! its name; and after garbage collection no content is unreferenced.
//!
//! SIGKILL leaves the page cache alone, so this cannot show that the
//! fsyncs are there: tests/fsync_order.rs does.
//!
//! `POSTAMT_TORTURE_ROUNDS` sets the number of kills (24 by default; try a
//! few hundred locally). With `POSTAMT_TEST_STORE=postgres` (.ci/run runs
//! it so) the store is in PostgreSQL, large content in chunk rows: the
//! kills then come at random moments only, and the content checks ask
//! PostgreSQL instead of the blob files.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::Server;

/// The size limit the server is given; the sender's largest messages come
/// near it.
const MAX_MESSAGE_SIZE: usize = 1024 * 1024;

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

/// What one sender printed: the numbers acknowledged, and its other lines
/// (`lost`, or `refused ...`).
struct Round {
    acknowledged: Vec<u64>,
    other: Vec<String>,
}

/// True if the directory has anything in it.
fn has_entries(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

#[test]
fn acknowledged_mail_survives_random_sigkills() {
    let rounds: usize = std::env::var("POSTAMT_TORTURE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(24);
    let mut random = Random(0x5eed_cafe_f00d_1234);
    let mut server = Server::with_users(&format!(
        "[smtp]\npregreet_wait_ms = 0\nmax_message_size = {MAX_MESSAGE_SIZE}"
    ));
    let mut acknowledged = BTreeSet::new();
    let mut next = 0u64;
    let mut interrupted_blob_writes = 0;
    let mut churn_rounds = 0;
    for round in 0..rounds {
        let mut sender = Command::new("python3")
            .arg(common::clients_dir().join("torture_sender.py"))
            .arg(next.to_string())
            .env("PYTHONPATH", common::clients_dir())
            .env("SMTP_PORT", server.smtp.port().to_string())
            .env("MAX_MESSAGE_SIZE", MAX_MESSAGE_SIZE.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        // Beside the deliveries, COPY, MOVE and EXPUNGE in alice's other
        // mailboxes, for the kill to interrupt too (quota usage).
        let churn = Command::new("python3")
            .arg(common::clients_dir().join("quota_churn.py"))
            .env("PYTHONPATH", common::clients_dir())
            .env("IMAPS_PORT", server.imaps.port().to_string())
            .env("PASSWORD", common::PASSWORD)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let stdout = sender.stdout.take().expect("stdout");
        let acked = Arc::new(AtomicUsize::new(0));
        let counter = acked.clone();
        let reader = std::thread::spawn(move || {
            let mut printed = Round {
                acknowledged: Vec::new(),
                other: Vec::new(),
            };
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                match line.parse::<u64>() {
                    Ok(number) => {
                        printed.acknowledged.push(number);
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => printed.other.push(line),
                }
            }
            printed
        });
        // Every round must get mail through: the kill waits for the first
        // 250 (a loaded machine may be slow to start), a minute at most.
        let deadline = Instant::now() + Duration::from_secs(60);
        while acked.load(Ordering::Relaxed) == 0
            && Instant::now() < deadline
            && sender.try_wait().expect("sender status").is_none()
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        // Let more mail flow, then kill the server mid-stream: in every other
        // round at a random moment, in the others the moment a blob file
        // is being written (a temporary file exists), which a random
        // moment seldom hits. The sender must still be sending: had it
        // stopped, the server refused or dropped it while alive.
        let wait = Duration::from_millis(200 + random.below(1200));
        let tmp = server.dir.path().join("data/blobs/tmp");
        if round % 2 == 0 || common::on_postgres() {
            std::thread::sleep(wait);
        } else {
            std::thread::sleep(wait / 2);
            let deadline = Instant::now() + wait;
            while Instant::now() < deadline && !has_entries(&tmp) {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        let early = sender.try_wait().expect("sender status");
        server.kill();
        let printed = reader.join().expect("reader");
        let status = sender.wait().expect("sender");
        assert!(
            early.is_none() && status.success() && printed.other == ["lost"],
            "round {round}: the sender stopped before the kill or saw a refusal \
             (status {status}, printed {:?})\n--- server log ---\n{}",
            printed.other,
            server.log()
        );
        assert!(
            !printed.acknowledged.is_empty(),
            "round {round}: no message was acknowledged before the kill\n--- server log ---\n{}",
            server.log()
        );
        // A temporary blob file left by the kill: a blob write interrupted.
        if has_entries(&tmp) {
            interrupted_blob_writes += 1;
        }
        next = printed.acknowledged.iter().max().map_or(next, |m| m + 1) + 1000;
        acknowledged.extend(printed.acknowledged);
        let churned = churn.wait_with_output().expect("churn");
        churn_rounds += String::from_utf8_lossy(&churned.stdout)
            .trim()
            .parse::<u64>()
            .unwrap_or(0);
        // The store must open cleanly after every kill, with every
        // mailbox's usage still the exact COUNT and SUM of its messages.
        server.restart();
        check_usage(&server, round);
    }
    eprintln!(
        "{rounds} kills, {} messages acknowledged, {interrupted_blob_writes} kills during a blob write",
        acknowledged.len()
    );
    assert!(churn_rounds > 0, "COPY, MOVE and EXPUNGE never completed a round");
    // Half the kills aim at a blob write; most must hit one, or the
    // write, fsync, rename, fsync path was never under SIGKILL.
    assert!(
        common::on_postgres() || interrupted_blob_writes >= rounds / 4,
        "only {interrupted_blob_writes} of {rounds} kills came during a blob write"
    );

    // Let the queue finish what was acknowledged before the last kill.
    let deadline = Instant::now() + Duration::from_secs(120);
    while server.admin(&["queue", "list"]) != "The queue is empty.\n" {
        assert!(
            Instant::now() < deadline,
            "the queue does not drain:\n{}",
            server.admin(&["queue", "list"])
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let expected: Vec<String> = acknowledged.iter().map(u64::to_string).collect();
    // Each message is compared with what the sender made of its number:
    // acknowledged or not, what was delivered is whole.
    let report = server.python(&format!(
        r#"
import collections, hashlib, mailtest, torture_sender
acknowledged = set([{}])
large = 0
for user in ["alice@example.test", "bob@example.test"]:
    client = mailtest.imap(user, "implicit")
    typ, data = client.select("INBOX")
    count = int(data[0])
    numbers = []
    for first in range(1, count + 1, 20):
        typ, data = client.fetch("%d:%d" % (first, min(first + 19, count)), "(BODY.PEEK[])")
        for part in data:
            if not isinstance(part, tuple):
                continue
            content = mailtest.strip_trace(part[1])
            number = int(content.split(b"Subject: torture ")[1].split(b"\r\n")[0])
            sent = torture_sender.message(number)
            assert torture_sender.sha256(content) == torture_sender.sha256(sent), (
                user, number, "content differs from what was sent", len(content), len(sent))
            if len(sent) > torture_sender.INLINE_LIMIT and number in acknowledged:
                large += 1
            numbers.append(number)
    assert len(numbers) == count, (user, len(numbers), count)
    counts = collections.Counter(numbers)
    missing = sorted(acknowledged - set(counts))
    assert not missing, (user, "acknowledged but lost", missing[:20])
    twice = sorted(n for n, c in counts.items() if c > 1)
    assert not twice, (user, "delivered twice", twice[:20])
    client.logout()
print(large)
"#,
        expected.join(",")
    ));
    let large: usize = report.trim().parse().expect("count of large messages");
    // Blob files must have been written all along, or the kills never
    // found one being made.
    assert!(
        large >= rounds,
        "only {large} acknowledged deliveries above the inline limit in {rounds} rounds"
    );

    if common::on_postgres() {
        check_postgres_content(&server);
        return;
    }
    // No temporary file outlives a restart, and every blob file holds
    // what its name says, referenced or not: content written in place
    // and cut short by a kill would be taken for whole when the same
    // message came again.
    server.python(
        r#"
import hashlib, os
blobs = os.path.join(os.environ["DATA_DIR"], "data", "blobs")
leftovers = os.listdir(os.path.join(blobs, "tmp"))
assert not leftovers, ("temporary blob files left", leftovers[:5])
count = 0
for fan_out in os.listdir(blobs):
    if fan_out == "tmp":
        continue
    for name in os.listdir(os.path.join(blobs, fan_out)):
        with open(os.path.join(blobs, fan_out, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == name, ("blob file content differs from its name", name)
        count += 1
assert count, "no blob file was ever written"
"#,
    );
    // Collection leaves no content that nothing refers to, and every
    // row's content is there (inline or as a file).
    server.admin(&["gc", "--min-age", "0"]);
    server.python(
        r#"
import hashlib, os, sqlite3
data = os.path.join(os.environ["DATA_DIR"], "data")
blobs = os.path.join(data, "blobs")
db = sqlite3.connect("file:" + os.path.join(data, "postamt.db") + "?mode=ro", uri=True)
referenced = {row[0] for row in db.execute("SELECT blob_hash FROM messages UNION SELECT blob_hash FROM queue_messages")}
files = set()
for fan_out in os.listdir(blobs):
    if len(fan_out) == 2:
        files.update(os.listdir(os.path.join(blobs, fan_out)))
inline = set()
for hash, content in db.execute("SELECT hash, data FROM inline_blobs"):
    assert hashlib.sha256(content).hexdigest() == hash, ("inline content differs from its hash", hash)
    inline.add(hash)
orphans = (files | inline) - referenced
assert not orphans, ("unreferenced message content", sorted(orphans)[:5])
assert referenced <= files | inline, ("rows refer to missing content", sorted(referenced - files - inline)[:5])
"#,
    );
}

/// The content checks of the torture, asked of PostgreSQL: every chunked
/// content's chunks, in order and without a gap, hash to its name (a put
/// cut short by a kill must not be taken for whole), and after garbage
/// collection no content is unreferenced and every reference has its
/// content, inline or chunked.
fn check_postgres_content(server: &Server) {
    let chunked: usize = server
        .psql("SELECT count(*) FROM chunked_content")
        .trim()
        .parse()
        .expect("a count");
    assert!(chunked > 0, "no content was ever chunked");
    let wrong = server.psql(
        "SELECT c.hash FROM chunked_content c
         WHERE encode(sha256(COALESCE((SELECT string_agg(k.data, ''::bytea ORDER BY k.seq)
                                       FROM content_chunks k WHERE k.hash = c.hash), ''::bytea)), 'hex') <> c.hash
            OR (SELECT count(*) FROM content_chunks k WHERE k.hash = c.hash)
               <> (SELECT COALESCE(max(k.seq), -1) + 1 FROM content_chunks k WHERE k.hash = c.hash)",
    );
    assert!(
        wrong.trim().is_empty(),
        "chunked content differs from its name: {wrong}"
    );
    let wrong = server.psql("SELECT hash FROM inline_blobs WHERE encode(sha256(data), 'hex') <> hash");
    assert!(wrong.trim().is_empty(), "inline content differs from its hash: {wrong}");
    server.admin(&["gc", "--min-age", "0"]);
    let orphans = server.psql(
        "SELECT hash FROM (SELECT hash FROM chunked_content UNION SELECT hash FROM inline_blobs) AS c
         WHERE hash NOT IN (SELECT blob_hash FROM messages UNION SELECT blob_hash FROM queue_messages)",
    );
    assert!(orphans.trim().is_empty(), "unreferenced message content: {orphans}");
    let missing = server.psql(
        "SELECT blob_hash FROM messages UNION SELECT blob_hash FROM queue_messages
         EXCEPT (SELECT hash FROM chunked_content UNION SELECT hash FROM inline_blobs)",
    );
    assert!(missing.trim().is_empty(), "rows refer to missing content: {missing}");
}

/// Quota usage after a kill: every mailbox's `message_count` and
/// `message_bytes` equal the COUNT and SUM(size) of its messages (they
/// change in the transactions that insert and delete them), and `postamt
/// user quota` shows their sum.
fn check_usage(server: &Server, round: usize) {
    const WRONG: &str = "SELECT COUNT(*) FROM mailboxes b
         WHERE b.message_count <> (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = b.id)
            OR b.message_bytes <> (SELECT COALESCE(SUM(m.size), 0) FROM messages m WHERE m.mailbox_id = b.id)";
    const ALICE: &str = "SELECT CAST(COALESCE(SUM(m.size), 0) AS BIGINT) || ' ' || COUNT(*)
         FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id JOIN accounts a ON a.id = b.account_id
         WHERE a.local_part = 'alice'";
    let query = |sql: &str| -> String {
        if common::on_postgres() {
            return server.psql(sql).trim().to_string();
        }
        server
            .python(&format!(
                r#"
import os, sqlite3
db = sqlite3.connect("file:" + os.path.join(os.environ["DATA_DIR"], "data", "postamt.db") + "?mode=ro", uri=True)
print(db.execute("""{sql}""").fetchone()[0])
"#
            ))
            .trim()
            .to_string()
    };
    assert_eq!(
        query(WRONG),
        "0",
        "round {round}: mailboxes whose usage differs from their messages"
    );
    // The queue goes on delivering after the restart: the command's answer
    // counts when alice's messages did not change around it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let before = query(ALICE);
        let shown = server.admin(&["user", "quota", "alice@example.test"]);
        if query(ALICE) != before {
            assert!(
                Instant::now() < deadline,
                "round {round}: alice's mail never stood still"
            );
            continue;
        }
        let number = |prefix: &str| {
            shown
                .lines()
                .find_map(|l| l.trim().strip_prefix(prefix))
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(
            format!("{} {}", number("storage:"), number("messages:")),
            before,
            "round {round}: `postamt user quota` differs from alice's messages:\n{shown}"
        );
        return;
    }
}
