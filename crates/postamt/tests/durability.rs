//! Invariant 1 of docs/architecture.md: a 250 reply means the message survives
//! SIGKILL.
//!
//! The kill must find the messages still queued, or the test would show
//! only that delivered mail stays delivered. So every message goes to a
//! local mailbox and to a domain whose MX is down (nothing listens on the
//! port delivery dials), and the client itself kills the server the moment
//! it has read the last 250. Before the restart the database must hold
//! every message's remote recipient as pending; after it, with the MX up,
//! each message reaches both recipients exactly once.

mod common;

use std::time::{Duration, Instant};

use common::{Peer, Server};

#[test]
fn acknowledged_messages_survive_sigkill() {
    // A port nothing listens on: bound, read, released.
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let zone = "far.test MX 10 mx.far.test\nmx.far.test A 127.0.0.1\n";
    let mut server = Server::start_with_zone(
        &format!("hostname = \"mx.example.test\"\n[delivery]\nport = {down}\n[queue]\nretry_intervals = [1]\n"),
        zone,
    );
    server.add_example_users();

    let sent = server.python(&format!(
        r#"
import os, signal, mailtest
client = mailtest.submit("alice@example.test")
for n in range(20):
    refused = client.sendmail("alice@example.test", ["bob@example.test", "carol@far.test"],
                              b"Subject: durable %d\r\n\r\nbody\r\n" % n)
    assert refused == {{}}, refused
    print(n, flush=True)
# Killed by the client, the moment the last 250 is read.
os.kill({pid}, signal.SIGKILL)
"#,
        pid = server.pid()
    ));
    server.kill();
    assert_eq!(sent.lines().count(), 20);

    // What the kill left: every message queued for carol.
    let queued = server.python(
        r#"
import os, sqlite3
db = sqlite3.connect("file:" + os.path.join(os.environ["DATA_DIR"], "data", "postamt.db") + "?mode=ro", uri=True)
print(db.execute("SELECT COUNT(DISTINCT queue_id) FROM queue_recipients "
                 "WHERE address = 'carol@far.test' AND status = 'pending'").fetchone()[0])
"#,
    );
    assert_eq!(
        queued.trim(),
        "20",
        "messages queued for the MX that is down at the kill"
    );

    // The MX comes up; the server starts again and delivers to it.
    let peer = Peer::start(&[]);
    let config = std::fs::read_to_string(server.config_path()).expect("config");
    let config = config.replace(&format!("port = {down}\n"), &format!("port = {}\n", peer.helper.port));
    std::fs::write(server.config_path(), config).expect("config");
    server.restart();

    let mut subjects: Vec<u32> = peer
        .wait_for(20)
        .iter()
        .map(|m| {
            let text = String::from_utf8_lossy(m);
            let (_, after) = text.split_once("Subject: durable ").expect("subject");
            after
                .split("\r\n")
                .next()
                .and_then(|n| n.trim().parse().ok())
                .expect("number")
        })
        .collect();
    subjects.sort_unstable();
    assert_eq!(
        subjects,
        (0..20).collect::<Vec<_>>(),
        "delivered to the MX after the restart"
    );
    // Once the queue is empty nothing more can come: no message twice.
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.admin(&["queue", "list"]) != "The queue is empty.\n" {
        assert!(Instant::now() < deadline, "the queue does not drain");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !peer.dir.path().join("21.eml").exists(),
        "the MX received more than 20 messages"
    );
    server.python(
        r#"
import mailtest
messages = mailtest.wait_for_messages("bob@example.test", 20)
subjects = sorted(int(m.split(b"Subject: durable ")[1].split(b"\r\n")[0]) for m in messages)
assert subjects == list(range(20)), subjects
"#,
    );
}
