//! IDLE (RFC 2177, RFC 9051 §6.3.13).

use super::Harness;

/// DONE ends IDLE with OK; the session goes on.
#[tokio::test]
async fn done_ends_idle() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    let tag = client.idle().await;
    client.send("done\r\n").await;
    assert_eq!(client.line().await, format!("{tag} OK IDLE terminated\r\n"));
    client.ok("NOOP").await;
}

/// Anything else ends it with BAD.
#[tokio::test]
async fn other_input_ends_idle_with_bad() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    let tag = client.idle().await;
    client.send("t99 NOOP\r\n").await;
    assert_eq!(client.line().await, format!("{tag} BAD Expected DONE\r\n"));
    client.ok("NOOP").await;
}

/// Authenticated, with no mailbox selected, IDLE reports nothing of
/// changes elsewhere.
#[tokio::test]
async fn idle_without_a_mailbox_reports_nothing() {
    let harness = Harness::new().await;
    let mut idler = harness.session().await;
    let mut other = harness.session().await;
    let tag = idler.idle().await;
    other.append("").await;
    idler.send("DONE\r\n").await;
    // The first line after the change is the tagged OK: no EXISTS.
    assert_eq!(idler.line().await, format!("{tag} OK IDLE terminated\r\n"));
}

/// Changes made before IDLE are reported as it starts, before "+".
#[tokio::test]
async fn idle_reports_what_was_pending() {
    let harness = Harness::new().await;
    let mut idler = harness.session().await;
    let mut other = harness.session().await;
    other.append("").await;
    idler.ok("SELECT INBOX").await;
    other.append("").await;
    idler.send("t50 IDLE\r\n").await;
    assert_eq!(idler.line().await, "* 2 EXISTS\r\n");
    let next = idler.line().await;
    let next = if next.starts_with("* ") {
        idler.line().await
    } else {
        next
    };
    assert!(next.starts_with("+ "), "{next}");
    idler.send("DONE\r\n").await;
    assert_eq!(idler.line().await, "t50 OK IDLE terminated\r\n");
}
