//! Rate limits (issue 17), end to end: a logged-in user who reaches the
//! hourly limit is told to try later while another user goes on; a client
//! address that opens too many connections on port 25 gets 421, and other
//! addresses do not. The counters are the node's: they hold across
//! sessions.

mod common;

use common::Server;

#[test]
fn a_user_over_the_hourly_limit_waits_and_others_do_not() {
    let server = Server::with_users("[limits]\nuser_messages_per_hour = 2\nuser_recipients_per_hour = 3\n");
    server.python(
        r#"
import smtplib, mailtest
def send(user, recipients):
    client = mailtest.submit(user)
    try:
        refused = client.sendmail(user, recipients, b"Subject: x\r\n\r\nx\r\n")
        return refused or None
    except smtplib.SMTPSenderRefused as e:
        return (e.smtp_code, e.smtp_error)
    except smtplib.SMTPRecipientsRefused as e:
        return e.recipients
    finally:
        client.quit()

# Two messages an hour, each in a session of its own.
assert send("alice@example.test", ["bob@example.test"]) is None
assert send("alice@example.test", ["bob@example.test"]) is None
code, text = send("alice@example.test", ["bob@example.test"])
assert code == 451 and text.startswith(b"4.7.1"), (code, text)
# Bob has his own count: three recipients an hour, the fourth waits.
refused = send("bob@example.test", ["alice@example.test", "postmaster@example.test"])
assert refused is None, refused
refused = send("bob@example.test", ["alice@example.test", "bob@example.test"])
assert refused == {"bob@example.test": (451, b"4.7.1 Too many recipients from this user in the last hour; try again later")}, refused
"#,
    );
}

#[test]
fn a_client_over_its_connection_rate_is_refused_on_port_25() {
    let server = Server::with_users("[limits]\nclient_connections_per_minute = 2\n");
    server.python(
        r#"
import mailtest
for n in range(2):
    assert mailtest.Raw(mailtest.SMTP_PORT, source="127.0.0.5").greeting.startswith(b"220"), n
third = mailtest.Raw(mailtest.SMTP_PORT, source="127.0.0.5")
assert third.greeting.startswith(b"421 4.7.0"), third.greeting
assert third.closed()
assert mailtest.Raw(mailtest.SMTP_PORT, source="127.0.0.6").greeting.startswith(b"220")
"#,
    );
}
