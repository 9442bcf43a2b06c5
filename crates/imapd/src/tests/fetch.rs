//! FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9; RFC 3516 BINARY).

use super::{Harness, answers};
use crate::ImapConfig;

const MESSAGE: &str = "Subject: hello\r\nFrom: a@example.test\r\n\r\nline one\r\nline two\r\n";

/// UID FETCH answers carry the UID first even when not asked for.
#[tokio::test]
async fn uid_fetch_always_carries_the_uid() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("").await;
    client.ok("ENABLE IMAP4rev2").await;
    client.ok("SELECT INBOX").await;
    let lines = client.ok("UID FETCH 1 FLAGS").await;
    assert_eq!(lines, ["* 1 FETCH (UID 1 FLAGS ())\r\n"]);
}

/// An item asked for twice, PEEK or not, is answered once (RFC 9051
/// §6.4.5 names both the same).
#[tokio::test]
async fn repeated_items_are_answered_once() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append_message("INBOX", "\\Seen", MESSAGE).await;
    client.ok("SELECT INBOX").await;
    let lines = answers(client.ok("FETCH 1 (FLAGS BODY.PEEK[TEXT] FLAGS BODY[TEXT])").await);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].matches("BODY[TEXT]").count(), 1, "{lines:?}");
    assert_eq!(lines[0].matches("FLAGS").count(), 1, "{lines:?}");
}

/// More distinct items than `max_fetch_items` is BAD (issue 12, attack 4).
#[tokio::test]
async fn too_many_items_are_bad() {
    let harness = Harness::with_config(ImapConfig {
        max_fetch_items: 2,
        ..ImapConfig::default()
    })
    .await;
    let mut client = harness.session().await;
    client.append("").await;
    client.ok("SELECT INBOX").await;
    client.ok("FETCH 1 (FLAGS UID FLAGS)").await;
    let done = client.bad("FETCH 1 (FLAGS UID RFC822.SIZE)").await;
    assert!(done.ends_with(" BAD Too many distinct FETCH items\r\n"), "{done}");
}

/// Header fields, a partial body and sizes, cut from the stored message.
#[tokio::test]
async fn sections_and_partials() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append_message("INBOX", "", MESSAGE).await;
    client.ok("SELECT INBOX").await;
    let lines = answers(
        client
            .ok("FETCH 1 (RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            .await,
    );
    assert_eq!(
        lines,
        [format!(
            "* 1 FETCH (RFC822.SIZE {} BODY[HEADER.FIELDS (SUBJECT)] {{{}}}\r\nSubject: hello\r\n\r\n)\r\n",
            MESSAGE.len(),
            "Subject: hello\r\n\r\n".len()
        )]
    );
    let lines = answers(client.ok("FETCH 1 BODY.PEEK[TEXT]<5.3>").await);
    assert_eq!(lines, ["* 1 FETCH (BODY[TEXT]<5> {3}\r\none)\r\n"]);
}

/// A BINARY part in an unknown transfer encoding is NO [UNKNOWN-CTE]
/// before its answer begins (RFC 3516 §4.3); messages before it are
/// answered and marked \Seen, those after it neither.
#[tokio::test]
async fn unknown_transfer_encoding_stops_the_fetch() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append_message("INBOX", "", MESSAGE).await;
    let odd = "Subject: odd\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
        --b\r\nContent-Transfer-Encoding: x-odd\r\n\r\n?\r\n--b--\r\n";
    client.append_message("INBOX", "", odd).await;
    client.append_message("INBOX", "", MESSAGE).await;
    client.ok("ENABLE IMAP4rev2").await;
    client.ok("SELECT INBOX").await;
    let (lines, done) = client.fails("NO", "FETCH 1:3 BINARY[1]").await;
    assert!(
        done.ends_with(" NO [UNKNOWN-CTE] Cannot decode that content transfer encoding\r\n"),
        "{done}"
    );
    let lines = answers(lines);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("* 1 FETCH (BINARY[1] "), "{lines:?}");
    let lines = client.ok("FETCH 1:3 FLAGS").await;
    assert_eq!(
        lines,
        [
            "* 1 FETCH (FLAGS (\\Seen))\r\n",
            "* 2 FETCH (FLAGS (\\Seen))\r\n",
            "* 3 FETCH (FLAGS ())\r\n"
        ]
    );
}

/// Sequence numbers past the end match nothing: OK with no answer.
#[tokio::test]
async fn numbers_past_the_end_match_nothing() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("").await;
    client.ok("SELECT INBOX").await;
    assert!(client.ok("FETCH 5:7 FLAGS").await.is_empty());
    assert!(client.ok("UID FETCH 9 FLAGS").await.is_empty());
}
