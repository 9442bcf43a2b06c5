//! Issue 12, attack 6 and backscatter: what a client puts in the envelope
//! must never become part of a report we send, and we must not accept mail
//! only to bounce it later to a sender that may be forged.

mod common;

use common::Server;

#[test]
fn envelope_ids_and_original_recipients_cannot_carry_line_breaks() {
    // nullmx.test accepts no mail, so the message bounces at once and the
    // report shows what became of ENVID and ORCPT.
    let server = Server::start_with_zone("", "nullmx.test MX 0 .\n");
    server.add_example_users();
    server.python(
        r#"
import mailtest
client = mailtest.submit("alice@example.test")
# RFC 3461 §4.4: a decoded ENVID is printable US-ASCII; CR and LF would
# start a field of the client's choosing in the report.
for envid in [b"x+0D+0AX-Injected:+20yes", b"x+0Ay", b"x+00", b"a" * 101]:
    code, text = client.mail("alice@example.test", ["ENVID=" + envid.decode()])
    assert (code, text[:5]) == (501, b"5.5.4"), (envid, code, text)
# RFC 3461 §4.2: the same for ORCPT, and it is at most 500 characters.
assert client.mail("alice@example.test")[0] == 250
for orcpt in ["rfc822;x@nullmx.test+0D+0AAction:+20delivered", "rfc822;x@nullmx.test+0A",
              "rfc822;" + "a" * 500 + "@nullmx.test"]:
    code, text = client.rcpt("x@nullmx.test", ["NOTIFY=FAILURE", "ORCPT=" + orcpt])
    assert (code, text[:5]) == (501, b"5.5.4"), (orcpt, code, text)
client.rset()
# Values that are allowed travel into the report in xtext, as given.
refused = client.sendmail("alice@example.test", ["x@nullmx.test"], b"Subject: doomed\r\n\r\nx\r\n",
                          mail_options=["ENVID=QQ+2B1", "RET=HDRS"],
                          rcpt_options=["NOTIFY=FAILURE", "ORCPT=rfc822;x+2By@nullmx.test"])
assert refused == {}, refused
client.quit()
[dsn] = mailtest.wait_for_messages("alice@example.test", 1)
assert b"Original-Envelope-Id: QQ+2B1\r\n" in dsn, dsn
assert b"Original-Recipient: rfc822; x+2By@nullmx.test\r\nAction: failed\r\n" in dsn, dsn
"#,
    );
}

#[test]
fn an_alias_that_leads_nowhere_is_refused_at_rcpt() {
    let server = Server::with_users("");
    server.admin(&["alias", "add", "ghost@example.test", "nobody@example.test"]);
    server.admin(&["alias", "add", "loop1@example.test", "loop2@example.test"]);
    server.admin(&["alias", "add", "loop2@example.test", "loop1@example.test"]);
    server.admin(&[
        "alias",
        "add",
        "half@example.test",
        "nobody@example.test",
        "bob@example.test",
    ]);
    server.python(
        r#"
import mailtest
smtp = mailtest.Raw(mailtest.SMTP_PORT)
smtp.send(b"HELO stranger.test\r\n")
assert smtp.line().startswith(b"250")
assert smtp.command(b"MAIL FROM:<forged@victim.test>").startswith(b"250")
for alias in [b"ghost", b"loop1"]:
    reply = smtp.command(b"RCPT TO:<" + alias + b"@example.test>")
    assert reply.startswith(b"550 5.1.1"), (alias, reply)
# An alias with one living target takes the mail.
assert smtp.command(b"RCPT TO:<half@example.test>").startswith(b"250")
"#,
    );
}
