//! Hostile clients that the other tests do not already play: a flood of
//! connections from one address, and an IMAP literal that never arrives.

mod common;

use common::Server;

#[test]
fn a_flood_from_one_address_hits_its_limit_while_others_are_served() {
    let server = Server::with_users("");
    server.python(
        r#"
import socket, mailtest
held, refused = [], 0
# 300 connections from one address; the default limit is 50 at once.
for _ in range(300):
    sock = socket.create_connection((mailtest.HOST, mailtest.POP3_PORT), timeout=30)
    reader = sock.makefile("rb")
    line = reader.readline()
    if line.startswith(b"+OK"):
        held.append((sock, reader))
    else:
        assert line.startswith(b"-ERR [SYS/TEMP]"), line
        refused += 1
        sock.close()
assert len(held) == 50 and refused == 250, (len(held), refused)
# The limit holds for that address on every service...
for port, refusal in [(mailtest.SMTP_PORT, b"421 4.3.2"), (mailtest.SUBMISSION_PORT, b"421 4.3.2"),
                      (mailtest.POP3_PORT, b"-ERR [SYS/TEMP]"), (mailtest.IMAP_PORT, b"* BYE")]:
    greeting = mailtest.Raw(port).greeting
    assert greeting.startswith(refusal), (port, greeting)
# ...while another address is still served.
for port, greeting in [(mailtest.SMTP_PORT, b"220"), (mailtest.POP3_PORT, b"+OK"), (mailtest.IMAP_PORT, b"* OK")]:
    other = mailtest.Raw(port, source="127.0.0.2")
    assert other.greeting.startswith(greeting), (port, other.greeting)
"#,
    );
}

#[test]
fn an_imap_literal_that_never_arrives_times_out() {
    let server = Server::with_users("[imap]\nlogin_timeout = 1");
    server.python(
        r#"
import time, mailtest
imap = mailtest.Raw(mailtest.IMAPS_PORT, tls=True)
imap.send(b"a LOGIN {5}\r\n")
assert imap.line().startswith(b"+"), "the continuation comes"
started = time.monotonic()
imap.send(b"al")  # and then nothing more
assert imap.line().startswith(b"* BYE"), "the server gives up"
assert imap.closed()
assert time.monotonic() - started < 5
"#,
    );
}
