//! COPY, MOVE (RFC 9051 §6.4.7-6.4.8, RFC 6851) with COPYUID (RFC 4315),
//! EXPUNGE and UID EXPUNGE (RFC 9051 §6.4.3, RFC 4315).

use super::{Client, Harness};

/// A session with rev2 enabled (no \Recent), `flags` appended to INBOX
/// one message each, INBOX selected and an empty Keep created.
async fn inbox(harness: &Harness, flags: &[&str]) -> Client {
    let mut client = harness.session().await;
    for flags in flags {
        client.append(flags).await;
    }
    client.ok("CREATE Keep").await;
    client.ok("ENABLE IMAP4rev2").await;
    client.ok("SELECT INBOX").await;
    client
}

/// The `COPYUID` code of a line, without its UIDVALIDITY (clock-made).
fn copyuid(line: &str) -> String {
    let start = line.find("[COPYUID ").expect("COPYUID") + "[COPYUID ".len();
    let end = line[start..].find(']').expect("]") + start;
    let mut parts = line[start..end].splitn(2, ' ');
    parts.next();
    parts.next().unwrap_or_default().to_string()
}

/// COPY answers COPYUID with old and new UIDs in order and keeps the
/// flags; the source is unchanged.
#[tokio::test]
async fn copy_keeps_flags_and_names_new_uids() {
    let harness = Harness::new().await;
    let mut client = inbox(&harness, &["\\Seen", "", "\\Flagged"]).await;
    let (lines, done) = client.command("COPY 1,3 Keep").await;
    assert!(lines.is_empty(), "{lines:?}");
    assert_eq!(copyuid(&done), "1,3 1,2");
    let (lines, done) = client.command("UID COPY 2 Keep").await;
    assert!(lines.is_empty(), "{lines:?}");
    assert_eq!(copyuid(&done), "2 3");
    client.ok("SELECT Keep").await;
    let lines = client.ok("FETCH 1:3 FLAGS").await;
    assert_eq!(
        lines,
        [
            "* 1 FETCH (FLAGS (\\Seen))\r\n",
            "* 2 FETCH (FLAGS (\\Flagged))\r\n",
            "* 3 FETCH (FLAGS ())\r\n",
        ]
    );
}

/// MOVE: COPYUID untagged first, then the EXPUNGEs, each number the one
/// the client knows at that point (RFC 6851 §4.3, RFC 9051 §7.5.1).
#[tokio::test]
async fn move_answers_copyuid_then_expunges() {
    let harness = Harness::new().await;
    let mut client = inbox(&harness, &["", "", "", ""]).await;
    let (lines, done) = client.command("MOVE 2,4 Keep").await;
    assert!(done.ends_with(" OK MOVE completed\r\n"), "{done}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].starts_with("* OK [COPYUID ") && lines[0].ends_with("] Moved\r\n"),
        "{lines:?}"
    );
    assert_eq!(copyuid(&lines[0]), "2,4 1,2");
    assert_eq!(&lines[1..], ["* 4 EXPUNGE\r\n", "* 2 EXPUNGE\r\n"]);
    let lines = client.ok("FETCH 1:* UID").await;
    assert_eq!(lines, ["* 1 FETCH (UID 1)\r\n", "* 2 FETCH (UID 3)\r\n"]);
}

/// EXPUNGE removes \Deleted messages only, reported from the last.
#[tokio::test]
async fn expunge_removes_deleted_only() {
    let harness = Harness::new().await;
    let mut client = inbox(&harness, &["\\Deleted", "", "\\Deleted \\Seen", ""]).await;
    let lines = client.ok("EXPUNGE").await;
    assert_eq!(lines, ["* 3 EXPUNGE\r\n", "* 1 EXPUNGE\r\n"]);
    let lines = client.ok("UID FETCH 1:* UID").await;
    assert_eq!(lines, ["* 1 FETCH (UID 2)\r\n", "* 2 FETCH (UID 4)\r\n"]);
    // Nothing left to expunge: OK, no answer.
    assert!(client.ok("EXPUNGE").await.is_empty());
}

/// UID EXPUNGE removes only the \Deleted messages among its UIDs.
#[tokio::test]
async fn uid_expunge_limits_to_its_uids() {
    let harness = Harness::new().await;
    let mut client = inbox(&harness, &["\\Deleted", "\\Deleted", ""]).await;
    let lines = client.ok("UID EXPUNGE 2:3").await;
    assert_eq!(lines, ["* 2 EXPUNGE\r\n"]);
    let lines = client.ok("FETCH 1:* (UID FLAGS)").await;
    assert_eq!(
        lines,
        [
            "* 1 FETCH (UID 1 FLAGS (\\Deleted))\r\n",
            "* 2 FETCH (UID 3 FLAGS ())\r\n"
        ]
    );
}

/// COPY of nothing (a number past the end) says so; the target is
/// still checked first.
#[tokio::test]
async fn copy_of_nothing() {
    let harness = Harness::new().await;
    let mut client = inbox(&harness, &[""]).await;
    let (_, done) = client.command("COPY 5 Keep").await;
    assert!(done.ends_with(" OK Nothing to do\r\n"), "{done}");
    let done = client.no("COPY 5 Nowhere").await;
    assert!(done.contains(" NO [TRYCREATE] "), "{done}");
}
