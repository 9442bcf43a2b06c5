//! `postamt store copy` end to end (issue 18): a server on SQLite gets
//! 1 000 messages over SMTP in two accounts, some large enough for the
//! content store, and mailboxes made, messages copied, moved, flagged and
//! expunged over IMAP; it is stopped and its store copied to PostgreSQL
//! with the real binary, a server started on that answers IMAP the same
//! (UIDVALIDITY, UIDNEXT, and every message's UID, flags, size and body),
//! is stopped in turn, and its store copied back to a new SQLite data
//! directory, whose server answers the same again. A copy from a store
//! still served is refused. MODSEQ is not shown over IMAP yet: the store's
//! own test (crates/store/tests/copy.rs) compares it.
//!
//! Skipped, with a message, when no PostgreSQL can be started.

mod common;

use std::process::{Command, Output};

use common::Server;

/// The IMAP view of alice's and bob's stores: for each mailbox, its
/// UIDVALIDITY, UIDNEXT and messages; for each message its UID, flags,
/// size and the SHA-256 of its body.
const CAPTURE: &str = r#"
import hashlib, re, mailtest
for user in ["alice@example.test", "bob@example.test"]:
    imap = mailtest.imap(user)
    typ, listing = imap.list()
    assert typ == "OK", listing
    names = sorted(re.match(rb'\(.*?\) "/" "?(.*?)"?$', line).group(1).decode() for line in listing)
    for name in names:
        typ, exists = imap.select('"%s"' % name, readonly=True)
        assert typ == "OK", (name, exists)
        uidvalidity = imap.response("UIDVALIDITY")[1][0].decode()
        uidnext = imap.response("UIDNEXT")[1][0].decode()
        print(user, name, "exists", exists[0].decode(), "uidvalidity", uidvalidity, "uidnext", uidnext)
        if exists[0] == b"0":
            continue
        typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE BODY.PEEK[])")
        assert typ == "OK", data
        for item in data:
            if not isinstance(item, tuple):
                continue
            head, body = item
            uid = re.search(rb"UID (\d+)", head).group(1).decode()
            flags = sorted(re.search(rb"FLAGS \((.*?)\)", head).group(1).decode().split())
            size = re.search(rb"RFC822\.SIZE (\d+)", head).group(1).decode()
            assert int(size) == len(body), (head, len(body))
            print("  uid", uid, "flags", " ".join(flags), "size", size, "sha256", hashlib.sha256(body).hexdigest())
    imap.logout()
"#;

/// Mail and IMAP changes, on the first server.
const POPULATE: &str = r#"
import mailtest
smtp = mailtest.smtp()
for n in range(1000):
    to = "alice@example.test" if n % 10 < 7 else "bob@example.test"
    # Every 50th is above the inline limit (64 KiB): in the content store.
    lines = 4000 if n % 50 == 0 else 3
    body = "".join("line %d of message %d\r\n" % (i, n) for i in range(lines))
    message = "From: sender%d@elsewhere.test\r\nTo: %s\r\nSubject: message %d\r\n\r\n%s" % (n, to, n, body)
    smtp.sendmail("sender%d@elsewhere.test" % n, [to], message.encode())
smtp.quit()
mailtest.wait_for_messages("alice@example.test", 700, timeout=60)
mailtest.wait_for_messages("bob@example.test", 300, timeout=60)
imap = mailtest.imap("alice@example.test")
for name in ["Projects", "Projects/Old"]:
    assert imap.create(name)[0] == "OK"
imap.select("INBOX")
assert imap.uid("COPY", "1:50", "Projects")[0] == "OK"
assert imap.uid("MOVE", "51:150", "Projects/Old")[0] == "OK"
assert imap.uid("STORE", "151:400", "+FLAGS", r"(\Seen)")[0] == "OK"
assert imap.uid("STORE", "200:250", "+FLAGS", r"($Work \Flagged)")[0] == "OK"
assert imap.uid("STORE", "300:310", "+FLAGS", r"(\Deleted)")[0] == "OK"
assert imap.expunge()[0] == "OK"
imap.select("Projects")
assert imap.uid("STORE", "1:10", "+FLAGS", r"(\Answered)")[0] == "OK"
imap.logout()
imap = mailtest.imap("bob@example.test")
imap.select("INBOX")
assert imap.uid("STORE", "1:100", "+FLAGS", r"(\Seen $Label1)")[0] == "OK"
imap.logout()
"#;

fn store_copy(from: &str, to: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_postamt"))
        .args(["store", "copy", "--from", from, "--to", to])
        .output()
        .expect("run postamt store copy")
}

fn succeeded(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "store copy failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Copied and verified"), "{stdout}");
    stdout
}

/// The server's view, checked to hold what POPULATE made.
fn capture(server: &Server) -> String {
    let view = server.python(CAPTURE);
    assert_eq!(view.matches("  uid ").count(), 1000 - 11 + 50, "{view}");
    view
}

#[test]
fn a_round_trip_through_postgres_answers_imap_the_same() {
    let Some(url) = test_postgres::fresh_database() else {
        return;
    };
    // SQLite, whatever POSTAMT_TEST_STORE says.
    let mut sqlite = Server::with_users("[store]\nurl = \"\"\n");
    sqlite.python(POPULATE);
    let original = capture(&sqlite);
    let data = format!("sqlite:{}", sqlite.dir.path().join("data").display());

    let refused = store_copy(&data, &url);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("is in use"), "{stderr}");

    sqlite.kill();
    let printed = succeeded(&store_copy(&data, &url));
    assert!(printed.contains("messages"), "{printed}");
    assert!(
        !printed.contains("; 0 contents"),
        "the large messages went through the content stores: {printed}"
    );
    let mut postgres = Server::start(&format!("[store]\nurl = \"{url}\"\n"));
    assert_eq!(capture(&postgres), original, "served from PostgreSQL");

    postgres.kill();
    let back = tempfile::tempdir().unwrap();
    let back_dir = back.path().join("data");
    succeeded(&store_copy(&url, &format!("sqlite:{}", back_dir.display())));
    let again = Server::start(&format!("data_dir = \"{}\"\n[store]\nurl = \"\"\n", back_dir.display()));
    assert_eq!(capture(&again), original, "served from SQLite again");
}

/// A source that is not there is an error that says so, and is not made:
/// neither a data directory without a database nor an empty PostgreSQL
/// database becomes an empty store to copy.
#[test]
fn a_missing_source_is_named_and_not_made() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let target = format!("sqlite:{}", dir.path().join("target").display());
    let output = store_copy(&format!("sqlite:{}", missing.display()), &target);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("there is no store at sqlite:"), "{stderr}");
    assert!(!missing.exists(), "the missing source was made");
    let Some(url) = test_postgres::fresh_database() else {
        return;
    };
    let output = store_copy(&url, &target);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("the database has no postamt tables"), "{stderr}");
    let again = store_copy(&url, &target);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("no postamt tables"),
        "the empty database was made a store"
    );
}
