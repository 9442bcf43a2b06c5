//! FETCH that sets \Seen (RFC 9051 §6.4.5): what the client is told, and
//! that the store is written once per batch of messages (issue 15).

use super::{Harness, answers};

/// BODY[] without PEEK on five unseen messages: each answer shows
/// \Seen, and the flags are written in one group-commit job.
#[tokio::test]
async fn fetching_bodies_marks_them_seen_in_one_job() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    for flags in ["", "", "\\Seen", "", ""] {
        client.append(flags).await;
    }
    client.ok("SELECT INBOX").await;
    let (_, jobs_before) = harness.server.store.commit_stats();
    let lines = answers(client.ok("FETCH 1:5 BODY[]").await);
    let (_, jobs_after) = harness.server.store.commit_stats();
    assert_eq!(jobs_after - jobs_before, 1, "one write for the batch: {lines:?}");
    let answers: Vec<&String> = lines.iter().filter(|l| l.contains(" FETCH (")).collect();
    assert_eq!(answers.len(), 5, "{lines:?}");
    for (i, answer) in answers.iter().enumerate() {
        assert!(answer.starts_with(&format!("* {} FETCH (", i + 1)), "{lines:?}");
        // The one already \Seen is not reported as changed.
        let changed = answer.contains("FLAGS (\\Seen");
        assert_eq!(changed, i != 2, "{i}: {answer}");
    }
    // They stay \Seen.
    let lines = client.ok("FETCH 1:5 FLAGS").await;
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert!(lines.iter().all(|l| l.contains("FLAGS (\\Seen")), "{lines:?}");
}

/// BODY.PEEK and EXAMINE do not set \Seen (RFC 9051 §6.3.3, §6.4.5):
/// nothing is written.
#[tokio::test]
async fn peek_and_examine_write_nothing() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("").await;
    client.ok("SELECT INBOX").await;
    let (_, before) = harness.server.store.commit_stats();
    let lines = answers(client.ok("FETCH 1 BODY.PEEK[]").await);
    assert!(!lines.iter().any(|l| l.contains("\\Seen")), "{lines:?}");
    client.ok("EXAMINE INBOX").await;
    let lines = answers(client.ok("FETCH 1 (RFC822 BODY[TEXT])").await);
    assert!(!lines.iter().any(|l| l.contains("\\Seen")), "{lines:?}");
    let (_, after) = harness.server.store.commit_stats();
    assert_eq!(after, before, "no write");
}

/// RFC822.TEXT and BINARY[] set \Seen too, FLAGS once per answer even
/// when FLAGS is asked for as well.
#[tokio::test]
async fn rfc822_text_and_binary_set_seen() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("").await;
    client.append("").await;
    // IMAP4rev2 has no \Recent (RFC 9051 §2.3.2).
    client.ok("ENABLE IMAP4rev2").await;
    client.ok("SELECT INBOX").await;
    let lines = answers(client.ok("FETCH 1 RFC822.TEXT").await);
    assert!(lines[0].contains("FLAGS (\\Seen)"), "{lines:?}");
    let lines = answers(client.ok("FETCH 2 (FLAGS BINARY[1])").await);
    assert_eq!(lines[0].matches("FLAGS").count(), 1, "{lines:?}");
    assert!(lines[0].contains("FLAGS (\\Seen)"), "{lines:?}");
}

/// Another session on the mailbox hears of the new \Seen at its next
/// NOOP (RFC 9051 §7.5.1).
#[tokio::test]
async fn another_session_sees_the_new_flags() {
    let harness = Harness::new().await;
    let mut reader = harness.session().await;
    let mut other = harness.session().await;
    reader.append("").await;
    reader.append("").await;
    reader.ok("SELECT INBOX").await;
    other.ok("SELECT INBOX").await;
    reader.ok("FETCH 1:2 BODY[TEXT]").await;
    let lines = other.ok("NOOP").await;
    for n in 1..=2 {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("* {n} FETCH")) && l.contains("\\Seen")),
            "{lines:?}"
        );
    }
}
