//! Stopping and reloading a running server (issue 19). SIGTERM closes the
//! listeners at once, lets an SMTP message in its data or in BDAT chunks
//! finish (the client gets its 250 and the message is delivered after a
//! restart), tells idle
//! IMAP clients (waiting for a command or in IDLE) `* BYE` and POP3
//! clients `-ERR`, and exits 0; a second SIGTERM exits at once. SIGHUP
//! reads the config again: a new message size limit holds for sessions
//! that start after it, a new rate limit at once, a changed hostname is
//! named as needing a restart, a new MTA-STS mode and metrics token hold
//! for the next web request, and a broken file leaves the server running
//! as it was. A stop releases the queue leases of deliveries under
//! way, so the next start takes them up at once.

mod common;

use std::time::Duration;

use common::{Helper, Server};

/// Python lines that wait (up to 10 s) until the SMTP port refuses
/// connections: the listener is closed.
const WAIT_UNTIL_REFUSED: &str = r#"
def wait_until_refused():
    deadline = time.time() + 10
    while True:
        try:
            socket.create_connection((mailtest.HOST, mailtest.SMTP_PORT), timeout=2).close()
        except ConnectionRefusedError:
            return
        assert time.time() < deadline, "the SMTP port still accepts connections"
        time.sleep(0.02)
"#;

/// Python lines that wait until the server closes the SMTP session
/// without a reply (a process that exits may reset the connection).
const CLOSED: &str = r#"
def closed():
    try:
        assert smtp.line() == b"", "closed without a reply"
    except ConnectionResetError:
        pass
"#;

/// A session in the data of a message to alice: EHLO, MAIL, RCPT, DATA
/// and the first half of the message sent.
const HALF_A_MESSAGE: &str = r#"
smtp = mailtest.Raw(mailtest.SMTP_PORT)
smtp.send(b"EHLO client.test\r\n"); smtp.reply()
assert smtp.command(b"MAIL FROM:<someone@elsewhere.test>").startswith(b"250")
assert smtp.command(b"RCPT TO:<alice@example.test>").startswith(b"250")
assert smtp.command(b"DATA").startswith(b"354")
smtp.send(b"Subject: sent across a stop\r\n\r\nThe first half,\r\n")
"#;

#[test]
fn a_stop_lets_data_finish_tells_idle_clients_and_exits_0() {
    let mut server = Server::with_users("");
    let pid = server.pid();
    let output = server.python(&format!(
        r#"
import mailtest, os, signal, socket, time
{WAIT_UNTIL_REFUSED}
imap = mailtest.imap("alice@example.test")
idler = mailtest.imap("bob@example.test")
idler.select("INBOX")
idler.send(b"i1 IDLE\r\n")
assert idler.readline().startswith(b"+"), "IDLE started"
pop = mailtest.pop3("bob@example.test", wait_unlocked=False)
{HALF_A_MESSAGE}
os.kill({pid}, signal.SIGTERM)
wait_until_refused()
print("imap:", imap.readline())
print("idle:", idler.readline())
print("pop3:", pop.file.readline())
smtp.send(b"and the second half.\r\n.\r\n")
print("data:", smtp.line())
print("after:", smtp.line())
"#
    ));
    assert!(output.contains("imap: b'* BYE Server shutting down\\r\\n'"), "{output}");
    assert!(output.contains("idle: b'* BYE Server shutting down\\r\\n'"), "{output}");
    assert!(
        output.contains("pop3: b'-ERR [SYS/TEMP] Server shutting down\\r\\n'"),
        "{output}"
    );
    assert!(output.contains("data: b'250 "), "{output}");
    assert!(
        output.contains("after: b'421 4.3.2 Service shutting down\\r\\n'"),
        "{output}"
    );
    let status = server.wait_for_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", server.log());

    server.restart();
    let output = server.python(
        r#"
import mailtest
[message] = mailtest.wait_for_messages("alice@example.test", 1)
assert b"The first half,\r\nand the second half.\r\n" in message, message
"#,
    );
    assert!(output.is_empty(), "{output}");
}

#[test]
fn a_stop_lets_a_bdat_series_finish() {
    let mut server = Server::with_users("");
    let pid = server.pid();
    let output = server.python(&format!(
        r#"
import mailtest, os, signal, socket, time
{WAIT_UNTIL_REFUSED}
smtp = mailtest.Raw(mailtest.SMTP_PORT)
smtp.send(b"EHLO client.test\r\n"); smtp.reply()
assert smtp.command(b"MAIL FROM:<someone@elsewhere.test>").startswith(b"250")
assert smtp.command(b"RCPT TO:<alice@example.test>").startswith(b"250")
first = b"Subject: in chunks\r\n\r\nThe first chunk,\r\n"
smtp.send(b"BDAT %d\r\n" % len(first) + first)
assert smtp.line().startswith(b"250"), "first chunk"
os.kill({pid}, signal.SIGTERM)
wait_until_refused()
last = b"and the last.\r\n"
smtp.send(b"BDAT %d LAST\r\n" % len(last) + last)
print("last:", smtp.line())
print("after:", smtp.line())
"#
    ));
    assert!(output.contains("last: b'250 "), "{output}");
    assert!(
        output.contains("after: b'421 4.3.2 Service shutting down\\r\\n'"),
        "{output}"
    );
    assert_eq!(server.wait_for_exit(Duration::from_secs(20)).code(), Some(0));
    server.restart();
    server.python(
        r#"
import mailtest
[message] = mailtest.wait_for_messages("alice@example.test", 1)
assert b"The first chunk,\r\nand the last.\r\n" in message, message
"#,
    );
}

/// Recipients whose delivery some node holds a lease on, read from the
/// stopped or running server's SQLite store.
fn leased(server: &Server) -> String {
    server.python(
        r#"
import os, sqlite3
path = os.path.join(os.environ["DATA_DIR"], "data", "postamt.db")
db = sqlite3.connect("file:" + path + "?mode=ro", uri=True)
print(db.execute("SELECT COUNT(*) FROM queue_recipients WHERE lease_owner IS NOT NULL").fetchone()[0])
"#,
    )
}

#[test]
fn a_stop_releases_the_leases_of_deliveries_under_way() {
    if common::on_postgres() {
        return;
    }
    // A destination that never finishes its greeting: the delivery to it
    // is under way, its recipient leased, when the stop comes.
    let pit = tempfile::tempdir().unwrap();
    let dir = pit.path().to_str().unwrap();
    let tarpit = Helper::start(
        "tarpit.py",
        &[dir, "dribble", "1", "--address", "127.0.0.1", "--port", "0"],
    );
    let zone = "slow.test MX 10 mx.slow.test\nmx.slow.test A 127.0.0.1\n";
    let mut server = Server::start_with_zone(&format!("[delivery]\nport = {}\n", tarpit.port), zone);
    server.add_example_users();
    server.python(
        r#"
import mailtest
client = mailtest.submit("alice@example.test")
assert client.sendmail("alice@example.test", ["someone@slow.test"], b"Subject: out\r\n\r\nhello\r\n") == {}
client.quit()
"#,
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(pit.path().join("open")).map_or(true, |n| n.trim() != "1") {
        assert!(
            std::time::Instant::now() < deadline,
            "no delivery reached the tarpit\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(leased(&server), "1\n");
    server.signal("TERM");
    assert_eq!(
        server.wait_for_exit(Duration::from_secs(20)).code(),
        Some(0),
        "{}",
        server.log()
    );
    assert_eq!(leased(&server), "0\n", "{}", server.log());
}

#[test]
fn a_second_stop_exits_at_once() {
    let mut server = Server::with_users("");
    let pid = server.pid();
    // The transfer stalls, and the client holds it open: the first stop
    // would wait 30 s for it.
    let output = server.python(&format!(
        r#"
import mailtest, os, signal, socket, time
{WAIT_UNTIL_REFUSED}
{CLOSED}
{HALF_A_MESSAGE}
os.kill({pid}, signal.SIGTERM)
wait_until_refused()
asked = time.time()
os.kill({pid}, signal.SIGTERM)
closed()
print("closed after", time.time() - asked)
"#
    ));
    let waited: f64 = output.trim().trim_start_matches("closed after ").parse().unwrap();
    assert!(waited < 5.0, "{output}");
    let status = server.wait_for_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(1), "{}", server.log());
    assert!(server.log().contains("asked again to stop: exiting at once"));
}

#[test]
fn a_stalled_transfer_holds_a_stop_no_longer_than_stop_timeout() {
    let mut server = Server::with_users("[server]\nallow_root = true\nstop_timeout = 1\n");
    let pid = server.pid();
    let output = server.python(&format!(
        r#"
import mailtest, os, signal, socket, time
{WAIT_UNTIL_REFUSED}
{CLOSED}
{HALF_A_MESSAGE}
asked = time.time()
os.kill({pid}, signal.SIGTERM)
closed()
print("closed after", time.time() - asked)
"#
    ));
    let waited: f64 = output.trim().trim_start_matches("closed after ").parse().unwrap();
    assert!((0.9..5.0).contains(&waited), "{output}");
    let status = server.wait_for_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", server.log());
    assert!(
        server
            .log()
            .contains("sessions still running after [server] stop_timeout")
    );
}

/// EHLO's SIZE on a new session, and whether a message of `size` bytes
/// is accepted there.
fn size_and_verdict(server: &Server, size: usize) -> String {
    server.python(&format!(
        r#"
import mailtest
client = mailtest.smtp()
print("SIZE", client.esmtp_features["size"])
try:
    client.sendmail("a@elsewhere.test", ["alice@example.test"], b"Subject: x\r\n\r\n" + b"x" * {size} + b"\r\n")
    print("accepted")
except Exception as e:
    print("refused", e)
client.quit()
"#
    ))
}

#[test]
fn sighup_applies_a_new_limit_and_survives_a_broken_file() {
    let server = Server::with_users("[smtp]\nmax_message_size = 50000\n");
    assert_eq!(size_and_verdict(&server, 2000), "SIZE 50000\naccepted\n");

    let config = std::fs::read_to_string(server.config_path()).unwrap();
    let changed = config
        .replace("max_message_size = 50000", "max_message_size = 1000")
        .replace("hostname = \"mx.example.test\"", "hostname = \"other.example.test\"")
        + "[limits]\nclient_connections_per_minute = 3\n";
    std::fs::write(server.config_path(), &changed).unwrap();
    server.signal("HUP");
    server.wait_for_log("configuration reloaded");
    let verdict = size_and_verdict(&server, 2000);
    assert!(verdict.starts_with("SIZE 1000\nrefused"), "{verdict}");
    assert!(verdict.contains("552"), "{verdict}");
    let log = server.log();
    assert!(
        log.contains("certificate reloaded")
            && log.contains("setting=\"hostname\"")
            && log.contains("restart to apply"),
        "{log}"
    );
    assert!(
        !log.contains("setting=\"smtp") && !log.contains("setting=\"limits"),
        "{log}"
    );
    // The rate limits change at once, for every session.
    server.python(
        r#"
import mailtest
for n in range(3):
    assert mailtest.Raw(mailtest.SMTP_PORT, source="127.0.0.7").greeting.startswith(b"220"), n
assert mailtest.Raw(mailtest.SMTP_PORT, source="127.0.0.7").greeting.startswith(b"421 4.7.0")
"#,
    );

    std::fs::write(server.config_path(), changed.replace("[smtp]", "[smtp")).unwrap();
    server.signal("HUP");
    server.wait_for_log("the running configuration stays");
    assert_eq!(size_and_verdict(&server, 500), "SIZE 1000\naccepted\n");
}

#[test]
fn sighup_changes_the_mta_sts_policy_and_the_metrics_token() {
    let server = Server::with_users("[http]\nmetrics_token = \"\"\n[mta_sts]\nmode = \"testing\"\n");
    // Python: what the web listener answers now, and a wait (up to 20 s)
    // until it answers otherwise.
    let web = r#"
import http.client, os, ssl, time
def answers():
    policy = http.client.HTTPSConnection("127.0.0.1", int(os.environ["HTTPS_PORT"]), timeout=10,
                                         context=ssl._create_unverified_context())
    policy.request("GET", "/.well-known/mta-sts.txt", headers={"Host": "mta-sts.example.test"})
    mode = [l for l in policy.getresponse().read().decode().split("\r\n") if l.startswith("mode:")]
    metrics = http.client.HTTPConnection("127.0.0.1", int(os.environ["HTTP_PORT"]), timeout=10)
    metrics.request("GET", "/metrics", headers={"Authorization": "Bearer new-token"})
    return mode, metrics.getresponse().status
def changed(before):
    deadline = time.time() + 20
    while (now := answers()) == before:
        assert time.time() < deadline, "still " + repr(now)
        time.sleep(0.05)
    return now
"#;
    assert_eq!(
        server.python(&format!("{web}print(answers())")),
        "(['mode: testing'], 200)\n"
    );
    let config = std::fs::read_to_string(server.config_path()).unwrap();
    let changed = config
        .replace("metrics_token = \"\"", "metrics_token = \"new-token\"")
        .replace("mode = \"testing\"", "mode = \"enforce\"");
    std::fs::write(server.config_path(), changed).unwrap();
    server.signal("HUP");
    // Loopback without the token is refused once one is set; with it, the
    // metrics answer.
    let out = server.python(&format!(
        r#"{web}
print(changed((['mode: testing'], 200)))
metrics = http.client.HTTPConnection("127.0.0.1", int(os.environ["HTTP_PORT"]), timeout=10)
metrics.request("GET", "/metrics")
print(metrics.getresponse().status)
"#
    ));
    assert_eq!(out, "(['mode: enforce'], 200)\n401\n");
    server.wait_for_log("configuration reloaded");
    let log = server.log();
    assert!(!log.contains("restart to apply"), "{log}");
}
