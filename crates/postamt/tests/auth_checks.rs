//! The inbound checks end to end (issue 16): a DNS server on loopback
//! publishes SPF, DKIM and DMARC records for test domains; clients connect
//! from different loopback addresses, so SPF passes for some and fails for
//! others for real; messages are signed by an independent implementation
//! (dkimpy) with a key made for the test; what arrives is read back over
//! POP3 and its Authentication-Results field checked.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Server;
use common::keys::{rsa_key, txt};

/// A fresh Ed25519 key (RFC 8463): the private seed and the public key,
/// each as the base64 of its 32 raw bytes, as dkimpy and the DKIM record
/// want them. openssl writes both in DER, which ends with those bytes.
fn ed25519_key(dir: &Path) -> (String, String) {
    let pem = dir.join("ed.pem");
    let der = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .arg(&pem)
            .stderr(std::process::Stdio::null())
            .output()
            .expect("run openssl");
        assert!(output.status.success(), "openssl {args:?}");
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&output.stdout[output.stdout.len() - 32..])
    };
    let status = Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&pem)
        .status()
        .expect("run openssl");
    assert!(status.success());
    (
        der(&["pkey", "-outform", "DER", "-in"]),
        der(&["pkey", "-pubout", "-outform", "DER", "-in"]),
    )
}

const SPF_ZONE: &str = "\
hard.test TXT \"v=spf1 ip4:127.0.0.5 -all\"
soft.test TXT \"v=spf1 ip4:127.0.0.5 ~all\"
neutral.test TXT \"v=spf1 ?all\"
";

/// Shared by the scripts: send one message from an address, return the
/// reply or the stored copy's Authentication-Results field.
const HELPERS: &str = r#"
import smtplib, time, mailtest
def send(source, mail_from, message, to="bob@example.test"):
    client = mailtest.smtp(source=source)
    try:
        client.sendmail(mail_from, [to], message)
        return None
    except smtplib.SMTPResponseException as e:
        return (e.smtp_code, e.smtp_error)
    except smtplib.SMTPRecipientsRefused as e:
        return list(e.recipients.values())[0]
    except smtplib.SMTPSenderRefused as e:
        return (e.smtp_code, e.smtp_error)
    finally:
        try:
            client.quit()
        except Exception:
            pass
count = 0
def results(message_from, source, mail_from, message):
    global count
    assert send(source, mail_from, message) is None
    count += 1
    stored = mailtest.wait_for_messages("bob@example.test", count)[-1]
    header = stored.split(b"\r\n\r\n")[0].decode()
    fields = [f for f in header.replace("\r\n\t", " ").split("\r\n") if f.startswith("Authentication-Results:")]
    return fields, stored
"#;

fn message(from: &str, subject: &str) -> String {
    format!(
        "From: {from}\\r\\nTo: bob@example.test\\r\\nSubject: {subject}\\r\\nMessage-ID: <{subject}@x>\\r\\n\\r\\nHello.\\r\\n"
    )
}

#[test]
fn spf_pass_fail_softfail_and_neutral_from_real_addresses() {
    let server = Server::start_with_zone("", SPF_ZONE);
    server.add_example_users();
    let mut script = String::from(HELPERS);
    for (source, mail_from, expected) in [
        ("127.0.0.5", "a@hard.test", "spf=pass"),
        ("127.0.0.6", "a@hard.test", "spf=fail"),
        ("127.0.0.6", "a@soft.test", "spf=softfail"),
        ("127.0.0.6", "a@neutral.test", "spf=neutral"),
        ("127.0.0.6", "a@nothing.test", "spf=none"),
    ] {
        let msg = message(mail_from, "spf");
        script.push_str(&format!(
            r#"
fields, stored = results(None, "{source}", "{mail_from}", b"{msg}")
assert len(fields) == 1, fields
assert fields[0].startswith("Authentication-Results: mx.example.test;"), fields
assert "{expected} " in fields[0] and "smtp.mailfrom={mail_from}" in fields[0], fields
"#
        ));
    }
    server.python(&script);
}

#[test]
fn spf_fail_is_refused_at_mail_from_only_when_configured() {
    let server = Server::start_with_zone("[auth_checks]\nspf_fail = \"reject\"\n", SPF_ZONE);
    server.add_example_users();
    let msg = message("a@hard.test", "x");
    server.python(&format!(
        r#"{HELPERS}
reply = send("127.0.0.6", "a@hard.test", b"{msg}")
assert reply[0] == 550 and reply[1].startswith(b"5.7.23"), reply
assert b"hard.test" in reply[1], reply
assert send("127.0.0.6", "a@soft.test", b"{msg}") is None
assert send("127.0.0.5", "a@hard.test", b"{msg}") is None

# MAIL FROM:<> has only the HELO identity to check (RFC 7208 §2.3, §2.4).
for source, expected in [("127.0.0.6", 550), ("127.0.0.5", 250)]:
    client = smtplib.SMTP("127.0.0.1", mailtest.SMTP_PORT, source_address=(source, 0))
    client.ehlo("hard.test")
    code, text = client.mail("")
    client.quit()
    assert code == expected, (source, code, text)
    assert code == 250 or text.startswith(b"5.7.23"), text
"#
    ));
}

/// Signed mail: dkimpy's signatures verify, tampered ones fail; DMARC
/// passes aligned, refuses under p=reject, delivers under pct=0.
#[test]
fn dkim_and_dmarc_with_an_independent_signer() {
    let keys = tempfile::tempdir().unwrap();
    let (pem, public) = rsa_key(keys.path(), "sel", 2048);
    let (small_pem, small_public) = rsa_key(keys.path(), "small", 512);
    let zone = format!(
        "{SPF_ZONE}\
signed.test TXT \"v=spf1 ip4:127.0.0.5 -all\"
sel._domainkey.signed.test TXT {}
small._domainkey.signed.test TXT {}
bad._domainkey.signed.test TXT \"v=DKIM1; k=rsa; p=!!!not*base64!!!\"
_dmarc.signed.test TXT \"v=DMARC1; p=reject\"
pct0.test TXT \"v=spf1 ip4:127.0.0.5 -all\"
_dmarc.pct0.test TXT \"v=DMARC1; p=reject; pct=0\"
",
        txt(&format!("v=DKIM1; k=rsa; p={public}")),
        txt(&format!("v=DKIM1; k=rsa; p={small_public}")),
    );
    let server = Server::start_with_zone("", &zone);
    server.add_example_users();
    let msg = message("Someone <a@signed.test>", "signed");
    let pct0 = message("a@pct0.test", "pct0");
    server.python(&format!(
        r#"{HELPERS}
import dkim
def sign(message, selector, pem, algorithm=b"rsa-sha256"):
    key = open(pem, "rb").read()
    return dkim.sign(message, selector, b"signed.test", key, include_headers=[b"from", b"to", b"subject"],
                     signature_algorithm=algorithm) + message

plain = b"{msg}"
signed = sign(plain, b"sel", "{pem}")

# From an address SPF refuses, but with a good aligned signature: DMARC passes.
fields, stored = results(None, "127.0.0.6", "a@signed.test", signed)
assert "dkim=pass header.d=signed.test header.s=sel " in fields[0], fields
assert "dmarc=pass header.from=signed.test policy.dmarc=reject" in fields[0], fields
assert "spf=fail" in fields[0], fields

# Aligned SPF without a signature passes too.
fields, _ = results(None, "127.0.0.5", "a@signed.test", plain)
assert "dmarc=pass" in fields[0] and "spf=pass" in fields[0], fields

# Tampered body, and tampered signed header: DKIM fails, DMARC fails, p=reject refuses.
for tampered in [signed.replace(b"Hello.", b"Hullo."), signed.replace(b"Subject: signed", b"Subject: changed")]:
    reply = send("127.0.0.6", "a@signed.test", tampered)
    assert reply[0] == 550 and reply[1].startswith(b"5.7.1"), reply
    assert b"DMARC" in reply[1] and b"signed.test" in reply[1], reply

# SPF passes for another domain (unaligned) and nothing else: refused.
reply = send("127.0.0.5", "a@hard.test", plain)
assert reply[0] == 550 and reply[1].startswith(b"5.7.1"), reply

# pct=0: the domain asks for its policy on no mail; delivered, marked.
fields, _ = results(None, "127.0.0.6", "a@pct0.test", b"{pct0}")
assert "dmarc=fail" in fields[0], fields

# ARC (RFC 8617): a chain sealed by a forwarder validates; a body changed
# after the seal breaks it.
forwarded = (b"Authentication-Results: forwarder.test; spf=pass smtp.mailfrom=a@hard.test\r\n"
             b"From: a@hard.test\r\nTo: bob@example.test\r\nSubject: arc\r\n\r\nHello.\r\n")
seal = dkim.arc_sign(forwarded, b"sel", b"signed.test", open("{pem}", "rb").read(), b"forwarder.test")
sealed = b"".join(seal) + forwarded
fields, stored = results(None, "127.0.0.5", "a@hard.test", sealed)
assert "arc=pass smtp.remote-ip=127.0.0.5" in fields[0], fields
assert b"Authentication-Results: forwarder.test; spf=pass" in stored
fields, _ = results(None, "127.0.0.5", "a@hard.test", sealed.replace(b"Hello.", b"Hullo."))
assert "arc=fail" in fields[0], fields

# RFC 8301 §3.1: rsa-sha1 does not count, even with a good key.
reply = send("127.0.0.6", "a@signed.test", sign(plain, b"sel", "{pem}", b"rsa-sha1"))
assert reply[0] == 550, reply

# RFC 8301 §3.2: a 512-bit key does not verify; a key record that is not base64 neither.
for selector, pem in [(b"small", "{small_pem}")]:
    reply = send("127.0.0.6", "a@signed.test", sign(plain, selector, pem))
    assert reply[0] == 550, reply
bad = signed.replace(b"s=sel;", b"s=bad;")
reply = send("127.0.0.6", "a@signed.test", bad)
assert reply[0] == 550, reply
"#
    ));
}

/// An ed25519-sha256 signature (RFC 8463) made by dkimpy verifies, and
/// counts for DMARC; changed, it fails and p=reject refuses the message.
#[test]
fn an_ed25519_signature_verifies() {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = ed25519_key(keys.path());
    let zone = format!(
        "ed._domainkey.ed.test TXT \"v=DKIM1; k=ed25519; p={public}\"
_dmarc.ed.test TXT \"v=DMARC1; p=reject\"
"
    );
    let server = Server::start_with_zone("", &zone);
    server.add_example_users();
    let msg = message("Ed <a@ed.test>", "ed25519");
    server.python(&format!(
        r#"{HELPERS}
import dkim
plain = b"{msg}"
signed = dkim.sign(plain, b"ed", b"ed.test", b"{private}", include_headers=[b"from", b"to", b"subject"],
                   signature_algorithm=b"ed25519-sha256") + plain
assert b"a=ed25519-sha256" in signed, signed
fields, _ = results(None, "127.0.0.6", "a@ed.test", signed)
assert "dkim=pass header.d=ed.test header.s=ed " in fields[0], fields
assert "dmarc=pass header.from=ed.test" in fields[0], fields
reply = send("127.0.0.6", "a@ed.test", signed.replace(b"Hello.", b"Hullo."))
assert reply[0] == 550 and reply[1].startswith(b"5.7.1"), reply
"#
    ));
}

#[test]
fn a_forged_verdict_under_our_name_is_removed_and_others_are_kept() {
    let server = Server::start_with_zone("", SPF_ZONE);
    server.add_example_users();
    server.python(&format!(
        r#"{HELPERS}
message = (b"Authentication-Results: mx.example.test; dkim=pass header.d=bank.test; dmarc=pass\r\n"
    b"authentication-results:\r\n\t(folded) MX.EXAMPLE.TEST; spf=pass\r\n"
    b"Authentication-Results: other.test; dkim=pass header.d=list.test\r\n"
    b"From: ceo@hard.test\r\nSubject: forged\r\n\r\nPay now.\r\n")
fields, stored = results(None, "127.0.0.6", "ceo@hard.test", message)
ours = [f for f in fields if f.lower().startswith("authentication-results: mx.example.test")]
assert len(ours) == 1 and "spf=fail" in ours[0] and "dmarc=pass" not in ours[0], fields
assert b"header.d=bank.test" not in stored and b"(folded)" not in stored, stored
assert b"Authentication-Results: other.test; dkim=pass header.d=list.test\r\n" in stored
"#
    ));
}

#[test]
fn submitted_and_trusted_mail_is_not_checked() {
    let server = Server::start_with_zone("", SPF_ZONE);
    server.add_example_users();
    server.python(
        r#"
import mailtest
client = mailtest.submit("alice@example.test")
client.sendmail("alice@example.test", ["bob@example.test"], b"From: alice@example.test\r\nSubject: s\r\n\r\nhi\r\n")
client.quit()
[stored] = mailtest.wait_for_messages("bob@example.test", 1)
assert b"Authentication-Results" not in stored, stored
"#,
    );
}

/// Hostile DNS: a record of 10 000 characters, eleven DNS-querying
/// mechanisms, an include loop, a server that never answers, and a huge
/// signature header: each gets the RFC's result within the time budget.
#[test]
fn hostile_dns_and_headers_get_the_rfc_result_in_bounded_time() {
    let long = format!("v=spf1 {}-all", "ip4:192.0.2.1 ".repeat(700));
    let eleven: String = (0..11).map(|n| format!("a:h{n}.eleven.test ")).collect();
    let zone = format!(
        "long.test TXT {}
eleven.test TXT \"v=spf1 {eleven}-all\"
loop.test TXT \"v=spf1 include:loop2.test -all\"
loop2.test TXT \"v=spf1 include:loop.test -all\"
quiet.test SILENT -
",
        txt(&long)
    );
    let server = Server::start_with_zone("[auth_checks]\ntime_budget = 2\n", &zone);
    server.add_example_users();
    let started = Instant::now();
    let huge = "a".repeat(100_000);
    server.python(&format!(
        r#"{HELPERS}
import time
for mail_from, expected in [("a@long.test", "spf=fail"), ("a@eleven.test", "spf=permerror"),
                            ("a@loop.test", "spf=permerror")]:
    fields, _ = results(None, "127.0.0.6", mail_from, b"From: " + mail_from.encode() + b"\r\n\r\nx\r\n")
    assert expected + " " in fields[0], (mail_from, fields)

started = time.time()
fields, _ = results(None, "127.0.0.6", "a@quiet.test", b"From: a@quiet.test\r\n\r\nx\r\n")
took = time.time() - started
assert "spf=temperror" in fields[0], fields
assert took < 6, took

huge = b"\r\n\t".join(b"{huge}"[i:i + 76] for i in range(0, 100000, 76))
# The budget counts time spent checking, not the client's: a client slower
# than the budget between MAIL FROM and the end of its data still gets
# every check done.
client = mailtest.smtp(source="127.0.0.5")
assert client.mail("a@hard.test")[0] == 250
time.sleep(2.5)
assert client.rcpt("bob@example.test")[0] == 250
assert client.data(b"From: a@hard.test\r\nSubject: slow\r\n\r\nx\r\n")[0] == 250
client.quit()
count += 1
stored = mailtest.wait_for_messages("bob@example.test", count)[-1]
assert b"Subject: slow" in stored and b"temperror" not in stored, stored

signature = b"DKIM-Signature: v=1; a=rsa-sha256; d=hard.test; s=x; h=from; bh=AAAA; b=" + huge + b"\r\n"
fields, _ = results(None, "127.0.0.5", "a@hard.test", signature + b"From: a@hard.test\r\n\r\nx\r\n")
assert "dkim=" in fields[0] and "dkim=pass" not in fields[0], fields
"#
    ));
    assert!(started.elapsed() < Duration::from_secs(60));
}

/// DMARC `p=quarantine`: delivered into the recipient's Junk mailbox
/// (made again, with its \Junk role, if the user deleted it); `pct=0`
/// and aligned mail go to the INBOX.
#[test]
fn quarantined_mail_goes_to_junk() {
    let zone = "\
quar.test TXT \"v=spf1 ip4:127.0.0.5 -all\"
_dmarc.quar.test TXT \"v=DMARC1; p=quarantine\"
quar0.test TXT \"v=spf1 ip4:127.0.0.5 -all\"
_dmarc.quar0.test TXT \"v=DMARC1; p=quarantine; pct=0\"
";
    let server = Server::start_with_zone("", zone);
    server.add_example_users();
    let quarantined = message("a@quar.test", "quarantined");
    let sampled_out = message("a@quar0.test", "pct0");
    let aligned = message("a@quar.test", "aligned");
    server.python(&format!(
        r#"{HELPERS}
imap = mailtest.imap("bob@example.test")
assert imap.delete("Junk")[0] == "OK"
assert send("127.0.0.6", "a@quar.test", b"{quarantined}") is None
deadline = time.time() + 20
while True:
    typ, data = imap.select("Junk")
    if typ == "OK" and int(data[0]) == 1:
        break
    assert time.time() < deadline, (typ, data)
    time.sleep(0.05)
typ, listing = imap.list("\"\"", "Junk")
assert b"\\Junk" in listing[0], listing
typ, data = imap.fetch("1", "(BODY.PEEK[HEADER])")
header = data[0][1]
assert b"dmarc=fail" in header and b"policy.dmarc=quarantine" in header, header
imap.logout()

assert send("127.0.0.6", "a@quar0.test", b"{sampled_out}") is None
assert send("127.0.0.5", "a@quar.test", b"{aligned}") is None
stored = mailtest.wait_for_messages("bob@example.test", 2)
assert b"Subject: pct0" in stored[0] and b"dmarc=fail" in stored[0], stored[0]
assert b"Subject: aligned" in stored[1] and b"dmarc=pass" in stored[1], stored[1]
"#
    ));
}
