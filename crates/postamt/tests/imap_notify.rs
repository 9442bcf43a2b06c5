//! IMAP NOTIFY (RFC 5465) end to end: mail delivered over SMTP reaches a
//! session watching INBOX with another mailbox selected, as an unsolicited
//! STATUS, while the client sends nothing (no NOOP, no IDLE). The client
//! is Python's imaplib, which knows no NOTIFY: the command is taught to it
//! and the notification read off the socket.

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
