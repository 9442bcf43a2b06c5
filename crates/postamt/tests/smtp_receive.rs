//! SMTP reception end to end: real clients (Python's smtplib, swaks, raw
//! sockets) against the real binary, then the mailbox read back over POP3.

mod common;

use common::Server;

#[test]
fn smtplib_delivers_byte_exact_and_rejects_unknown_recipients() {
    let server = Server::with_users("");
    server.python(
        r#"
import base64, random, mailtest
random.seed(7)
attachment = base64.encodebytes(random.randbytes(5 * 1024 * 1024)).replace(b"\n", b"\r\n")
message = (
    b"From: Sender <sender@other.test>\r\n"
    b"To: alice@example.test, bob@example.test\r\n"
    b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b".a line that starts with a dot\r\n"
    b"..and one with two\r\n"
    b".\r\n"
    + "Grüße aus Köln, 東京\r\n".encode()
    + b"--b1\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n" + attachment + b"--b1--\r\n"
)
client = mailtest.smtp()
refused = client.sendmail("sender@other.test",
    ["alice@example.test", "bob@example.test", "nobody@example.test"], message)
client.quit()
assert list(refused) == ["nobody@example.test"], refused
code, text = refused["nobody@example.test"]
assert code == 550 and text.startswith(b"5.1.1"), (code, text)

for user in ["alice@example.test", "bob@example.test"]:
    [stored] = mailtest.wait_for_messages(user, 1)
    assert stored.startswith(b"Return-Path: <sender@other.test>\r\nDelivered-To: " + user.encode() + b"\r\n"), stored[:200]
    assert b"Received: from client.test ([127.0.0.1])" in stored
    assert mailtest.strip_trace(stored) == message, "content changed in transit"
"#,
    );
    // The refusal is in the log, once, with its address and reason.
    let log = server.log();
    let refusals: Vec<&str> = log.lines().filter(|line| line.contains("recipient refused")).collect();
    assert!(
        refusals.len() == 1 && refusals[0].contains("nobody@example.test") && refusals[0].contains("no such user"),
        "{log}"
    );
}

#[test]
fn swaks_sends_a_message_that_arrives() {
    let server = Server::with_users("");
    let output = std::process::Command::new("swaks")
        .args(["--server", &server.smtp.to_string(), "--helo", "swaks.test"])
        .args(["--from", "someone@other.test", "--to", "bob@example.test"])
        .args([
            "--header",
            "Subject: sent by swaks",
            "--body",
            "Hello from swaks\n.dotted line",
        ])
        .output()
        .expect("swaks must be installed (apt-get install swaks)");
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{transcript}");
    assert!(transcript.contains("250 2.0.0 Ok: queued as"), "{transcript}");
    server.python(
        r#"
import mailtest
[stored] = mailtest.wait_for_messages("bob@example.test", 1)
assert b"Subject: sent by swaks" in stored, stored
assert b"\r\n.dotted line\r\n" in stored, stored
"#,
    );
}

#[test]
fn relaying_is_refused_and_postmaster_is_accepted() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
client = mailtest.smtp()
client.mail("someone@other.test")
code, text = client.rcpt("victim@elsewhere.test")
assert (code, text[:5]) == (554, b"5.7.1"), (code, text)
code, text = client.rcpt("<Postmaster>")
assert code == 250, (code, text)
code, text = client.rcpt("alice+newsletter@example.test")
assert code == 250, (code, text)
client.data(b"Subject: hi\r\n\r\nhello\r\n")
client.quit()
# Postmaster is an alias of alice; the +tag address also goes to alice,
# and one message to two of her addresses is one copy per address.
messages = mailtest.wait_for_messages("alice@example.test", 2)
assert all(b"Subject: hi" in m for m in messages)
"#,
    );
}

#[test]
fn catch_all_alias_takes_unknown_addresses() {
    let server = Server::with_users("");
    server.admin(&["alias", "add", "@example.test", "bob@example.test"]);
    server.python(
        r#"
import mailtest
client = mailtest.smtp()
assert client.sendmail("a@other.test", ["whoever@example.test"], b"Subject: catch\r\n\r\nx\r\n") == {}
client.quit()
[stored] = mailtest.wait_for_messages("bob@example.test", 1)
assert b"Subject: catch" in stored
"#,
    );
}

#[test]
fn oversized_messages_are_refused() {
    let server = Server::with_users("[smtp]\nmax_message_size = 100000");
    server.python(
        r#"
import mailtest
client = mailtest.smtp()
assert b"SIZE 100000" in client.ehlo_resp
code, text = client.docmd("MAIL FROM:<a@other.test> SIZE=200000")
assert (code, text[:5]) == (552, b"5.3.4"), (code, text)
client.rset()
client.mail("a@other.test")
client.rcpt("alice@example.test")
code, text = client.data(b"Subject: big\r\n\r\n" + b"x" * 76 * 2000)
assert (code, text[:5]) == (552, b"5.3.4"), (code, text)
assert client.noop()[0] == 250, "the session goes on after a refused message"
client.quit()
"#,
    );
}

#[test]
fn overlong_command_lines_are_refused_with_bounded_memory() {
    let server = Server::with_users("");
    let grown = server.peak_growth_kib(|| {
        server.python(
            r#"
import mailtest
smtp = mailtest.Raw(mailtest.SMTP_PORT)
assert smtp.greeting.startswith(b"220 ")
for size in [100 * 1024, 10 * 1024 * 1024]:
    reply = smtp.command(b"NOOP " + b"x" * size)
    assert reply.startswith(b"500 5.5.2"), reply
assert smtp.command(b"NOOP").startswith(b"250 "), "the session survives"
assert smtp.command(b"QUIT").startswith(b"221 ")
"#,
        );
    });
    // Reads of at most 64 KiB at a time; a 10 MB line held whole (or
    // twice) would show here.
    assert!(
        grown < 4 * 1024,
        "the server grew by {grown} KiB: a long line was buffered"
    );
}

#[test]
fn pipelined_commands_get_their_replies_in_order() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
smtp = mailtest.Raw(mailtest.SMTP_PORT)
smtp.send(b"EHLO pipe.test\r\n")
assert b"250-PIPELINING\r\n" in smtp.reply()
smtp.send(b"MAIL FROM:<a@other.test>\r\nRCPT TO:<alice@example.test>\r\n"
          b"RCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
codes = [smtp.reply()[0][:3] for _ in range(5)]
assert codes == [b"250", b"250", b"550", b"250", b"354"], codes
smtp.send(b"Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
assert smtp.reply()[0].startswith(b"250 2.0.0 Ok: queued as")
assert smtp.reply()[0].startswith(b"221")
mailtest.wait_for_messages("bob@example.test", 1)
"#,
    );
}

#[test]
fn bare_line_feeds_and_carriage_returns_are_refused() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
smtp = mailtest.Raw(mailtest.SMTP_PORT)
smtp.send(b"HELO x.test\r\nMAIL FROM:<a@other.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
assert smtp.lines(4)[3].startswith(b"354")
# "\n.\n" must not end the message (SMTP smuggling); the whole is refused.
smtp.send(b"Subject: x\r\n\r\nline\n.\nMAIL FROM:<evil@other.test>\r\n.\r\n")
reply = smtp.line()
assert reply.startswith(b"554 5.6.0"), reply
# "\r.\r" neither (the bare-CR variant): refused the same way.
smtp.send(b"MAIL FROM:<a@other.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
assert smtp.lines(3)[2].startswith(b"354")
smtp.send(b"Subject: x\r\n\r\nline\r.\rMAIL FROM:<evil@other.test>\r\n.\r\n")
reply = smtp.line()
assert reply.startswith(b"554 5.6.0"), reply
assert smtp.command(b"NOOP").startswith(b"250"), "the session goes on"
assert mailtest.stored_messages() == [], "nothing was queued"
"#,
    );
}

#[test]
fn too_many_errors_end_the_session() {
    let server = Server::with_users("[smtp]\nmax_errors = 5");
    server.python(
        r#"
import mailtest
smtp = mailtest.Raw(mailtest.SMTP_PORT)
smtp.send(b"BOGUS\r\n" * 5)
replies = smtp.lines(6)
assert all(r.startswith(b"500 5.5.1") for r in replies[:5]), replies
assert replies[5].startswith(b"421 4.7.0"), replies
assert smtp.closed(), "the server closes the connection"
"#,
    );
}

#[test]
fn a_silent_client_is_disconnected() {
    let server = Server::with_users("[smtp]\ntimeout = 1");
    server.python(
        r#"
import mailtest
smtp = mailtest.Raw(mailtest.SMTP_PORT)
assert smtp.line().startswith(b"421 4.4.2")
assert smtp.closed()
"#,
    );
}

#[test]
fn starttls_upgrades_and_refuses_injected_commands() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
client = mailtest.smtp()
assert client.has_extn("starttls")
client.starttls(context=mailtest.tls_context())
client.ehlo("client.test")
assert not client.has_extn("starttls")
client.sendmail("a@other.test", ["alice@example.test"], b"Subject: over tls\r\n\r\nsecret\r\n")
client.quit()
[stored] = mailtest.wait_for_messages("alice@example.test", 1)
assert b"with ESMTPS" in stored, stored

smtp = mailtest.Raw(mailtest.SMTP_PORT)
smtp.send(b"EHLO x.test\r\n")
smtp.reply()
smtp.send(b"STARTTLS\r\nRSET\r\n")
reply = smtp.line()
assert reply.startswith(b"554 5.5.1"), reply
assert smtp.closed()
"#,
    );
}

#[test]
fn transaction_order_is_enforced() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
send = mailtest.Raw(mailtest.SMTP_PORT).command
assert send(b"MAIL FROM:<a@other.test>").startswith(b"503 5.5.1")
assert send(b"HELO x.test").startswith(b"250")
assert send(b"RCPT TO:<alice@example.test>").startswith(b"503 5.5.1")
assert send(b"DATA").startswith(b"503 5.5.1")
assert send(b"MAIL FROM:<>").startswith(b"250 2.1.0")
assert send(b"MAIL FROM:<>").startswith(b"503 5.5.1")
assert send(b"DATA").startswith(b"554 5.5.1")
assert send(b"MAIL FROM:<a@other.test> SIZE=10").startswith(b"503")
assert send(b"RSET").startswith(b"250")
assert send(b"MAIL FROM:<a@other.test> SIZE=10").startswith(b"555 5.5.4"), "HELO clients send no parameters"
assert send(b"VRFY alice").startswith(b"252")
assert send(b"HELP").startswith(b"214")
assert send(b"MAIL FROM:<a b@other.test>").startswith(b"501 5.5.4")
"#,
    );
}

#[test]
fn recipients_beyond_the_limit_are_deferred_to_another_transaction() {
    let server = Server::with_users("[smtp]\nmax_recipients = 2");
    server.python(
        r#"
import mailtest
client = mailtest.smtp()
client.mail("a@other.test")
assert client.rcpt("alice@example.test")[0] == 250
assert client.rcpt("bob@example.test")[0] == 250
code, text = client.rcpt("postmaster@example.test")
assert (code, text[:5]) == (452, b"4.5.3"), (code, text)
assert client.data(b"Subject: limited\r\n\r\nx\r\n")[0] == 250
client.quit()
mailtest.wait_for_messages("bob@example.test", 1)
"#,
    );
}

#[test]
fn a_command_dripping_in_byte_by_byte_is_cut_off() {
    // Each byte comes well within the idle timeout; the line as a whole
    // does not (slowloris).
    let server = Server::with_users("[smtp]\ntimeout = 2");
    server.python(
        r#"
import time, mailtest
smtp = mailtest.Raw(mailtest.SMTP_PORT)
started = time.monotonic()
reply = b""
try:
    for byte in b"NOOP this line never ends":
        smtp.send(bytes([byte]))
        time.sleep(0.25)
except (BrokenPipeError, ConnectionResetError):
    pass
reply = smtp.line()
assert reply.startswith(b"421 4.4.2"), reply
assert time.monotonic() - started < 5, "cut off after about the timeout"
"#,
    );
}

#[test]
fn the_dripped_rest_of_an_overlong_line_is_cut_off_too() {
    // The line is refused as too long, and its rest is dropped as it
    // comes; dripped a byte at a time it still ends within the timeout.
    let server = Server::with_users("[smtp]\ntimeout = 2\nmax_line_length = 1000");
    server.python(
        r#"
import time, mailtest
smtp = mailtest.Raw(mailtest.SMTP_PORT)
started = time.monotonic()
smtp.send(b"NOOP " + b"x" * 2000)
try:
    for _ in range(40):
        smtp.send(b"x")
        time.sleep(0.25)
except (BrokenPipeError, ConnectionResetError):
    pass
reply = smtp.line()
assert reply.startswith(b"421 4.4.2"), reply
assert time.monotonic() - started < 5, "cut off after about the timeout"
"#,
    );
}

#[test]
fn ten_thousand_recipients_are_refused_cleanly_with_bounded_memory() {
    let server = Server::with_users("");
    let grown = server.peak_growth_kib(|| {
        server.python(
            r#"
import mailtest
smtp = mailtest.Raw(mailtest.SMTP_PORT)
smtp.send(b"EHLO many.test\r\n")
smtp.reply()
smtp.send(b"MAIL FROM:<a@other.test>\r\n" + b"".join(b"RCPT TO:<alice+%d@example.test>\r\n" % n for n in range(10000)))
assert smtp.line().startswith(b"250")
codes = [smtp.line()[:3] for _ in range(10000)]
assert codes.count(b"250") == 100 and codes.count(b"452") == 9900, (codes.count(b"250"), codes.count(b"452"))
assert smtp.command(b"NOOP").startswith(b"250"), "the session goes on"
"#,
        );
    });
    // 100 recipients kept, 10 000 short replies queued: well under 8 MiB.
    assert!(grown < 8 * 1024, "the server grew by {grown} KiB");
}

#[test]
fn size_and_recipient_count_refusals_are_logged_once_without_content() {
    let server = Server::with_users("[smtp]\nmax_message_size = 1000\nmax_recipients = 2\n");
    server.python(
        r#"
import mailtest
body = b"Subject: x\r\n\r\n" + b"CONTENT-NOT-FOR-THE-LOG " * 100 + b"\r\n"
smtp = mailtest.Raw(mailtest.SMTP_PORT)
smtp.send(b"EHLO client.test\r\n"); smtp.reply()
# MAIL with SIZE= over the limit (RFC 1870 §6.2).
assert smtp.command(b"MAIL FROM:<a@elsewhere.test> SIZE=5000").startswith(b"552 5.3.4")
# A third recipient over max_recipients, and an unknown one.
assert smtp.command(b"MAIL FROM:<a@elsewhere.test>").startswith(b"250")
assert smtp.command(b"RCPT TO:<alice@example.test>").startswith(b"250")
assert smtp.command(b"RCPT TO:<nobody@example.test>").startswith(b"550 5.1.1")
assert smtp.command(b"RCPT TO:<bob@example.test>").startswith(b"250")
assert smtp.command(b"RCPT TO:<carol@example.test>").startswith(b"452 4.5.3")
assert smtp.command(b"RCPT TO:<dave@example.test>").startswith(b"452 4.5.3")
# DATA over the size limit.
assert smtp.command(b"DATA").startswith(b"354")
smtp.send(body + b".\r\n")
assert smtp.line().startswith(b"552 5.3.4")
# BDAT over the size limit.
assert smtp.command(b"MAIL FROM:<a@elsewhere.test>").startswith(b"250")
assert smtp.command(b"RCPT TO:<alice@example.test>").startswith(b"250")
smtp.send(b"BDAT %d LAST\r\n" % len(body) + body)
assert smtp.line().startswith(b"552 5.3.4")
assert smtp.command(b"QUIT").startswith(b"221")
"#,
    );
    server.wait_for_log("BDAT");
    let log = server.log();
    let count = |needle: &str| log.lines().filter(|line| line.contains(needle)).count();
    let refused = |command: &str| format!("command refused command=\"{command}\" code=552 status=\"5.3.4\"");
    // One line per refusal, naming the command, code and reason.
    assert_eq!(count(&refused("MAIL")), 1, "{log}");
    assert_eq!(count(&refused("DATA")), 1, "{log}");
    assert_eq!(count(&refused("BDAT")), 1, "{log}");
    assert_eq!(count("Message size exceeds fixed maximum message size"), 3, "{log}");
    // The first recipient over the limit only: a client may send thousands.
    assert_eq!(count("recipient refused: too many recipients"), 1, "{log}");
    // The unknown recipient keeps its own line and gets no second one.
    assert_eq!(count("nobody@example.test"), 1, "{log}");
    assert_eq!(count("command refused"), 3, "{log}");
    assert!(!log.contains("CONTENT-NOT-FOR-THE-LOG"), "{log}");
}
