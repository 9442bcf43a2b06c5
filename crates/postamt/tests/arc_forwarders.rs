//! Trusted forwarders (issue 16, item 4; RFC 8617 §7.2): a mailing list
//! re-sends a message of `bank.test` (which publishes `p=reject`) with a
//! footer, so bank.test's DKIM signature breaks, from an address outside
//! bank.test's SPF, so DMARC fails at us. The list's Authentication-Results
//! said the message passed there, and it ARC-sealed the message; dkimpy
//! (an independent implementation) makes every signature and seal. With
//! the list in `[auth_checks] trusted_forwarders` the message reaches the
//! INBOX, saying why; in every other case the DMARC policy applies.

mod common;

use common::Server;
use common::keys::{rsa_key, txt};

/// The DNS of the scenario, with the public keys of `keys`.
fn zone(keys: &Keys) -> String {
    format!(
        "bank.test TXT \"v=spf1 ip4:127.0.0.5 -all\"
sel._domainkey.bank.test TXT {}
_dmarc.bank.test TXT \"v=DMARC1; p=reject\"
shop.test TXT \"v=spf1 ip4:127.0.0.5 -all\"
sel._domainkey.shop.test TXT {}
_dmarc.shop.test TXT \"v=DMARC1; p=quarantine\"
lists.test TXT \"v=spf1 ip4:127.0.0.6 -all\"
arc._domainkey.lists.test TXT {}
relay.test TXT \"v=spf1 ip4:127.0.0.6 -all\"
arc._domainkey.relay.test TXT {}
",
        txt(&format!("v=DKIM1; k=rsa; p={}", keys.author.1)),
        txt(&format!("v=DKIM1; k=rsa; p={}", keys.author.1)),
        txt(&format!("v=DKIM1; k=rsa; p={}", keys.list.1)),
        txt(&format!("v=DKIM1; k=rsa; p={}", keys.relay.1)),
    )
}

/// (PEM file, public key) of the authors (bank.test and shop.test share
/// one), the list's and another forwarder's.
struct Keys {
    _dir: tempfile::TempDir,
    author: (String, String),
    list: (String, String),
    relay: (String, String),
}

fn keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    Keys {
        author: rsa_key(dir.path(), "author", 2048),
        list: rsa_key(dir.path(), "list", 2048),
        relay: rsa_key(dir.path(), "relay", 2048),
        _dir: dir,
    }
}

/// Python for the scenario: the author's signed message, the list's
/// footer, Authentication-Results and ARC seal, another forwarder's seal,
/// and sending from the list's address (127.0.0.6) as the list's bounce
/// address.
const FORWARDING: &str = r#"
import smtplib, time, dkim, mailtest
AUTHOR_KEY = open("AUTHOR_PEM", "rb").read()
KEYS = {b"lists.test": open("LIST_PEM", "rb").read(), b"relay.test": open("RELAY_PEM", "rb").read()}
PASSED = b"dkim=pass header.d=bank.test header.s=sel; spf=pass smtp.mailfrom=alice@bank.test; dmarc=pass header.from=bank.test"

def original(domain=b"bank.test", subject=b"statement"):
    message = (b"From: Alice <alice@" + domain + b">\r\nTo: list@lists.test\r\nSubject: " + subject +
               b"\r\nMessage-ID: <" + subject + b"@" + domain + b">\r\n\r\nHello list.\r\n")
    return dkim.sign(message, b"sel", domain, AUTHOR_KEY,
                     include_headers=[b"from", b"to", b"subject", b"message-id"]) + message

def forward(message, results=PASSED, sealer=b"lists.test", footer=True):
    """What a forwarder does: maybe a footer, its verdict, its ARC set."""
    if footer:
        message = message.replace(b"Hello list.\r\n", b"Hello list.\r\n-- \r\nUnsubscribe: list-leave@lists.test\r\n")
    message = b"Authentication-Results: " + sealer + b"; " + results + b"\r\n" + message
    seal = dkim.arc_sign(message, b"arc", sealer, KEYS[sealer], sealer)
    assert len(seal) == 3, seal
    return b"".join(seal) + message

def send(message):
    client = mailtest.smtp(source="127.0.0.6")
    try:
        client.sendmail("list-bounces@lists.test", ["bob@example.test"], message)
        return None
    except smtplib.SMTPDataError as e:
        return (e.smtp_code, e.smtp_error)
    finally:
        client.quit()

def refused(message):
    reply = send(message)
    assert reply is not None and reply[0] == 550 and reply[1].startswith(b"5.7.1"), reply
    assert b"DMARC" in reply[1] and b"bank.test" in reply[1], reply

def ours(stored):
    header = stored.split(b"\r\n\r\n")[0].decode().replace("\r\n\t", " ")
    [field] = [f for f in header.split("\r\n") if f.startswith("Authentication-Results: mx.example.test;")]
    return field

def junk_count():
    imap = mailtest.imap("bob@example.test")
    typ, data = imap.select("Junk")
    imap.logout()
    return int(data[0])
"#;

fn script(keys: &Keys, body: &str) -> String {
    FORWARDING
        .replace("AUTHOR_PEM", &keys.author.0)
        .replace("LIST_PEM", &keys.list.0)
        .replace("RELAY_PEM", &keys.relay.0)
        + body
}

#[test]
fn a_trusted_lists_word_lifts_a_dmarc_failure() {
    let keys = keys();
    let server = Server::start_with_zone("[auth_checks]\ntrusted_forwarders = [\"lists.test\"]\n", &zone(&keys));
    server.add_example_users();
    server.python(&script(
        &keys,
        r#"
# The list's copy: our DMARC fails (bank.test's signature is broken, SPF
# is the list's), the list's sealed word says it passed: INBOX.
assert send(forward(original())) is None
[stored] = mailtest.wait_for_messages("bob@example.test", 1)
field = ours(stored)
assert "arc=pass" in field and "dkim=fail" in field, field
assert ('dmarc=fail (Policy not aligned) reason="arc override: trusted forwarder lists.test saw '
        'dmarc=pass header.from=bank.test at i=1" header.from=bank.test policy.dmarc=reject') in field, field

# Without the footer it passes on its own, and no override is claimed.
assert send(forward(original(), footer=False)) is None
stored = mailtest.wait_for_messages("bob@example.test", 2)[-1]
assert "dmarc=pass" in ours(stored) and "override" not in ours(stored), ours(stored)

# Aligned DKIM in the list's results is enough when it has no DMARC result.
assert send(forward(original(), b"dkim=pass header.d=bank.test header.s=sel")) is None
stored = mailtest.wait_for_messages("bob@example.test", 3)[-1]
assert "saw dkim=pass header.d=bank.test at i=1" in ours(stored), ours(stored)

# p=quarantine: the INBOX instead of Junk.
passed_shop = PASSED.replace(b"bank.test", b"shop.test")
assert send(forward(original(b"shop.test"), passed_shop)) is None
stored = mailtest.wait_for_messages("bob@example.test", 4)[-1]
assert "policy.dmarc=quarantine" in ours(stored) and "arc override" in ours(stored), ours(stored)

# The list saw DMARC fail (even with an aligned DKIM pass beside it).
refused(forward(original(), b"dkim=pass header.d=bank.test; dmarc=fail header.from=bank.test"))
# The list's pass is about another domain; aligned only with another domain.
refused(forward(original(), b"dmarc=pass header.from=lists.test"))
refused(forward(original(), b"dkim=pass header.d=lists.test; spf=pass smtp.mailfrom=b@lists.test"))

# Broken seals: a header the list's signature covers changed after sealing;
# the list's results edited to say pass after sealing.
refused(forward(original()).replace(b"Subject: statement", b"Subject: pay now"))
failed = forward(original(), b"dmarc=fail header.from=bank.test")
assert failed.count(b"dmarc=fail header.from=bank.test") == 2, failed
refused(failed.replace(b"i=1; lists.test;\r\n dmarc=fail", b"i=1; lists.test;\r\n dmarc=pass", 1))

# Only the newest set counts: an untrusted forwarder after the list...
relayed = forward(forward(original()), b"arc=pass; " + PASSED, sealer=b"relay.test", footer=False)
assert b"i=2" in relayed and b"cv=pass" in relayed, relayed
refused(relayed)
# ...and the list after an untrusted forwarder.
assert send(forward(forward(original(), sealer=b"relay.test", footer=False), b"arc=pass; " + PASSED)) is None
stored = mailtest.wait_for_messages("bob@example.test", 5)[-1]
assert "arc=pass" in ours(stored) and "saw dmarc=pass header.from=bank.test at i=2" in ours(stored), ours(stored)
assert junk_count() == 0
"#,
    ));
    let log = server.log();
    assert!(
        log.contains("DMARC failure overridden") && log.contains("sealer=lists.test"),
        "{log}"
    );
}

/// Without the list in `trusted_forwarders` (nothing listed, or another
/// domain), the list's copy gets bank.test's policy as before: 550, and
/// shop.test's Junk.
#[test]
fn an_untrusted_lists_word_changes_nothing() {
    let keys = keys();
    for config in [
        "",
        "[auth_checks]\ntrusted_forwarders = [\"other.test\", \"relay.test\"]\n",
    ] {
        let server = Server::start_with_zone(config, &zone(&keys));
        server.add_example_users();
        server.python(&script(
            &keys,
            r#"
refused(forward(original()))
passed_shop = PASSED.replace(b"bank.test", b"shop.test")
assert send(forward(original(b"shop.test"), passed_shop)) is None
deadline = time.time() + 20
while junk_count() != 1:
    assert time.time() < deadline
    time.sleep(0.05)
"#,
        ));
        assert!(!server.log().contains("overridden"), "{}", server.log());
    }
}
