//! `/metrics` end to end: scraped with Python's http.client, parsed with
//! prometheus_client's own parser (the text format 0.0.4 as Prometheus
//! reads it), before and after real traffic, whose counts must move by
//! exactly what was sent; and who may read it.

mod common;

use common::Server;

/// Python: `scrape(headers)` → {(name, labels): value}, failing unless
/// the answer is 200 in the text format.
const SCRAPE: &str = r#"
import http.client, os
from prometheus_client.parser import text_string_to_metric_families

def fetch(headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", int(os.environ["HTTP_PORT"]), timeout=10)
    connection.request("GET", "/metrics", headers=headers or {})
    response = connection.getresponse()
    return response.status, response.getheader("Content-Type"), response.read().decode()

def scrape(headers=None):
    status, kind, body = fetch(headers)
    assert status == 200, (status, body)
    assert kind.startswith("text/plain; version=0.0.4"), kind
    values = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values
"#;

#[test]
fn counters_move_with_traffic() {
    let server = Server::with_users("");
    let out = server.python(&format!(
        "{SCRAPE}{}",
        r#"
import smtplib, time, mailtest

def value(values, name, **labels):
    return values.get((name, tuple(sorted(labels.items()))), 0)

before = scrape()
assert ("postamt_queue_messages", ()) in before, sorted(before)[:5]
assert ("postamt_queue_oldest_age_seconds", ()) in before

# One SMTP connection: one message accepted, one recipient refused.
client = mailtest.smtp()
client.sendmail("sender@elsewhere.test", ["bob@example.test"], b"Subject: counted\r\n\r\nhello\r\n")
try:
    client.sendmail("sender@elsewhere.test", ["nobody@example.test"], b"Subject: no\r\n\r\nno\r\n")
    raise SystemExit("an unknown recipient was accepted")
except smtplib.SMTPRecipientsRefused:
    pass
client.quit()

# One failed login, over STARTTLS on the submission port.
client = smtplib.SMTP(mailtest.HOST, mailtest.SUBMISSION_PORT, timeout=30)
client.starttls(context=mailtest.tls_context())
client.ehlo("client.test")
# One mechanism (smtplib's login() would try the next after a failure).
client.user, client.password = "alice@example.test", "wrong password"
try:
    client.auth("PLAIN", client.auth_plain)
    raise SystemExit("a wrong password was accepted")
except smtplib.SMTPAuthenticationError:
    pass
client.quit()

# One implicit-TLS IMAP session.
mailtest.imap("alice@example.test", tls="implicit").logout()

# The delivery is counted once it is recorded, just after the message is
# readable: wait for the count, with a deadline.
deadline = time.time() + 20
while True:
    after = scrape()
    if value(after, "postamt_deliveries_total", outcome="local") > value(before, "postamt_deliveries_total", outcome="local"):
        break
    assert time.time() < deadline, "the delivery was not counted"
    time.sleep(0.05)

for name, labels in [
    ("postamt_smtp_messages_accepted_total", {}),
    ("postamt_smtp_refusals_total", {"reason": "unknown_recipient"}),
    ("postamt_smtp_refusals_total", {"reason": "relay_denied"}),
    ("postamt_login_failures_total", {"protocol": "smtp"}),
    ("postamt_login_failures_total", {"protocol": "imap"}),
    ("postamt_deliveries_total", {"outcome": "local"}),
    ("postamt_deliveries_total", {"outcome": "remote"}),
    ("postamt_connections_total", {"service": "smtp"}),
    ("postamt_connections_total", {"service": "submission"}),
    ("postamt_connections_total", {"service": "imaps"}),
    ("postamt_tls_handshakes_total", {"service": "submission"}),
    ("postamt_tls_handshakes_total", {"service": "imaps"}),
    ("postamt_tls_handshake_failures_total", {"service": "imaps"}),
]:
    shown = ",".join(f"{k}={v}" for k, v in labels.items())
    print(f"{name}{{{shown}}} +{value(after, name, **labels) - value(before, name, **labels):g}")
# Every write (the message, the delivery) went through a group commit.
commits = value(after, "postamt_store_commit_seconds_count") - value(before, "postamt_store_commit_seconds_count")
print("commits counted:", commits > 0)
"#
    ));
    assert_eq!(
        out,
        "postamt_smtp_messages_accepted_total{} +1\n\
         postamt_smtp_refusals_total{reason=unknown_recipient} +1\n\
         postamt_smtp_refusals_total{reason=relay_denied} +0\n\
         postamt_login_failures_total{protocol=smtp} +1\n\
         postamt_login_failures_total{protocol=imap} +0\n\
         postamt_deliveries_total{outcome=local} +1\n\
         postamt_deliveries_total{outcome=remote} +0\n\
         postamt_connections_total{service=smtp} +1\n\
         postamt_connections_total{service=submission} +1\n\
         postamt_connections_total{service=imaps} +1\n\
         postamt_tls_handshakes_total{service=submission} +1\n\
         postamt_tls_handshakes_total{service=imaps} +1\n\
         postamt_tls_handshake_failures_total{service=imaps} +0\n\
         commits counted: True\n"
    );
}

#[test]
fn a_metrics_token_is_required_of_everyone_once_set() {
    let server = Server::start("[http]\nmetrics_token = \"s3cret-token\"\n");
    let out = server.python(&format!(
        "{SCRAPE}{}",
        r#"
# Loopback is no exception once a token is set.
print(fetch()[0], fetch({"Authorization": "Bearer wrong"})[0], fetch({"Authorization": "s3cret-token"})[0])
print(len(scrape({"Authorization": "Bearer s3cret-token"})) > 10)
"#
    ));
    assert_eq!(out, "401 401 401\nTrue\n");
}
