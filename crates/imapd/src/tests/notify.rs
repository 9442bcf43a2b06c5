//! NOTIFY (RFC 5465) between two sessions: what one changes reaches the
//! other while it sends nothing (not in IDLE), as STATUS and LIST for
//! mailboxes not selected and as EXISTS, FETCH and EXPUNGE for the
//! selected one; and the limits that end it with NOTIFICATIONOVERFLOW.

use super::Harness;
use crate::ImapConfig;

const PERSONAL: &str = "NOTIFY SET (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))";

/// A silent client hears of new mail in a mailbox it has not selected as
/// STATUS, and of CREATE, RENAME, SUBSCRIBE and DELETE elsewhere as LIST.
#[tokio::test]
async fn a_silent_client_hears_of_other_mailboxes() {
    let harness = Harness::new().await;
    let mut watcher = harness.session().await;
    let mut other = harness.session().await;
    watcher.ok(PERSONAL).await;

    let (_, done) = other.try_append("Archive", "").await;
    assert!(done.contains(" OK "), "{done}");
    let status = watcher.line().await;
    assert!(
        status.starts_with("* STATUS \"Archive\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ")
            && status.ends_with(" UNSEEN 1)\r\n"),
        "{status}"
    );

    other.ok("CREATE Lists").await;
    assert_eq!(watcher.line().await, "* LIST () \"/\" \"Lists\"\r\n");
    other.ok("RENAME Lists Lists2").await;
    assert_eq!(
        watcher.line().await,
        "* LIST () \"/\" \"Lists2\" (\"OLDNAME\" (\"Lists\"))\r\n"
    );
    other.ok("SUBSCRIBE Lists2").await;
    assert_eq!(watcher.line().await, "* LIST (\\Subscribed) \"/\" \"Lists2\"\r\n");
    other.ok("UNSUBSCRIBE Lists2").await;
    assert_eq!(watcher.line().await, "* LIST () \"/\" \"Lists2\"\r\n");
    other.ok("DELETE Lists2").await;
    assert_eq!(watcher.line().await, "* LIST (\\NonExistent) \"/\" \"Lists2\"\r\n");

    // A flag change is no MessageNew/MessageExpunge: nothing is told, so
    // the next line is the STATUS of the next append.
    other.ok("SELECT Archive").await;
    other.ok("STORE 1 +FLAGS (\\Seen)").await;
    other.ok("UNSELECT").await;
    other.try_append("Archive", "").await;
    let status = watcher.line().await;
    assert!(
        status.starts_with("* STATUS \"Archive\" (MESSAGES 2 UIDNEXT 3 "),
        "{status}"
    );
    // After NOTIFY NONE, nothing more.
    watcher.ok("NOTIFY NONE").await;
    other.try_append("Archive", "").await;
    assert_eq!(watcher.ok("NOOP").await, Vec::<String>::new());
}

/// SELECTED: the selected mailbox's new messages come with the FETCH
/// items MessageNew asked for, and expunges at once (RFC 5465 §5.2, §5.3),
/// while the client is silent.
#[tokio::test]
async fn the_selected_mailbox_is_told_while_silent() {
    let harness = Harness::new().await;
    let mut watcher = harness.session().await;
    let mut other = harness.session().await;
    watcher.ok("ENABLE IMAP4rev2").await;
    watcher.ok("SELECT INBOX").await;
    watcher
        .ok("NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge FlagChange))")
        .await;
    other.append("").await;
    assert_eq!(watcher.line().await, "* 1 EXISTS\r\n");
    assert_eq!(
        watcher.line().await,
        "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (Subject)] {17}\r\n"
    );
    assert_eq!(watcher.line().await, "Subject: test\r\n");
    assert_eq!(watcher.line().await, "\r\n");
    assert_eq!(watcher.line().await, ")\r\n");
    other.ok("SELECT INBOX").await;
    other.ok("STORE 1 +FLAGS (\\Deleted)").await;
    assert_eq!(watcher.line().await, "* 1 FETCH (UID 1 FLAGS (\\Deleted))\r\n");
    other.ok("EXPUNGE").await;
    assert_eq!(watcher.line().await, "* 1 EXPUNGE\r\n");
}

/// SELECTED-DELAYED: an expunge waits for a command that may tell it; what
/// comes after it (here a STATUS of another mailbox) does not.
#[tokio::test]
async fn selected_delayed_holds_expunges_for_a_command() {
    let harness = Harness::new().await;
    let mut watcher = harness.session().await;
    let mut other = harness.session().await;
    other.append("\\Deleted").await;
    watcher.ok("ENABLE IMAP4rev2").await;
    watcher.ok("SELECT INBOX").await;
    watcher
        .ok("NOTIFY SET (selected-delayed (MessageNew MessageExpunge)) (mailboxes Archive (MessageNew MessageExpunge))")
        .await;
    other.ok("SELECT INBOX").await;
    other.ok("EXPUNGE").await;
    other.try_append("Archive", "").await;
    let status = watcher.line().await;
    assert!(status.starts_with("* STATUS \"Archive\" (MESSAGES 1 "), "{status}");
    assert_eq!(watcher.ok("NOOP").await, ["* 1 EXPUNGE\r\n"]);
}

/// RFC 5465 §3.1 and §5: unknown events get NO [BADEVENT ...] listing the
/// ones taken; MessageNew without MessageExpunge, FlagChange without them,
/// mailbox events for SELECTED and FETCH items elsewhere get BAD; a
/// refused NOTIFY leaves the one before in effect.
#[tokio::test]
async fn what_notify_refuses() {
    let harness = Harness::new().await;
    let mut watcher = harness.session().await;
    let mut other = harness.session().await;
    watcher.ok(PERSONAL).await;
    let refused = watcher
        .no("NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))")
        .await;
    assert!(
        refused.contains(" NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName "),
        "{refused}"
    );
    watcher.no("NOTIFY SET (inboxes (Whatever))").await;
    watcher.bad("NOTIFY SET (inboxes (MessageNew))").await;
    watcher.bad("NOTIFY SET (inboxes (MessageExpunge))").await;
    watcher.bad("NOTIFY SET (inboxes (FlagChange))").await;
    watcher
        .bad("NOTIFY SET (selected (MessageNew MessageExpunge MailboxName))")
        .await;
    watcher
        .bad("NOTIFY SET (inboxes (MessageNew (UID) MessageExpunge))")
        .await;
    watcher
        .bad("NOTIFY SET (selected (MessageNew (BODY[]) MessageExpunge))")
        .await;
    other.ok("CREATE Still").await;
    assert_eq!(watcher.line().await, "* LIST () \"/\" \"Still\"\r\n");
}

/// NOTIFY SET STATUS sends a STATUS of each watched mailbox before OK.
#[tokio::test]
async fn set_status_tells_each_watched_mailbox_first() {
    let harness = Harness::new().await;
    let mut watcher = harness.session().await;
    let untagged = watcher
        .ok("NOTIFY SET STATUS (mailboxes (INBOX Archive Nowhere) (MessageNew MessageExpunge))")
        .await;
    assert_eq!(untagged.len(), 2, "{untagged:?}");
    assert!(untagged[0].starts_with("* STATUS \"Archive\" (MESSAGES 0 UIDNEXT 1 "));
    assert!(untagged[1].starts_with("* STATUS \"INBOX\" (MESSAGES 0 UIDNEXT 1 "));
}

/// More notifications at once than `max_notify_output` end NOTIFY with
/// NOTIFICATIONOVERFLOW (RFC 5465 §5.8); more watched mailboxes than
/// `max_notify_mailboxes` are refused with LIMIT.
#[tokio::test]
async fn too_much_to_tell_ends_notify() {
    let harness = Harness::with_config(ImapConfig {
        max_notify_output: 40,
        max_notify_mailboxes: 3,
        ..ImapConfig::default()
    })
    .await;
    let mut watcher = harness.session().await;
    let mut other = harness.session().await;
    let refused = watcher.no("NOTIFY SET (personal (MessageNew MessageExpunge))").await;
    assert!(refused.contains(" NO [LIMIT] "), "{refused}");
    watcher
        .ok("NOTIFY SET (mailboxes (INBOX Archive) (MessageNew MessageExpunge MailboxName))")
        .await;
    other.try_append("Archive", "").await;
    let overflow = watcher.line().await;
    assert!(overflow.starts_with("* OK [NOTIFICATIONOVERFLOW] "), "{overflow}");
    other.try_append("Archive", "").await;
    assert_eq!(watcher.ok("NOOP").await, Vec::<String>::new(), "NOTIFY is off");
}

/// More event groups and mailbox names in one NOTIFY SET than
/// `max_notify_filters` get BAD; as many are taken.
#[tokio::test]
async fn too_many_filters_are_bad() {
    let harness = Harness::with_config(ImapConfig {
        max_notify_filters: 3,
        ..ImapConfig::default()
    })
    .await;
    let mut watcher = harness.session().await;
    watcher
        .ok("NOTIFY SET (mailboxes (INBOX Archive) (MessageNew MessageExpunge))")
        .await;
    let refused = watcher
        .bad("NOTIFY SET (mailboxes (INBOX Archive) (MessageNew MessageExpunge)) (personal (MailboxName))")
        .await;
    assert!(refused.contains(" BAD NOTIFY may name at most 3 "), "{refused}");
    watcher.bad("NOTIFY SET (subtree (a b c) (MailboxName))").await;
    watcher
        .ok("NOTIFY SET (inboxes (MailboxName)) (personal (MailboxName)) (subscribed (MailboxName))")
        .await;
}

/// Changes missed while a slow client held the session up (the bus said
/// `Lagged`) are made good: the STATUS of a watched mailbox whose notice
/// was lost among a thousand others comes once the client reads again.
#[tokio::test]
async fn changes_missed_behind_a_slow_client_are_told_after() {
    use tokio::io::AsyncReadExt;
    let harness = Harness::new().await;
    let store = harness.server.store.clone();
    let archive = store.mailbox(harness.account.id, "Archive").await.unwrap().unwrap().id;
    let trash = store.mailbox(harness.account.id, "Trash").await.unwrap().unwrap().id;
    let append = |mailbox| {
        let store = store.clone();
        async move {
            let content = store.put_content(b"Subject: x\r\n\r\nx\r\n".to_vec()).await.unwrap();
            store
                .append(
                    mailbox,
                    content,
                    store::Flags::default(),
                    0,
                    store::MessageFacts::default(),
                )
                .await
                .unwrap();
        }
    };
    let mut watcher = harness.session_through(16).await;
    watcher
        .ok("NOTIFY SET (mailboxes Archive (MessageNew MessageExpunge))")
        .await;
    append(archive).await;
    // The first byte of its STATUS: the session now waits for the client
    // to read the rest, and hears nothing meanwhile.
    let mut first = [0u8; 1];
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        watcher.stream.get_mut().read_exact(&mut first),
    )
    .await
    .expect("a notification within 10 s")
    .unwrap();
    assert_eq!(&first, b"*");
    // A second message in Archive, then more notices than the bus keeps.
    append(archive).await;
    let mut others = tokio::task::JoinSet::new();
    for _ in 0..1100 {
        others.spawn(append(trash));
    }
    others.join_all().await;
    let rest = watcher.line().await;
    assert!(rest.starts_with(" STATUS \"Archive\" (MESSAGES 1 "), "{rest}");
    let status = watcher.line().await;
    assert!(status.starts_with("* STATUS \"Archive\" (MESSAGES 2 "), "{status}");
}
