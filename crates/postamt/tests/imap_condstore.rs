//! A real CONDSTORE/QRESYNC client against the real binary: the
//! `imapclient` Python library keeps a cache of a mailbox's flags,
//! another device changes the mailbox (flags, expunges, a new message),
//! and the client resynchronises with RFC 7162's calls: SELECT telling
//! HIGHESTMODSEQ, `FETCH 1:* (FLAGS) (CHANGEDSINCE n)`, and with QRESYNC
//! `UID FETCH (CHANGEDSINCE n VANISHED)`. It fetches only the changed
//! messages' data (the test counts them) and ends with the same state as
//! a full download.

mod common;

use common::Server;

const SCRIPT: &str = r#"
import mailtest
from imapclient import IMAPClient

def connect():
    client = IMAPClient(mailtest.HOST, port=mailtest.IMAPS_PORT, ssl=True,
                        ssl_context=mailtest.tls_context(), timeout=30)
    client.login("alice@example.test", mailtest.PASSWORD)
    return client

def every_uid(selected):
    # This imapclient takes message sets as lists, not "1:*".
    return list(range(1, selected[b"UIDNEXT"]))

def flags_of(response):
    # By UID (imapclient keys UID FETCH answers so), without \Recent,
    # which belongs to a session, not to the message.
    return {uid: sorted(f for f in data[b"FLAGS"] if f != b"\\Recent") for uid, data in response.items()}

# The mailbox: 40 messages, then a first full download into the cache.
phone = connect()
assert phone.has_capability("CONDSTORE") and phone.has_capability("QRESYNC"), phone.capabilities()
for n in range(40):
    phone.append("INBOX", b"Subject: message %d\r\n\r\nbody %d\r\n" % (n, n))
assert b"CONDSTORE" in phone.enable("CONDSTORE")
selected = phone.select_folder("INBOX", readonly=True)
uidvalidity, modseq = selected[b"UIDVALIDITY"], selected[b"HIGHESTMODSEQ"]
cache = flags_of(phone.fetch(every_uid(selected), ["UID", "FLAGS"]))
assert len(cache) == 40
phone.logout()

# Another device: three messages flagged, two expunged, one new.
laptop = connect()
laptop.select_folder("INBOX")
uids = sorted(cache)
laptop.add_flags([uids[3], uids[10], uids[20]], [b"\\Flagged"])
laptop.add_flags([uids[5], uids[6]], [b"\\Deleted"])
laptop.expunge()
laptop.append("INBOX", b"Subject: new\r\n\r\nnew\r\n")
laptop.logout()

# CONDSTORE resynchronisation: only what changed since the cached MODSEQ.
phone = connect()
phone.enable("CONDSTORE")
selected = phone.select_folder("INBOX", readonly=True)
assert selected[b"UIDVALIDITY"] == uidvalidity
assert selected[b"HIGHESTMODSEQ"] > modseq
changed = phone.fetch(every_uid(selected), ["UID", "FLAGS"], modifiers=["CHANGEDSINCE %d" % modseq])
assert all(b"MODSEQ" in data for data in changed.values()), changed
present = set(phone.search(["UID", "1:*"]))
cache = {uid: flags for uid, flags in cache.items() if uid in present}
cache.update(flags_of(changed))
full = flags_of(phone.fetch(every_uid(selected), ["UID", "FLAGS"]))
assert cache == full, ("the cache is the mailbox again", cache, full)
print("condstore fetched", len(changed))
phone.logout()

# QRESYNC: the expunged UIDs come with the changes, in one command.
phone = connect()
assert b"QRESYNC" in phone.enable("QRESYNC")
selected = phone.select_folder("INBOX", readonly=True)
changed = phone.fetch(every_uid(selected), ["FLAGS"], modifiers=["CHANGEDSINCE %d" % modseq, "VANISHED"])
vanished = phone._imap.untagged_responses.pop("VANISHED", [])
print("qresync fetched", len(changed), "vanished", [v.decode() for v in vanished])
phone.logout()
"#;

#[test]
fn imapclient_resynchronises_only_the_changed_messages() {
    let server = Server::with_users("");
    let output = server.python(SCRIPT);
    let lines: Vec<&str> = output.lines().collect();
    // Three flag changes and one new message: four messages' data, not 39.
    assert_eq!(lines[0], "condstore fetched 4", "{output}");
    assert_eq!(lines[1], "qresync fetched 4 vanished ['(EARLIER) 6:7']", "{output}");
}
