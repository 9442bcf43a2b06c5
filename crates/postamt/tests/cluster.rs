//! Two postamt nodes on one PostgreSQL store (issue 18): two real
//! processes with ports, data directories and node ids of their own and
//! one `[store] url`, driven by Python's own clients. What one node does,
//! the other sees: mail received on A reaches an IMAP IDLE on B, a flag
//! set on B reaches a session on A, a POP3 maildrop locked on A is locked
//! for B too, and the queue is worked by both, each message delivered once
//! even when one node is killed in the middle.
//!
//! Skipped, with a message, only when no PostgreSQL can be started (CI
//! always has one: `POSTAMT_REQUIRE_POSTGRES`).

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{Peer, Server};

/// A node of the cluster on `url`, hosting what its admin commands add.
fn node(url: &str, id: &str, zone: &str, extra: &str) -> Server {
    let config = format!("node_id = \"{id}\"\n{extra}\n[store]\nurl = \"{url}\"\n");
    Server::start_with_zone(&config, zone)
}

/// Two nodes on a fresh database, example.test with alice and bob added
/// through the first; None when there is no PostgreSQL here.
fn cluster(zone: &str, extra: &str) -> Option<(Server, Server)> {
    let url = test_postgres::fresh_database()?;
    let a = node(&url, "a", zone, extra);
    let b = node(&url, "b", zone, extra);
    a.add_example_users();
    Some((a, b))
}

/// Runs a Python script (with `mailtest` importable) that talks to both
/// nodes: `A` and `B` in it are dicts of their ports.
fn python_on_both(a: &Server, b: &Server, script: &str) -> String {
    let ports = |s: &Server| {
        format!(
            "{{'smtp': {}, 'submission': {}, 'pop3': {}, 'imap': {}}}",
            s.smtp.port(),
            s.submission.port(),
            s.pop3.port(),
            s.imap.port()
        )
    };
    let prelude = format!("A = {}\nB = {}\n", ports(a), ports(b));
    a.python(&format!("{prelude}{script}"))
}

/// A message delivered through node A's SMTP reaches an IMAP IDLE on node
/// B within a second of A's 250.
#[test]
fn mail_received_on_one_node_reaches_an_idle_on_the_other() {
    let Some((a, b)) = cluster("", "") else { return };
    let printed = python_on_both(
        &a,
        &b,
        r#"
import time, mailtest
mailtest.IMAP_PORT = B["imap"]
imap = mailtest.imap("alice@example.test")
imap.select("INBOX")
imap.send(b"i1 IDLE\r\n")
assert imap.readline().startswith(b"+"), "no continuation for IDLE"
smtp = mailtest.smtp(A["smtp"])
smtp.sendmail("someone@elsewhere.test", ["alice@example.test"], b"Subject: across\r\n\r\nhello\r\n")
accepted = time.time()
line = imap.readline()
waited = time.time() - accepted
assert line == b"* 1 EXISTS\r\n", line
print("waited %.3f" % waited)
assert waited < 1.0, "EXISTS came %.3f s after the 250" % waited
imap.send(b"DONE\r\n")
smtp.quit()
"#,
    );
    assert!(printed.contains("waited"), "{printed}");
}

/// A flag set through node B shows as FETCH FLAGS in an IDLE on node A.
#[test]
fn a_flag_set_on_one_node_shows_on_the_other() {
    let Some((a, b)) = cluster("", "") else { return };
    python_on_both(
        &a,
        &b,
        r#"
import time, mailtest
smtp = mailtest.smtp(A["smtp"])
smtp.sendmail("someone@elsewhere.test", ["alice@example.test"], b"Subject: flag me\r\n\r\nhello\r\n")
smtp.quit()
mailtest.IMAP_PORT = A["imap"]
on_a = mailtest.imap("alice@example.test")
deadline = time.time() + 20
while int(on_a.select("INBOX")[1][0]) < 1:
    assert time.time() < deadline, "the message was never delivered"
    time.sleep(0.05)
on_a.send(b"i1 IDLE\r\n")
assert on_a.readline().startswith(b"+")
mailtest.IMAP_PORT = B["imap"]
on_b = mailtest.imap("alice@example.test")
on_b.select("INBOX")
typ, _ = on_b.store("1", "+FLAGS", "(\\Flagged)")
assert typ == "OK"
stored = time.time()
line = on_a.readline()
waited = time.time() - stored
assert line.startswith(b"* 1 FETCH (") and b"\\Flagged" in line, line
assert waited < 1.0, "the flag came %.3f s after the STORE" % waited
on_a.send(b"DONE\r\n")
"#,
    );
}

/// A POP3 session on node A locks the maildrop against node B until it
/// ends (RFC 1939 §8, across the cluster).
#[test]
fn a_maildrop_locked_on_one_node_is_locked_on_the_other() {
    let Some((a, b)) = cluster("", "") else { return };
    python_on_both(
        &a,
        &b,
        r#"
import poplib, mailtest
mailtest.POP3_PORT = A["pop3"]
on_a = mailtest.pop3("bob@example.test")
mailtest.POP3_PORT = B["pop3"]
try:
    mailtest.pop3("bob@example.test", wait_unlocked=False)
    raise AssertionError("node B let a second session into a maildrop locked on A")
except poplib.error_proto as e:
    assert b"[IN-USE]" in e.args[0], e
on_a.quit()
# Released at A's QUIT (a moment later, in the background).
mailtest.pop3("bob@example.test").quit()
"#,
    );
}

/// The Message-ID of each message the peer received, with how often.
fn received_ids(peer: &Peer) -> HashMap<String, usize> {
    let mut ids = HashMap::new();
    for entry in std::fs::read_dir(peer.dir.path()).unwrap().flatten() {
        if entry.path().extension().is_none_or(|x| x != "eml") {
            continue;
        }
        let message = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let id = message
            .lines()
            .find_map(|line| line.strip_prefix("Message-ID: "))
            .unwrap_or("none")
            .to_string();
        *ids.entry(id).or_default() += 1;
    }
    ids
}

/// A port nothing listens on now, for a destination that comes up later.
fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// 1 000 messages wait for a destination that is down, half received by
/// each node. When it comes up, both nodes deliver; node B is killed
/// (SIGKILL) in the middle, and A takes over B's share once B's node
/// claim has run out. Every message arrives, and none twice beyond the
/// deliveries B had under way when it died (at most `max_per_domain`).
#[test]
fn both_nodes_work_the_queue_and_one_finishes_what_a_killed_node_left() {
    const MESSAGES: usize = 1000;
    const PER_DOMAIN: usize = 5;
    let port = unused_port();
    let zone = "peer.test MX 10 mx.peer.test\nmx.peer.test A 127.0.0.1\n";
    // alice sends all 1 000: more than her hourly limit, which holds for
    // the cluster (see the last test).
    let extra = format!(
        "[queue]\nretry_intervals = [1]\n[delivery]\nport = {port}\nmax_per_domain = {PER_DOMAIN}\n\
         [limits]\nuser_messages_per_hour = 0\nuser_recipients_per_hour = 0\n"
    );
    let Some((a, mut b)) = cluster(zone, &extra) else {
        return;
    };
    python_on_both(
        &a,
        &b,
        &format!(
            r#"
import mailtest
for node in (A, B):
    mailtest.SUBMISSION_PORT = node["submission"]
    smtp = mailtest.submit("alice@example.test")
    for n in range({half}):
        body = ("Message-ID: <%d-%d@cluster.test>\r\nSubject: queued\r\n\r\nx\r\n" % (node["smtp"], n)).encode()
        smtp.sendmail("alice@example.test", ["someone@peer.test"], body)
    smtp.quit()
"#,
            half = MESSAGES / 2
        ),
    );
    let queued = a.admin(&["queue", "list"]);
    assert_eq!(queued.matches("someone@peer.test").count(), MESSAGES, "{queued}");

    let peer = Peer::start(&["--port", &port.to_string()]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while peer.received() < MESSAGES / 4 {
        assert!(
            Instant::now() < deadline,
            "only {} delivered in a minute",
            peer.received()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    b.kill();
    let killed_at = peer.received();

    // A finishes: its own share at once, B's once B's claim runs out.
    let deadline = Instant::now() + Duration::from_secs(180);
    while received_ids(&peer).len() < MESSAGES {
        assert!(
            Instant::now() < deadline,
            "{} of {MESSAGES} delivered three minutes on (B killed at {killed_at}); A's log:\n{}",
            received_ids(&peer).len(),
            a.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    a.wait_until_queue_empty();
    let ids = received_ids(&peer);
    assert_eq!(ids.len(), MESSAGES, "every message arrived");
    let twice: Vec<_> = ids.iter().filter(|(_, n)| **n > 1).collect();
    let duplicates: usize = twice.iter().map(|(_, n)| **n - 1).sum();
    assert!(
        duplicates <= PER_DOMAIN,
        "{duplicates} deliveries twice, more than B had under way: {twice:?}"
    );
    // Both nodes delivered: B before it was killed, A after.
    let log = a.log();
    assert!(
        killed_at > 0 && log.contains("delivered"),
        "A delivered nothing?\n{log}"
    );
}

/// A user's hourly message limit holds for the cluster, not per node: two
/// messages through A and one through B use up a limit of three, and the
/// fourth is refused on either node (451 4.7.1, to be tried later).
#[test]
fn a_users_rate_limit_holds_across_the_nodes() {
    let Some((a, b)) = cluster("", "[limits]\nuser_messages_per_hour = 3\n") else {
        return;
    };
    python_on_both(
        &a,
        &b,
        r#"
import smtplib, mailtest
def send(node):
    mailtest.SUBMISSION_PORT = node["submission"]
    client = mailtest.submit("alice@example.test")
    try:
        client.sendmail("alice@example.test", ["bob@example.test"], b"Subject: counted\r\n\r\nx\r\n")
        return 250
    except smtplib.SMTPSenderRefused as e:
        assert e.smtp_error.startswith(b"4.7.1"), e
        return e.smtp_code
    finally:
        client.quit()
assert [send(A), send(A), send(B)] == [250, 250, 250]
assert send(B) == 451, "B let a fourth message through"
assert send(A) == 451, "A let a fourth message through"
"#,
    );
}
