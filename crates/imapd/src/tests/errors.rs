//! How failed commands are answered (`error.rs`, `Session::reply`): NO
//! with the response code of RFC 9051 §7.1 for what the client may be
//! told, BAD for what is not valid (counted towards `max_errors`), NO
//! [SERVERBUG] for failures of ours, the session going on after each.

use crate::ImapConfig;

use super::Harness;

/// Commands of the selected state, sent in the authenticated state, get
/// the one BAD of the dispatcher (RFC 9051 §6.4).
#[tokio::test]
async fn selected_state_commands_are_bad_before_select() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    for command in [
        "FETCH 1 FLAGS",
        "STORE 1 +FLAGS (\\Seen)",
        "SEARCH ALL",
        "EXPUNGE",
        "UID EXPUNGE 1",
        "COPY 1 INBOX",
        "MOVE 1 INBOX",
        "CLOSE",
        "UNSELECT",
    ] {
        let done = client.bad(command).await;
        assert!(
            done.ends_with(" BAD Command not valid in this state\r\n"),
            "{command}: {done}"
        );
    }
    // The session goes on.
    client.ok("NOOP").await;
}

/// LOGIN, AUTHENTICATE and STARTTLS belong to the not-authenticated
/// state only (RFC 9051 §6.2), in the selected state too.
#[tokio::test]
async fn login_commands_are_bad_once_logged_in() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    for command in ["LOGIN alice@example.test x", "AUTHENTICATE PLAIN", "STARTTLS"] {
        let done = client.bad(command).await;
        assert!(done.contains("not valid in this state"), "{command}: {done}");
    }
    client.ok("SELECT INBOX").await;
    let done = client.bad("LOGIN alice@example.test x").await;
    assert!(done.contains("not valid in this state"), "{done}");
    // Still selected: the BAD did not lose the mailbox.
    client.ok("FETCH 1:* FLAGS").await;
}

/// The store's refusals of mailbox names keep their codes: ALREADYEXISTS
/// (with RENAME's own text), NONEXISTENT, CANNOT.
#[tokio::test]
async fn mailbox_refusals_carry_their_codes() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.ok("CREATE Work").await;
    client.ok("CREATE Play").await;
    let done = client.no("CREATE Work").await;
    assert!(
        done.ends_with(" NO [ALREADYEXISTS] Mailbox already exists\r\n"),
        "{done}"
    );
    let done = client.no("RENAME Play Work").await;
    assert!(
        done.ends_with(" NO [ALREADYEXISTS] Target mailbox exists\r\n"),
        "{done}"
    );
    let done = client.no("DELETE Nowhere").await;
    assert!(done.ends_with(" NO [NONEXISTENT] No such mailbox\r\n"), "{done}");
    let done = client.no("RENAME Nowhere Elsewhere").await;
    assert!(done.ends_with(" NO [NONEXISTENT] No such mailbox\r\n"), "{done}");
    let done = client.no("DELETE INBOX").await;
    assert!(done.contains(" NO [CANNOT] "), "{done}");
    let done = client.no("RENAME Work Work/Inside").await;
    assert!(done.contains(" NO [CANNOT] "), "{done}");
    let done = client.no("SUBSCRIBE Nowhere").await;
    assert!(done.ends_with(" NO [NONEXISTENT] No such mailbox\r\n"), "{done}");
}

/// Administrative limits are NO [LIMIT] with the store's reason.
#[tokio::test]
async fn mailbox_limits_are_no_limit() {
    let harness = Harness::with_config(ImapConfig {
        max_mailbox_name: 8,
        // INBOX and the five special-use mailboxes of a new account.
        max_mailboxes: 8,
        ..ImapConfig::default()
    })
    .await;
    let mut client = harness.session().await;
    let done = client.no("CREATE Much-too-long").await;
    assert!(
        done.contains(" NO [LIMIT] Mailbox names are limited to 8 bytes"),
        "{done}"
    );
    client.ok("CREATE A").await;
    client.ok("CREATE B").await;
    let done = client.no("CREATE C").await;
    assert!(done.contains(" NO [LIMIT] An account may have at most 8 "), "{done}");
    let done = client.no("RENAME A Much-too-long").await;
    assert!(done.contains(" NO [LIMIT] "), "{done}");
}

/// A failure of ours (here a message whose blob is gone) is NO
/// [SERVERBUG], and the session goes on.
#[tokio::test]
async fn a_missing_blob_is_serverbug_and_the_session_goes_on() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    // Larger than what the store keeps in the database.
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(100 * 1024));
    let (_, done) = client.append_message("INBOX", "", &big).await;
    assert!(done.contains(" OK "), "{done}");
    for entry in walk(&harness._dir.path().join("blobs")) {
        std::fs::remove_file(entry).expect("remove blob");
    }
    client.ok("SELECT INBOX").await;
    let done = client.no("FETCH 1 BODY[]").await;
    assert!(
        done.ends_with(" NO [SERVERBUG] Internal error, try again later\r\n"),
        "{done}"
    );
    // Flags are in the database: still answered.
    let lines = client.ok("FETCH 1 FLAGS").await;
    assert_eq!(lines.len(), 1, "{lines:?}");
}

/// Every file below `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Every BAD counts towards `max_errors`, an invalid mailbox name's too;
/// an OK or NO in between starts the count again (issue 13, defect 3).
#[tokio::test]
async fn bads_in_a_row_end_the_session() {
    let harness = Harness::with_config(ImapConfig {
        max_errors: 3,
        ..ImapConfig::default()
    })
    .await;
    let mut client = harness.session().await;
    client.bad("CREATE &AOk").await;
    client.bad("FETCH 1 FLAGS").await;
    client.no("SELECT Nowhere").await;
    client.bad("CREATE &AOk").await;
    client.bad("DELETE &AOk").await;
    client.send("t99 STATUS &AOk (MESSAGES)\r\n").await;
    assert_eq!(client.line().await, "t99 BAD Invalid mailbox name\r\n");
    assert_eq!(client.line().await, "* BYE Too many errors\r\n");
}

/// RENAME with two invalid names is one BAD: one tagged answer per
/// command (RFC 9051 §2.2.2).
#[tokio::test]
async fn rename_of_two_invalid_names_is_one_bad() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    let (untagged, done) = client.fails("BAD", "RENAME &AOk &AOk").await;
    assert!(untagged.is_empty(), "{untagged:?}");
    assert!(done.ends_with(" BAD Invalid mailbox name\r\n"), "{done}");
    // Nothing else was sent: the next answer is the next command's.
    let (untagged, done) = client.command("NOOP").await;
    assert!(untagged.is_empty() && done.contains(" OK NOOP"), "{untagged:?} {done}");
}

/// SELECT of a missing mailbox closes the selected one (RFC 9051
/// §6.3.2): the session is back in the authenticated state.
#[tokio::test]
async fn a_failed_select_leaves_the_selected_state() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("").await;
    client.ok("SELECT INBOX").await;
    let done = client.no("SELECT Nowhere").await;
    assert!(done.ends_with(" NO [NONEXISTENT] No such mailbox\r\n"), "{done}");
    let done = client.bad("FETCH 1 FLAGS").await;
    assert!(done.contains("not valid in this state"), "{done}");
}

/// Changes to a mailbox opened with EXAMINE are NO [READ-ONLY]; COPY out
/// of it is allowed (RFC 9051 §6.3.3).
#[tokio::test]
async fn examine_refuses_changes_but_not_copy() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("").await;
    client.ok("CREATE Keep").await;
    client.ok("EXAMINE INBOX").await;
    for command in ["STORE 1 +FLAGS (\\Deleted)", "EXPUNGE", "UID EXPUNGE 1", "MOVE 1 Keep"] {
        let done = client.no(command).await;
        assert!(
            done.ends_with(" NO [READ-ONLY] Mailbox is read-only\r\n"),
            "{command}: {done}"
        );
    }
    let (_, done) = client.command("COPY 1 Keep").await;
    assert!(done.contains(" OK [COPYUID "), "{done}");
}

/// APPEND, COPY and MOVE to a missing mailbox: NO [TRYCREATE] (RFC 9051
/// §6.3.12, §6.4.7); an empty message is refused without a code.
#[tokio::test]
async fn missing_targets_are_trycreate() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    let (_, done) = client.try_append("Nowhere", "").await;
    assert!(done.ends_with(" NO [TRYCREATE] No such mailbox\r\n"), "{done}");
    client.append("").await;
    client.ok("SELECT INBOX").await;
    for command in ["COPY 1 Nowhere", "MOVE 1 Nowhere"] {
        let done = client.no(command).await;
        assert!(
            done.ends_with(" NO [TRYCREATE] No such mailbox\r\n"),
            "{command}: {done}"
        );
    }
    let done = client.no("APPEND INBOX {0+}\r\n").await;
    assert!(done.ends_with(" NO Empty messages are not stored\r\n"), "{done}");
}
