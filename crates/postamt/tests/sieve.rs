//! Sieve at delivery, end to end: a script uploaded with `postamt sieve
//! put` files mail into a folder it creates with a flag set (seen over
//! IMAP), redirects a copy to another local user (marked, so it cannot
//! loop), rejects a message with a DSN to its sender, and answers with a
//! vacation reply once per sender, never to a mailing list.

mod common;

use common::Server;

const SCRIPT: &str = r#"require ["fileinto", "imap4flags", "copy", "vacation", "reject", "mailbox"];
if header :contains "subject" "newsletter" {
    fileinto :create :flags "\\Seen" "Lists";
    stop;
}
if header :contains "subject" "invoice" {
    redirect :copy "alice@example.test";
}
if header :contains "subject" "junkmail" {
    discard;
    stop;
}
if header :contains "subject" "unwanted" {
    reject "I do not want this.";
    stop;
}
vacation :days 1 :subject "Away" "I am away until Monday.";
"#;

#[test]
fn a_script_files_flags_redirects_rejects_and_answers_once() {
    let server = Server::with_users("");
    let output = server.admin_output(
        &["sieve", "put", "bob@example.test", "main", "-", "--activate"],
        Some(SCRIPT),
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(server.admin(&["sieve", "list", "bob@example.test"]).contains("main"));
    server.python(
        r#"
import mailtest, imaplib, smtplib

def send(subject, extra=""):
    client = mailtest.submit("alice@example.test")
    message = f"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@example.test>\r\n{extra}\r\nbody\r\n"
    assert client.sendmail("alice@example.test", ["bob@example.test"], message.encode()) == {}
    client.quit()

# Filed into a folder the script creates, with \Seen, and nothing else.
send("monthly newsletter")
send("hello")
[reply] = mailtest.wait_for_messages("alice@example.test", 1)
assert reply.startswith(b"Return-Path: <>\r\n"), reply[:300]
assert b"From: <bob@example.test>" in reply and b"Subject: Away" in reply, reply[:600]
assert b"Auto-Submitted: auto-replied" in reply and b"In-Reply-To: <hello@example.test>" in reply, reply[:600]
assert b"I am away until Monday." in reply
# Signed by bob's domain, as every message it sends.
assert b"DKIM-Signature:" in reply and b"d=example.test" in reply, reply[:1500]

imap = mailtest.imap("bob@example.test")
typ, data = imap.select("Lists")
assert typ == "OK" and data == [b"1"], (typ, data)
typ, data = imap.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert b"\\Seen" in data[0][0] and b"monthly newsletter" in data[0][1], data
typ, data = imap.lsub('""', "Lists")
assert data[0] and b"Lists" in data[0], data
typ, data = imap.select("INBOX")
assert data == [b"1"], data
imap.logout()

# Once per sender: no second reply; none to a list.
send("hello again")
send("list post", "List-Id: <talk.example.test>\r\n")
# The redirected copy reaches alice, marked; the reply is not sent again.
send("invoice 42")
messages = mailtest.wait_for_messages("alice@example.test", 2)
copy = messages[1]
assert b"X-Postamt-Redirected-By: bob@example.test" in copy and b"Subject: invoice 42" in copy, copy[:400]

# A discarded message goes nowhere, and nobody hears of it.
send("junkmail today")
# With bob the only recipient, his script's rejection refuses the message
# at SMTP time, with its reason (RFC 5429 ereject/reject).
client = mailtest.submit("alice@example.test")
try:
    client.sendmail("alice@example.test", ["bob@example.test"],
                    b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: unwanted offer\r\n\r\nbody\r\n")
    raise AssertionError("the message was accepted")
except smtplib.SMTPDataError as e:
    assert e.smtp_code == 550 and b"I do not want this." in e.smtp_error, e
client.quit()
# With another recipient the message is accepted, and the rejection goes
# back to the sender as a DSN with the script's reason.
client = mailtest.submit("alice@example.test")
assert client.sendmail("alice@example.test", ["bob@example.test", "postmaster@example.test"],
                       b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: unwanted offer\r\n\r\nbody\r\n") == {}
client.quit()
messages = mailtest.wait_for_messages("alice@example.test", 4)
[dsn] = [m for m in messages[2:] if m.startswith(b"Return-Path: <>\r\n")]
assert b"I do not want this." in dsn, dsn[:1500]
# bob has hello, hello again, list post and invoice in his INBOX.
mailtest.wait_for_messages("bob@example.test", 4)
"#,
    );
}

#[test]
fn a_broken_script_is_refused_with_its_line_and_mail_still_arrives() {
    let server = Server::with_users("");
    let output = server.admin_output(
        &["sieve", "put", "bob@example.test", "broken", "-"],
        Some("require \"fileinto\";\nfileinto \"A\"\nkeep;\n"),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");
    let check = server.admin_output(&["sieve", "check", "-"], Some("keep;\n"));
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));

    // A script that runs out of its step budget keeps the message: a
    // body of long runs of "a" against a pattern of 5 000 of them and a
    // "b" costs the matcher about 100 million steps, ten times the budget.
    let bomb = format!(
        "require \"body\";\nif body :raw :matches \"*{}b\" {{ discard; }}\n",
        "a".repeat(5_000)
    );
    let output = server.admin_output(
        &["sieve", "put", "bob@example.test", "bomb", "-", "--activate"],
        Some(&bomb),
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    server.python(
        r#"
import mailtest
client = mailtest.submit("alice@example.test")
body = ("a" * 990 + "\r\n") * 100
message = f"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: long\r\n\r\n{body}"
assert client.sendmail("alice@example.test", ["bob@example.test"], message.encode()) == {}
client.quit()
mailtest.wait_for_messages("bob@example.test", 1)
"#,
    );
    server.wait_for_log("sieve script failed; message kept");
}

/// A redirect is mail the user sends: over their hourly limit it is not
/// made, and the message it would have taken stays in their INBOX.
#[test]
fn redirects_count_toward_the_sending_limit_and_lose_nothing() {
    let server = Server::with_users("[limits]\nuser_messages_per_hour = 1\n");
    let script = "redirect \"alice@example.test\";\n";
    let output = server.admin_output(
        &["sieve", "put", "bob@example.test", "away", "-", "--activate"],
        Some(script),
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    server.python(
        r#"
import mailtest
for n in (1, 2):
    client = mailtest.smtp()
    message = f"From: carol@elsewhere.test\r\nTo: bob@example.test\r\nSubject: number {n}\r\n\r\nbody\r\n"
    assert client.sendmail("carol@elsewhere.test", ["bob@example.test"], message.encode()) == {}
    client.quit()
    mailtest.wait_for_messages("alice@example.test", 1)
[kept] = mailtest.wait_for_messages("bob@example.test", 1)
assert b"Subject: number 2" in kept, kept[:300]
"#,
    );
    server.wait_for_log("sieve redirect not made: the user is over their sending limit");
}

/// A domain's default script runs for its users without a script of
/// their own, and a user's own script takes its place.
#[test]
fn the_domain_default_runs_until_a_user_has_a_script() {
    let server = Server::with_users("");
    let default = "require \"fileinto\";\nif header :is \"X-Spam\" \"yes\" { fileinto \"Junk\"; }\n";
    let output = server.admin_output(&["sieve", "default", "example.test", "-"], Some(default));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let own = "keep;\n";
    let output = server.admin_output(
        &["sieve", "put", "bob@example.test", "own", "-", "--activate"],
        Some(own),
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    server.python(
        r#"
import mailtest, time
client = mailtest.smtp()
for user in ("alice", "bob"):
    message = f"From: carol@elsewhere.test\r\nTo: {user}@example.test\r\nX-Spam: yes\r\nSubject: offer\r\n\r\nbody\r\n"
    assert client.sendmail("carol@elsewhere.test", [f"{user}@example.test"], message.encode()) == {}
client.quit()
mailtest.wait_for_messages("bob@example.test", 1)
# Polled as mailtest.wait_for_messages polls the INBOX.
imap = mailtest.imap("alice@example.test")
deadline = time.time() + 20
while True:
    typ, data = imap.select("Junk")
    if data == [b"1"] or time.time() > deadline:
        break
    time.sleep(0.05)
assert data == [b"1"], data
typ, data = imap.select("INBOX")
assert data == [b"0"], data
"#,
    );
}
