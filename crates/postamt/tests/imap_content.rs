//! Issue 13, defects 7, 8 and 11, end to end against the real binary:
//! SEARCH on every address form, APPEND and FETCH of binary content, and
//! how long a command takes when its client sends the last line apart.

mod common;

use common::Server;

#[test]
fn search_finds_addresses_in_every_form() {
    // Defect 7: comments and folding white space between the tokens of
    // an addr-spec (RFC 5322 §3.4.1, §4.4), groups, quoted local parts and
    // RFC 2047 display names. Also for messages whose search fields were
    // stored by an older version (without the addresses written plainly):
    // those are not trusted, and the header is read instead.
    let server = Server::with_users("");
    server.python(
        r#"
import os, sqlite3, mailtest
client = mailtest.imap("alice@example.test")
messages = [
    b"From: <user-from (comment)@ (comment) domain.org>\r\nSubject: one\r\n\r\nx\r\n",
    b"From: a@x.test\r\nTo: Team (the team): \"quoted local\"@x.test,\r\n (folded)\r\n\tBob\r\n <bob (c) . (c) b @ y (c) . test>;\r\nSubject: two\r\n\r\nx\r\n",
    b"From: a@x.test\r\nCc: =?UTF-8?Q?J=C3=BCrgen?= =?ISO-8859-1?Q?_M=FCller?= <jm@x.test>\r\nSubject: three\r\n\r\nx\r\n",
    b"From: a@x.test\r\nBcc: hidden @ dom . test (Hidden Name)\r\nSubject: four\r\n\r\nx\r\n",
]
for message in messages:
    assert client.append("INBOX", None, None, message)[0] == "OK"
client.select("INBOX")
utf8 = [("FROM", "user-from@domain.org", b"1"), ("TO", "quoted local@x.test", b"2"),
        ("TO", "bob.b@y.test", b"2"), ("TO", "Bob <bob.b@y.test>", b"2"), ("TO", "team", b"2"),
        ("CC", "JÜRGEN MÜLLER <jm@x.test>", b"3"), ("BCC", "hidden@dom.test", b"4"),
        ("BCC", "hidden name", b"4"), ("FROM", "nobody@x.test", b"")]
def answers():
    found = []
    for key, needle, _ in utf8:
        client.literal = needle.encode()  # sent as a literal after the key
        typ, got = client.uid("SEARCH", "CHARSET", "UTF-8", key)
        assert typ == "OK", (key, needle, got)
        found.append(got[0])
    return found
expected = [uid for _, _, uid in utf8]
assert answers() == expected, answers()
# As if stored by the version before: the old form had no VERSION mark
# and only the fields as written.
db = sqlite3.connect(os.path.join(os.environ["DATA_DIR"], "data", "postamt.db"))
with db:
    for (fields,) in db.execute("SELECT fields FROM message_search").fetchall():
        assert fields.startswith("\x032"), fields
    db.execute("UPDATE message_search SET fields = substr(fields, 3)")
assert answers() == expected, answers()
"#,
    );
}
