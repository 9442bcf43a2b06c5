//! Invariant 2 of docs/architecture.md: postamt is never an open relay. Every
//! trick a relay scanner tries is refused without authentication, and
//! nothing for a foreign domain is ever queued.

mod common;

use common::Server;

#[test]
fn relay_tricks_are_refused_and_nothing_foreign_is_queued() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
refused = [
    "victim@elsewhere.test",
    "victim@Elsewhere.TEST",
    "victim%elsewhere.test@example.test",
    '"victim%elsewhere.test"@example.test',
    '"victim@elsewhere.test"@example.test',
    "elsewhere.test!victim@example.test",
    "@example.test:victim@elsewhere.test",
    "@mx.example.test,@example.test:victim@elsewhere.test",
    "victim@elsewhere.test@example.test",
    "victim@[192.0.2.1]",
    "victim@[127.0.0.1]",
    "victim@[IPv6:::1]",
    "victim@elsewhere.test.",
    "victim@example.test.elsewhere.test",
    "victim@localhost",
    "postmaster@elsewhere.test",
]
local = ["alice@EXAMPLE.TEST", "ALICE@example.test", "@elsewhere.test:bob@example.test", "alice+x@example.test"]
for port, name in [(mailtest.SMTP_PORT, "smtp"), (mailtest.SUBMISSION_PORT, "submission")]:
    smtp = mailtest.smtp(port)
    for address in refused + local:
        smtp.rset()
        code, _ = smtp.mail("scanner@other.test")
        if name == "submission":
            assert code == 530, (name, address, code)
            continue
        # Sent exactly as written: smtplib's own quoting would tidy the tricks away.
        code, text = smtp.docmd("RCPT TO:<%s>" % address)
        if address in refused:
            assert code >= 500, (name, address, code, text)
        else:
            assert code == 250, (name, address, code, text)
    smtp.quit()
"#,
    );
    // Every accepted message went to a local mailbox; the queue holds
    // nothing, let alone anything for elsewhere.
    server.python(
        r#"
import mailtest
smtp = mailtest.smtp()
smtp.mail("scanner@other.test")
assert smtp.docmd("RCPT TO:<alice@EXAMPLE.TEST>")[0] == 250
assert smtp.docmd("RCPT TO:<@elsewhere.test:bob@example.test>")[0] == 250
assert smtp.data(b"Subject: local\r\n\r\nx\r\n")[0] == 250
smtp.quit()
mailtest.wait_for_messages("alice@example.test", 1)
mailtest.wait_for_messages("bob@example.test", 1)
"#,
    );
    assert_eq!(server.admin(&["queue", "list"]), "The queue is empty.\n");
}
