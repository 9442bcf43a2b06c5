//! SETMETADATA's refusals at the configured limits (RFC 5464 §4.3): NO
//! [METADATA MAXSIZE n] naming the largest value accepted, NO [METADATA
//! TOOMANY], NO [LIMIT] for the account's total; each changes nothing.

use super::Harness;
use crate::ImapConfig;

fn config() -> ImapConfig {
    ImapConfig {
        max_metadata_value: 1024,
        max_metadata_entries: 10,
        max_metadata_total: 4096,
        ..ImapConfig::default()
    }
}

#[tokio::test]
async fn setmetadata_is_refused_at_the_limits_and_changes_nothing() {
    let harness = Harness::with_config(config()).await;
    let mut client = harness.session().await;
    // §4.1: at least 1024 bytes and 10 entries must be accepted.
    let value = "v".repeat(1024);
    client
        .ok(&format!("SETMETADATA INBOX (/private/big \"{value}\")"))
        .await;
    let (_, done) = client
        .command(&format!(
            "SETMETADATA INBOX (/private/a \"x\" /private/big \"{value}v\")"
        ))
        .await;
    assert!(done.contains(" NO [METADATA MAXSIZE 1024] "), "{done}");
    for n in 0..9 {
        client.ok(&format!("SETMETADATA \"\" (/shared/e{n} \"x\")")).await;
    }
    let (_, done) = client
        .command("SETMETADATA INBOX (/private/comment NIL /shared/comment \"eleventh\")")
        .await;
    assert!(done.contains(" NO [METADATA TOOMANY] "), "{done}");
    // Replacing one is no new entry.
    client.ok("SETMETADATA \"\" (/shared/e0 \"y\")").await;
    let removed: Vec<String> = (0..9).map(|n| format!("/shared/e{n} NIL")).collect();
    client.ok(&format!("SETMETADATA \"\" ({})", removed.join(" "))).await;
    let (_, done) = client
        .command(&format!(
            "SETMETADATA INBOX (/private/b1 \"{value}\" /private/b2 \"{value}\" /private/b3 \"{value}\" /private/b4 \"{value}\")"
        ))
        .await;
    assert!(done.contains(" NO [LIMIT] "), "{done}");
    // Nothing of the refused ones was written.
    let lines = client.ok("GETMETADATA INBOX (DEPTH infinity) /private").await;
    // /private/big alone, its value sent as a literal: two lines.
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0], "* METADATA \"INBOX\" (/private/big {1024}\r\n");
}
