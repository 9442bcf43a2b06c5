//! Alias forwarding end to end, between two real postamt servers: F hosts
//! fwd.test, whose alias list@fwd.test forwards to bob@dest.test at D; D
//! hosts dest.test and origin.test and checks what arrives (SPF, DKIM,
//! ARC with mail-auth's validator). Alice at origin.test writes from an
//! address her SPF record names. Her mail must reach D from F:
//!
//! - with an SRS envelope sender of fwd.test, so SPF passes at D for a
//!   domain whose record names F;
//! - DKIM-signed by fwd.test and ARC-sealed by it, so D and dkimpy (an
//!   independent implementation) validate the chain and can read what F
//!   found when the message arrived;
//! - and a bounce to the SRS address must reach alice, while a forged SRS
//!   address is refused at RCPT.

mod common;

use common::Server;
use common::keys::{rsa_key, txt};

/// The DKIM key records of the zone-file lines `postamt dns` printed, as
/// the test DNS server's `NAME TXT VALUE` lines.
fn dkim_records(zone_lines: &str) -> String {
    zone_lines
        .lines()
        .filter(|line| line.contains("._domainkey."))
        .filter_map(|line| {
            let (name, rest) = line.split_once(" IN TXT ")?;
            Some(format!("{} TXT {rest}\n", name.trim_end_matches('.')))
        })
        .collect()
}

/// Python: `dnsfunc` for dkimpy, answering with the TXT records of the
/// zone lines `postamt dns fwd.test` prints and of `zone` (test DNS lines).
fn dnsfunc(forwarder: &Server, zone: &str) -> String {
    let keys = forwarder.admin(&["dns", "fwd.test"]);
    format!(
        r#"
import re
TXT = {{}}
for line in {keys:?}.splitlines():
    m = re.match(r'(\S+) IN TXT (.*)$', line)
    if m:
        TXT[m.group(1).lower().rstrip(".")] = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2)))
for line in {zone:?}.splitlines():
    name, kind, value = line.split(None, 2)
    if kind == "TXT":
        TXT[name.lower()] = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', value))
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    return TXT.get(name.lower().rstrip("."), "").encode()
"#
    )
}

/// Starts F (routing dest.test and origin.test to D, whose port it learns
/// at a restart) and D (knowing F's DKIM keys and SPF record); both
/// servers' zones have `shared` too.
fn forwarder_and_destination(shared: &str) -> (Server, Server) {
    let routes = "dest.test MX 10 mx.d.test\norigin.test MX 10 mx.d.test\nmx.d.test A 127.0.0.1\n";
    let origin = format!("origin.test TXT \"v=spf1 ip4:127.0.0.5 -all\"\n{shared}");
    let mut forwarder = Server::start_with_zone(
        "hostname = \"mx.fwd.test\"\n[delivery]\nport = 9\n",
        &format!("{routes}{origin}"),
    );
    forwarder.admin(&["domain", "add", "fwd.test"]);
    forwarder.admin(&["alias", "add", "list@fwd.test", "bob@dest.test"]);
    let keys = dkim_records(&forwarder.admin(&["dns", "fwd.test"]));
    assert!(keys.contains("._domainkey.fwd.test TXT"), "{keys}");
    let zone = format!("{origin}{keys}fwd.test TXT \"v=spf1 ip4:127.0.0.1 -all\"\nmx.fwd.test A 127.0.0.1\n");
    let destination = Server::start_with_zone("hostname = \"mx.d.test\"\n", &zone);
    for (domain, user) in [("dest.test", "bob@dest.test"), ("origin.test", "alice@origin.test")] {
        destination.admin(&["domain", "add", domain]);
        destination.add_user(user);
    }
    let config = std::fs::read_to_string(forwarder.config_path()).unwrap();
    let config = config.replace("port = 9\n", &format!("port = {}\n", destination.smtp.port()));
    std::fs::write(forwarder.config_path(), config).unwrap();
    forwarder.restart();
    (forwarder, destination)
}

#[test]
fn forwarded_mail_passes_spf_dkim_and_arc_and_its_bounce_comes_back() {
    let (forwarder, destination) = forwarder_and_destination("");
    forwarder.python(
        r#"
import mailtest
client = mailtest.smtp(source="127.0.0.5")
message = b"From: Alice <alice@origin.test>\r\nTo: list@fwd.test\r\nSubject: for the list\r\nMessage-ID: <1@origin.test>\r\n\r\nHello, list.\r\n"
assert client.sendmail("alice@origin.test", ["list@fwd.test"], message) == {}
client.quit()
"#,
    );
    let dnsfunc = dnsfunc(&forwarder, "");
    let srs = destination.python(&format!(
        r#"
import re, dkim, mailtest
[stored] = mailtest.wait_for_messages("bob@dest.test", 1)
header = stored.split(b"\r\n\r\n")[0].decode()
unfolded = re.sub(r"\r\n[ \t]+", " ", header)
ours = [f for f in unfolded.split("\r\n") if f.startswith("Authentication-Results: mx.d.test")]
assert len(ours) == 1, unfolded
srs = re.search(r"^Return-Path: <(SRS0=[^>]*)>", unfolded, re.M).group(1)
assert srs.endswith("=origin.test=alice@fwd.test"), srs
# The SRS address is quoted: "=" is not allowed in a token (RFC 2045).
assert f'spf=pass smtp.mailfrom="{{srs}}"' in ours[0], ours
assert "dkim=pass header.d=fwd.test" in ours[0], ours
assert "arc=pass" in ours[0], ours
# F's verdict on arrival travels in its ARC set.
aar = re.search(r"^ARC-Authentication-Results: i=1; mx.fwd.test;([^\r]*)", unfolded, re.M).group(1)
assert "spf=pass smtp.mailfrom=alice@origin.test" in aar, aar

{dnsfunc}
cv, results, reason = dkim.arc_verify(stored, dnsfunc=dnsfunc)
assert cv == dkim.CV_Pass, (cv, results, reason)
assert [r["instance"] for r in results] == [1], results
assert dkim.verify(stored, dnsfunc=dnsfunc), "the DKIM signature of fwd.test"
changed = stored.replace(b"Hello, list.", b"Hello, all.")
assert dkim.arc_verify(changed, dnsfunc=dnsfunc)[0] == dkim.CV_Fail
print(srs)
"#
    ));
    let srs = srs.trim();
    let forged = srs.replace("=alice@", "=mallory@");
    forwarder.python(&format!(
        r#"
import smtplib, mailtest
client = mailtest.smtp()
client.mail("<>")
code, text = client.rcpt("<{forged}>")
assert code == 550, (code, text)
code, text = client.rcpt("<SRS0=aaaaaaaa=aa=origin.test=alice@fwd.test>")
assert code == 550, (code, text)
code, text = client.rcpt("<{srs}>")
assert code == 250, (code, text)
code, text = client.data(b"From: MAILER-DAEMON@dest.test\r\nSubject: Undelivered Mail\r\n\r\nIt bounced.\r\n")
assert code == 250, (code, text)
client.quit()
"#
    ));
    destination.python(
        r#"
import mailtest
[bounce] = mailtest.wait_for_messages("alice@origin.test", 1)
assert bounce.startswith(b"Return-Path: <>\r\n"), bounce[:200]
assert b"It bounced." in bounce
"#,
    );
}

/// A message that a mailing list (lists.test) sealed already: F validates
/// the list's set, adds the second one with cv=pass, and both D and
/// dkimpy validate the chain of two.
#[test]
fn a_sealed_message_gets_the_next_set_of_the_chain() {
    let keys = tempfile::tempdir().unwrap();
    let (pem, public) = rsa_key(keys.path(), "list", 2048);
    let list_key = format!(
        "sel._domainkey.lists.test TXT {}\n",
        txt(&format!("v=DKIM1; k=rsa; p={public}"))
    );
    let (forwarder, destination) = forwarder_and_destination(&list_key);
    forwarder.python(&format!(
        r#"
import dkim, mailtest
message = (b"Authentication-Results: lists.test; spf=pass smtp.mailfrom=alice@origin.test\r\n"
    b"From: Alice <alice@origin.test>\r\nTo: list@fwd.test\r\nSubject: via the list\r\n"
    b"Message-ID: <2@origin.test>\r\n\r\nHello from the list.\r\n")
fields = dkim.arc_sign(message, b"sel", b"lists.test", open({pem:?}, "rb").read(), b"lists.test",
                       include_headers=[b"from", b"to", b"subject"])
client = mailtest.smtp(source="127.0.0.5")
assert client.sendmail("alice@origin.test", ["list@fwd.test"], b"".join(fields) + message) == {{}}
client.quit()
"#
    ));
    destination.python(&format!(
        r#"
import re, dkim, mailtest
{dnsfunc}
[stored] = mailtest.wait_for_messages("bob@dest.test", 1)
unfolded = re.sub(r"\r\n[ \t]+", " ", stored.split(b"\r\n\r\n")[0].decode())
ours = [f for f in unfolded.split("\r\n") if f.startswith("Authentication-Results: mx.d.test")]
assert "arc=pass" in ours[0], ours
seal = re.search(r"^ARC-Seal: i=2;[^\r]*", unfolded, re.M).group(0)
assert "cv=pass" in seal and "d=fwd.test" in seal, seal
aar = re.search(r"^ARC-Authentication-Results: i=2; mx.fwd.test;([^\r]*)", unfolded, re.M).group(1)
assert "arc=pass" in aar, aar
cv, results, reason = dkim.arc_verify(stored, dnsfunc=dnsfunc)
assert cv == dkim.CV_Pass, (cv, results, reason)
assert sorted(r["instance"] for r in results) == [1, 2], results
"#,
        dnsfunc = dnsfunc(&forwarder, &list_key),
    ));
}
