//! SORT and THREAD end to end with a real client, the Python `imapclient`
//! library (its `sort()` and `thread()` send UID SORT and UID THREAD): a
//! mailbox of several hundred messages in threads with scrambled dates,
//! answered the same whether the sort keys come from the store or, for
//! messages stored without them (by an older version), from their headers.

mod common;

use common::Server;

#[test]
fn imapclient_sorts_and_threads_with_and_without_stored_keys() {
    let server = Server::with_users("");
    server.python(
        r#"
import os, sqlite3, time, mailtest
from imapclient import IMAPClient

client = IMAPClient(mailtest.HOST, port=mailtest.IMAP_PORT, ssl=False, timeout=30)
client.starttls(mailtest.tls_context())
client.login("alice@example.test", mailtest.PASSWORD)
for capability in [b"SORT", b"SORT=DISPLAY", b"THREAD=REFERENCES", b"THREAD=ORDEREDSUBJECT", b"ESORT"]:
    assert client.has_capability(capability.decode()), capability

# 30 threads of 10: the first of each a root, the others replies to it
# (References) with "Re:" subjects; threads' dates scrambled, replies
# later than their roots.
THREADS, SIZE = 30, 10
sent = {}
for n in range(1, THREADS * SIZE + 1):
    root = n - (n - 1) % SIZE
    slot = (root // SIZE * 7) % THREADS
    sent[n] = 1_767_225_600 + slot * 3600 + (n - root) * 60
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(sent[n]))
    header = "Message-ID: <%d@x.test>\r\nDate: %s\r\nFrom: user%03d@x.test\r\n" % (n, date, (n * 37) % 300)
    if n == root:
        header += "Subject: topic %d\r\n" % root
    else:
        header += "References: <%d@x.test>\r\nSubject: Re: topic %d\r\n" % (root, root)
    client.append("INBOX", (header + "\r\nbody %d\r\n" % n).encode())
client.select_folder("INBOX")

def answers():
    return (
        client.sort(["REVERSE", "DATE"]),
        client.sort(["FROM"]),
        client.sort(["SUBJECT", "DATE"], ["NOT", "FROM", "user000@x.test"]),
        client.thread("REFERENCES"),
        client.thread("ORDEREDSUBJECT"),
    )

by_date, by_from, by_subject, references, ordered = answers()
assert by_date == sorted(sent, key=lambda n: -sent[n]), by_date[:20]
assert by_from == sorted(sent, key=lambda n: ((n * 37) % 300, n)), by_from[:20]
# Base subjects "TOPIC r" in byte order, then date.
expected = sorted((n for n in sent if (n * 37) % 300 != 0),
                  key=lambda n: ("TOPIC %d" % (n - (n - 1) % SIZE), sent[n]))
assert by_subject == expected, by_subject[:20]

def flat(thread):
    return [m for part in thread for m in (flat(part) if isinstance(part, tuple) else [part])]
# One thread per root, roots in date order, each its root then its replies.
roots = sorted(range(1, THREADS * SIZE + 1, SIZE), key=lambda r: sent[r])
assert [flat(t) for t in references] == [list(range(r, r + SIZE)) for r in roots], references[:3]
assert [flat(t) for t in ordered] == [list(range(r, r + SIZE)) for r in roots], ordered[:3]

# As if every other message had been stored before the sort keys were
# kept: the same answers, worked out from their headers.
db = sqlite3.connect(os.path.join(os.environ["DATA_DIR"], "data", "postamt.db"))
with db:
    removed = db.execute("DELETE FROM message_sort_keys WHERE message_id % 2 = 0").rowcount
assert removed >= THREADS * SIZE // 2 - 1, removed
assert answers() == (by_date, by_from, by_subject, references, ordered)
client.logout()
"#,
    );
}
