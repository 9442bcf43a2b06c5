//! SEARCH and UID SEARCH (RFC 9051 §6.4.4), ESEARCH (RFC 4731), SAVE
//! (RFC 5182).

use super::{Client, Harness};

async fn three(harness: &Harness) -> Client {
    let mut client = harness.session().await;
    let messages = [
        (
            "\\Seen",
            "Subject: apples\r\nFrom: ann@example.test\r\n\r\nred fruit\r\n",
        ),
        ("", "Subject: pears\r\nFrom: bob@example.test\r\n\r\ngreen fruit\r\n"),
        ("\\Flagged", "Subject: plums\r\nFrom: ann@example.test\r\n\r\nblue\r\n"),
    ];
    for (flags, message) in messages {
        let (_, done) = client.append_message("INBOX", flags, message).await;
        assert!(done.contains(" OK "), "{done}");
    }
    client.ok("SELECT INBOX").await;
    client
}

/// Flag, header and body keys, alone and combined.
#[tokio::test]
async fn keys_match_flags_fields_and_text() {
    let harness = Harness::new().await;
    let mut client = three(&harness).await;
    for (key, expected) in [
        ("UNSEEN", "* SEARCH 2 3"),
        ("FLAGGED", "* SEARCH 3"),
        ("FROM ann", "* SEARCH 1 3"),
        ("SUBJECT PEARS", "* SEARCH 2"),
        ("BODY fruit", "* SEARCH 1 2"),
        ("TEXT plums", "* SEARCH 3"),
        ("OR SEEN FLAGGED", "* SEARCH 1 3"),
        ("NOT FROM ann", "* SEARCH 2"),
        ("FROM ann BODY fruit", "* SEARCH 1"),
        ("HEADER Subject ums", "* SEARCH 3"),
        ("SUBJECT nothing", "* SEARCH"),
    ] {
        let lines = client.ok(&format!("SEARCH {key}")).await;
        assert_eq!(lines, [format!("{expected}\r\n")], "{key}");
    }
}

/// UID SEARCH answers UIDs, which differ from numbers once a message is
/// gone.
#[tokio::test]
async fn uid_search_answers_uids() {
    let harness = Harness::new().await;
    let mut client = three(&harness).await;
    client.ok("STORE 1 +FLAGS (\\Deleted)").await;
    client.ok("EXPUNGE").await;
    assert_eq!(client.ok("SEARCH FROM ann").await, ["* SEARCH 2\r\n"]);
    assert_eq!(client.ok("UID SEARCH FROM ann").await, ["* SEARCH 3\r\n"]);
}

/// ESEARCH: RETURN options, and IMAP4rev2 answering ESEARCH always.
#[tokio::test]
async fn esearch_answers() {
    let harness = Harness::new().await;
    let mut client = three(&harness).await;
    // The untagged answer names the command's tag.
    async fn esearch(client: &mut Client, command: &str) -> String {
        let (lines, done) = client.command(command).await;
        let tag = done.split(' ').next().unwrap_or_default();
        assert_eq!(lines.len(), 1, "{lines:?}");
        lines[0].replace(&format!("(TAG \"{tag}\")"), "(TAG)")
    }
    assert_eq!(
        esearch(&mut client, "SEARCH RETURN (MIN MAX COUNT) BODY fruit").await,
        "* ESEARCH (TAG) MIN 1 MAX 2 COUNT 2\r\n"
    );
    assert_eq!(
        esearch(&mut client, "UID SEARCH RETURN () ALL").await,
        "* ESEARCH (TAG) UID ALL 1:3\r\n"
    );
    client.ok("ENABLE IMAP4rev2").await;
    assert_eq!(
        esearch(&mut client, "SEARCH SUBJECT nothing").await,
        "* ESEARCH (TAG)\r\n"
    );
}

/// SAVE keeps the result for `$`, used by FETCH (RFC 5182).
#[tokio::test]
async fn saved_results_serve_dollar() {
    let harness = Harness::new().await;
    let mut client = three(&harness).await;
    let lines = client.ok("SEARCH RETURN (SAVE) FROM ann").await;
    // RFC 5182 §2.1: SAVE alone answers no ESEARCH.
    assert!(lines.is_empty(), "{lines:?}");
    let lines = client.ok("FETCH $ UID").await;
    assert_eq!(lines, ["* 1 FETCH (UID 1)\r\n", "* 3 FETCH (UID 3)\r\n"]);
}

/// SEARCH UNSEEN and DELETED answer from the store's indexes of such
/// messages, and other flag keys from flags read from the store: either
/// way another session's changes count at once, a message the session
/// has not been told of (no EXISTS yet) is not numbered, and one expunged
/// meanwhile (no EXPUNGE yet) does not match.
#[tokio::test]
async fn flag_keys_see_the_store_and_only_the_views_messages() {
    let harness = Harness::new().await;
    let mut client = three(&harness).await;
    let mut other = harness.session().await;
    other.ok("SELECT INBOX").await;
    other.ok("STORE 1 -FLAGS.SILENT (\\Seen)").await;
    other.ok("STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    other.append("").await;
    // The new message is told of after the first answer (EXISTS).
    let lines = client.ok("SEARCH UNSEEN").await;
    assert_eq!(lines[0], "* SEARCH 1 2 3\r\n");
    assert!(lines.contains(&"* 4 EXISTS\r\n".to_string()), "{lines:?}");
    for (key, expected) in [
        ("DELETED", "* SEARCH 2\r\n"),
        ("UNDELETED", "* SEARCH 1 3 4\r\n"),
        ("UNSEEN UNFLAGGED", "* SEARCH 1 2 4\r\n"),
    ] {
        let lines = client.ok(&format!("SEARCH {key}")).await;
        assert_eq!(lines[0], expected, "SEARCH {key}: {lines:?}");
    }
    // The second goes; the client is not told yet.
    other.ok("EXPUNGE").await;
    let lines = client.ok("FETCH 2 (UID FLAGS)").await;
    assert!(lines.is_empty(), "nothing left to show of UID 2: {lines:?}");
    for (key, expected) in [("UNSEEN", "* SEARCH 1 3 4\r\n"), ("ALL", "* SEARCH 1 2 3 4\r\n")] {
        let lines = client.ok(&format!("SEARCH {key}")).await;
        assert_eq!(lines[0], expected, "SEARCH {key}: {lines:?}");
    }
    let lines = client.ok("NOOP").await;
    assert!(lines.contains(&"* 2 EXPUNGE\r\n".to_string()), "{lines:?}");
    let lines = client.ok("SEARCH UNSEEN").await;
    assert_eq!(lines[0], "* SEARCH 1 2 3\r\n");
}

/// Updating contexts beyond the first hold at most
/// `max_update_context_messages` messages together; past that, UPDATE is
/// NO [NOUPDATE] and the command is still answered (RFC 5267 §4.3.1).
#[tokio::test]
async fn update_contexts_beyond_the_first_are_bounded_in_messages() {
    let harness = Harness::with_config(crate::ImapConfig {
        max_update_context_messages: 4,
        ..crate::ImapConfig::default()
    })
    .await;
    let mut client = three(&harness).await;
    // The first is kept whatever its size.
    let first = client.ok("SEARCH RETURN (UPDATE) ALL").await.join("");
    assert!(!first.contains("NOUPDATE"), "{first}");
    let tag = first.split('"').nth(1).expect("the ESEARCH names its tag").to_string();
    let second = client.ok("SEARCH RETURN (UPDATE COUNT) 1").await.join("");
    assert!(!second.contains("NOUPDATE"), "{second}");
    let third = client.ok("SEARCH RETURN (UPDATE COUNT) 1").await.join("");
    assert!(
        third.contains("NO [NOUPDATE ") && third.contains("Too many messages in contexts"),
        "{third}"
    );
    assert!(third.contains("COUNT 1"), "{third}");
    client.ok(&format!("CANCELUPDATE \"{tag}\"")).await;
    let fourth = client.ok("SEARCH RETURN (UPDATE COUNT) 1").await.join("");
    assert!(!fourth.contains("NOUPDATE"), "{fourth}");
}
