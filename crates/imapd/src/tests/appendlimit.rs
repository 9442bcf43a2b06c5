//! APPENDLIMIT (RFC 7889): the limit is the literal limit, told in
//! CAPABILITY (§2) and STATUS (§3, LIST-STATUS too), and an APPEND over it
//! is refused with TOOBIG before its data is sent (§4); so is a CATENATE
//! that would make a message over it (RFC 4469 §5).

use super::Harness;
use crate::ImapConfig;

#[tokio::test]
async fn the_limit_is_told_and_kept() {
    let harness = Harness::with_config(ImapConfig {
        max_literal: 100,
        ..ImapConfig::default()
    })
    .await;
    let mut client = harness.session().await;
    let lines = client.ok("CAPABILITY").await;
    assert!(
        lines[0].contains(" APPENDLIMIT=100 ") || lines[0].ends_with(" APPENDLIMIT=100\r\n"),
        "{lines:?}"
    );
    let lines = client.ok("STATUS INBOX (APPENDLIMIT MESSAGES)").await;
    assert_eq!(lines, ["* STATUS \"INBOX\" (APPENDLIMIT 100 MESSAGES 0)\r\n"]);
    let lines = client.ok("LIST \"\" \"INBOX\" RETURN (STATUS (APPENDLIMIT))").await;
    assert_eq!(lines[1], "* STATUS \"INBOX\" (APPENDLIMIT 100)\r\n", "{lines:?}");

    // A synchronising literal over the limit: refused at its announcement.
    let (_, done) = client.command("APPEND INBOX {101}").await;
    assert!(done.contains(" NO [TOOBIG] "), "{done}");
    // One at the limit is taken.
    let message = format!("Subject: x\r\n\r\n{}", "y".repeat(100 - 14));
    assert_eq!(message.len(), 100);
    let (_, done) = client.append_message("INBOX", "", &message).await;
    assert!(done.contains(" OK [APPENDUID "), "{done}");
    let lines = client.ok("STATUS INBOX (MESSAGES)").await;
    assert_eq!(lines, ["* STATUS \"INBOX\" (MESSAGES 1)\r\n"]);
}

/// CATENATE parts that add up to more than the limit: NO [TOOBIG], and
/// nothing stored; each part alone is within it.
#[tokio::test]
async fn a_catenate_over_the_limit_is_too_big() {
    let harness = Harness::with_config(ImapConfig {
        max_literal: 100,
        ..ImapConfig::default()
    })
    .await;
    let mut client = harness.session().await;
    let message = format!("Subject: x\r\n\r\n{}", "y".repeat(60));
    let (_, done) = client.append_message("INBOX", "", &message).await;
    assert!(done.contains(" OK "), "{done}");
    let (_, done) = client
        .command("APPEND INBOX CATENATE (URL \"/INBOX/;UID=1\" URL \"/INBOX/;UID=1\")")
        .await;
    assert!(done.contains(" NO [TOOBIG] "), "{done}");
    let (_, done) = client
        .command("APPEND INBOX CATENATE (URL \"/INBOX/;UID=1\" TEXT {5+}\r\nabcde)")
        .await;
    assert!(done.contains(" OK [APPENDUID "), "{done}");
    let lines = client.ok("STATUS INBOX (MESSAGES)").await;
    assert_eq!(lines, ["* STATUS \"INBOX\" (MESSAGES 2)\r\n"]);
}
