//! LIST, LSUB, STATUS, SUBSCRIBE, CREATE, DELETE and RENAME (RFC 9051
//! §6.3, RFC 5258, RFC 5819).

use super::Harness;

/// LIST answers mailboxes and the levels above them, INBOX whatever its
/// case in the pattern (RFC 9051 §5.1), special-use ones with their role
/// (RFC 6154).
#[tokio::test]
async fn list_answers_levels_and_inbox() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.ok("CREATE Work/Projects").await;
    let lines = client.ok("LIST \"\" W*").await;
    assert_eq!(
        lines,
        [
            "* LIST (\\HasChildren) \"/\" \"Work\"\r\n",
            "* LIST (\\HasNoChildren) \"/\" \"Work/Projects\"\r\n",
        ]
    );
    let lines = client.ok("LIST \"\" inbox").await;
    assert_eq!(lines, ["* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"]);
    let lines = client.ok("LIST \"\" Trash").await;
    assert_eq!(lines, ["* LIST (\\HasNoChildren \\Trash) \"/\" \"Trash\"\r\n"]);
    let lines = client.ok("LIST \"\" \"\"").await;
    assert_eq!(lines, ["* LIST (\\Noselect) \"/\" \"\"\r\n"]);
}

/// LIST-STATUS: each listed mailbox's STATUS right after it (RFC 5819).
#[tokio::test]
async fn list_return_status() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("").await;
    let lines = client.ok("LIST \"\" INBOX RETURN (STATUS (MESSAGES UNSEEN))").await;
    assert_eq!(
        lines,
        [
            "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n",
            "* STATUS \"INBOX\" (MESSAGES 1 UNSEEN 1)\r\n",
        ]
    );
}

/// Subscriptions: LSUB and LIST (SUBSCRIBED) show them, a deleted
/// mailbox's subscription stays as \NonExistent (RFC 5258 §3.1).
#[tokio::test]
async fn subscriptions_outlive_their_mailbox() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.ok("CREATE News").await;
    client.ok("SUBSCRIBE News").await;
    assert_eq!(client.ok("LSUB \"\" N*").await, ["* LSUB () \"/\" \"News\"\r\n"]);
    client.ok("DELETE News").await;
    assert_eq!(
        client.ok("LIST (SUBSCRIBED) \"\" N*").await,
        ["* LIST (\\NonExistent \\Subscribed) \"/\" \"News\"\r\n"]
    );
    client.ok("UNSUBSCRIBE News").await;
    assert!(client.ok("LSUB \"\" N*").await.is_empty());
}

/// STATUS counts what the mailbox holds; of a missing one, NONEXISTENT.
#[tokio::test]
async fn status_counts() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("\\Seen").await;
    client.append("\\Deleted").await;
    let lines = client.ok("STATUS INBOX (MESSAGES UNSEEN DELETED UIDNEXT)").await;
    assert_eq!(
        lines,
        ["* STATUS \"INBOX\" (MESSAGES 2 UNSEEN 1 DELETED 1 UIDNEXT 3)\r\n"]
    );
    let done = client.no("STATUS Nowhere (MESSAGES)").await;
    assert!(done.ends_with(" NO [NONEXISTENT] No such mailbox\r\n"), "{done}");
}

/// DELETE of the selected mailbox is NO [INUSE]; RENAME moves children
/// with their parent.
#[tokio::test]
async fn delete_selected_is_inuse_and_rename_moves_children() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.ok("CREATE Old/Child").await;
    client.ok("SELECT Old").await;
    let done = client.no("DELETE Old").await;
    assert!(done.ends_with(" NO [INUSE] Mailbox is selected\r\n"), "{done}");
    client.ok("UNSELECT").await;
    client.ok("RENAME Old New").await;
    let lines = client.ok("LIST \"\" New*").await;
    assert_eq!(
        lines,
        [
            "* LIST (\\HasChildren) \"/\" \"New\"\r\n",
            "* LIST (\\HasNoChildren) \"/\" \"New/Child\"\r\n",
        ]
    );
}
