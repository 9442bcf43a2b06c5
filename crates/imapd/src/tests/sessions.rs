//! Two sessions on one mailbox: what each is told of the other's STORE,
//! EXPUNGE and APPEND, and when (RFC 9051 §5.2, §5.5, §7.4.1, §7.5.1):
//! flag changes and new messages at any command, EXPUNGE never during
//! FETCH, STORE or SEARCH (the client's sequence numbers must keep their
//! meaning) but at NOOP, IDLE or the next other command.

use super::{Client, Harness, answers};

/// Two sessions with INBOX selected, holding `n` messages (UIDs 1..=n).
/// Both enable IMAP4rev2, which has no \Recent and no RECENT (RFC 9051
/// §2.3.2): only the reports these tests are about are sent.
async fn two(harness: &Harness, n: usize) -> (Client, Client) {
    let mut a = harness.session().await;
    let mut b = harness.session().await;
    for _ in 0..n {
        a.append("").await;
    }
    for session in [&mut a, &mut b] {
        session.ok("ENABLE IMAP4rev2").await;
        session.ok("SELECT INBOX").await;
    }
    (a, b)
}

fn has(lines: &[String], wanted: &str) -> bool {
    lines.iter().any(|line| line.trim_end() == wanted)
}

fn any_expunge(lines: &[String]) -> bool {
    lines.iter().any(|line| line.ends_with(" EXPUNGE\r\n"))
}

/// A's STORE reaches B at NOOP as FETCH with UID and FLAGS.
#[tokio::test]
async fn store_is_reported_at_noop() {
    let harness = Harness::new().await;
    let (mut a, mut b) = two(&harness, 2).await;
    a.ok("STORE 2 +FLAGS (\\Flagged)").await;
    let lines = b.ok("NOOP").await;
    assert!(has(&lines, "* 2 FETCH (UID 2 FLAGS (\\Flagged))"), "{lines:?}");
    // Once told, not again.
    let lines = b.ok("NOOP").await;
    assert!(lines.is_empty(), "{lines:?}");
}

/// A session's own STORE is answered once, not reported again at its
/// next NOOP.
#[tokio::test]
async fn own_store_is_not_reported_twice() {
    let harness = Harness::new().await;
    let (mut a, _b) = two(&harness, 1).await;
    let lines = a.ok("STORE 1 +FLAGS (\\Answered)").await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    let lines = a.ok("NOOP").await;
    assert!(lines.is_empty(), "{lines:?}");
}

/// A's EXPUNGE is not reported during B's FETCH, which still answers
/// for the messages it can (the expunged one is left out), and is
/// reported at B's NOOP.
#[tokio::test]
async fn expunge_waits_for_noop_during_fetch() {
    let harness = Harness::new().await;
    let (mut a, mut b) = two(&harness, 3).await;
    a.ok("STORE 2 +FLAGS (\\Deleted)").await;
    a.ok("EXPUNGE").await;
    let lines = answers(b.ok("FETCH 1:3 (UID BODY.PEEK[TEXT])").await);
    assert!(!any_expunge(&lines), "{lines:?}");
    let fetched: Vec<&String> = lines.iter().filter(|l| l.contains(" FETCH (UID")).collect();
    assert_eq!(fetched.len(), 2, "{lines:?}");
    // Numbers keep their meaning: message 3 is still UID 3.
    assert!(fetched[1].starts_with("* 3 FETCH (UID 3 "), "{lines:?}");
    let lines = b.ok("NOOP").await;
    assert!(has(&lines, "* 2 EXPUNGE"), "{lines:?}");
    let lines = b.ok("FETCH 2 UID").await;
    assert!(has(&lines, "* 2 FETCH (UID 3)"), "{lines:?}");
}

/// Nor during STORE: B's STORE answers for the messages still there,
/// under the numbers B knows.
#[tokio::test]
async fn expunge_waits_during_store() {
    let harness = Harness::new().await;
    let (mut a, mut b) = two(&harness, 3).await;
    a.ok("STORE 1 +FLAGS (\\Deleted)").await;
    a.ok("EXPUNGE").await;
    let lines = b.ok("STORE 2:3 +FLAGS (\\Flagged)").await;
    assert!(!any_expunge(&lines), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("* 3 FETCH (FLAGS (\\Flagged")),
        "{lines:?}"
    );
    let lines = b.ok("NOOP").await;
    assert!(has(&lines, "* 1 EXPUNGE"), "{lines:?}");
}

/// Nor during SEARCH: the numbers it answers are the ones B knows.
#[tokio::test]
async fn expunge_waits_during_search() {
    let harness = Harness::new().await;
    let (mut a, mut b) = two(&harness, 3).await;
    a.ok("STORE 1 +FLAGS (\\Deleted)").await;
    a.ok("EXPUNGE").await;
    let (lines, _) = b.command("SEARCH RETURN (ALL) TEXT body").await;
    assert!(!any_expunge(&lines), "{lines:?}");
    // The expunged message is no match; the others keep their numbers.
    assert!(lines.len() == 1 && lines[0].ends_with(" ALL 2:3\r\n"), "{lines:?}");
    let lines = b.ok("NOOP").await;
    assert!(has(&lines, "* 1 EXPUNGE"), "{lines:?}");
    let (lines, _) = b.command("SEARCH RETURN (ALL) ALL").await;
    assert!(lines.len() == 1 && lines[0].ends_with(" ALL 1:2\r\n"), "{lines:?}");
}

/// Other commands report the EXPUNGE before their answer: COPY, STATUS
/// and APPEND in the selected state (RFC 9051 §7.5.1).
#[tokio::test]
async fn expunge_is_reported_at_copy_status_and_append() {
    let harness = Harness::new().await;
    let (mut a, mut b) = two(&harness, 4).await;
    b.ok("CREATE Keep").await;
    a.ok("STORE 4 +FLAGS (\\Deleted)").await;
    a.ok("EXPUNGE").await;
    let (lines, done) = b.command("COPY 1 Keep").await;
    assert!(
        has(&lines, "* 4 EXPUNGE") && done.contains(" OK [COPYUID "),
        "{lines:?} {done}"
    );
    a.ok("STORE 3 +FLAGS (\\Deleted)").await;
    a.ok("EXPUNGE").await;
    let lines = b.ok("STATUS Keep (MESSAGES)").await;
    assert!(has(&lines, "* 3 EXPUNGE"), "{lines:?}");
    a.ok("STORE 2 +FLAGS (\\Deleted)").await;
    a.ok("EXPUNGE").await;
    let (lines, done) = b.try_append("Keep", "").await;
    assert!(
        has(&lines, "* 2 EXPUNGE") && done.contains(" OK [APPENDUID "),
        "{lines:?} {done}"
    );
}

/// A's APPEND reaches B as EXISTS, during FETCH too (only EXPUNGE waits).
#[tokio::test]
async fn append_is_reported_as_exists_even_during_fetch() {
    let harness = Harness::new().await;
    let (mut a, mut b) = two(&harness, 1).await;
    a.append("").await;
    let lines = b.ok("FETCH 1 FLAGS").await;
    assert!(has(&lines, "* 2 EXISTS"), "{lines:?}");
    // The new message answers to its number at once.
    let lines = b.ok("FETCH 2 UID").await;
    assert!(has(&lines, "* 2 FETCH (UID 2)"), "{lines:?}");
}

/// An APPEND with the mailbox not selected: EXISTS at the next SELECT's
/// count, nothing else.
#[tokio::test]
async fn append_to_another_mailbox_is_not_reported() {
    let harness = Harness::new().await;
    let (mut a, mut b) = two(&harness, 1).await;
    a.ok("CREATE Other").await;
    a.try_append("Other", "").await;
    let lines = b.ok("NOOP").await;
    assert!(lines.is_empty(), "{lines:?}");
}

/// A's MOVE out of INBOX is an EXPUNGE for B; a session with the target
/// selected sees the message arrive with its flags.
#[tokio::test]
async fn move_is_expunge_here_and_exists_there() {
    let harness = Harness::new().await;
    let (mut a, mut b) = two(&harness, 2).await;
    a.ok("CREATE Keep").await;
    let mut c = harness.session().await;
    c.ok("SELECT Keep").await;
    a.ok("STORE 1 +FLAGS (\\Flagged)").await;
    a.ok("MOVE 1 Keep").await;
    let lines = b.ok("NOOP").await;
    assert!(has(&lines, "* 1 EXPUNGE"), "{lines:?}");
    let lines = c.ok("NOOP").await;
    assert!(has(&lines, "* 1 EXISTS"), "{lines:?}");
    let lines = c.ok("FETCH 1 FLAGS").await;
    assert!(lines[0].contains("\\Flagged"), "{lines:?}");
}

/// UID EXPUNGE in A removes only the UIDs named; B hears of those only.
#[tokio::test]
async fn uid_expunge_reports_only_its_uids() {
    let harness = Harness::new().await;
    let (mut a, mut b) = two(&harness, 3).await;
    a.ok("STORE 1:3 +FLAGS (\\Deleted)").await;
    b.ok("NOOP").await;
    let lines = a.ok("UID EXPUNGE 2").await;
    assert!(has(&lines, "* 2 EXPUNGE") && lines.len() == 1, "{lines:?}");
    let lines = b.ok("NOOP").await;
    assert!(has(&lines, "* 2 EXPUNGE") && !any_expunge(&lines[1..]), "{lines:?}");
}

/// CLOSE expunges silently for the session that closes (RFC 9051
/// §6.4.2); the other session is told.
#[tokio::test]
async fn close_is_silent_here_and_expunge_there() {
    let harness = Harness::new().await;
    let (mut a, mut b) = two(&harness, 2).await;
    a.ok("STORE 2 +FLAGS (\\Deleted)").await;
    let lines = a.ok("CLOSE").await;
    assert!(lines.is_empty(), "{lines:?}");
    let lines = b.ok("NOOP").await;
    assert!(has(&lines, "* 2 EXPUNGE"), "{lines:?}");
}

/// B's EXPUNGE removes what A marked \Deleted, whoever marked it.
#[tokio::test]
async fn expunge_removes_what_another_session_marked() {
    let harness = Harness::new().await;
    let (mut a, mut b) = two(&harness, 2).await;
    a.ok("STORE 1 +FLAGS (\\Deleted)").await;
    let lines = b.ok("EXPUNGE").await;
    assert!(has(&lines, "* 1 EXPUNGE"), "{lines:?}");
    let lines = a.ok("NOOP").await;
    assert!(has(&lines, "* 1 EXPUNGE"), "{lines:?}");
}

/// A session's IDLE hears of flag changes, new messages and expunges
/// as they happen, in that order here (RFC 2177).
#[tokio::test]
async fn idle_hears_store_append_and_expunge() {
    let harness = Harness::new().await;
    let (mut a, mut b) = two(&harness, 1).await;
    let tag = b.idle().await;
    a.ok("STORE 1 +FLAGS (\\Seen)").await;
    assert_eq!(b.line().await, "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n");
    a.append("").await;
    assert_eq!(b.line().await, "* 2 EXISTS\r\n");
    a.ok("STORE 1 +FLAGS (\\Deleted)").await;
    a.ok("EXPUNGE").await;
    // The flag change and the expunge may come as one update or two.
    let mut line = b.line().await;
    if line.contains("FETCH") {
        line = b.line().await;
    }
    assert_eq!(line, "* 1 EXPUNGE\r\n");
    b.send("DONE\r\n").await;
    assert_eq!(b.line().await, format!("{tag} OK IDLE terminated\r\n"));
}
