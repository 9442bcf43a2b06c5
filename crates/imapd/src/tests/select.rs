//! SELECT and EXAMINE (RFC 9051 §6.3.2-6.3.3), CLOSE and UNSELECT.

use super::{Harness, position};

/// The IMAP4rev1 answer: EXISTS, RECENT, the first unseen, FLAGS,
/// PERMANENTFLAGS, UIDVALIDITY, UIDNEXT, READ-WRITE (RFC 3501 §6.3.1).
#[tokio::test]
async fn select_answers_as_rev1() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("\\Seen").await;
    client.append("").await;
    let (lines, done) = client.command("SELECT INBOX").await;
    assert_eq!(lines[0], "* 2 EXISTS\r\n");
    assert_eq!(lines[1], "* 2 RECENT\r\n");
    assert_eq!(lines[2], "* OK [UNSEEN 2] First unseen\r\n");
    position(&lines, "* FLAGS (");
    position(&lines, "* OK [PERMANENTFLAGS (");
    position(&lines, "* OK [UIDVALIDITY ");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("* OK [UIDNEXT 3] Predicted next UID\r\n")
    );
    assert!(done.ends_with(" OK [READ-WRITE] SELECT completed\r\n"), "{done}");
}

/// With IMAP4rev2 enabled there is no RECENT and no UNSEEN (RFC 9051
/// §6.3.2 dropped them).
#[tokio::test]
async fn select_answers_as_rev2() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("").await;
    client.ok("ENABLE IMAP4rev2").await;
    let lines = client.ok("SELECT INBOX").await;
    assert!(
        !lines.iter().any(|l| l.contains("RECENT") || l.contains("UNSEEN")),
        "{lines:?}"
    );
    assert_eq!(lines[0], "* 1 EXISTS\r\n");
}

/// \Recent belongs to the first session that sees a message read-write;
/// EXAMINE does not claim it (RFC 3501 §2.3.2).
#[tokio::test]
async fn recent_goes_to_one_session() {
    let harness = Harness::new().await;
    let mut first = harness.session().await;
    let mut second = harness.session().await;
    first.append("").await;
    let lines = second.ok("EXAMINE INBOX").await;
    assert!(lines.contains(&"* 1 RECENT\r\n".to_string()), "{lines:?}");
    let lines = first.ok("SELECT INBOX").await;
    assert!(lines.contains(&"* 1 RECENT\r\n".to_string()), "{lines:?}");
    let lines = second.ok("SELECT INBOX").await;
    assert!(lines.contains(&"* 0 RECENT\r\n".to_string()), "{lines:?}");
}

/// EXAMINE: READ-ONLY, and PERMANENTFLAGS empty.
#[tokio::test]
async fn examine_is_read_only() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    let (lines, done) = client.command("EXAMINE INBOX").await;
    assert!(done.ends_with(" OK [READ-ONLY] EXAMINE completed\r\n"), "{done}");
    assert!(
        lines.contains(&"* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n".to_string()),
        "{lines:?}"
    );
}

/// UNSELECT leaves \Deleted messages; CLOSE expunges them without a word
/// (RFC 9051 §6.4.2, RFC 3691).
#[tokio::test]
async fn unselect_keeps_and_close_expunges() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("\\Deleted").await;
    client.append("").await;
    client.ok("SELECT INBOX").await;
    assert!(client.ok("UNSELECT").await.is_empty());
    let lines = client.ok("SELECT INBOX").await;
    assert_eq!(lines[0], "* 2 EXISTS\r\n");
    assert!(client.ok("CLOSE").await.is_empty());
    let lines = client.ok("SELECT INBOX").await;
    assert_eq!(lines[0], "* 1 EXISTS\r\n");
}

/// CLOSE of a mailbox opened with EXAMINE expunges nothing.
#[tokio::test]
async fn close_after_examine_expunges_nothing() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("\\Deleted").await;
    client.ok("EXAMINE INBOX").await;
    client.ok("CLOSE").await;
    let lines = client.ok("SELECT INBOX").await;
    assert_eq!(lines[0], "* 1 EXISTS\r\n");
}
