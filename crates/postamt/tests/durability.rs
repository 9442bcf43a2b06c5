//! Invariant 1 of ARCHITECTURE.md: a 250 reply means the message survives
//! SIGKILL.

mod common;

use common::Server;

#[test]
fn acknowledged_messages_survive_sigkill() {
    let mut server = Server::with_users("");
    // Each 250 is printed as it arrives; the server is killed the moment
    // the script has seen the last one, before delivery can catch up.
    let sent = server.python(
        r#"
import mailtest
client = mailtest.smtp()
for n in range(20):
    client.sendmail("a@other.test", ["alice@example.test", "bob@example.test"],
                    b"Subject: durable %d\r\n\r\nbody\r\n" % n)
    print(n)
"#,
    );
    server.kill();
    assert_eq!(sent.lines().count(), 20);
    server.restart();
    server.python(
        r#"
import mailtest
for user in ["alice@example.test", "bob@example.test"]:
    messages = mailtest.wait_for_messages(user, 20)
    subjects = sorted(int(m.split(b"Subject: durable ")[1].split(b"\r\n")[0]) for m in messages)
    assert subjects == list(range(20)), subjects
"#,
    );
}
