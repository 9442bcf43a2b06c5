//! IMAP end to end with Python's imaplib: login over STARTTLS and implicit
//! TLS, folders, APPEND, FETCH of headers then bodies, flags, SEARCH,
//! COPY, MOVE, EXPUNGE, and two sessions that see each other's changes.

mod common;

use common::Server;

#[test]
fn login_needs_tls_and_works_on_both_ports() {
    let server = Server::with_users("");
    server.python(
        r#"
import imaplib, mailtest
plain = imaplib.IMAP4(mailtest.HOST, mailtest.IMAP_PORT)
assert "LOGINDISABLED" in plain.capabilities and "STARTTLS" in plain.capabilities, plain.capabilities
try:
    plain.login("alice@example.test", mailtest.PASSWORD)
    raise SystemExit("LOGIN without TLS was accepted")
except imaplib.IMAP4.error as e:
    assert "PRIVACYREQUIRED" in str(e), e
plain.logout()
for tls in ["starttls", "implicit"]:
    client = mailtest.imap("alice@example.test", tls)
    typ, data = client.list()
    names = sorted(line.decode().split(' "/" ')[1].strip('"') for line in data)
    assert names == ["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"], names
    assert any(b"\\Sent" in line for line in data), data
    client.logout()
# AUTHENTICATE PLAIN, with an initial response (SASL-IR) and without.
import base64
credentials = base64.b64encode(b"\0alice@example.test\0" + mailtest.PASSWORD.encode())
imap = mailtest.Raw(mailtest.IMAPS_PORT, tls=True)
assert b"AUTH=PLAIN" in imap.greeting and b"SASL-IR" in imap.greeting, imap.greeting
assert imap.command(b"a AUTHENTICATE PLAIN " + credentials).startswith(b"a OK [CAPABILITY")
imap = mailtest.Raw(mailtest.IMAPS_PORT, tls=True)
assert imap.command(b"a AUTHENTICATE PLAIN").startswith(b"+")
assert imap.command(credentials).startswith(b"a OK")
client = imaplib.IMAP4_SSL(mailtest.HOST, mailtest.IMAPS_PORT, ssl_context=mailtest.tls_context())
try:
    client.login("alice@example.test", "wrong")
    raise SystemExit("a wrong password was accepted")
except imaplib.IMAP4.error as e:
    assert "AUTHENTICATIONFAILED" in str(e), e
"#,
    );
}

#[test]
fn folders_append_fetch_flags_search_copy_move_expunge() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
client = mailtest.imap("alice@example.test")
assert client.create("Projects/2026")[0] == "OK"
assert client.create("Projects/2026")[0] == "NO"
assert client.rename("Projects", "Work")[0] == "OK"
names = sorted(l.decode().split(' "/" ')[1].strip('"') for l in client.list()[1])
assert "Work/2026" in names and "Work" in names and "Projects" not in names, names
message = b"From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: Plans\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <p1@example.test>\r\n\r\nLet us meet.\r\n"
typ, data = client.append("Work/2026", "(\\Flagged)", '"22-Nov-2026 10:00:00 +0000"', message)
assert typ == "OK" and b"APPENDUID" in data[0], data
typ, data = client.select("Work/2026")
assert typ == "OK" and data == [b"1"], data
typ, data = client.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE)")
assert b"\\Flagged" in data[0] and b'INTERNALDATE "22-Nov-2026 10:00:00 +0000"' in data[0], data
assert b"RFC822.SIZE %d" % len(message) in data[0], data
typ, data = client.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert data[0][1] == b"Subject: Plans\r\n\r\n", data
typ, data = client.fetch("1", "(BODY.PEEK[])")
assert data[0][1] == message, data
assert b"\\Seen" not in client.fetch("1", "(FLAGS)")[1][0], "PEEK leaves \\Seen alone"
typ, data = client.fetch("1", "(BODY[TEXT])")
assert data[0][1] == b"Let us meet.\r\n", data
assert b"\\Seen" in client.fetch("1", "(FLAGS)")[1][0], "BODY[] sets \\Seen"
assert client.store("1", "+FLAGS", "(\\Answered $Work)")[0] == "OK"
flags = client.fetch("1", "(FLAGS)")[1][0]
assert b"\\Answered" in flags and b"$Work" in flags, flags
assert client.search(None, "FLAGGED")[1] == [b"1"]
assert client.search(None, "UNSEEN")[1] == [b""]
assert client.search(None, 'KEYWORD $Work LARGER 10')[1] == [b"1"]
typ, data = client.copy("1", "INBOX")
assert typ == "OK" and b"COPYUID" in data[0], data
typ, data = client.uid("MOVE", "1", "Archive")
assert typ == "OK", data
assert client.select("Work/2026")[1] == [b"0"]
assert client.select("Archive")[1] == [b"1"]
assert client.store("1", "+FLAGS", "\\Deleted")[0] == "OK"
typ, data = client.expunge()
assert data == [b"1"], data
assert client.select("Archive")[1] == [b"0"]
status = client.status("INBOX", "(MESSAGES UNSEEN UIDNEXT)")[1][0]
assert b"MESSAGES 1" in status and b"UIDNEXT 2" in status, status
assert client.delete("Work/2026")[0] == "OK"
client.logout()
"#,
    );
}

#[test]
fn two_sessions_see_each_others_changes_and_idle_wakes_on_delivery() {
    let server = Server::with_users("");
    server.python(
        r#"
import socket, ssl, time, mailtest
one = mailtest.imap("alice@example.test")
two = mailtest.imap("alice@example.test")
for n in range(2):
    one.append("INBOX", None, None, b"Subject: m%d\r\n\r\nx\r\n" % n)
one.select("INBOX")
two.select("INBOX")
# A flag change in one session shows in the other as FETCH FLAGS.
one.store("1", "+FLAGS", "\\Flagged")
typ, data = two.noop()
fetches = two.untagged_responses.pop("FETCH", [])
assert any(b"\\Flagged" in f for f in fetches), (fetches, data)
# An EXPUNGE in one is reported in the other at NOOP, not during FETCH.
one.store("1", "+FLAGS", "\\Deleted")
one.expunge()
typ, data = two.fetch("2", "(FLAGS)")
assert "EXPUNGE" not in two.untagged_responses, two.untagged_responses
two.noop()
expunged = two.untagged_responses.pop("EXPUNGE", None)
assert expunged == [b"1"], (expunged, two.untagged_responses)
one.logout()
two.logout()

# IDLE wakes when SMTP delivers.
raw = socket.create_connection((mailtest.HOST, mailtest.IMAPS_PORT), timeout=30)
sock = mailtest.tls_context().wrap_socket(raw)
reader = sock.makefile("rb")
reader.readline()
sock.sendall(b'a LOGIN "alice@example.test" "' + mailtest.PASSWORD.encode() + b'"\r\n')
while not reader.readline().startswith(b"a OK"):
    pass
sock.sendall(b"b SELECT INBOX\r\n")
while not reader.readline().startswith(b"b OK"):
    pass
sock.sendall(b"c IDLE\r\n")
assert reader.readline().startswith(b"+"), "IDLE continuation"
started = time.monotonic()
smtp = mailtest.smtp()
smtp.sendmail("x@other.test", ["alice@example.test"], b"Subject: wake up\r\n\r\nhi\r\n")
smtp.quit()
line = reader.readline()
assert line == b"* 2 EXISTS\r\n", line
# IDLE never polls: without the wake on delivery the line above would
# wait for the socket's 30 s timeout. The bound leaves room for a busy
# machine (delivery is an fsync or two, typically well under a second).
assert time.monotonic() - started < 10, "IDLE reports new mail as soon as it is delivered"
sock.sendall(b"DONE\r\n")
line = reader.readline()
while line.startswith(b"* "):
    line = reader.readline()
assert line.startswith(b"c OK"), line
"#,
    );
}

/// A session skips re-reading its mailbox after a flag change of its own
/// only when nothing else changed in between: another session's change,
/// made just before or just after, is still reported.
#[test]
fn own_flag_changes_never_hide_another_sessions() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
one = mailtest.imap("alice@example.test")
two = mailtest.imap("alice@example.test")
for n in range(3):
    one.append("INBOX", None, None, b"Subject: m%d\r\n\r\nx\r\n" % n)
one.select("INBOX")
two.select("INBOX")
# Two's change comes between one's view and one's own change.
two.store("1", "+FLAGS", "\\Flagged")
typ, data = one.store("2", "+FLAGS", "\\Seen")
assert any(d.startswith(b"1 ") and b"\\Flagged" in d for d in data), data
assert any(d.startswith(b"2 ") and b"\\Seen" in d for d in data), data
# One's own change follows its view directly; two's comes after it.
typ, data = one.store("3", "+FLAGS", "\\Seen")
assert not any(d.startswith(b"1 ") for d in data), data
two.store("1", "-FLAGS", "\\Flagged")
one.noop()
fetches = one.untagged_responses.pop("FETCH", [])
assert any(f.startswith(b"1 ") and b"\\Flagged" not in f for f in fetches), fetches
# And a fetch that sets \Seen is an own change too.
two.store("2", "+FLAGS", "\\Answered")
typ, data = one.fetch("1", "(BODY[])")
one.noop()
# Reported with the FETCH's own answers or at the NOOP.
fetches = [d[0] if isinstance(d, tuple) else d for d in data] + one.untagged_responses.pop("FETCH", [])
assert any(f.startswith(b"2 ") and b"\\Answered" in f for f in fetches), fetches
one.logout()
two.logout()
"#,
    );
}

#[test]
fn hostile_input_gets_bad_or_no_and_the_session_survives() {
    let server = Server::with_users("[imap]\nmax_literal = 100000");
    server.python(
        r#"
import mailtest
imap = mailtest.Raw(mailtest.IMAPS_PORT, tls=True)
assert imap.greeting.startswith(b"* OK")
assert imap.command(b"a1 FROBNICATE").startswith(b"a1 BAD")
assert imap.command(b"a2 FETCH 1 FLAGS").startswith(b"a2 BAD"), "not selected"
assert imap.command(b"a3 APPEND INBOX {99999999999}").startswith(b"a3 NO [TOOBIG]")
imap.send(b"a5 NOOP " + b"x" * 200000 + b"\r\n")
assert imap.line().startswith(b"a5 BAD [TOOBIG]"), "an endless line is refused"
assert imap.command(b"a6 NOOP").startswith(b"a6 OK")
imap.send(b'a7 LOGIN "alice@example.test" {%d}\r\n' % len(mailtest.PASSWORD))
assert imap.line().startswith(b"+"), "synchronising literal gets a continuation"
imap.send(mailtest.PASSWORD.encode() + b"\r\n")
while True:
    line = imap.line()
    if line.startswith(b"a7 "):
        assert line.startswith(b"a7 OK"), line
        break
# Deep nesting is refused where SEARCH is otherwise allowed: logged in,
# a mailbox selected; as deep as the limit (16) is still fine.
imap.send(b"a8 SELECT INBOX\r\n")
while not (line := imap.line()).startswith(b"a8 "):
    assert line, "the connection closed"
assert line.startswith(b"a8 OK"), line
def search(tag, depth):
    imap.send(tag + b" SEARCH " + b"(" * depth + b"ALL" + b")" * depth + b"\r\n")
    while not (line := imap.line()).startswith(tag + b" "):
        assert line, "the connection closed"
    return line
assert search(b"a9", 15).startswith(b"a9 OK")
assert search(b"a10", 100).startswith(b"a10 BAD")
assert search(b"a11", 100000).startswith(b"a11 BAD")
assert imap.command(b"a12 NOOP").startswith(b"a12 OK")
"#,
    );
}

#[test]
fn sessions_per_user_are_limited() {
    let server = Server::with_users("[imap]\nmax_sessions_per_user = 2");
    server.python(
        r#"
import imaplib, mailtest
held = [mailtest.imap("alice@example.test", "implicit") for _ in range(2)]
try:
    mailtest.imap("alice@example.test", "implicit")
    raise SystemExit("a third session got in")
except imaplib.IMAP4.error as e:
    assert "LIMIT" in str(e), e
mailtest.imap("bob@example.test", "implicit").logout()
held[0].logout()
mailtest.imap("alice@example.test", "implicit").logout()
"#,
    );
}

#[test]
fn recent_is_shown_to_exactly_one_rev1_session() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
one = mailtest.imap("alice@example.test")
one.append("INBOX", None, None, b"Subject: first\r\n\r\nx\r\n")
typ, data = one.select("INBOX")
recent = one.untagged_responses.pop("RECENT", None)
assert recent == [b"1"], (recent, one.untagged_responses)
assert b"\\Recent" in one.fetch("1", "(FLAGS)")[1][0]
assert one.search(None, "RECENT")[1] == [b"1"] and one.search(None, "NEW")[1] == [b"1"]
two = mailtest.imap("alice@example.test")
assert b"RECENT 0" in two.status("INBOX", "(RECENT)")[1][0], "already claimed by the first session"
two.select("INBOX")
assert two.untagged_responses.pop("RECENT") == [b"0"]
assert b"\\Recent" not in two.fetch("1", "(FLAGS)")[1][0]
assert two.search(None, "OLD")[1] == [b"1"]
# New mail is recent for the session that learns of it first: here the
# one that appended it (its APPEND reports the new message at once).
two.append("INBOX", None, None, b"Subject: second\r\n\r\nx\r\n")
assert b"\\Recent" in two.fetch("2", "(FLAGS)")[1][0]
one.noop()
exists, recent = one.untagged_responses.pop("EXISTS", None), one.untagged_responses.pop("RECENT", None)
assert (exists[-1], recent) == (b"2", [b"1"]), (exists, recent)
assert b"\\Recent" not in one.fetch("2", "(FLAGS)")[1][0]
"#,
    );
}

#[test]
fn utf8_names_esearch_saved_results_and_list_status() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
rev1 = mailtest.imap("alice@example.test")
# A rev1 client writes and reads non-ASCII names in modified UTF-7.
assert rev1.create("Entw&APw-rfe")[0] == "OK"
assert any(b'"Entw&APw-rfe"' in line for line in rev1.list()[1]), rev1.list()[1]
for n in range(5):
    flags = "(\\Flagged)" if n % 2 == 0 else None
    rev1.append("INBOX", flags, None, b"Subject: m%d\r\n\r\nbody %d\r\n" % (n, n))
rev1.select("INBOX")
# ESEARCH with RETURN options, and SAVE for use as $ (RFC 5182).
typ, data = rev1.search(None, "RETURN (MIN MAX COUNT SAVE) FLAGGED")
esearch = rev1.untagged_responses.pop("ESEARCH", [b""])[0]
assert b"MIN 1 MAX 5 COUNT 3" in esearch, (data, esearch)
typ, data = rev1.fetch("$", "(FLAGS)")
assert len([d for d in data if d]) == 3, data
typ, data = rev1.uid("SEARCH", "RETURN (ALL) 2:*")
esearch = rev1.untagged_responses.pop("ESEARCH", [b""])[0]
assert b"UID ALL 2:5" in esearch, esearch
# LIST-STATUS (RFC 5819) and LIST-EXTENDED selection.
typ, data = rev1._simple_command("LIST", '""', '"INBOX"', "RETURN", "(STATUS (MESSAGES UNSEEN SIZE))")
status = rev1.untagged_responses.pop("STATUS", [b""])[0]
assert b"MESSAGES 5" in status and b"UNSEEN 5" in status, status
assert rev1.unselect()[0] == "OK"
rev1.logout()
# After ENABLE UTF8=ACCEPT (RFC 6855) names are UTF-8.
utf8 = mailtest.imap("alice@example.test")
assert utf8._simple_command("ENABLE", "UTF8=ACCEPT")[0] == "OK"
typ, data = utf8.list()
assert any("Entwürfe".encode() in line for line in data), data
"#,
    );
}

#[test]
fn header_fetch_and_search_use_stored_fields_and_fall_back_to_the_blob() {
    // Messages keep their header section (migration 6) and their decoded
    // From/To/Cc/Bcc/Subject (migration 7) beside their facts; messages
    // stored before lack them and are read from the header or the blob.
    // All must give the same answers.
    let server = Server::with_users("");
    server.python(
        r#"
import os, sqlite3, mailtest
client = mailtest.imap("alice@example.test")
message = b"From: Bob <bob@example.test>\r\nSubject: Stored header\r\n\r\nBody mentions Carol.\r\n"
assert client.append("INBOX", None, None, message)[0] == "OK"
client.select("INBOX")
def answers():
    return (
        client.fetch("1", "(BODY.PEEK[HEADER])")[1][0][1],
        client.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1][0][1],
        client.fetch("1", "(RFC822.HEADER)")[1][0][1],
        client.search(None, "FROM", "bob")[1],
        client.search(None, "SUBJECT", "stored")[1],
        client.search(None, "FROM", "carol")[1],
        client.search(None, "BODY", "carol")[1],
    )
expected = (
    b"From: Bob <bob@example.test>\r\nSubject: Stored header\r\n\r\n",
    b"Subject: Stored header\r\n\r\n",
    b"From: Bob <bob@example.test>\r\nSubject: Stored header\r\n\r\n",
    [b"1"], [b"1"], [b""], [b"1"],
)
db = sqlite3.connect(os.path.join(os.environ["DATA_DIR"], "data", "postamt.db"))
stored = db.execute("SELECT header, fields FROM messages JOIN message_search ON message_id = id").fetchall()
assert stored[0][0] == expected[0], stored
assert "bob <bob@example.test>" in stored[0][1] and "stored header" in stored[0][1], stored
assert answers() == expected, answers()
# As if stored before migration 7 (no search fields), then before 6 (no header).
for change in ["DELETE FROM message_search", "UPDATE messages SET header = NULL"]:
    with db:
        db.execute(change)
    assert answers() == expected, (change, answers())
"#,
    );
}

#[test]
fn a_large_message_is_fetched_without_holding_it_whole() {
    // Issue 7: FETCH BODY[] streams the message from its blob. 40 MB
    // appended, then fetched whole: the server's peak memory during the
    // FETCH (which includes argon2id's 19 MiB for the login) must stay well
    // below the message's size.
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
client = mailtest.imap("alice@example.test")
line = b"y" * 998 + b"\r\n"
message = b"Subject: large\r\n\r\n" + line * (40 * 1024)
assert client.append("INBOX", None, None, message)[0] == "OK"
client.logout()
"#,
    );
    // Let the allocator give the APPEND's buffers back before measuring.
    server.reset_peak_rss();
    let before = server.rss_kib();
    server.python(
        r#"
import mailtest
client = mailtest.imap("alice@example.test")
client.select("INBOX")
typ, data = client.fetch("1", "(BODY.PEEK[])")
assert typ == "OK" and len(data[0][1]) == 18 + 1000 * 40 * 1024, len(data[0][1])
assert data[0][1].endswith(b"y" * 998 + b"\r\n")
client.logout()
"#,
    );
    let grown = server.peak_rss_kib().saturating_sub(before);
    assert!(grown < 24 * 1024, "fetching a 40 MB message took {grown} KiB more");
}

#[test]
fn search_reads_large_mailboxes_in_batches() {
    // More messages than one batch of contents (256): every one must be
    // looked at, with stored fields, without them, and by header.
    let server = Server::with_users("");
    server.python(
        r#"
import os, sqlite3, mailtest
client = mailtest.imap("alice@example.test")
for n in range(1, 301):
    sender = "carol" if n % 3 == 0 else "dave"
    message = b"From: %s@example.test\r\nX-Number: n%d\r\nSubject: number %d\r\n\r\nbody\r\n" % (sender.encode(), n, n)
    assert client.append("INBOX", None, None, message)[0] == "OK"
client.select("INBOX")
carol = [str(n).encode() for n in range(3, 301, 3)]
def found(*criteria):
    return client.search(None, *criteria)[1][0].split()
assert found("FROM", "carol") == carol
assert found("HEADER", "X-Number", "n299") == [b"299"]
assert len(found("SUBJECT", "number")) == 300
db = sqlite3.connect(os.path.join(os.environ["DATA_DIR"], "data", "postamt.db"))
with db:
    # As if every other message had been stored before migration 7.
    db.execute("DELETE FROM message_search WHERE message_id % 2 = 0")
assert found("FROM", "carol") == carol
assert found("NOT", "FROM", "dave") == carol
"#,
    );
}
