//! Outbound DKIM end to end: alice submits through postamt, postamt
//! delivers to a peer that is not postamt, and an independent verifier
//! (dkimpy) checks both signatures with the keys that `postamt dns`
//! prints, and sees them fail once a signed header or the body changes.
//! Mail that is not ours to sign (from the MX role, or with a From domain
//! hosted elsewhere) arrives unsigned.

mod common;

use common::{Peer, Server};

/// A server hosting a.test with alice, routing peer.test to `peer`.
fn sender(peer: &Peer) -> Server {
    let zone = "peer.test MX 10 mx.peer.test\nmx.peer.test A 127.0.0.1\n";
    let config = format!("hostname = \"mx.a.test\"\n[delivery]\nport = {}\n", peer.helper.port);
    let server = Server::start_with_zone(&config, zone);
    server.admin(&["domain", "add", "a.test"]);
    server.add_user("alice@a.test");
    server
}

/// Alice submits `message` (a Python bytes expression) to someone@peer.test.
fn submit(server: &Server, message: &str) {
    server.python(&format!(
        r#"
import mailtest
client = mailtest.submit("alice@a.test")
assert client.sendmail("alice@a.test", ["someone@peer.test"], {message}) == {{}}
client.quit()
"#
    ));
}

/// Runs one SQL statement on the server's database (sqlite3, as an
/// operator might).
fn run_sql(server: &Server, statement: &str) {
    let db = server.dir.path().join("data/postamt.db");
    server.python(&format!(
        "import sqlite3\ndb = sqlite3.connect({db:?})\ndb.execute({statement:?})\ndb.commit()\n",
        db = db.to_string_lossy()
    ));
}

#[test]
fn dkimpy_verifies_both_signatures_and_catches_tampering() {
    let peer = Peer::start(&[]);
    let server = sender(&peer);
    let zone = server.admin(&["dns", "a.test"]);
    submit(
        &server,
        r#"b"From: Alice <alice@a.test>\r\nTo: someone@peer.test\r\nSubject: signed\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello,\r\n  with  spaces  \r\n\r\n\r\n""#,
    );
    let [received] = peer.wait_for(1).try_into().expect("one message");
    let path = server.dir.path().join("received.eml");
    std::fs::write(&path, &received).unwrap();
    server.python(&format!(
        r#"
{verifier}
message = open({path:?}, "rb").read()
# Our trace field first, then the signatures.
assert re.match(rb'Received: [^\n]*\n(\t[^\n]*\n)*DKIM-Signature: ', message), message[:500]
results = verify(message)
assert results == [("ed25519-sha256", True), ("rsa-sha256", True)], results
h = re.search(rb'h=([^;]*);', message).group(1)
assert re.sub(rb'\s', b'', h).lower().count(b"from") == 2, h

def tampered(old, new):
    changed = message.replace(old, new, 1)
    assert changed != message, old
    return verify(changed)

both_fail = [("ed25519-sha256", False), ("rsa-sha256", False)]
assert tampered(b"Subject: signed", b"Subject: changed") == both_fail
assert tampered(b"Hello,", b"Hallo,") == both_fail
assert tampered(b"To: someone@peer.test\r\n", b"To: someone@peer.test\r\nFrom: mallory@a.test\r\n") == both_fail
assert tampered(b"Subject: signed\r\n", b"Subject: signed\r\nCc: extra@peer.test\r\n") == both_fail
# Relaxed canonicalization: re-folding and trailing blank lines do not matter.
assert tampered(b"Subject: signed", b"Subject:   signed") == [("ed25519-sha256", True), ("rsa-sha256", True)]
"#,
        verifier = common::keys::dkimpy_verifier(&zone),
    ));
}

#[test]
fn mail_not_ours_to_sign_arrives_unsigned() {
    let peer = Peer::start(&[]);
    let server = sender(&peer);
    // Authenticated, but the author's domain is hosted elsewhere.
    submit(
        &server,
        r#"b"From: alice@elsewhere.test\r\nTo: someone@peer.test\r\nSubject: foreign\r\n\r\nbody\r\n""#,
    );
    let [foreign] = peer.wait_for(1).try_into().expect("one message");
    assert!(
        !String::from_utf8_lossy(&foreign).contains("DKIM-Signature"),
        "{}",
        String::from_utf8_lossy(&foreign)
    );
    // From outside on port 25, claiming to be from a hosted domain.
    server.python(
        r#"
import mailtest
client = mailtest.smtp()
client.sendmail("someone@outside.test", ["alice@a.test"], b"From: boss@a.test\r\nTo: alice@a.test\r\nSubject: forged\r\n\r\nbody\r\n")
client.quit()
[stored] = mailtest.wait_for_messages("alice@a.test", 1)
assert b"Subject: forged" in stored, stored
assert b"DKIM-Signature" not in stored, stored
"#,
    );
    // A hosted domain, but an author alice may not send as: signing it
    // would let her pass bob's domain's DMARC as bob.
    server.add_user("bob@a.test");
    submit(
        &server,
        r#"b"From: bob@a.test\r\nTo: someone@peer.test\r\nSubject: as bob\r\n\r\nbody\r\n""#,
    );
    let received = peer.wait_for(2);
    let as_bob = String::from_utf8_lossy(&received[1]);
    assert!(
        as_bob.contains("Subject: as bob") && !as_bob.contains("DKIM-Signature"),
        "{as_bob}"
    );
    assert!(
        server
            .log()
            .contains("not signed with DKIM: the user may not send as the From address"),
        "{}",
        server.log()
    );
    // And signed cases through the same server, so the ones above are not
    // unsigned for some other reason: her own address, and an alias that
    // reaches her.
    server.admin(&["alias", "add", "info@a.test", "alice@a.test"]);
    submit(
        &server,
        r#"b"From: alice@a.test\r\nTo: someone@peer.test\r\nSubject: ours\r\n\r\nbody\r\n""#,
    );
    submit(
        &server,
        r#"b"From: Info <INFO@a.test>\r\nTo: someone@peer.test\r\nSubject: alias\r\n\r\nbody\r\n""#,
    );
    let received = peer.wait_for(4);
    for signed in &received[2..] {
        assert_eq!(String::from_utf8_lossy(signed).matches("DKIM-Signature: ").count(), 2);
    }
}

#[test]
fn domains_hosted_before_signing_get_keys_at_start() {
    let peer = Peer::start(&[]);
    let mut server = sender(&peer);
    let listed = server.admin(&["dkim", "list", "a.test"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    // As if a.test had been added by an older postamt: no keys.
    server.kill();
    run_sql(&server, "DELETE FROM dkim_keys");
    server.restart();
    let log = server.log();
    assert!(log.contains("created DKIM keys"), "{log}");
    let listed = server.admin(&["dkim", "list", "a.test"]);
    assert!(
        listed.contains("ed25519-sha256\tactive") && listed.contains("rsa-sha256\tactive"),
        "{listed}"
    );
}

#[test]
fn a_rotation_takes_effect_at_the_next_message() {
    let peer = Peer::start(&[]);
    let server = sender(&peer);
    let message = r#"b"From: alice@a.test\r\nTo: someone@peer.test\r\nSubject: one\r\n\r\nbody\r\n""#;
    submit(&server, message);
    peer.wait_for(1);
    // From the command line, while the server runs (and has the old keys
    // cached).
    server.admin(&["dkim", "rotate", "a.test"]);
    let active: Vec<String> = server
        .admin(&["dkim", "list", "a.test"])
        .lines()
        .filter(|l| l.contains("\tactive\t"))
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    submit(&server, message);
    let received = peer.wait_for(2);
    let second = String::from_utf8_lossy(&received[1]).into_owned();
    for selector in &active {
        assert!(
            second.contains(&format!("s={selector};")),
            "{selector} not used: {second}"
        );
    }
    let path = server.dir.path().join("second.eml");
    std::fs::write(&path, &received[1]).unwrap();
    server.python(&format!(
        r#"
{verifier}
results = verify(open({path:?}, "rb").read())
assert results == [("ed25519-sha256", True), ("rsa-sha256", True)], results
"#,
        verifier = common::keys::dkimpy_verifier(&server.admin(&["dns", "a.test"])),
    ));
}

#[test]
fn a_key_that_cannot_be_loaded_refuses_the_message_for_now() {
    let peer = Peer::start(&[]);
    let server = sender(&peer);
    run_sql(
        &server,
        "UPDATE dkim_keys SET private_key = x'3000' WHERE algorithm = 'rsa-sha256'",
    );
    server.python(
        r#"
import smtplib, mailtest
client = mailtest.submit("alice@a.test")
try:
    client.sendmail("alice@a.test", ["someone@peer.test"], b"From: alice@a.test\r\n\r\nbody\r\n")
    raise SystemExit("accepted without a usable key")
except smtplib.SMTPDataError as e:
    assert e.smtp_code == 451, e
"#,
    );
    assert!(server.log().contains("cannot sign with DKIM"), "{}", server.log());
    assert_eq!(peer.received(), 0);
}

/// RFC 8601 §5 holds for submitted mail too: a user cannot make us carry
/// (or ARC-seal, when an alias forwards it) a verdict under our name.
#[test]
fn a_verdict_under_our_name_is_removed_from_submitted_mail_too() {
    let peer = Peer::start(&[]);
    let server = sender(&peer);
    submit(
        &server,
        r#"b"Authentication-Results: MX.A.TEST; dkim=pass header.d=bank.test\r\nAuthentication-Results: other.test; none\r\nFrom: alice@a.test\r\nSubject: forged\r\n\r\nbody\r\n""#,
    );
    let [received] = peer.wait_for(1).try_into().expect("one message");
    let received = String::from_utf8(received).unwrap();
    assert!(!received.to_lowercase().contains("results: mx.a.test"), "{received}");
    assert!(
        received.contains("Authentication-Results: other.test; none\r\n"),
        "{received}"
    );
}
