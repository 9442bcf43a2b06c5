//! Outbound delivery end to end: two postamt servers (or postamt and a
//! server that is not postamt, aiosmtpd) and a real DNS server on loopback.
//! Server A's users send over submission; A finds the receiving host by MX
//! and delivers on the port the receiver listens on (`[delivery] port`).

mod common;

use std::time::{Duration, Instant};

use common::{PASSWORD, Peer, Server};

/// Server B: hosts b.test with the user bob.
fn receiver(extra: &str) -> Server {
    let server = Server::start(extra);
    server.admin(&["domain", "add", "b.test"]);
    server.add_user("bob@b.test");
    server
}

/// Server A: hosts a.test with the user alice, routes by `zone` and
/// delivers to `port`.
fn sender(zone: &str, port: u16, extra: &str) -> Server {
    let config = format!("hostname = \"mx.a.test\"\n{extra}\n[delivery]\nport = {port}\n");
    let server = Server::start_with_zone(&config, zone);
    server.admin(&["domain", "add", "a.test"]);
    server.add_user("alice@a.test");
    server
}

/// Alice submits `message` to `recipients` through A; extra smtplib
/// `sendmail` keyword arguments may follow.
fn submit(a: &Server, recipients: &[&str], message: &str, options: &str) {
    let recipients: Vec<String> = recipients.iter().map(|r| format!("{r:?}")).collect();
    a.python(&format!(
        r#"
import mailtest
client = mailtest.submit("alice@a.test")
refused = client.sendmail("alice@a.test", [{}], {message}{options})
assert refused == {{}}, refused
client.quit()
"#,
        recipients.join(", ")
    ));
}

/// Waits until `needle` shows in the server's log.
fn wait_for_log(server: &Server, needle: &str) -> String {
    wait_for_log_count(server, needle, 1)
}

/// Waits until `needle` shows in the server's log `count` times.
fn wait_for_log_count(server: &Server, needle: &str, count: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = server.log();
        if log.matches(needle).count() >= count {
            return log;
        }
        assert!(Instant::now() < deadline, "{needle:?} not in the log:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const MESSAGE: &str = r#"b"From: alice@a.test\r\nTo: bob@b.test\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@a.test>\r\nSubject: across\r\n\r\n.a dotted line\r\n" + "Grüße\r\n".encode()"#;

#[test]
fn a_user_on_one_server_reaches_a_user_on_another() {
    let b = receiver("");
    let zone = "b.test MX 10 mx.b.test\nmx.b.test A 127.0.0.1\n";
    let a = sender(zone, b.smtp.port(), "");
    submit(&a, &["bob@b.test"], MESSAGE, ", mail_options=['BODY=8BITMIME']");
    b.python(&format!(
        r#"
import mailtest
[stored] = mailtest.wait_for_messages("bob@b.test", 1)
assert stored.startswith(b"Return-Path: <alice@a.test>\r\nDelivered-To: bob@b.test\r\nReceived: from mx.a.test"), stored[:200]
assert b"by mx.a.test (postamt) with ESMTPSA" in stored, "A's own trace header travels along"
assert b"by mx.example.test (postamt) with ESMTPS" in stored, "A used STARTTLS with B"
assert mailtest.strip_trace(stored) == {MESSAGE}, stored
"#
    ));
}

#[test]
fn the_next_mx_takes_over_when_the_first_is_down() {
    let b = receiver("");
    // Nothing listens on 127.0.0.2; the better MX is down.
    let zone = "b.test MX 10 down.b.test\ndown.b.test A 127.0.0.2\nb.test MX 20 mx.b.test\nmx.b.test A 127.0.0.1\n";
    let a = sender(zone, b.smtp.port(), "");
    submit(&a, &["bob@b.test"], MESSAGE, "");
    b.python("import mailtest\nmailtest.wait_for_messages('bob@b.test', 1)");
    let log = wait_for_log(&a, "delivered");
    assert!(
        log.contains("host unusable, trying the next") && log.contains("down.b.test"),
        "{log}"
    );
}

#[test]
fn temporary_failures_are_retried_until_the_peer_accepts() {
    let peer = Peer::start(&["--defer", "2"]);
    let zone = "peer.test MX 10 mx.peer.test\nmx.peer.test A 127.0.0.1\n";
    let a = sender(zone, peer.helper.port, "[queue]\nretry_intervals = [1]");
    submit(&a, &["someone@peer.test"], MESSAGE, "");
    let [received] = peer.wait_for(1).try_into().expect("one message");
    assert_eq!(peer.envelope(1), ["alice@a.test", "someone@peer.test"]);
    assert!(
        received.starts_with(b"Received: from "),
        "{}",
        String::from_utf8_lossy(&received)
    );
    let log = wait_for_log(&a, "to=someone@peer.test host=mx.peer.test");
    assert_eq!(
        log.matches("the peer says: try again later").count(),
        2,
        "two deferrals recorded:\n{log}"
    );
    // Once the queue is done with it, still exactly one copy arrived.
    a.wait_until_queue_empty();
    assert_eq!(peer.received(), 1, "delivered more than once");
}

#[test]
fn a_peer_that_is_not_postamt_gets_the_message_byte_exact() {
    let peer = Peer::start(&[]);
    let zone = "peer.test MX 10 mx.peer.test\nmx.peer.test A 127.0.0.1\n";
    let a = sender(zone, peer.helper.port, "");
    submit(&a, &["someone@peer.test"], MESSAGE, ", mail_options=['BODY=8BITMIME']");
    let [received] = peer.wait_for(1).try_into().expect("one message");
    let expected = "From: alice@a.test\r\nTo: bob@b.test\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@a.test>\r\nSubject: across\r\n\r\n.a dotted line\r\nGrüße\r\n";
    assert!(
        received.ends_with(expected.as_bytes()),
        "{}",
        String::from_utf8_lossy(&received)
    );
}

#[test]
fn one_refused_recipient_is_reported_and_the_other_delivered() {
    let b = receiver("");
    let zone = "b.test MX 10 mx.b.test\nmx.b.test A 127.0.0.1\n";
    let a = sender(zone, b.smtp.port(), "");
    submit(&a, &["bob@b.test", "carol@b.test"], MESSAGE, "");
    b.python("import mailtest\nmailtest.wait_for_messages('bob@b.test', 1)");
    a.python(
        r#"
import mailtest
[dsn] = mailtest.wait_for_messages("alice@a.test", 1)
assert dsn.startswith(b"Return-Path: <>\r\n"), dsn[:100]
for expected in [b"From: Mail Delivery System <MAILER-DAEMON@mx.a.test>",
                 b"Content-Type: multipart/report; report-type=delivery-status",
                 b"Final-Recipient: rfc822; carol@b.test\r\n",
                 b"Action: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.b.test\r\n",
                 b"Diagnostic-Code: smtp; 550 5.1.1 <carol@b.test>: Recipient address rejected: User unknown",
                 b"Content-Type: message/rfc822\r\n\r\nReceived: from client.test"]:
    assert expected in dsn, (expected, dsn)
assert b"Final-Recipient: rfc822; bob@b.test" not in dsn
"#,
    );
}

#[test]
fn null_mx_and_missing_domains_bounce_at_once_with_a_clear_reason() {
    let zone = "nullmx.test MX 0 .\n";
    let a = sender(zone, 25, "");
    submit(&a, &["x@nullmx.test", "y@nothere.test"], MESSAGE, "");
    a.python(
        r#"
import mailtest
[dsn] = mailtest.wait_for_messages("alice@a.test", 1)
assert b"Final-Recipient: rfc822; x@nullmx.test\r\nAction: failed\r\nStatus: 5.1.10\r\n" in dsn, dsn
assert b"accepts no mail (null MX" in dsn
assert b"Final-Recipient: rfc822; y@nothere.test\r\nAction: failed\r\nStatus: 5.1.2\r\n" in dsn, dsn
assert b"domain nothere.test does not exist" in dsn
"#,
    );
}

#[test]
fn expired_messages_bounce_and_undeliverable_bounces_are_dropped() {
    // down.test's MX refuses connections; everything to it waits and expires.
    let zone = "down.test MX 10 mx.down.test\nmx.down.test A 127.0.0.2\n";
    let a = sender(
        zone,
        25,
        "[smtp]\ntrusted_networks = [\"127.0.0.1/32\"]\n[queue]\nretry_intervals = [1]\nlifetime = 3\nbounce_lifetime = 3",
    );
    submit(&a, &["x@down.test"], MESSAGE, "");
    a.python(
        r#"
import mailtest
[dsn] = mailtest.wait_for_messages("alice@a.test", 1, timeout=30)
assert b"Action: failed\r\nStatus: 4.4.7\r\n" in dsn, dsn
assert b"(delivery time expired)" in dsn
"#,
    );
    // A message from down.test that fails: its bounce cannot be delivered
    // either, and is dropped when its own lifetime ends, never bounced.
    a.python(
        r#"
import mailtest
client = mailtest.smtp()
assert client.sendmail("sender@down.test", ["y@nothere.test"], b"Subject: doomed\r\n\r\nx\r\n") == {}
client.quit()
"#,
    );
    wait_for_log(&a, "dropping an undeliverable bounce");
    a.wait_until_queue_empty();
    a.python("import mailtest\nmailtest.wait_for_messages('alice@a.test', 1)");
}

#[test]
fn success_is_reported_as_relayed_by_a_peer_without_dsn() {
    let peer = Peer::start(&[]);
    let zone = "peer.test MX 10 mx.peer.test\nmx.peer.test A 127.0.0.1\n";
    let a = sender(zone, peer.helper.port, "");
    submit(&a, &["someone@peer.test"], MESSAGE, ", rcpt_options=['NOTIFY=SUCCESS']");
    peer.wait_for(1);
    a.python(
        r#"
import mailtest
[dsn] = mailtest.wait_for_messages("alice@a.test", 1)
assert b"Subject: Successful Mail Delivery Report" in dsn, dsn
assert b"Final-Recipient: rfc822; someone@peer.test\r\nAction: relayed\r\nStatus: 2.0.0\r\n" in dsn, dsn
assert b"Content-Type: text/rfc822-headers" in dsn and b"a dotted line" not in dsn
"#,
    );
}

#[test]
fn a_smarthost_relays_everything_with_auth_over_verified_tls() {
    let b = receiver("[submission.send_as]\n\"bob@b.test\" = [\"*\"]");
    let ca = b.dir.path().join("data/tls-selfsigned.crt");
    let extra = format!(
        "[delivery]\nrelay = \"localhost:{}\"\nrelay_user = \"bob@b.test\"\nrelay_password = \"{PASSWORD}\"\nrelay_ca_file = {:?}\n",
        b.submission.port(),
        ca
    );
    // No DNS entry at all: the relay needs none.
    let a = Server::start_with_zone(&format!("hostname = \"mx.a.test\"\n{extra}"), "");
    a.admin(&["domain", "add", "a.test"]);
    a.add_user("alice@a.test");
    submit(&a, &["bob@b.test"], MESSAGE, "");
    b.python(
        r#"
import mailtest
[stored] = mailtest.wait_for_messages("bob@b.test", 1)
assert b"by mx.example.test (postamt) with ESMTPSA" in stored, stored[:400]
"#,
    );
}

#[test]
fn a_smarthost_whose_certificate_does_not_verify_gets_neither_password_nor_mail() {
    let b = receiver("[submission.send_as]\n\"bob@b.test\" = [\"*\"]");
    // Another server's self-signed certificate: a CA that did not sign B's.
    let stranger = Server::start("");
    let wrong_ca = stranger.dir.path().join("data/tls-selfsigned.crt");
    let extra = format!(
        "[delivery]\nrelay = \"localhost:{}\"\nrelay_user = \"bob@b.test\"\nrelay_password = \"{PASSWORD}\"\nrelay_ca_file = {:?}\n",
        b.submission.port(),
        wrong_ca
    );
    let a = Server::start_with_zone(&format!("hostname = \"mx.a.test\"\n{extra}"), "");
    a.admin(&["domain", "add", "a.test"]);
    a.add_user("alice@a.test");
    submit(&a, &["bob@b.test"], MESSAGE, "");
    let log = wait_for_log(&a, "deferred");
    assert!(
        log.contains("TLS with localhost") && log.contains("certificate"),
        "{log}"
    );
    let queue = a.admin(&["queue", "list"]);
    assert!(queue.contains("bob@b.test (pending"), "{queue}");
    let b_log = b.log();
    assert!(
        !b_log.contains("authenticated") && !b_log.contains("message accepted"),
        "{b_log}"
    );
}

#[test]
fn the_queue_can_be_listed_retried_bounced_and_cleaned_from_the_cli() {
    let zone = "down.test MX 10 mx.down.test\nmx.down.test A 127.0.0.2\n";
    let a = sender(zone, 25, "[queue]\nretry_intervals = [3600]");
    submit(&a, &["x@down.test"], MESSAGE, "");
    submit(&a, &["y@down.test"], MESSAGE, "");
    let deadline = Instant::now() + Duration::from_secs(20);
    let listing = loop {
        let listing = a.admin(&["queue", "list"]);
        if listing.matches("451 4.4.1").count() == 2 {
            break listing;
        }
        assert!(Instant::now() < deadline, "{listing}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        listing.contains("from <alice@a.test>") && listing.contains("x@down.test (pending, next try in"),
        "{listing}"
    );
    let ids: Vec<&str> = listing
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let shown = a.admin(&["queue", "show", ids[0]]);
    assert!(
        shown.contains("Status: pending after 1 attempt(s)") && shown.contains("Subject: across"),
        "{shown}"
    );
    assert!(a.admin(&["queue", "retry", "--all"]).starts_with("2 recipient(s)"));
    a.admin(&["queue", "bounce", ids[0]]);
    a.admin(&["queue", "delete", ids[1]]);
    a.python(
        r#"
import mailtest
[dsn] = mailtest.wait_for_messages("alice@a.test", 1)
assert b"550 5.0.0 returned by the postmaster" in dsn, dsn
"#,
    );
    let output = a.admin_output(&["queue", "show", ids[1]], None);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("postamt queue list"));
}

#[test]
fn senders_hear_once_of_a_delay_and_of_local_success_when_asked() {
    let zone = "down.test MX 10 mx.down.test\nmx.down.test A 127.0.0.2\n";
    let a = sender(zone, 25, "[queue]\nretry_intervals = [1]\ndelay_warning = 1");
    submit(&a, &["x@down.test"], MESSAGE, "");
    a.python(
        r#"
import mailtest
[dsn] = mailtest.wait_for_messages("alice@a.test", 1)
assert b"Subject: Delayed Mail (still being retried)" in dsn, dsn
assert b"Action: delayed\r\nStatus: 4.4.1\r\n" in dsn and b"Will-Retry-Until: " in dsn, dsn
"#,
    );
    // Several more attempts later, still one warning.
    let log = wait_for_log_count(&a, "to=x@down.test reply=", 4);
    assert_eq!(log.matches("delivery status notification queued").count(), 1, "{log}");
    a.add_user("carol@a.test");
    submit(
        &a,
        &["carol@a.test"],
        MESSAGE,
        ", rcpt_options=['NOTIFY=SUCCESS,FAILURE']",
    );
    a.python(
        r#"
import mailtest
messages = mailtest.wait_for_messages("alice@a.test", 2)
assert b"Action: delivered\r\nStatus: 2.0.0\r\n" in messages[1], messages[1]
"#,
    );
}

#[test]
fn a_utf8_envelope_is_bounced_by_a_peer_without_smtputf8() {
    let peer = Peer::start(&["--no-smtputf8"]);
    let zone = "peer.test MX 10 mx.peer.test\nmx.peer.test A 127.0.0.1\n";
    let a = sender(zone, peer.helper.port, "");
    submit(&a, &["jürgen@peer.test"], MESSAGE, ", mail_options=['SMTPUTF8']");
    a.python(
        r#"
import mailtest
[dsn] = mailtest.wait_for_messages("alice@a.test", 1)
assert "Final-Recipient: utf-8; jürgen@peer.test\r\nAction: failed\r\nStatus: 5.6.7".encode() in dsn, dsn
assert b"does not support SMTPUTF8" in dsn
"#,
    );
}

#[test]
fn messages_due_together_share_one_connection() {
    // The peer defers the first two attempts: both messages wait, then are
    // retried in one queue run.
    let peer = Peer::start(&["--defer", "2"]);
    let zone = "peer.test MX 10 mx.peer.test\nmx.peer.test A 127.0.0.1\n";
    let a = sender(zone, peer.helper.port, "[queue]\nretry_intervals = [3600]");
    submit(&a, &["one@peer.test"], MESSAGE, "");
    submit(&a, &["two@peer.test"], MESSAGE, "");
    wait_for_log_count(&a, "the peer says: try again later", 2);
    a.admin(&["queue", "retry", "--all"]);
    peer.wait_for(2);
    assert_eq!(
        peer.connection(1),
        peer.connection(2),
        "the second message reused the connection"
    );
    a.wait_until_queue_empty();
    assert_eq!(peer.received(), 2, "a message was delivered twice");
}

/// The one message in A's queue, once its first attempt is recorded with
/// `reply`: its id.
fn queued_after(a: &Server, reply: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listing = a.admin(&["queue", "list"]);
        if listing.contains(reply) {
            return listing.split(' ').next().expect("queue id").to_string();
        }
        assert!(Instant::now() < deadline, "{listing}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn queue_show_names_the_policy_and_tls_of_each_attempt() {
    // Issue 21: a host with STARTTLS (opportunistic, TLS 1.3) and one
    // without, both saying "later".
    let zone = "peer.test MX 10 mx.peer.test\nmx.peer.test A 127.0.0.1\n";
    for (args, shows, lacks) in [
        (
            &["--starttls", "--defer", "100"][..],
            "policy opportunistic  TLSv1_3 TLS13_",
            "policy none",
        ),
        (&["--defer", "100"][..], "policy none\n", "policy opportunistic"),
    ] {
        let peer = Peer::start(args);
        let a = sender(zone, peer.helper.port, "[queue]\nretry_intervals = [3600]");
        submit(&a, &["someone@peer.test"], MESSAGE, "");
        let id = queued_after(&a, "451 4.3.0");
        let shown = a.admin(&["queue", "show", &id]);
        assert!(
            shown.contains("Attempts (oldest first") && shown.contains(&format!("  mx.peer.test  {shows}")),
            "{shown}"
        );
        assert!(
            shown.contains("\n      451 4.3.0 the peer says: try again later\n"),
            "{shown}"
        );
        assert!(!shown.contains(lacks) && !shown.contains("Requires:"), "{shown}");
    }
}

#[test]
fn a_submitted_requiretls_message_never_crosses_opportunistic_tls() {
    // RFC 8689: alice asks for REQUIRETLS; the peer has TLS, but nothing
    // vouches for its certificate. She gets the message back (5.7.10),
    // the peer never sees it.
    let peer = Peer::start(&["--starttls", "--requiretls"]);
    let zone = "peer.test MX 10 mx.peer.test\nmx.peer.test A 127.0.0.1\n";
    let a = sender(zone, peer.helper.port, "");
    submit(&a, &["someone@peer.test"], MESSAGE, ", mail_options=['REQUIRETLS']");
    a.python(
        r#"
import mailtest
[dsn] = mailtest.wait_for_messages("alice@a.test", 1)
assert b"Final-Recipient: rfc822; someone@peer.test\r\nAction: failed\r\nStatus: 5.7.10" in dsn, dsn
assert b"could not be authenticated" in dsn, dsn
"#,
    );
    assert_eq!(peer.received(), 0);
}

#[test]
fn queue_show_says_what_the_sender_required() {
    // A REQUIRETLS message for a host that is down waits (another host
    // may be up later); `queue show` says what it requires.
    let zone = "down.test MX 10 mx.down.test\nmx.down.test A 127.0.0.2\n";
    let a = sender(zone, 25, "[queue]\nretry_intervals = [3600]");
    submit(&a, &["x@down.test"], MESSAGE, ", mail_options=['REQUIRETLS']");
    let id = queued_after(&a, "451 4.4.1");
    let shown = a.admin(&["queue", "show", &id]);
    assert!(shown.contains("Requires: REQUIRETLS"), "{shown}");
    assert!(shown.contains("  no host reached\n      451 4.4.1"), "{shown}");
}

#[test]
fn a_requiretls_message_crosses_a_verified_smarthost_that_offers_it() {
    // Both sides of RFC 8689 in postamt: A sends over STARTTLS with B's
    // certificate verified, B offers REQUIRETLS there and takes it.
    let b = receiver("[submission.send_as]\n\"bob@b.test\" = [\"*\"]");
    let ca = b.dir.path().join("data/tls-selfsigned.crt");
    let extra = format!(
        "[delivery]\nrelay = \"localhost:{}\"\nrelay_user = \"bob@b.test\"\nrelay_password = \"{PASSWORD}\"\nrelay_ca_file = {:?}\n",
        b.submission.port(),
        ca
    );
    let a = Server::start_with_zone(&format!("hostname = \"mx.a.test\"\n{extra}"), "");
    a.admin(&["domain", "add", "a.test"]);
    a.add_user("alice@a.test");
    submit(&a, &["bob@b.test"], MESSAGE, ", mail_options=['REQUIRETLS']");
    b.python("import mailtest\nmailtest.wait_for_messages('bob@b.test', 1)");
    wait_for_log(&a, "delivered");
}
