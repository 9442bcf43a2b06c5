//! Two servers as two nodes of a cluster, on one PostgreSQL database: a
//! session on one hears in IDLE what a session on the other did (the
//! store's change bus crosses nodes with LISTEN/NOTIFY), within a second.

use std::time::Duration;

use super::{Client, Harness};

/// The next line, which must come within a second of the change that
/// causes it.
async fn within_a_second(client: &mut Client) -> String {
    tokio::time::timeout(Duration::from_secs(1), client.line())
        .await
        .expect("the other node's change within a second")
}

/// An APPEND, a STORE and an EXPUNGE through node A each reach an IDLE on
/// node B. Both sessions enable IMAP4rev2, which has no RECENT (RFC 9051
/// §2.3.2), so only the reports tested for are sent.
#[tokio::test]
async fn idle_on_one_node_hears_append_store_and_expunge_on_the_other() {
    let Some((a, b)) = Harness::two_nodes().await else {
        return;
    };
    let mut writer = a.session().await;
    let mut idler = b.session().await;
    for session in [&mut writer, &mut idler] {
        session.ok("ENABLE IMAP4rev2").await;
        session.ok("SELECT INBOX").await;
    }
    let tag = idler.idle().await;

    writer.append("").await;
    assert_eq!(within_a_second(&mut idler).await, "* 1 EXISTS\r\n");

    // The writer hears of its own APPEND in the STORE's answer.
    writer.ok("STORE 1 +FLAGS (\\Flagged)").await;
    assert_eq!(
        within_a_second(&mut idler).await,
        "* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n"
    );

    writer.ok("STORE 1 +FLAGS (\\Deleted)").await;
    writer.ok("EXPUNGE").await;
    // The flag change and the expunge may come as one update or two.
    let mut line = within_a_second(&mut idler).await;
    if line.contains("FETCH") {
        line = within_a_second(&mut idler).await;
    }
    assert_eq!(line, "* 1 EXPUNGE\r\n");

    idler.send("DONE\r\n").await;
    assert_eq!(idler.line().await, format!("{tag} OK IDLE terminated\r\n"));
}

/// A session on node B that is not idling hears of node A's flag change
/// with the answer to any command once the change has reached B (not only
/// at NOOP, which looks at the mailbox whatever the bus says): it is asked
/// until it tells, within a second.
#[tokio::test]
async fn a_flag_change_on_one_node_shows_at_a_command_on_the_other() {
    let Some((a, b)) = Harness::two_nodes().await else {
        return;
    };
    let mut writer = a.session().await;
    let mut reader = b.session().await;
    writer.append("").await;
    for session in [&mut writer, &mut reader] {
        session.ok("ENABLE IMAP4rev2").await;
        session.ok("SELECT INBOX").await;
    }
    writer.ok("STORE 1 +FLAGS (\\Seen)").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        let lines = reader.ok("FETCH 1 (UID)").await;
        if lines.iter().any(|line| line == "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no FETCH FLAGS within a second: {lines:?}"
        );
    }
}

/// NOTIFY across nodes (RFC 5465): a silent session on node B hears of
/// new mail in a mailbox it has not selected as STATUS, and of a mailbox
/// created and subscribed on node A as LIST, each within a second.
#[tokio::test]
async fn notify_on_one_node_hears_mail_and_mailbox_changes_on_the_other() {
    let Some((a, b)) = Harness::two_nodes().await else {
        return;
    };
    let mut writer = a.session().await;
    let mut watcher = b.session().await;
    watcher
        .ok("NOTIFY SET (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))")
        .await;
    writer.try_append("Archive", "").await;
    let status = within_a_second(&mut watcher).await;
    assert!(
        status.starts_with("* STATUS \"Archive\" (MESSAGES 1 UIDNEXT 2 "),
        "{status}"
    );
    writer.ok("CREATE Lists").await;
    assert_eq!(within_a_second(&mut watcher).await, "* LIST () \"/\" \"Lists\"\r\n");
    writer.ok("SUBSCRIBE Lists").await;
    assert_eq!(
        within_a_second(&mut watcher).await,
        "* LIST (\\Subscribed) \"/\" \"Lists\"\r\n"
    );
}
