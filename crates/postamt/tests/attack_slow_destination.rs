//! Issue 12, attack 1: one message from anyone used to stall all delivery.
//! A receiving server that answers one byte every few seconds held up the
//! whole queue, local mailboxes included, and a stranger on port 25 could
//! make postamt talk to such a server by asking for a success report.
//!
//! Real servers throughout: postamt, a hostile "tarpit" server
//! (tests/python/tarpit.py), an ordinary one (aiosmtpd), and a DNS server,
//! all on loopback.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Helper, Peer, Server};

/// Starts a tarpit in `mode` answering every `delay` seconds, on `address`
/// and `port` (0: one the system picks). Its counters live in `dir`.
fn tarpit(dir: &Path, mode: &str, delay: &str, address: &str, port: u16) -> Helper {
    let dir = dir.to_str().expect("utf-8 path");
    Helper::start(
        "tarpit.py",
        &[dir, mode, delay, "--address", address, "--port", &port.to_string()],
    )
}

/// A counter the tarpit keeps ("open" or "opened").
fn count(dir: &Path, name: &str) -> u32 {
    std::fs::read_to_string(dir.join(name))
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits up to `limit` for `done`, and says whether it came.
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

/// Alice submits a message to `to` over 587 with AUTH.
fn alice_sends_to(server: &Server, to: &str) {
    server.python(&format!(
        r#"
import mailtest
client = mailtest.submit("alice@example.test")
assert client.sendmail("alice@example.test", ["{to}"], b"Subject: out\r\n\r\nhello\r\n") == {{}}
client.quit()
"#
    ));
}

#[test]
fn a_stuck_destination_holds_up_neither_local_mail_nor_other_destinations() {
    // An ordinary server for peer.test on 127.0.0.1, and on the same port
    // of 127.0.0.3 a tarpit for slow.test that never finishes its greeting.
    // The port the system gave the peer may be taken on 127.0.0.3 by an
    // unrelated socket: then both start again on another one.
    let pit = tempfile::tempdir().expect("temporary directory");
    let dir = pit.path().to_str().expect("utf-8 path");
    let (peer, _tarpit) = (0..5)
        .find_map(|_| {
            let peer = Peer::start(&[]);
            let port = peer.helper.port.to_string();
            let args = [dir, "dribble", "1", "--address", "127.0.0.3", "--port", &port];
            Helper::try_start("tarpit.py", &args).map(|tarpit| (peer, tarpit))
        })
        .expect("a port free on both 127.0.0.1 and 127.0.0.3");
    let port = peer.helper.port;
    let zone = "slow.test MX 10 mx.slow.test\nmx.slow.test A 127.0.0.3\n\
                peer.test MX 10 mx.peer.test\nmx.peer.test A 127.0.0.1\n";
    let server = Server::start_with_zone(&format!("[delivery]\nport = {port}\n"), zone);
    server.add_example_users();

    alice_sends_to(&server, "someone@slow.test");
    assert!(
        wait_until(Duration::from_secs(20), || count(pit.path(), "open") == 1),
        "postamt never reached the tarpit\n{}",
        server.log()
    );

    // While the tarpit holds its connection, mail from the internet to a
    // local user is delivered at once...
    let started = Instant::now();
    server.python(
        r#"
import mailtest
client = mailtest.smtp()
assert client.sendmail("someone@elsewhere.test", ["bob@example.test"], b"Subject: local\r\n\r\nhi\r\n") == {}
client.quit()
mailtest.wait_for_messages("bob@example.test", 1, timeout=5)
"#,
    );
    let local = started.elapsed();
    assert!(local < Duration::from_secs(5), "local delivery took {local:?}");

    // ...and so is mail to another destination.
    alice_sends_to(&server, "friend@peer.test");
    peer.wait_for(1);
    assert_eq!(peer.envelope(1), ["alice@example.test", "friend@peer.test"]);

    assert_eq!(count(pit.path(), "open"), 1, "the tarpit still holds its one slot");
}

#[test]
fn a_reply_sent_one_byte_at_a_time_is_cut_off_at_its_deadline() {
    let pit = tempfile::tempdir().expect("temporary directory");
    let tarpit = tarpit(pit.path(), "dribble", "0.2", "127.0.0.1", 0);
    let zone = "slow.test MX 10 mx.slow.test\nmx.slow.test A 127.0.0.1\n";
    let config = format!("[delivery]\nport = {}\ngreeting_timeout = 2\n", tarpit.port);
    let server = Server::start_with_zone(&config, zone);
    server.add_example_users();

    let started = Instant::now();
    alice_sends_to(&server, "someone@slow.test");
    // Each read sees a byte within 0.2 s, so only a deadline for the whole
    // reply ends this.
    let cut = wait_until(Duration::from_secs(15), || {
        server.log().contains("did not complete its reply within 2s")
    });
    assert!(cut, "the dribbled greeting was never cut off\n{}", server.log());
    assert!(
        wait_until(Duration::from_secs(5), || count(pit.path(), "open") == 0),
        "the connection to the tarpit stayed open"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    // The recipient waits for its next attempt; nothing is lost.
    let queue = server.admin(&["queue", "list"]);
    assert!(queue.contains("someone@slow.test"), "{queue}");
}

#[test]
fn a_destination_that_answers_just_in_time_is_let_go_at_the_session_deadline() {
    // Every reply arrives 1.5 s after its command, within the 2 s each may
    // take; the session as a whole may take 4 s.
    let pit = tempfile::tempdir().expect("temporary directory");
    let tarpit = tarpit(pit.path(), "slow", "1.5", "127.0.0.1", 0);
    let zone = "slow.test MX 10 mx.slow.test\nmx.slow.test A 127.0.0.1\n";
    let config = format!(
        "[delivery]\nport = {}\ngreeting_timeout = 2\ncommand_timeout = 2\nsession_timeout = 4\n",
        tarpit.port
    );
    let server = Server::start_with_zone(&config, zone);
    server.add_example_users();

    alice_sends_to(&server, "someone@slow.test");
    let cut = wait_until(Duration::from_secs(15), || server.log().contains("took longer than 4s"));
    assert!(cut, "the session was never cut off\n{}", server.log());
    let queue = server.admin(&["queue", "list"]);
    assert!(queue.contains("someone@slow.test"), "{queue}");
}

#[test]
fn strangers_on_port_25_cannot_ask_for_delivery_reports() {
    let server = Server::with_users("[smtp]\ntrusted_networks = [\"127.0.0.2/32\"]");
    server.python(
        r#"
import mailtest
# A stranger: DSN is not offered, and its parameters are refused.
smtp = mailtest.Raw(mailtest.SMTP_PORT)
smtp.send(b"EHLO stranger.test\r\n")
ehlo = smtp.reply()
assert ehlo[0].startswith(b"250") and not any(b"DSN" in line for line in ehlo), ehlo
assert smtp.command(b"MAIL FROM:<x@attacker.test> RET=FULL").startswith(b"555 5.5.4")
assert smtp.command(b"MAIL FROM:<x@attacker.test> ENVID=abc").startswith(b"555 5.5.4")
assert smtp.command(b"MAIL FROM:<x@attacker.test>").startswith(b"250")
reply = smtp.command(b"RCPT TO:<bob@example.test> NOTIFY=SUCCESS")
assert reply.startswith(b"555 5.5.4"), reply
reply = smtp.command(b"RCPT TO:<bob@example.test> ORCPT=rfc822;bob@example.test")
assert reply.startswith(b"555 5.5.4"), reply
assert smtp.command(b"RCPT TO:<bob@example.test>").startswith(b"250")

# A trusted network may relay, so it may ask for reports too.
trusted = mailtest.smtp(source="127.0.0.2")
assert trusted.has_extn("dsn")
trusted.quit()

# Users of the submission port may too.
client = mailtest.submit("alice@example.test")
assert client.has_extn("dsn")
code, _ = client.mail("alice@example.test", ["RET=HDRS"])
assert code == 250, code
code, _ = client.rcpt("bob@example.test", ["NOTIFY=SUCCESS"])
assert code == 250, code
client.quit()
"#,
    );
}

#[test]
fn one_attempt_tries_a_bounded_number_of_host_addresses() {
    // Six MX hosts, none listening (port 1 is closed on every loopback
    // address); an attempt stops after the configured three.
    let zone: String = (1..=6)
        .map(|n| {
            format!(
                "many.test MX {n} mx{n}.many.test\nmx{n}.many.test A 127.0.0.{}\n",
                n + 10
            )
        })
        .collect();
    let server = Server::start_with_zone("[delivery]\nport = 1\nmax_addresses_per_attempt = 3\n", &zone);
    server.add_example_users();
    alice_sends_to(&server, "someone@many.test");
    assert!(
        wait_until(Duration::from_secs(15), || server.log().contains("deferred")),
        "{}",
        server.log()
    );
    let log = server.log();
    assert_eq!(log.matches("host unusable, trying the next").count(), 3, "{log}");
    assert!(log.contains("mx3.many.test") && !log.contains("mx4.many.test"), "{log}");
}

#[test]
fn hosts_without_an_address_count_toward_the_bound() {
    // Six MX names that do not exist: each lookup costs time, so an
    // attempt gives up after the configured three, naming the last.
    let zone: String = (1..=6).map(|n| format!("none.test MX {n} mx{n}.none.test\n")).collect();
    let server = Server::start_with_zone("[delivery]\nport = 1\nmax_addresses_per_attempt = 3\n", &zone);
    server.add_example_users();
    alice_sends_to(&server, "someone@none.test");
    assert!(
        wait_until(Duration::from_secs(15), || server.log().contains("deferred")),
        "{}",
        server.log()
    );
    let listing = server.admin(&["queue", "list"]);
    assert!(
        listing.contains("mx3.none.test") && !listing.contains("mx6.none.test"),
        "{listing}"
    );
}
