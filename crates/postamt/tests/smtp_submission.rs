//! Submission (RFC 6409) and AUTH (RFC 4954) end to end, with smtplib,
//! swaks and msmtp as the clients, and the relay policy on every port.

mod common;

use std::process::Command;

use common::{PASSWORD, Server};

#[test]
fn smtplib_submits_over_starttls_and_implicit_tls_with_plain_and_login() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
for tls in ["starttls", "implicit"]:
    for mechanism in ["PLAIN", "LOGIN"]:
        client = mailtest.submit("alice@example.test", tls=tls) if mechanism == "PLAIN" else None
        if client is None:
            import smtplib
            if tls == "implicit":
                client = smtplib.SMTP_SSL(mailtest.HOST, mailtest.SUBMISSIONS_PORT, context=mailtest.tls_context())
            else:
                client = smtplib.SMTP(mailtest.HOST, mailtest.SUBMISSION_PORT)
                client.starttls(context=mailtest.tls_context())
            client.ehlo("client.test")
            assert "LOGIN" in client.esmtp_features["auth"]
            client.user, client.password = "alice@example.test", mailtest.PASSWORD
            code, text = client.auth("LOGIN", client.auth_login, initial_response_ok=False)
            assert code == 235, (code, text)
        message = ("Subject: %s over %s\r\n\r\nhello\r\n" % (mechanism, tls)).encode()
        refused = client.sendmail("alice@example.test", ["bob@example.test", "friend@elsewhere.test"], message)
        assert refused == {}, refused
        client.quit()
messages = mailtest.wait_for_messages("bob@example.test", 4)
for stored in messages:
    assert b"with ESMTPSA" in stored, stored
    assert b"\r\nDate: " in stored and b"\r\nMessage-ID: <" in stored, "RFC 6409 fix-ups"
"#,
    );
}

#[test]
fn swaks_submits_with_auth_on_both_ports() {
    let server = Server::with_users("");
    for (port, tls_flag, mechanism) in [
        (server.submission, "--tls", "PLAIN"),
        (server.submissions, "--tls-on-connect", "LOGIN"),
    ] {
        let output = Command::new("swaks")
            .args(["--server", &port.to_string(), tls_flag])
            .args([
                "--auth",
                mechanism,
                "--auth-user",
                "alice@example.test",
                "--auth-password",
                PASSWORD,
            ])
            .args(["--from", "alice@example.test", "--to", "bob@example.test"])
            .args(["--header", &format!("Subject: swaks {mechanism}")])
            .output()
            .expect("swaks");
        let transcript = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{transcript}");
        assert!(transcript.contains("235 2.7.0"), "{transcript}");
    }
    server.python(
        r#"
import mailtest
messages = mailtest.wait_for_messages("bob@example.test", 2)
assert any(b"Subject: swaks PLAIN" in m for m in messages) and any(b"Subject: swaks LOGIN" in m for m in messages)
"#,
    );
}

#[test]
fn msmtp_submits_like_a_mail_client() {
    let server = Server::with_users("");
    let config = server.dir.path().join("msmtprc");
    std::fs::write(
        &config,
        format!(
            "account default\nhost 127.0.0.1\nport {}\ntls on\ntls_starttls on\ntls_certcheck off\n\
             auth on\nuser alice@example.test\npassword {PASSWORD}\nfrom alice@example.test\n",
            server.submission.port()
        ),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&config).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o600);
    std::fs::set_permissions(&config, permissions).unwrap();
    let mut child = Command::new("msmtp")
        .arg("-C")
        .arg(&config)
        .arg("bob@example.test")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("msmtp must be installed (apt-get install msmtp)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"To: bob@example.test\nSubject: from msmtp\n\nSent by msmtp.\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    server.python(
        r#"
import mailtest
[stored] = mailtest.wait_for_messages("bob@example.test", 1)
assert b"Subject: from msmtp" in stored and b"Message-ID: <" in stored, stored
"#,
    );
}

#[test]
fn auth_needs_tls_and_submission_needs_auth() {
    let server = Server::with_users("");
    server.python(
        r#"
import base64, mailtest
for port in [mailtest.SMTP_PORT, mailtest.SUBMISSION_PORT]:
    smtp = mailtest.Raw(port)
    smtp.send(b"EHLO x.test\r\n")
    features = b"".join(smtp.reply())
    assert b"AUTH" not in features and b"STARTTLS" in features, features
    credentials = base64.b64encode(b"\0alice@example.test\0" + mailtest.PASSWORD.encode())
    reply = smtp.command(b"AUTH PLAIN " + credentials)
    assert reply.startswith(b"538 5.7.11"), reply
    reply = smtp.command(b"MAIL FROM:<alice@example.test>")
    if port == mailtest.SUBMISSION_PORT:
        assert reply.startswith(b"530 5.7.0"), reply
    else:
        assert reply.startswith(b"250"), reply

client = mailtest.submit("alice@example.test")
# RFC 4954 §4: once authenticated, AUTH is no longer offered.
client.ehlo("client.test")
assert "auth" not in client.esmtp_features, client.esmtp_features
code, text = client.docmd("AUTH PLAIN =")
assert code == 503, "AUTH twice is refused"
client.quit()
"#,
    );
}

#[test]
fn authenticated_users_send_only_as_themselves() {
    let server = Server::with_users("[submission.send_as]\n\"bob@example.test\" = [\"@example.test\"]");
    server.python(
        r#"
import mailtest
client = mailtest.submit("alice@example.test")
for sender, expected in [("bob@example.test", 553), ("someone@elsewhere.test", 553),
                         ("alice@example.test", 250), ("Alice+lists@Example.TEST", 250),
                         ("postmaster@example.test", 250), ("", 250)]:
    code, text = client.mail(sender)
    assert code == expected, (sender, code, text)
    if code == 553:
        assert text.startswith(b"5.7.1"), text
    client.rset()
client.quit()
client = mailtest.submit("bob@example.test")
assert client.mail("alice@example.test")[0] == 250, "send_as allows the whole domain"
client.rset()
assert client.mail("x@elsewhere.test")[0] == 553
client.quit()
"#,
    );
}

#[test]
fn the_relay_matrix_never_relays_for_strangers() {
    // 127.0.0.2 is a trusted network; 127.0.0.1 is not.
    let server = Server::with_users("[smtp]\ntrusted_networks = [\"127.0.0.2/32\"]");
    server.python(
        r#"
import smtplib, mailtest
def session(port, source, authenticated):
    if port == mailtest.SUBMISSIONS_PORT:
        client = smtplib.SMTP_SSL(mailtest.HOST, port, context=mailtest.tls_context(), source_address=(source, 0))
        client.ehlo("client.test")
    else:
        client = mailtest.smtp(port, source)
        if authenticated:
            client.starttls(context=mailtest.tls_context())
            client.ehlo("client.test")
    if authenticated:
        client.login("alice@example.test", mailtest.PASSWORD)
    return client

results = {}
for port, name in [(mailtest.SMTP_PORT, "25"), (mailtest.SUBMISSION_PORT, "587"), (mailtest.SUBMISSIONS_PORT, "465")]:
    for source, trust in [("127.0.0.1", "untrusted"), ("127.0.0.2", "trusted")]:
        for authenticated in [False, True]:
            client = session(port, source, authenticated)
            mail_code = client.mail("alice@example.test")[0]
            for rcpt in ["bob@example.test", "victim@elsewhere.test"]:
                code = client.rcpt(rcpt)[0] if mail_code == 250 else mail_code
                results[(name, trust, authenticated, rcpt.split("@")[1])] = code
            client.quit()

expected = {}
for trust in ["untrusted", "trusted"]:
    for authenticated in [False, True]:
        expected[("25", trust, authenticated, "example.test")] = 250
        relay = authenticated or trust == "trusted"
        expected[("25", trust, authenticated, "elsewhere.test")] = 250 if relay else 554
        for port in ["587", "465"]:
            for domain in ["example.test", "elsewhere.test"]:
                expected[(port, trust, authenticated, domain)] = 250 if authenticated else 530
wrong = {k: (v, expected[k]) for k, v in results.items() if v != expected[k]}
assert not wrong, wrong
"#,
    );
}

#[test]
fn password_guessing_is_slowed_then_locked_out_per_address() {
    let server = Server::with_users("[auth]\nfailure_delay_ms = 50\nmax_failures = 10\nlockout = 300");
    let sent = server.python(
        r#"
import base64, time, poplib, smtplib, mailtest
attacker = "127.0.0.3"
client = mailtest.smtp(mailtest.SUBMISSION_PORT, attacker)
client.starttls(context=mailtest.tls_context())
client.ehlo("client.test")
def attempt(password):
    # One AUTH PLAIN exchange (smtplib's login() would try every mechanism).
    credentials = base64.b64encode(b"\0alice@example.test\0" + password.encode())
    return client.docmd("AUTH PLAIN " + credentials.decode())
times = []
for n in range(10):
    started = time.monotonic()
    code, text = attempt("wrong password %d" % n)
    assert code == 535, (code, text)
    times.append(time.monotonic() - started)
# Delays double from 50 ms; the password check itself costs the same each time.
assert times[-1] - times[0] > 0.5, times
# Locked out now, even with the right password, on every protocol.
code, text = attempt(mailtest.PASSWORD)
assert (code, text[:5]) == (454, b"4.7.0"), (code, text)
client.close()
pop = mailtest.Raw(mailtest.POP3S_PORT, tls=True, source=attacker)
pop.command(b"USER alice@example.test")
reply = pop.command(b"PASS " + mailtest.PASSWORD.encode())
assert reply.startswith(b"-ERR [SYS/TEMP]"), reply
imap = mailtest.Raw(mailtest.IMAPS_PORT, tls=True, source=attacker)
reply = imap.command(b'a LOGIN "alice@example.test" "' + mailtest.PASSWORD.encode() + b'"')
assert reply.startswith(b"a NO [UNAVAILABLE]"), reply
# Another address is not affected.
mailtest.submit("alice@example.test", source="127.0.0.4").quit()
print(base64.b64encode(b"\0alice@example.test\0" + mailtest.PASSWORD.encode()).decode())
"#,
    );
    let log = server.log();
    assert!(log.contains("authentication failed"), "failures are logged");
    // Neither the wrong passwords, nor the right one (refused while locked
    // out, accepted from another address), in clear or as sent in AUTH.
    let plain = sent.trim();
    for secret in ["wrong password", PASSWORD, plain] {
        assert!(!log.contains(secret), "{secret:?} appears in the log");
    }
}

#[test]
fn smtputf8_addresses_are_accepted_and_stored_byte_exact() {
    let server = Server::start("");
    server.admin(&["domain", "add", "bücher.test"]);
    server.add_user("jürgen@bücher.test");
    server.python(
        r#"
import smtplib, mailtest
message = "From: Ümit <ümit@例え.test>\r\nTo: Jürgen <jürgen@bücher.test>\r\nSubject: Grüße\r\n\r\nÜmläüte\r\n".encode()
client = mailtest.smtp()
assert client.has_extn("smtputf8")
# Without SMTPUTF8 a UTF-8 address is refused (RFC 6531 §3.7.4.1).
client.command_encoding = "utf-8"
code, text = client.docmd("MAIL FROM:<ümit@例え.test>")
assert (code, text[:5]) == (553, b"5.6.7"), (code, text)
client.rset()
# The A-label form of the domain reaches the same user.
refused = client.sendmail("ümit@例え.test", ["jürgen@bücher.test", "JÜRGEN@xn--bcher-kva.test"], message,
                          mail_options=["SMTPUTF8"])
assert refused == {}, refused
client.quit()
messages = mailtest.wait_for_messages("jürgen@bücher.test", 1)
stored = messages[0]
assert stored.startswith("Return-Path: <ümit@例え.test>\r\n".encode()), stored[:80]
assert mailtest.strip_trace(stored) == message
"#,
    );
}

#[test]
fn bdat_chunks_and_binary_content_arrive_byte_exact() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
smtp = mailtest.Raw(mailtest.SMTP_PORT)
smtp.send(b"EHLO chunky.test\r\n")
features = b"".join(smtp.reply())
assert b"CHUNKING" in features and b"BINARYMIME" in features, features
header = b"Subject: binary\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
body = bytes(range(256)) * 40 + b"\r\n.\r\n\n.\nlast"
chunks = [header, body[:3000], body[3000:]]
# MAIL, RCPT and all chunks pipelined in one write.
request = b"MAIL FROM:<a@other.test> BODY=BINARYMIME\r\nRCPT TO:<alice@example.test>\r\n"
for n, chunk in enumerate(chunks):
    last = b" LAST" if n == len(chunks) - 1 else b""
    request += b"BDAT %d%s\r\n" % (len(chunk), last) + chunk
smtp.send(request)
replies = [smtp.line() for _ in range(5)]
assert [r[:3] for r in replies] == [b"250"] * 5, replies
assert replies[-1].startswith(b"250 2.0.0 Ok: queued as"), replies
# BINARYMIME cannot go through DATA (RFC 3030 §3).
for command, expected in [(b"MAIL FROM:<a@other.test> BODY=BINARYMIME", b"250"),
                          (b"RCPT TO:<alice@example.test>", b"250"), (b"DATA", b"503 5.5.1")]:
    reply = smtp.command(command)
    assert reply.startswith(expected), (command, reply)
# A refused BDAT still has its chunk read: the session stays in step.
smtp.command(b"RSET")
smtp.send(b"BDAT 5\r\nHELLONOOP\r\n")
reply = smtp.line()
assert reply.startswith(b"503"), ("BDAT without MAIL", reply)
reply = smtp.line()
assert reply.startswith(b"250"), ("the NOOP after the chunk", reply)
mailtest.wait_for_messages("alice@example.test", 1)
# POP3 is line-based and cannot show bare LFs faithfully; the stored
# message file is checked instead.
[stored] = mailtest.stored_messages()
assert stored.startswith(b"Received: from chunky.test") and stored.endswith(b"".join(chunks)), stored[:400]
"#,
    );
}

#[test]
fn early_talkers_and_http_clients_are_disconnected() {
    let server = Server::with_users("[smtp]\npregreet_wait_ms = 500");
    server.python(
        r#"
import mailtest
early = mailtest.Raw(mailtest.SMTP_PORT, greeting=False)
early.send(b"EHLO hasty.test\r\n")
reply = early.line()
assert reply.startswith(b"554 5.5.1"), reply
assert early.closed()

# The early talker's address is now refused at once (see pregreet.rs):
# the web client comes from another one.
web = mailtest.Raw(mailtest.SMTP_PORT, source="127.0.0.3")
web.send(b"GET / HTTP/1.1\r\nHost: mx.example.test\r\n\r\n")
assert web.line().startswith(b"554 5.7.0")
assert web.closed()
"#,
    );
}

#[test]
fn connections_are_limited_per_client_address() {
    let server = Server::with_users("[limits]\nmax_connections_per_address = 3");
    server.python(
        r#"
import mailtest
held = [mailtest.Raw(mailtest.SUBMISSION_PORT) for _ in range(3)]
assert all(c.greeting.startswith(b"220") for c in held)
refused = mailtest.Raw(mailtest.SUBMISSION_PORT)
assert refused.greeting.startswith(b"421 4.3.2"), refused.greeting
assert mailtest.Raw(mailtest.SUBMISSION_PORT, source="127.0.0.2").greeting.startswith(b"220")
"#,
    );
}

#[test]
fn dsn_and_envelope_options_are_kept_with_the_queue_entry() {
    // elsewhere.test's MX has nothing listening: its recipient waits.
    let zone = "elsewhere.test MX 10 mx.elsewhere.test\nmx.elsewhere.test A 127.0.0.9\n";
    let server = Server::start_with_zone("[submission]\nhide_client_ip = true", zone);
    server.add_example_users();
    server.python(
        r#"
import os, sqlite3, mailtest
client = mailtest.submit("alice@example.test")
assert client.has_extn("dsn")
client.sendmail("alice@example.test", ["friend@elsewhere.test", "bob@example.test"],
                b"Subject: dsn\r\n\r\nx\r\n",
                mail_options=["RET=HDRS", "ENVID=QQ+2B314", "BODY=8BITMIME"],
                rcpt_options=["NOTIFY=SUCCESS,DELAY", "ORCPT=rfc822;Friend+40elsewhere.test"])
client.quit()
[stored] = mailtest.wait_for_messages("bob@example.test", 1)
assert b"Received: by mx.example.test (postamt) with ESMTPSA" in stored, stored[:300]
assert b"127.0.0.1" not in stored, "the client address is hidden"
# The remote recipient waits in the queue with everything it asked for.
db = sqlite3.connect("file:" + os.path.join(os.environ["DATA_DIR"], "data", "postamt.db") + "?mode=ro", uri=True)
message = db.execute("SELECT body, smtputf8, dsn_ret, dsn_envid, submitted_by FROM queue_messages").fetchall()
assert message == [("8BITMIME", 0, "HDRS", "QQ+314", "alice@example.test")], message
recipients = db.execute("SELECT address, dsn_notify, dsn_orcpt, status FROM queue_recipients ORDER BY id").fetchall()
assert recipients[0] == ("friend@elsewhere.test", "SUCCESS,DELAY", "rfc822;Friend@elsewhere.test", "pending"), recipients
"#,
    );
}
