//! The order of IMAP's untagged responses (issue 13, defects 1, 6 and
//! 10), seen by two or three sessions on one mailbox: new keywords are
//! announced with FLAGS and PERMANENTFLAGS before a FETCH uses them,
//! EXAMINE reports \Recent without claiming it, and RECENT comes after
//! EXISTS and is lowered when EXPUNGE takes recent messages away.
//!
//! End to end against the binary: the imapd crate has no harness of its
//! own for sessions over an in-memory stream (a Server needs a store, TLS
//! and accounts), and the checks that matter are what a client reads.
//! The client is tests/python/imapcheck.py, which checks every untagged
//! response as it arrives.

mod common;

use common::Server;

const CLEARTEXT: &str = "[auth]\nallow_cleartext = true\n";

#[test]
fn a_new_keyword_is_announced_before_a_fetch_uses_it() {
    let server = Server::with_users(CLEARTEXT);
    server.python(
        r#"
import imapcheck
message = b"Subject: one\r\n\r\nbody\r\n"
setter = imapcheck.Session("alice@example.test", "setter")
other = imapcheck.Session("alice@example.test", "other")
assert setter.command(b"APPEND INBOX ()", message)[0] == b"OK"
for session in (setter, other):
    assert session.command(b"SELECT INBOX")[0] == b"OK"
    assert b"$label1" not in session.flags, session.flags

# The session that sets it: FLAGS and PERMANENTFLAGS, then the FETCH.
status, lines = setter.command(b"STORE 1 +FLAGS ($Label1)")
assert status == b"OK", lines
assert lines[0].startswith(b"* FLAGS (") and lines[1].startswith(b"* OK [PERMANENTFLAGS (")
assert lines[2].startswith(b"* 1 FETCH (FLAGS ($Label1"), lines
assert b"$label1" in setter.flags and b"$label1" in setter.permanent, lines

# Every other selected session, at its next chance to hear of it.
status, lines = other.command(b"NOOP")
assert status == b"OK" and any(b"$Label1" in line for line in lines), lines
assert b"$label1" in other.flags and b"$label1" in other.permanent, lines

# A message that arrives with a keyword new to the mailbox.
assert setter.command(b"APPEND INBOX ($Label2)", message)[0] == b"OK"
other.command(b"NOOP")
other.command(b"FETCH 1:* (FLAGS)")
assert b"$label2" in other.flags, other.log

# Once defined, the mailbox lists them when selected.
fresh = imapcheck.Session("alice@example.test", "fresh")
status, lines = fresh.command(b"EXAMINE INBOX")
assert {b"$label1", b"$label2"} <= fresh.flags, lines
assert fresh.command(b"SELECT INBOX")[0] == b"OK"
assert {b"$label1", b"$label2"} <= fresh.permanent, fresh.log

violations = setter.violations + other.violations + fresh.violations
assert not violations, "\n".join(violations)
"#,
    );
}

#[test]
fn examine_reports_recent_messages_and_leaves_them_for_select() {
    let server = Server::with_users(CLEARTEXT);
    server.python(
        r#"
import imapcheck
message = b"Subject: new\r\n\r\nbody\r\n"
appender = imapcheck.Session("alice@example.test", "appender")
for _ in range(2):
    assert appender.command(b"APPEND INBOX ()", message)[0] == b"OK"

def recent_after(session, command):
    status, lines = session.command(command)
    assert status == b"OK", lines
    counts = [line for line in lines if line.endswith(b" RECENT\r\n")]
    assert len(counts) == 1, lines
    return int(counts[0].split(b" ")[1])

# RFC 3501 §6.3.2: EXAMINE reports them and does not claim them.
reader = imapcheck.Session("alice@example.test", "reader")
assert recent_after(reader, b"EXAMINE INBOX") == 2
status, lines = reader.command(b"FETCH 1:* (FLAGS)")
assert sum(b"\\Recent" in line for line in lines) == 2, lines
assert recent_after(reader, b"EXAMINE INBOX") == 2
# The first SELECT claims them; after it, nobody else sees them as recent.
assert recent_after(reader, b"SELECT INBOX") == 2
assert recent_after(appender, b"SELECT INBOX") == 0
assert recent_after(appender, b"EXAMINE INBOX") == 0

assert not reader.violations + appender.violations, reader.violations + appender.violations
"#,
    );
}

#[test]
fn recent_follows_exists_and_is_lowered_by_expunge() {
    let server = Server::with_users(CLEARTEXT);
    server.python(
        r#"
import imapcheck
message = b"Subject: new\r\n\r\nbody\r\n"
watcher = imapcheck.Session("alice@example.test", "watcher")
other = imapcheck.Session("alice@example.test", "other")
assert watcher.command(b"SELECT INBOX")[0] == b"OK"

# Another session's APPENDs (from outside the mailbox, so that the
# watcher is the one to claim them): EXISTS first, then the RECENT it
# makes room for.
for _ in range(3):
    assert other.command(b"APPEND INBOX ()", message)[0] == b"OK"
status, lines = watcher.command(b"NOOP")
assert lines == [b"* 3 EXISTS\r\n", b"* 3 RECENT\r\n"], lines
assert other.command(b"SELECT INBOX")[0] == b"OK"

# The watcher's own EXPUNGE of two recent messages lowers RECENT.
assert watcher.command(b"STORE 1:2 +FLAGS.SILENT (\\Deleted)")[0] == b"OK"
status, lines = watcher.command(b"EXPUNGE")
assert status == b"OK" and watcher.exists == 1 and watcher.recent == 1, lines

# Another session's EXPUNGE of the last one does too.
other.command(b"NOOP")
assert other.command(b"STORE 1 +FLAGS.SILENT (\\Deleted)")[0] == b"OK"
assert other.command(b"EXPUNGE")[0] == b"OK"
status, lines = watcher.command(b"NOOP")
assert watcher.exists == 0 and watcher.recent == 0, lines

assert not watcher.violations + other.violations, "\n".join(watcher.violations + other.violations)
"#,
    );
}
