//! The memory a selected mailbox holds in each session (issue 20, point
//! 5): a few bytes a message, whatever the messages' flags and keywords,
//! and however many are new (\Recent) when it is selected.

use store::{Flags, MessageFacts, Store};

use super::add_alice;
use crate::view::View;

/// Messages in the mailbox the test selects.
const MESSAGES: usize = 10_000;

/// A view of 10 000 messages, all new, half \Seen and each with two
/// keywords, holds at most 8 bytes a message (its UIDs are 4), read-write
/// and read-only, as IMAP4rev1 (which tracks \Recent) and IMAP4rev2.
#[tokio::test]
async fn a_view_holds_a_few_bytes_a_message() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path()).await.expect("open store");
    add_alice(&store).await;
    let alice = store.find_account("alice@example.test").await.unwrap().unwrap();
    let inbox = store.inbox(alice.id).await.unwrap();
    let content = store.put_content(b"Subject: x\r\n\r\nx\r\n".to_vec()).await.unwrap();
    for batch in 0..MESSAGES / 1000 {
        let messages = (0..1000)
            .map(|i| {
                let mut names = vec!["$Label1", "Work"];
                if (batch + i) % 2 == 0 {
                    names.push("\\Seen");
                }
                (content.clone(), Flags::from_names(&names), 0, MessageFacts::default())
            })
            .collect();
        store.append_many(inbox.id, messages).await.unwrap();
    }
    for (read_only, rev1) in [(true, true), (false, true), (false, false)] {
        let view = View::open(&store, inbox.clone(), read_only, rev1, 100).await.unwrap();
        assert_eq!(view.len(), MESSAGES);
        if rev1 && read_only {
            assert_eq!(view.recent.len(), MESSAGES, "all recent to the first session");
        }
        let per_message = view.heap_bytes() as f64 / MESSAGES as f64;
        eprintln!("read-only {read_only}, rev1 {rev1}: {per_message} bytes a message");
        assert!(
            per_message <= 8.0,
            "{per_message} bytes a message (read-only {read_only}, rev1 {rev1})"
        );
    }
}
