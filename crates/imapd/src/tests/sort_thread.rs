//! SORT and THREAD over messages stored without their sort keys (by a
//! version before they were kept): the keys are worked out from the
//! headers, and the answers are those for the same messages stored with
//! them.

use super::Harness;

/// A small thread: a root, a reply and a reply to the reply, with a
/// stray message between, and subjects and dates that order them.
const MESSAGES: [&str; 4] = [
    "Message-ID: <1@x>\r\nSubject: plans\r\nDate: 3 Jan 2026 10:00 +0000\r\n\r\n.\r\n",
    "Message-ID: <2@x>\r\nSubject: other\r\nDate: 1 Jan 2026 10:00 +0000\r\n\r\n.\r\n",
    "Message-ID: <3@x>\r\nIn-Reply-To: <1@x>\r\nSubject: Re: plans\r\nDate: 4 Jan 2026 10:00 +0000\r\n\r\n.\r\n",
    "Message-ID: <4@x>\r\nReferences: <1@x> <3@x>\r\nSubject: Re: plans\r\nDate: 2 Jan 2026 10:00 +0000\r\n\r\n.\r\n",
];

const COMMANDS: [&str; 4] = [
    "THREAD REFERENCES UTF-8 ALL",
    "THREAD ORDEREDSUBJECT UTF-8 ALL",
    "SORT (DATE) UTF-8 ALL",
    "SORT (SUBJECT REVERSE DATE) UTF-8 ALL",
];

/// The answers to COMMANDS in a harness whose INBOX holds MESSAGES,
/// stored with or without their keys.
async fn answers(with_keys: bool) -> Vec<String> {
    let harness = Harness::new().await;
    let store = harness.server.store.clone();
    let inbox = store.inbox(harness.account.id).await.unwrap().id;
    for message in MESSAGES {
        let facts = match with_keys {
            true => store::MessageFacts::of(message.as_bytes()),
            false => store::MessageFacts::default(),
        };
        let content = store.put_content(message.as_bytes().to_vec()).await.unwrap();
        store
            .append(inbox, content, store::Flags::default(), 0, facts)
            .await
            .unwrap();
    }
    let mut client = harness.session().await;
    client.ok("SELECT INBOX").await;
    let mut answers = Vec::new();
    for command in COMMANDS {
        answers.extend(client.ok(command).await);
    }
    answers
}

#[tokio::test]
async fn messages_without_stored_keys_sort_and_thread_alike() {
    let stored = answers(true).await;
    assert_eq!(
        stored,
        [
            "* THREAD (2)(1 3 4)\r\n",
            "* THREAD (2)(4 (1)(3))\r\n",
            "* SORT 2 4 1 3\r\n",
            "* SORT 2 3 1 4\r\n",
        ]
    );
    assert_eq!(answers(false).await, stored);
}
