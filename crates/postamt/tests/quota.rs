//! Quotas (RFC 9208) end to end, with the real binary and real clients:
//! `postamt user quota`, SMTP refusals at RCPT and at the end of DATA
//! (smtplib), the queue's temporary failure for mail accepted before the
//! mailbox filled, IMAP APPEND/COPY/MOVE/EXPUNGE (imaplib) with usage
//! exact throughout, and the warning delivered exactly once.

mod common;

use common::Server;

/// alice's usage as `postamt user quota` shows it: (octets, messages).
fn usage(server: &Server) -> (u64, u64) {
    let shown = server.admin(&["user", "quota", "alice@example.test"]);
    let number = |prefix: &str| -> u64 {
        let line = shown
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {shown}"));
        line.split_whitespace().next().unwrap().parse().unwrap()
    };
    (number("storage:"), number("messages:"))
}

/// The sum of STATUS SIZE and MESSAGES over alice's mailboxes, over IMAP.
const STATUS_SUM: &str = r#"
def status_sum(client):
    octets = messages = 0
    for line in client.list()[1]:
        name = line.decode().split(' "/" ')[1]
        typ, data = client.status(name, "(SIZE MESSAGES)")
        words = data[0].decode().split("(")[1].rstrip(")").split()
        values = dict(zip(words[0::2], words[1::2]))
        octets += int(values["SIZE"])
        messages += int(values["MESSAGES"])
    return octets, messages
"#;

#[test]
fn smtp_refuses_over_quota_and_stores_nothing_partial() {
    let server = Server::with_users("[quota]\nwarn_percent = 0\n");
    server.admin(&[
        "user",
        "quota",
        "alice@example.test",
        "--storage",
        "20000",
        "--messages",
        "10",
    ]);
    server.python(
        r#"
import smtplib, time, mailtest
def mailtest_lines(size):
    # POP3 clients take lines of at most 2048 octets.
    body = (b"x" * 78 + b"\r\n") * (size // 80)
    return body + b"y" * (size - len(body) - 2) + b"\r\n"
def message(size):
    text = b"From: s@other.test\r\nTo: alice@example.test\r\nSubject: sized\r\n\r\n"
    return text + mailtest_lines(size - len(text))
client = mailtest.smtp()
client.ehlo("client.test")
# SIZE= larger than the whole quota: 552 5.2.2 at RCPT.
client.mail("s@other.test", ["SIZE=30000"])
code, text = client.rcpt("alice@example.test")
assert code == 552 and text.startswith(b"5.2.2"), (code, text)
# bob has no limit: the same message goes to him.
assert client.rcpt("bob@example.test")[0] == 250
client.rset()
# Without SIZE the size is known at the end of DATA: 552 5.2.2 then.
client.mail("s@other.test")
assert client.rcpt("alice@example.test")[0] == 250
code, text = client.data(message(30000))
assert code == 552 and text.startswith(b"5.2.2"), (code, text)
# One that fits is delivered.
client.sendmail("s@other.test", ["alice@example.test"], message(10000))
mailtest.wait_for_messages("alice@example.test", 1)
client.quit()
"#,
    );
    let (octets, messages) = usage(&server);
    assert!(octets > 10_000 && messages == 1, "{octets} {messages}");
    // Accepted while there was room, over the limit at delivery: the
    // queue keeps alice's copy (452 4.2.2, retried until the queue
    // lifetime ends, then bounced) and her INBOX holds nothing of it.
    server.python(
        r#"
import mailtest
# Without SIZE alice is not full at RCPT; at the end of DATA bob has room,
# so the message is accepted, and alice's copy fails in the queue.
client = mailtest.smtp()
client.ehlo("client.test")
client.mail("s@other.test")
assert client.rcpt("alice@example.test")[0] == 250
assert client.rcpt("bob@example.test")[0] == 250
code, text = client.data(b"Subject: second\r\n\r\n" + (b"y" * 98 + b"\r\n") * 100)
assert code == 250, (code, text)
client.quit()
mailtest.wait_for_messages("bob@example.test", 1)
"#,
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut queue = server.admin(&["queue", "list"]);
    while !queue.contains("4.2.2") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        queue = server.admin(&["queue", "list"]);
    }
    assert!(queue.contains("452 4.2.2"), "{queue}\n{}", server.log());
    assert_eq!(usage(&server), (octets, 1), "nothing partial stored");
    // Now full: RCPT itself is refused, temporarily.
    server.admin(&["user", "quota", "alice@example.test", "--storage", "5000"]);
    server.python(
        r#"
import mailtest
client = mailtest.smtp()
client.ehlo("client.test")
client.mail("s@other.test")
code, text = client.rcpt("alice@example.test")
assert code == 452 and text.startswith(b"4.2.2"), (code, text)
client.quit()
"#,
    );
    // Room again (`none`): the queued message arrives on its retry.
    server.admin(&["user", "quota", "alice@example.test", "--storage", "none"]);
    server.admin(&["queue", "retry", "--all"]);
    server.python("import mailtest\nmailtest.wait_for_messages('alice@example.test', 2)\n");
}

#[test]
fn imap_append_copy_move_expunge_keep_usage_exact() {
    let server = Server::with_users("[quota]\nwarn_percent = 0\nmessages = 4\n");
    let shown = server.admin(&["user", "quota", "alice@example.test"]);
    assert!(shown.contains("of 4 (the [quota] default)"), "{shown}");
    let script = format!(
        "{STATUS_SUM}{}",
        r#"
import imaplib, mailtest
client = mailtest.imap("alice@example.test")
for capability in ["QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"]:
    assert capability in client.capabilities, client.capabilities
for n in range(3):
    assert client.append("INBOX", None, None, b"Subject: m%d\r\n\r\nbody\r\n" % n)[0] == "OK"
typ, data = client.getquotaroot("INBOX")
assert typ == "OK" and data[0] == [b'"INBOX" ""'] and data[1] == [b'"" (MESSAGE 3 4)'], data
# The fourth fits, the fifth not: NO [OVERQUOTA], nothing stored.
assert client.append("INBOX", None, None, b"Subject: four\r\n\r\nbody\r\n")[0] == "OK"
typ, data = client.append("INBOX", None, None, b"Subject: five\r\n\r\nbody\r\n")
assert typ == "NO" and b"[OVERQUOTA]" in data[0], (typ, data)
client.select("INBOX")
typ, data = client.copy("1:2", "Archive")
assert typ == "NO" and b"[OVERQUOTA]" in data[0], (typ, data)
# MOVE within the account adds nothing: allowed at the limit.
assert client._simple_command("MOVE", "1:2", "Archive")[0] == "OK"
client.select("INBOX")
client.store("1", "+FLAGS", "(\\Deleted)")
client.expunge()
print(*status_sum(client))
client.logout()
"#
    );
    let printed = server.python(&script);
    let summed: Vec<u64> = printed.split_whitespace().map(|n| n.parse().unwrap()).collect();
    assert_eq!(summed[1], 3, "four appended, one expunged");
    assert_eq!(
        usage(&server),
        (summed[0], summed[1]),
        "usage is the sum of the mailboxes"
    );
}

#[test]
fn the_warning_is_delivered_exactly_once() {
    let server = Server::with_users("[quota]\nstorage = \"100K\"\n");
    let script = r#"
import mailtest
def send(size):
    client = mailtest.smtp()
    body = (b"z" * 98 + b"\r\n") * (size // 100)
    client.sendmail("s@other.test", ["alice@example.test"], b"Subject: fill\r\n\r\n" + body)
    client.quit()
send(80000)
mailtest.wait_for_messages("alice@example.test", 1)
send(15000)
# The delivery that crossed 90 % brings the warning with it.
messages = mailtest.wait_for_messages("alice@example.test", 3)
send(1000)
messages = mailtest.wait_for_messages("alice@example.test", 4)
warnings = [m for m in messages if b"Subject: Your mailbox is almost full" in m]
assert len(warnings) == 1, len(warnings)
[warning] = warnings
assert b"From: Mail Delivery System <postmaster@example.test>" in warning, warning
assert b"reached 90% of its quota" in warning and b"Storage:" in warning, warning
assert b"delete messages" in warning, warning
"#;
    server.python(script);
}
