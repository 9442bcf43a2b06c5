//! POP3 end to end with Python's poplib: TLS, deletion semantics, locking.

mod common;

use common::Server;

/// Delivers `count` numbered messages to alice and waits until they are in.
const DELIVER_THREE: &str = r#"
import mailtest
client = mailtest.smtp()
for n in range(1, 4):
    client.sendmail("a@other.test", ["alice@example.test"], b"Subject: message %d\r\n\r\nbody %d\r\n" % (n, n))
client.quit()
mailtest.wait_for_messages("alice@example.test", 3)
"#;

#[test]
fn deletions_apply_only_after_quit() {
    let server = Server::with_users("");
    server.python(DELIVER_THREE);
    server.python(
        r#"
import mailtest
def count():
    client = mailtest.pop3("alice@example.test")
    number = client.stat()[0]
    client.quit()
    return number

# DELE then RSET keeps everything.
client = mailtest.pop3("alice@example.test")
client.dele(1)
assert client.stat()[0] == 2, "a marked message is hidden at once"
client.rset()
client.quit()
assert count() == 3

# DELE then a dropped connection keeps everything, and frees the lock.
client = mailtest.pop3("alice@example.test")
client.dele(1)
client.sock.close()
client.file.close()
assert count() == 3

# DELE then QUIT removes the message.
client = mailtest.pop3("alice@example.test")
client.dele(2)
assert client.quit().startswith(b"+OK")
client = mailtest.pop3("alice@example.test")
subjects = [mailtest.retrieve(client, n).split(b"Subject: ")[1][:9] for n in (1, 2)]
client.quit()
assert subjects == [b"message 1", b"message 3"], subjects
"#,
    );
}

#[test]
fn password_login_needs_tls_unless_allowed() {
    let server = Server::with_users("");
    server.python(
        r#"
import poplib, mailtest
client = poplib.POP3(mailtest.HOST, mailtest.POP3_PORT, timeout=30)
capabilities = client.capa()
assert "STLS" in capabilities and "USER" not in capabilities, capabilities
try:
    client.user("alice@example.test")
    raise SystemExit("USER must be refused without TLS")
except poplib.error_proto as e:
    assert str(e).startswith("b'-ERR [AUTH]") and "STLS" in str(e), e
client.quit()

# Implicit TLS on the pop3s port (RFC 8314).
client = mailtest.pop3("alice@example.test", tls="implicit")
assert "USER" not in client.capa(), "no login capabilities once logged in"
client.quit()
"#,
    );
    let open = Server::with_users("[auth]\nallow_cleartext = true");
    open.python(
        r#"
import poplib, mailtest
client = poplib.POP3(mailtest.HOST, mailtest.POP3_PORT, timeout=30)
assert "USER" in client.capa()
client.user("alice@example.test")
assert client.pass_(mailtest.PASSWORD).startswith(b"+OK")
client.quit()
"#,
    );
}

#[test]
fn sasl_plain_and_wrong_passwords() {
    let server = Server::with_users("");
    server.python(
        r#"
import base64, poplib, mailtest
def plain(user, password):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()

client = poplib.POP3_SSL(mailtest.HOST, mailtest.POP3S_PORT, context=mailtest.tls_context(), timeout=30)
assert "PLAIN" in client.capa()["SASL"]
answers = []
for user, password in [("alice@example.test", "wrong"), ("nobody@example.test", "wrong")]:
    try:
        client._shortcmd("AUTH PLAIN " + plain(user, password))
        raise SystemExit("a wrong password was accepted")
    except poplib.error_proto as e:
        answers.append(str(e))
assert answers[0] == answers[1] == "b'-ERR [AUTH] Authentication failed'", answers
# Without an initial response the server asks with "+ ".
assert client._shortcmd("AUTH PLAIN").startswith(b"+")
assert client._shortcmd(plain("alice@example.test", mailtest.PASSWORD)).startswith(b"+OK")
client.quit()
"#,
    );
}

#[test]
fn unknown_users_cost_the_same_as_wrong_passwords() {
    // Invariant 4: how long a refusal takes must not tell whether the user
    // exists. No throttle delay here, so only the verification is timed.
    let server = Server::with_users("[auth]\nfailure_delay_ms = 0\nmax_failures = 1000\nmax_network_failures = 1000");
    server.python(
        r#"
import statistics, time, mailtest
def refusal_time(user):
    client = mailtest.Raw(mailtest.POP3S_PORT, tls=True)
    assert client.command(b"USER " + user).startswith(b"+OK")
    started = time.monotonic()
    reply = client.command(b"PASS not the password")
    elapsed = time.monotonic() - started
    assert reply.startswith(b"-ERR [AUTH]"), reply
    client.sock.close()
    return elapsed
known, unknown = [], []
for n in range(25):
    known.append(refusal_time(b"alice@example.test"))
    unknown.append(refusal_time(b"nobody%d@example.test" % n))
# Load on the machine only ever adds time, so the fastest refusal of each
# kind is its cost. Without the stand-in verification an unknown user is
# refused in well under a tenth of a password check's time; half is a bound
# that catches that and that a busy CI machine does not cross.
a, b = min(known), min(unknown)
assert min(a, b) >= 0.5 * max(a, b), (a, b, statistics.median(known), statistics.median(unknown))
"#,
    );
}

#[test]
fn a_locked_maildrop_is_refused_with_in_use() {
    let server = Server::with_users("");
    server.python(
        r#"
import poplib, mailtest
first = mailtest.pop3("alice@example.test")
try:
    mailtest.pop3("alice@example.test", wait_unlocked=False)
    raise SystemExit("a second session got the maildrop")
except poplib.error_proto as e:
    assert str(e).startswith("b'-ERR [IN-USE]"), e
first.quit()
mailtest.pop3("alice@example.test").quit()
"#,
    );
}

#[test]
fn top_list_and_uidl() {
    let server = Server::with_users("");
    server.python(DELIVER_THREE);
    server.python(
        r#"
import mailtest
client = mailtest.pop3("alice@example.test")
_, lines, _ = client.top(2, 0)
assert lines[-1] == b"" and b"Subject: message 2" in lines and b"body 2" not in lines, lines
_, lines, _ = client.top(2, 1)
assert lines[-1] == b"body 2", lines
_, listing, _ = client.list()
stored = [len(mailtest.retrieve(client, n)) for n in (1, 2, 3)]
assert [int(l.split()[1]) for l in listing] == stored, (listing, stored)
first_uidl = client.uidl()[1]
client.quit()
client = mailtest.pop3("alice@example.test")
assert client.uidl()[1] == first_uidl, "UIDL is stable across sessions"
assert client.uidl(3).split()[2] == first_uidl[2].split()[1]
client.quit()
"#,
    );
}

#[test]
fn pipelined_commands_and_bad_input() {
    let server = Server::with_users("");
    server.python(DELIVER_THREE);
    server.python(
        r#"
import mailtest
pop = mailtest.Raw(mailtest.POP3S_PORT, tls=True)
assert pop.greeting.startswith(b"+OK")
# RFC 2449 PIPELINING: one write, replies in order.
pop.send(b"USER alice@example.test\r\nPASS " + mailtest.PASSWORD.encode() + b"\r\nSTAT\r\nLIST 2\r\nDELE 9\r\n")
replies = pop.lines(5)
assert replies[0].startswith(b"+OK") and replies[1].startswith(b"+OK Logged in"), replies
assert replies[2].startswith(b"+OK 3 "), replies
assert replies[3].startswith(b"+OK 2 "), replies
assert replies[4].startswith(b"-ERR"), replies
# Garbage, a wrong state and a very long line are refused; the session goes on.
pop.send(b"XYZZY\r\nUSER bob@example.test\r\nRETR 0\r\n" + b"N" * 100000 + b"\r\nNOOP\r\n")
replies = pop.lines(5)
assert all(r.startswith(b"-ERR") for r in replies[:4]), replies
assert replies[4].startswith(b"+OK"), replies
assert pop.command(b"QUIT").startswith(b"+OK")
"#,
    );
}
