//! STORE and UID STORE (RFC 9051 §6.4.6), UNCHANGEDSINCE (RFC 7162).

use super::Harness;

/// +FLAGS, -FLAGS and FLAGS answer with the new flags; .SILENT answers
/// nothing.
#[tokio::test]
async fn store_modes_and_silent() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("\\Seen").await;
    client.ok("ENABLE IMAP4rev2").await;
    client.ok("SELECT INBOX").await;
    let lines = client.ok("STORE 1 +FLAGS (\\Flagged)").await;
    assert_eq!(lines, ["* 1 FETCH (FLAGS (\\Seen \\Flagged))\r\n"]);
    let lines = client.ok("STORE 1 -FLAGS (\\Seen)").await;
    assert_eq!(lines, ["* 1 FETCH (FLAGS (\\Flagged))\r\n"]);
    let lines = client.ok("STORE 1 FLAGS (\\Draft)").await;
    assert_eq!(lines, ["* 1 FETCH (FLAGS (\\Draft))\r\n"]);
    let lines = client.ok("STORE 1 +FLAGS.SILENT (\\Answered)").await;
    assert!(lines.is_empty(), "{lines:?}");
    let lines = client.ok("FETCH 1 FLAGS").await;
    assert_eq!(lines, ["* 1 FETCH (FLAGS (\\Answered \\Draft))\r\n"]);
}

/// UID STORE answers carry the UID (RFC 9051 §6.4.9); UIDs that do not
/// exist are left out.
#[tokio::test]
async fn uid_store_answers_with_uid() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("").await;
    client.append("").await;
    client.ok("ENABLE IMAP4rev2").await;
    client.ok("SELECT INBOX").await;
    let lines = client.ok("UID STORE 2,7 +FLAGS (\\Seen)").await;
    assert_eq!(lines, ["* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n"]);
}

/// UNCHANGEDSINCE below a message's MODSEQ leaves it alone and names it
/// in MODIFIED (RFC 7162 §3.1.3); as the first CONDSTORE enabling command
/// with the mailbox selected, it tells the HIGHESTMODSEQ first.
#[tokio::test]
async fn unchanged_since_reports_modified() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("").await;
    client.append("").await;
    client.ok("SELECT INBOX").await;
    let (lines, done) = client.command("STORE 1:2 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)").await;
    assert_eq!(lines, ["* OK [HIGHESTMODSEQ 3] Highest\r\n"]);
    assert!(
        done.ends_with(" OK [MODIFIED 1:2] Conditional STORE failed for some messages\r\n"),
        "{done}"
    );
    let lines = client.ok("FETCH 1:2 FLAGS").await;
    assert!(lines.iter().all(|l| !l.contains("\\Seen")), "{lines:?}");
}

/// Keywords past the bounds are NO [LIMIT]; taking one away never is.
#[tokio::test]
async fn keyword_bounds_apply_to_adding_only() {
    let harness = Harness::with_config(crate::ImapConfig {
        max_keyword_length: 5,
        ..crate::ImapConfig::default()
    })
    .await;
    let mut client = harness.session().await;
    client.append("").await;
    client.ok("SELECT INBOX").await;
    let done = client.no("STORE 1 +FLAGS (toolong)").await;
    assert!(done.ends_with(" NO [LIMIT] Keyword too long\r\n"), "{done}");
    client.ok("STORE 1 -FLAGS (toolong)").await;
}
