//! The order of untagged responses between sessions on one mailbox
//! (issue 13, defects 1, 6 and 10).

use super::{Harness, position};

/// RFC 9051 §7.3.5, RFC 3501 §7.2.6: a keyword new to the mailbox is
/// announced with FLAGS and PERMANENTFLAGS before a FETCH shows it, to
/// the session that set it and to every other selected session.
#[tokio::test]
async fn a_new_keyword_is_announced_before_a_fetch_shows_it() {
    let harness = Harness::new().await;
    let mut setter = harness.session().await;
    let mut other = harness.session().await;
    setter.append("").await;
    for session in [&mut setter, &mut other] {
        let lines = session.ok("SELECT INBOX").await;
        assert!(!lines[position(&lines, "* FLAGS")].contains("$Label1"), "{lines:?}");
    }

    let lines = setter.ok("STORE 1 +FLAGS ($Label1)").await;
    let flags = position(&lines, "* FLAGS (");
    let permanent = position(&lines, "* OK [PERMANENTFLAGS (");
    let fetch = position(&lines, "* 1 FETCH");
    assert!(flags < fetch && permanent < fetch, "{lines:?}");
    assert!(
        lines[flags].contains("$Label1") && lines[permanent].contains("$Label1"),
        "{lines:?}"
    );

    let lines = other.ok("NOOP").await;
    let flags = position(&lines, "* FLAGS (");
    let permanent = position(&lines, "* OK [PERMANENTFLAGS (");
    let fetch = position(&lines, "* 1 FETCH");
    assert!(flags < fetch && permanent < fetch, "{lines:?}");
    assert!(
        lines[flags].contains("$Label1") && lines[permanent].contains("$Label1"),
        "{lines:?}"
    );

    // A message that arrives with a keyword new to the mailbox: announced
    // with its EXISTS, before any FETCH could show it.
    setter.append("$Label2").await;
    let lines = other.ok("NOOP").await;
    assert!(lines[position(&lines, "* FLAGS (")].contains("$Label2"), "{lines:?}");
    assert!(
        position(&lines, "* FLAGS (") < position(&lines, "* 2 EXISTS"),
        "{lines:?}"
    );

    // Once defined, SELECT lists them.
    let mut fresh = harness.session().await;
    let lines = fresh.ok("SELECT INBOX").await;
    assert!(
        lines[position(&lines, "* FLAGS (")].contains("$Label1 $Label2"),
        "{lines:?}"
    );
    assert!(
        lines[position(&lines, "* OK [PERMANENTFLAGS (")].contains("$Label1 $Label2 \\*"),
        "{lines:?}"
    );
}

/// The count of the one RECENT response among `lines`.
fn recent(lines: &[String]) -> u32 {
    let counts: Vec<&String> = lines.iter().filter(|l| l.ends_with(" RECENT\r\n")).collect();
    assert_eq!(counts.len(), 1, "{lines:?}");
    counts[0]
        .split(' ')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a count")
}

/// RFC 3501 §6.3.2: EXAMINE reports the recent messages without claiming
/// them; the next SELECT claims them.
#[tokio::test]
async fn examine_reports_recent_and_leaves_it_for_select() {
    let harness = Harness::new().await;
    let mut appender = harness.session().await;
    appender.append("").await;
    appender.append("").await;
    let mut reader = harness.session().await;
    assert_eq!(recent(&reader.ok("EXAMINE INBOX").await), 2);
    let lines = reader.ok("FETCH 1:* (FLAGS)").await;
    assert_eq!(lines.iter().filter(|l| l.contains("\\Recent")).count(), 2, "{lines:?}");
    assert_eq!(recent(&reader.ok("EXAMINE INBOX").await), 2);
    assert_eq!(recent(&reader.ok("SELECT INBOX").await), 2);
    assert_eq!(recent(&appender.ok("SELECT INBOX").await), 0);
}

/// RFC 3501 §7.3.1-7.3.2: RECENT comes after the EXISTS that makes room
/// for it, and is lowered when EXPUNGE takes recent messages away.
#[tokio::test]
async fn recent_follows_exists_and_is_lowered_by_expunge() {
    let harness = Harness::new().await;
    let mut watcher = harness.session().await;
    let mut other = harness.session().await;
    watcher.ok("SELECT INBOX").await;
    for _ in 0..3 {
        other.append("").await;
    }
    assert_eq!(watcher.ok("NOOP").await, ["* 3 EXISTS\r\n", "* 3 RECENT\r\n"]);

    watcher.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(
        watcher.ok("EXPUNGE").await,
        ["* 2 EXPUNGE\r\n", "* 1 EXPUNGE\r\n", "* 1 RECENT\r\n"]
    );

    other.ok("SELECT INBOX").await;
    other.ok("STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    other.ok("EXPUNGE").await;
    assert_eq!(watcher.ok("NOOP").await, ["* 1 EXPUNGE\r\n", "* 0 RECENT\r\n"]);
}

/// IDLE reports others' changes as they happen: a new keyword is
/// announced there too, before the FETCH that shows it.
#[tokio::test]
async fn idle_announces_a_new_keyword_before_the_fetch() {
    let harness = Harness::new().await;
    let mut idler = harness.session().await;
    let mut setter = harness.session().await;
    setter.append("").await;
    idler.ok("SELECT INBOX").await;
    idler.send("t IDLE\r\n").await;
    assert!(idler.line().await.starts_with("+ "));
    setter.ok("SELECT INBOX").await;
    setter.ok("STORE 1 +FLAGS.SILENT ($Label1)").await;
    let mut lines = Vec::new();
    while !lines.last().is_some_and(|l: &String| l.starts_with("* 1 FETCH")) {
        lines.push(idler.line().await);
    }
    let flags = position(&lines, "* FLAGS (");
    assert!(lines[flags].contains("$Label1"), "{lines:?}");
    assert!(flags < position(&lines, "* OK [PERMANENTFLAGS ("), "{lines:?}");
    idler.send("DONE\r\n").await;
    assert!(idler.line().await.starts_with("t OK"));
}

/// A session claims \Recent only for the messages it holds: one that
/// arrived after it read the list (here: a claim that stops before the
/// last message) stays recent for the next session to see it.
#[tokio::test]
async fn a_message_the_claimer_did_not_hold_stays_recent() {
    let harness = Harness::new().await;
    let mut appender = harness.session().await;
    appender.append("").await;
    appender.append("").await;
    let store = &harness.server.store;
    let inbox = store
        .mailbox(harness.account.id, "INBOX")
        .await
        .expect("mailbox")
        .expect("INBOX");
    assert_eq!(store.claim_recent(inbox.id, 2).await.expect("claim"), (1, 2));
    let mut reader = harness.session().await;
    assert_eq!(recent(&reader.ok("SELECT INBOX").await), 1);
}
