//! The screening of clients before the greeting on port 25 (issue 17), end
//! to end. The pregreet test with a memory: a client that waited for the
//! greeting once is not made to wait again; one that talked first is
//! refused at once after that; a user who logged in passes; and all of it
//! survives a restart, because the verdicts are in the store (the wait is
//! 1.5 s there, so that "waited" and "did not wait" are far apart on a
//! busy machine). DNS lists: a real DNS server on loopback lists some
//! loopback addresses, and clients connect from them.

mod common;

use common::Server;

/// Python: `connect(source)` opens an SMTP connection from `source` and
/// returns it with the seconds its greeting took; `stored(n)` waits until
/// the store holds `n` client verdicts (they are written in the
/// background) and returns them.
const HELPERS: &str = r#"
import os, sqlite3, time, mailtest
def connect(source):
    start = time.monotonic()
    client = mailtest.Raw(mailtest.SMTP_PORT, source=source)
    return client, time.monotonic() - start
def stored(n):
    path = os.path.join(os.environ["DATA_DIR"], "data", "postamt.db")
    deadline = time.monotonic() + 20
    while True:
        db = sqlite3.connect("file:" + path + "?mode=ro", uri=True)
        rows = sorted(db.execute("SELECT client, passed FROM client_verdicts").fetchall())
        db.close()
        if len(rows) >= n or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)
"#;

#[test]
fn verdicts_are_remembered_across_connections_and_restarts() {
    let mut server = Server::with_users("[smtp]\npregreet_wait_ms = 1500");
    server.python(&format!(
        r#"{HELPERS}
# A new client waits; the same client then gets its greeting at once.
client, took = connect("127.0.0.7")
assert client.greeting.startswith(b"220") and took >= 1.4, (client.greeting, took)
client, took = connect("127.0.0.7")
assert client.greeting.startswith(b"220") and took < 1.0, (client.greeting, took)

# A client that talks first is dropped, and refused at once next time.
early = mailtest.Raw(mailtest.SMTP_PORT, source="127.0.0.8", greeting=False)
early.send(b"EHLO hasty.test\r\n")
assert early.line().startswith(b"554 5.5.1")
client, took = connect("127.0.0.8")
assert client.greeting.startswith(b"554 5.7.1") and took < 1.0, (client.greeting, took)
assert client.closed()

# A user who logged in (here on the submission port) is one of ours.
mailtest.submit("alice@example.test", source="127.0.0.9").quit()
client, took = connect("127.0.0.9")
assert client.greeting.startswith(b"220") and took < 1.0, (client.greeting, took)

assert stored(3) == [("127.0.0.7", 1), ("127.0.0.8", 0), ("127.0.0.9", 1)], stored(3)
"#
    ));
    server.restart();
    server.python(&format!(
        r#"{HELPERS}
client, took = connect("127.0.0.7")
assert client.greeting.startswith(b"220") and took < 1.0, (client.greeting, took)
client, took = connect("127.0.0.8")
assert client.greeting.startswith(b"554 5.7.1"), client.greeting
# Someone new still waits.
client, took = connect("127.0.0.10")
assert client.greeting.startswith(b"220") and took >= 1.4, (client.greeting, took)
"#
    ));
}

#[test]
fn clients_on_dns_blocklists_are_refused_unless_allowlisted() {
    let zone = "\
2.0.0.127.bl.test A 127.0.0.2
3.0.0.127.bl.test A 127.0.0.2
3.0.0.127.wl.test A 127.0.9.1
4.0.0.127.bl.test A 127.0.0.99
";
    let config = "[dnsbl]\nthreshold = 3\nzones = [\n\
        { zone = \"bl.test\", weight = 3, answers = \"127.0.0.[2..11]\" },\n\
        { zone = \"wl.test\", weight = -3 },\n]\n";
    let server = Server::start_with_zone(config, zone);
    server.add_example_users();
    server.python(&format!(
        r#"{HELPERS}
listed, _ = connect("127.0.0.2")
assert listed.greeting == b"554 5.7.1 Service unavailable; client [127.0.0.2] blocked using bl.test\r\n", listed.greeting
assert listed.closed()
# Asked again within the hour, the verdict is the same.
assert connect("127.0.0.2")[0].greeting.startswith(b"554 5.7.1")
# Not listed; listed but allowlisted; listed with an answer that does not count.
for source in ["127.0.0.1", "127.0.0.3", "127.0.0.4"]:
    client, _ = connect(source)
    assert client.greeting.startswith(b"220"), (source, client.greeting)
    assert client.command(b"EHLO client.test").startswith(b"250"), source
"#
    ));
    assert!(
        server.log().contains("client refused: on DNS blocklists"),
        "{}",
        server.log()
    );
}

#[test]
fn greylisting_defers_a_new_triplet_until_it_is_retried_after_the_delay() {
    let server = Server::with_users("[greylist]\nenabled = true\ndelay = 2\nauto_allow = 0\n");
    server.python(
        r#"
import time, mailtest
def rcpt(to, source="127.0.0.5"):
    client = mailtest.smtp(source=source)
    client.mail("someone@elsewhere.test")
    reply = client.rcpt(to)
    client.quit()
    return reply
code, text = rcpt("bob@example.test")
assert code == 451 and text.startswith(b"4.7.1 <bob@example.test>: Greylisted"), (code, text)
first = time.monotonic()
code, _ = rcpt("bob@example.test")
assert code == 451, "retried too early"
# A real server retries later; then the triplet passes.
time.sleep(max(0, first + 2.2 - time.monotonic()))
assert rcpt("bob@example.test")[0] == 250
assert rcpt("bob@example.test")[0] == 250, "it stays passed"
# Another recipient, or the same from another network, starts its own wait.
assert rcpt("alice@example.test")[0] == 451
assert rcpt("bob@example.test", source="127.0.1.5")[0] == 451
# Clients that may relay (trusted networks, users) are not greylisted.
client = mailtest.submit("alice@example.test")
client.mail("alice@example.test")
assert client.rcpt("carol@elsewhere.test")[0] == 250
"#,
    );
}
