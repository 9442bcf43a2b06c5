//! The bounds on keywords (review of issue 13, finding 4): how many one
//! mailbox may hold and how long each may be; past them NO [LIMIT]
//! (RFC 9051 §7.1) and PERMANENTFLAGS without `\*` (RFC 9051 §2.3.2).

use std::time::{Duration, Instant};

use super::{Harness, position};
use crate::ImapConfig;

fn config() -> ImapConfig {
    ImapConfig {
        max_keywords: 3,
        max_keyword_length: 16,
        ..ImapConfig::default()
    }
}

fn refused((untagged, done): (Vec<String>, String), what: &str) {
    assert!(done.contains(" NO [LIMIT]"), "{what}: {done} after {untagged:?}");
}

/// PERMANENTFLAGS offers `\*` below the bound and not at it.
fn offers_new_keywords(lines: &[String]) -> bool {
    lines[position(lines, "* OK [PERMANENTFLAGS (")].contains("\\*)")
}

#[tokio::test]
async fn store_and_append_add_no_keyword_past_the_bound() {
    let harness = Harness::with_config(config()).await;
    let mut client = harness.session().await;
    client.append("").await;
    let lines = client.ok("SELECT INBOX").await;
    assert!(offers_new_keywords(&lines), "{lines:?}");

    let lines = client.ok("STORE 1 +FLAGS ($a $b $c)").await;
    assert!(!offers_new_keywords(&lines), "full, yet \\* offered: {lines:?}");
    refused(client.command("STORE 1 +FLAGS ($d)").await, "a fourth keyword");
    refused(client.command("STORE 1 FLAGS ($d)").await, "a fourth, replacing");
    refused(client.try_append("INBOX", "$d").await, "APPEND of a fourth");
    // Those already there, in any case, and system flags still go.
    client.ok("STORE 1 +FLAGS (\\Seen $A)").await;
    client.ok("STORE 1 -FLAGS ($d)").await;
    client.append("$B \\Flagged").await;
    let lines = client.ok("FETCH 1:* FLAGS").await;
    assert!(!lines.iter().any(|line| line.contains("$d")), "{lines:?}");

    // A session that selects the full mailbox is not offered \* either.
    let mut other = harness.session().await;
    let lines = other.ok("SELECT INBOX").await;
    assert!(!offers_new_keywords(&lines), "{lines:?}");
}

#[tokio::test]
async fn copy_and_move_bring_no_keyword_past_the_bound() {
    let harness = Harness::with_config(config()).await;
    let mut client = harness.session().await;
    client.ok("CREATE Full").await;
    client.try_append("Full", "$x $y").await;
    client.append("$a").await;
    client.append("$b").await;
    client.ok("SELECT INBOX").await;
    // One more is room enough; two are not.
    client.ok("COPY 1 Full").await;
    refused(client.command("COPY 2 Full").await, "COPY of a fourth");
    refused(client.command("MOVE 2 Full").await, "MOVE of a fourth");
    let lines = client.ok("STATUS Full (MESSAGES)").await;
    assert!(lines[0].contains("MESSAGES 2"), "{lines:?}");
}

#[tokio::test]
async fn a_keyword_longer_than_the_bound_is_refused() {
    let harness = Harness::with_config(config()).await;
    let mut client = harness.session().await;
    client.append("").await;
    client.ok("SELECT INBOX").await;
    let longest = "k".repeat(16);
    client.ok(&format!("STORE 1 +FLAGS ({longest})")).await;
    refused(client.command(&format!("STORE 1 +FLAGS (k{longest})")).await, "STORE");
    refused(client.try_append("INBOX", &format!("k{longest}")).await, "APPEND");
}

/// Commands naming thousands of keywords are refused in time linear in
/// their length: STORE's list is as long as a line may be (64 KiB), and a
/// MULTIAPPEND brings one such list per message. Each keyword was
/// compared with every other one: 850 ms for this STORE in a debug build,
/// as much per message of the APPEND, which stored them all.
#[tokio::test]
async fn commands_naming_thousands_of_keywords_are_refused_at_once() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    client.append("").await;
    client.ok("SELECT INBOX").await;
    let many: Vec<String> = (0..10_000).map(|i| format!("k{i}")).collect();
    let many = many.join(" ");
    let started = Instant::now();
    refused(client.command(&format!("STORE 1 +FLAGS ({many})")).await, "STORE");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(250), "STORE: {elapsed:?}");

    let message = "Subject: test\r\n\r\nbody\r\n";
    let one = format!(" ({many}) {{{}+}}\r\n{message}", message.len());
    let started = Instant::now();
    refused(
        client.command(&format!("APPEND INBOX{}", one.repeat(10))).await,
        "MULTIAPPEND",
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "MULTIAPPEND: {elapsed:?}");
    let lines = client.ok("STATUS INBOX (MESSAGES)").await;
    assert!(lines[0].contains("MESSAGES 1"), "{lines:?}");
}

/// Keywords set and taken off again do not make a session's FLAGS grow
/// past the bound: past it, FLAGS lists the ones in use.
#[tokio::test]
async fn flags_stay_within_the_bound_when_keywords_come_and_go() {
    let harness = Harness::with_config(config()).await;
    let mut setter = harness.session().await;
    let mut other = harness.session().await;
    setter.append("").await;
    setter.ok("SELECT INBOX").await;
    other.ok("SELECT INBOX").await;
    let mut last = (Vec::new(), Vec::new());
    for round in ["$a $b $c", "$d $e $f", "$g $h $i"] {
        let lines = setter.ok(&format!("STORE 1 +FLAGS ({round})")).await;
        last.0 = lines;
        last.1 = other.ok("NOOP").await;
        setter.ok(&format!("STORE 1 -FLAGS ({round})")).await;
    }
    for lines in [&last.0, &last.1] {
        let flags = &lines[position(lines, "* FLAGS (")];
        assert!(flags.contains("$g $h $i"), "{lines:?}");
        assert!(!flags.contains("$a") && !flags.contains("$d"), "{lines:?}");
    }
}
