//! IMAP NOTIFY (RFC 5465) end to end: mail delivered over SMTP reaches a
//! session watching INBOX with another mailbox selected, as an unsolicited
//! STATUS, while the client sends nothing (no NOOP, no IDLE). The client
//! is Python's imaplib, which knows no NOTIFY: the command is taught to it
//! and the notification read off the socket. Also: NOTIFY's limits set in
//! `[imap]`, and a METADATA change told to a silent watcher.

mod common;

use common::Server;

#[test]
fn smtp_delivery_reaches_a_silent_notify_session_as_status() {
    let server = Server::with_users("");
    let output = server.python(
        r#"
import imaplib, mailtest
imaplib.Commands["NOTIFY"] = ("AUTH", "SELECTED")
watcher = mailtest.imap("alice@example.test")
typ, _ = watcher.select("Archive")
assert typ == "OK"
typ, data = watcher._simple_command("NOTIFY", "SET", "(inboxes (MessageNew MessageExpunge))")
assert typ == "OK", (typ, data)
sender = mailtest.smtp()
assert sender.sendmail("carol@other.test", ["alice@example.test"], b"Subject: hello\r\n\r\nhi\r\n") == {}
sender.quit()
# Nothing sent: the notification must come by itself.
watcher.sock.settimeout(20)
print(watcher.readline().decode().strip())
"#,
    );
    let line = output.trim();
    assert!(
        line.starts_with("* STATUS \"INBOX\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ") && line.ends_with(" UNSEEN 1)"),
        "{line:?}\n--- server log ---\n{}",
        server.log()
    );
}

/// NOTIFY's limits come from `[imap]` in the config file: more watched
/// mailboxes than `max_notify_mailboxes` get NO [LIMIT], more event groups
/// and names than `max_notify_filters` get BAD, and within both it works.
#[test]
fn notify_limits_come_from_the_config_file() {
    let server = Server::with_users("[imap]\nmax_notify_mailboxes = 1\nmax_notify_filters = 2\n");
    let output = server.python(
        r#"
import imaplib, mailtest
imaplib.Commands["NOTIFY"] = ("AUTH", "SELECTED")
watcher = mailtest.imap("alice@example.test")
typ, data = watcher._simple_command("NOTIFY", "SET", "(personal (MessageNew MessageExpunge))")
print(typ, data[0].decode())
try:
    watcher._simple_command("NOTIFY", "SET", "(mailboxes (INBOX Archive) (MailboxName))")
    print("taken")
except imaplib.IMAP4.error as e:
    print("BAD", e)
typ, data = watcher._simple_command("NOTIFY", "SET", "(mailboxes INBOX (MessageNew MessageExpunge))")
print(typ)
"#,
    );
    let lines: Vec<&str> = output.lines().collect();
    assert!(
        lines.len() == 3
            && lines[0].starts_with("NO [LIMIT] NOTIFY may watch at most 1 ")
            && lines[1].starts_with("BAD ")
            && lines[1].contains("at most 2 event groups")
            && lines[2] == "OK",
        "{output}\n--- server log ---\n{}",
        server.log()
    );
}

/// MailboxMetadataChange (RFC 5465 §5.6): a SETMETADATA by another client
/// reaches a silent watcher as an unsolicited METADATA with the entry's
/// name (RFC 5464 §4.4.2).
#[test]
fn another_clients_setmetadata_reaches_a_silent_watcher() {
    let server = Server::with_users("");
    let output = server.python(
        r#"
import imaplib, mailtest
imaplib.Commands["NOTIFY"] = ("AUTH", "SELECTED")
imaplib.Commands["SETMETADATA"] = ("AUTH", "SELECTED")
watcher = mailtest.imap("alice@example.test")
typ, data = watcher._simple_command("NOTIFY", "SET", "(inboxes (MailboxMetadataChange))")
assert typ == "OK", (typ, data)
other = mailtest.imap("alice@example.test")
typ, data = other._simple_command("SETMETADATA", "INBOX", '(/private/comment "hello")')
assert typ == "OK", (typ, data)
watcher.sock.settimeout(20)
print(watcher.readline().decode().strip())
"#,
    );
    assert_eq!(
        output.trim(),
        "* METADATA \"INBOX\" /private/comment",
        "--- server log ---\n{}",
        server.log()
    );
}
