//! OBJECTID (RFC 8474) and SAVEDATE (RFC 8514) across sessions and
//! commands, where the values are random or clock-made and must be
//! compared with each other (the dialog files cannot).

use super::{Client, Harness};

/// The value in parentheses after `name` in a FETCH line: `EMAILID (x)`.
fn object(line: &str, name: &str) -> String {
    let start = line
        .find(&format!("{name} ("))
        .unwrap_or_else(|| panic!("{name} in {line}"))
        + name.len()
        + 2;
    let end = line[start..].find(')').expect(")") + start;
    line[start..end].to_string()
}

/// What an ESEARCH answer found, after its tag: ` ALL 1:2`, or empty.
fn found(lines: &[String]) -> String {
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = lines[0].trim_end();
    line[line.find("\")").expect("a tag") + 2..].to_string()
}

/// (EMAILID, THREADID) of the message at `number` of the selected mailbox.
async fn ids(client: &mut Client, number: u32) -> (String, String) {
    let lines = client.ok(&format!("FETCH {number} (EMAILID THREADID)")).await;
    let line = lines.iter().find(|l| l.contains(" FETCH (")).expect("a FETCH line");
    (object(line, "EMAILID"), object(line, "THREADID"))
}

const ORIGINAL: &str = "Message-ID: <orig@x.test>\r\nSubject: plan\r\n\r\nLet us meet.\r\n";
const REPLY: &str = "Message-ID: <re@x.test>\r\nIn-Reply-To: <orig@x.test>\r\nSubject: Re: plan\r\n\r\nFine by me.\r\n";
const UNRELATED: &str = "Message-ID: <other@x.test>\r\nSubject: lunch\r\n\r\nNoon?\r\n";

/// EMAILID is kept by COPY and MOVE (RFC 8474 §5.1), a reply shares its
/// original's THREADID (§5.2), SEARCH EMAILID/THREADID find them (§6),
/// and MAILBOXID is kept across RENAME (§4) and told by SELECT, CREATE and
/// STATUS alike.
#[tokio::test]
async fn ids_follow_copies_moves_replies_and_renames() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    for message in [ORIGINAL, REPLY, UNRELATED] {
        let (_, done) = client.append_message("INBOX", "", message).await;
        assert!(done.contains(" OK "), "{done}");
    }
    let (_, created) = client.command("CREATE Keep").await;
    let keep_id = object(&created, "MAILBOXID");
    client.ok("ENABLE IMAP4rev2").await;
    client.ok("SELECT INBOX").await;
    let (email, thread) = ids(&mut client, 1).await;
    let (reply_email, reply_thread) = ids(&mut client, 2).await;
    let (other_email, other_thread) = ids(&mut client, 3).await;
    assert_eq!(reply_thread, thread, "a reply is in its original's thread");
    assert_ne!(other_thread, thread);
    assert!(email != reply_email && email != other_email);

    let lines = client.ok(&format!("SEARCH THREADID {thread}")).await;
    assert_eq!(found(&lines), " ALL 1:2");
    let lines = client.ok(&format!("UID SEARCH EMAILID {other_email}")).await;
    assert_eq!(found(&lines), " UID ALL 3");

    client.ok("COPY 1 Keep").await;
    client.ok("MOVE 1 Keep").await;
    client.ok("SELECT Keep").await;
    let lines = client.ok("STATUS Keep (MAILBOXID)").await;
    assert_eq!(lines, [format!("* STATUS \"Keep\" (MAILBOXID ({keep_id}))\r\n")]);
    assert_eq!(
        ids(&mut client, 1).await,
        (email.clone(), thread.clone()),
        "COPY keeps them"
    );
    assert_eq!(
        ids(&mut client, 2).await,
        (email.clone(), thread.clone()),
        "MOVE keeps them"
    );

    client.ok("RENAME Keep Kept").await;
    let lines = client.ok("EXAMINE Kept").await;
    assert!(
        lines.contains(&format!("* OK [MAILBOXID ({keep_id})] Ok\r\n")),
        "RENAME keeps the MAILBOXID: {lines:?}"
    );
    let lines = client.ok("STATUS INBOX (MAILBOXID)").await;
    assert!(!lines[0].contains(&keep_id), "{lines:?}");
}

/// A second session sees the same ids for the same messages: they are
/// stored, not made per session.
#[tokio::test]
async fn ids_are_the_same_in_every_session() {
    let harness = Harness::new().await;
    let mut first = harness.session().await;
    let (_, done) = first.append_message("INBOX", "", ORIGINAL).await;
    assert!(done.contains(" OK "), "{done}");
    let mut second = harness.session().await;
    first.ok("SELECT INBOX").await;
    second.ok("EXAMINE INBOX").await;
    assert_eq!(ids(&mut first, 1).await, ids(&mut second, 1).await);
}

/// SAVEDATE is today's date for a new message and its copy (RFC 8514 §4),
/// and SEARCH SAVEDON/SAVEDSINCE/SAVEDBEFORE/SAVEDATESUPPORTED use it.
#[tokio::test]
async fn save_dates_are_answered_and_searched() {
    let harness = Harness::new().await;
    let mut client = harness.session().await;
    // An internal date long ago: SAVEDATE is not the internal date.
    let message = "Subject: old\r\n\r\nfrom 2001\r\n";
    let (_, done) = client
        .command(&format!(
            "APPEND INBOX \"01-Jan-2001 00:00:00 +0000\" {{{}+}}\r\n{message}",
            message.len()
        ))
        .await;
    assert!(done.contains(" OK "), "{done}");
    client.ok("CREATE Keep").await;
    client.ok("ENABLE IMAP4rev2").await;
    client.ok("SELECT INBOX").await;
    client.ok("COPY 1 Keep").await;
    let today = crate::format::date_time(store::now());
    let day = &today[1..12];
    let lines = client.ok("FETCH 1 (INTERNALDATE SAVEDATE)").await;
    let line = &lines[0];
    assert!(line.contains("INTERNALDATE \"01-Jan-2001 00:00:00 +0000\""), "{line}");
    assert!(line.contains(&format!("SAVEDATE \"{day}")), "{line}");
    let lines = client.ok(&format!("SEARCH SAVEDON {day} SAVEDATESUPPORTED")).await;
    assert_eq!(found(&lines), " ALL 1");
    let lines = client.ok(&format!("SEARCH SAVEDBEFORE {day}")).await;
    assert_eq!(found(&lines), "");
    let lines = client.ok("SEARCH SAVEDSINCE 2-Jan-2001 BEFORE 2-Jan-2001").await;
    assert_eq!(found(&lines), " ALL 1");
    client.ok("SELECT Keep").await;
    let lines = client.ok("FETCH 1 SAVEDATE").await;
    assert!(lines[0].contains(&format!("SAVEDATE \"{day}")), "{lines:?}");
}
