//! Moving a store between backends (`Store::copy_to`, issue 18): a store
//! with several accounts, mailboxes, small and large messages, flags and
//! keywords, an expunge, queue entries, DKIM keys and an alias is copied
//! to the other backend and back, and all three answer the same through
//! the store's own methods (mailboxes with UIDVALIDITY, UIDNEXT and
//! HIGHESTMODSEQ, every message's UID, flags, MODSEQ and bytes); the
//! copies take new rows afterwards (PostgreSQL's identity sequences were
//! moved past the copied ids). A target with rows is refused, and content
//! damaged in the source or lost in the target is an error that names it.
//!
//! Every test needs both backends; without PostgreSQL it is skipped.

mod support;

use support::{Backend, Place};

use store::{Error, FlagChange, Flags, MessageFacts, NewDkimKey, QueueEntry, Store};
use wire::smtp::{MessageOptions, Recipient};

const LIMITS: store::MailboxLimits = store::MailboxLimits {
    max_name: 200,
    max_mailboxes: 100,
};

fn the_other(backend: Backend) -> Backend {
    match backend {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    }
}

/// A message of `len` bytes at least, different for each `n`.
fn message(n: usize, len: usize) -> Vec<u8> {
    let mut text = format!("From: a{n}@example.test\r\nSubject: message {n}\r\n\r\n").into_bytes();
    while text.len() < len {
        text.extend_from_slice(format!("line {n} of a body that goes on for a while\r\n").as_bytes());
    }
    text
}

async fn append(store: &Store, mailbox: i64, data: Vec<u8>, flags: &[&str]) -> i64 {
    let facts = MessageFacts::of(&data);
    let content = store.put_content(data).await.unwrap();
    store
        .append(mailbox, content, Flags::from_names(flags), 1_700_000_000, facts)
        .await
        .unwrap()
        .1
}

/// Fills a store with a bit of everything.
async fn populate(store: &Store) {
    let key = |algorithm: &str, selector: &str| NewDkimKey {
        algorithm: algorithm.into(),
        selector: selector.into(),
        private_key: format!("private {selector}").into_bytes(),
        public_key: format!("public {selector}").into_bytes(),
    };
    store
        .add_domain_with_dkim(
            "example.test",
            vec![key("ed25519-sha256", "e1"), key("rsa-sha256", "r1")],
        )
        .await
        .unwrap();
    store.add_domain("other.test").await.unwrap();
    for user in ["alice@example.test", "bob@example.test", "carol@other.test"] {
        store.add_account(user, "hash").await.unwrap();
    }
    store
        .add_alias("postmaster@example.test", &["alice@example.test".to_string()])
        .await
        .unwrap();
    let alice = store.find_account("alice@example.test").await.unwrap().unwrap().id;
    let bob = store.find_account("bob@example.test").await.unwrap().unwrap().id;
    let inbox = store.inbox(alice).await.unwrap().id;
    let projects = store.create_mailbox(alice, "Projects", LIMITS).await.unwrap().id;
    store.create_mailbox(alice, "Projects/2026", LIMITS).await.unwrap();
    for n in 0..12 {
        // Every fourth above the inline limit: in the content store.
        let len = if n % 4 == 0 {
            store::INLINE_LIMIT + 1000 * n
        } else {
            300 + n
        };
        let flags: &[&str] = if n % 3 == 0 { &["\\Seen"] } else { &[] };
        append(store, inbox, message(n, len), flags).await;
    }
    for n in 12..16 {
        append(store, projects, message(n, 500), &["\\Flagged", "$Work"]).await;
    }
    store
        .store_flags(
            inbox,
            &[2, 3, 5],
            FlagChange::Add,
            &Flags::from_names(&["\\Answered", "$Label1"]),
            None,
        )
        .await
        .unwrap();
    store.expunge(inbox, &[4]).await.unwrap();
    store.copy_messages(inbox, &[1, 5], projects).await.unwrap();
    store.move_messages(inbox, &[6], projects).await.unwrap();
    let bob_inbox = store.inbox(bob).await.unwrap().id;
    append(store, bob_inbox, message(99, store::INLINE_LIMIT * 3), &[]).await;
    let policy = store::StoredStsPolicy {
        policy_id: "20260101".into(),
        policy: "version: STSv1\r\nmode: enforce\r\nmx: mx.elsewhere.test\r\nmax_age: 86400\r\n".into(),
        fetched_at: 1_700_000_000,
        expires_at: 1_700_086_400,
    };
    store.save_mta_sts_policy("elsewhere.test", &policy).await.unwrap();
    for (id, len) in [("q-small", 400), ("q-large", store::INLINE_LIMIT * 2)] {
        let content = store.put_content(message(len, len)).await.unwrap();
        store
            .enqueue(QueueEntry {
                id: id.into(),
                reverse_path: "alice@example.test".into(),
                recipients: vec![Recipient::new("someone@elsewhere.test")],
                options: MessageOptions {
                    require_tls: id == "q-large",
                    ..MessageOptions::default()
                },
                content,
                received_at: 1_700_000_100,
            })
            .await
            .unwrap();
    }
    // An attempt at another host, kept with its transport (issue 21).
    let due = store.claim_due(1_700_000_200, 1, "copy", 1_700_000_800).await.unwrap();
    let attempt = store::Attempt {
        reply: "451 4.3.0 later".into(),
        status_code: "4.3.0".into(),
        remote_mta: Some("mx.elsewhere.test".into()),
        report: None,
        transport: Some(store::Transport {
            policy: Some("opportunistic".into()),
            tls_version: Some("TLSv1_3".into()),
            tls_cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
        }),
    };
    store.defer_recipient(&due[0], &attempt, 1_700_000_900).await.unwrap();
    assert_eq!(store.queue_attempts(&due[0].queue_id).await.unwrap().len(), 1);
    // TLS reporting's counts and a day sent (migration 33).
    for failure in [None, Some("certificate-expired")] {
        store
            .count_tls_session(store::TlsSessionCount {
                day: TLS_DAY,
                domain: "remote.test".into(),
                policy_type: "sts".into(),
                policy_strings: vec!["version: STSv1".into(), "mode: enforce".into()],
                mx_hosts: vec!["*.remote.test".into()],
                failure: failure.map(|result_type| store::TlsFailure {
                    result_type: result_type.into(),
                    receiving_mx: "mx.remote.test".into(),
                    ..Default::default()
                }),
            })
            .await
            .unwrap();
    }
    store
        .claim_tls_report_day(TLS_DAY - 86_400, 1_700_000_200)
        .await
        .unwrap();
}

/// The day `populate` counts TLS sessions on.
const TLS_DAY: i64 = 19_700 * 86_400;

/// Everything a client could see of a store, through its methods.
async fn snapshot(store: &Store) -> String {
    let mut out = Vec::new();
    for domain in store.list_domains().await.unwrap() {
        out.push(format!("domain {} {} {}", domain.name, domain.accounts, domain.aliases));
        out.push(format!("dkim {:?}", store.dkim_keys(&domain.name).await.unwrap()));
        out.push(format!(
            "signing {:?}",
            store.active_dkim_keys(&domain.name).await.unwrap()
        ));
    }
    for alias in store.list_aliases(None).await.unwrap() {
        out.push(format!("alias {} {:?}", alias.source, alias.targets));
    }
    for address in store.list_accounts(None).await.unwrap() {
        let account = store.find_account(&address).await.unwrap().unwrap().id;
        out.push(format!("account {address}"));
        for mailbox in store.mailboxes(account).await.unwrap() {
            out.push(format!(
                "mailbox {} {:?} uidvalidity {} uidnext {} highestmodseq {} subscribed {}",
                mailbox.name,
                mailbox.special_use,
                mailbox.uidvalidity,
                mailbox.uidnext,
                mailbox.highestmodseq,
                mailbox.subscribed
            ));
            let list = store.message_list(mailbox.id).await.unwrap();
            let uids: Vec<i64> = list.iter().map(|m| m.uid).collect();
            let contents = store.message_contents(mailbox.id, &uids).await.unwrap();
            for (meta, content) in list.iter().zip(&contents) {
                let bytes = store.open_message(content.stored(), false).await.unwrap();
                let bytes = bytes.read_all().await.unwrap();
                out.push(format!(
                    "  uid {} modseq {} flags {:?} size {} date {} sha256 {}",
                    meta.uid,
                    meta.modseq,
                    meta.flags.names(),
                    meta.size,
                    meta.internal_date,
                    sha256_hex(&bytes)
                ));
            }
        }
    }
    for queued in store.queued_messages().await.unwrap() {
        out.push(format!("queued {queued:?}"));
        out.push(format!(
            "  attempts {:?}",
            store.queue_attempts(&queued.id).await.unwrap()
        ));
        let recipient = &queued.recipients[0];
        let bytes = store
            .open_message(
                store::StoredMessage {
                    trace_headers: b"",
                    blob_hash: &recipient.blob_hash,
                    header: None,
                },
                false,
            )
            .await
            .unwrap();
        out.push(format!("  sha256 {}", sha256_hex(&bytes.read_all().await.unwrap())));
    }
    out.push(format!(
        "mta-sts {:?}",
        store.mta_sts_policy("elsewhere.test").await.unwrap()
    ));
    out.push(format!(
        "tls {:?}",
        store.tls_report_counts(TLS_DAY, "remote.test").await.unwrap()
    ));
    out.push(format!(
        "tls sent {:?}",
        store.tls_report_day_sent(TLS_DAY - 86_400).await.unwrap()
    ));
    out.push(format!(
        "srs {:?}",
        store.srs().forward("x@sender.test", "example.test", 1_700_000_000)
    ));
    out.join("\n")
}

fn sha256_hex(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A copy of `source` into a new store on `backend`, opened afresh (the
/// handle that made it holds the SRS secret it was opened with).
async fn copied(source: &Store, backend: Backend) -> (Place, Store) {
    let (place, target) = backend.store().await;
    let summary = source.copy_to(&target).await.unwrap();
    assert!(summary.contents_copied == 5, "{summary:?}");
    assert!(summary.verified.rows > 0, "{summary:?}");
    drop(target);
    let target = place.open().await;
    (place, target)
}

async fn a_round_trip_through_the_other_backend_changes_nothing(first: Backend) {
    if !Backend::Postgres.available() {
        return;
    }
    let (_source_place, source) = first.store().await;
    populate(&source).await;
    let original = snapshot(&source).await;
    assert!(original.contains("modseq"), "{original}");
    let (_there_place, there) = copied(&source, the_other(first)).await;
    assert_eq!(
        snapshot(&there).await,
        original,
        "after the copy to {:?}",
        the_other(first)
    );
    let (_back_place, back) = copied(&there, first).await;
    assert_eq!(snapshot(&back).await, original, "after the copy back to {first:?}");
    // Both copies take new rows: ids (PostgreSQL's identity sequences)
    // and UIDs go on from the copied ones.
    for store in [&there, &back] {
        store.add_domain("new.test").await.unwrap();
        store.add_account("dave@new.test", "hash").await.unwrap();
        let alice = store.find_account("alice@example.test").await.unwrap().unwrap().id;
        let inbox = store.inbox(alice).await.unwrap();
        let uid = append(store, inbox.id, message(1000, 100), &[]).await;
        assert_eq!(uid, inbox.uidnext);
        let created = store.create_mailbox(alice, "Later", LIMITS).await.unwrap();
        let highest = store
            .mailboxes(alice)
            .await
            .unwrap()
            .iter()
            .filter(|m| m.id != created.id)
            .map(|m| m.uidvalidity)
            .max()
            .unwrap();
        assert!(created.uidvalidity > highest, "the UIDVALIDITY counter came along");
    }
}

async fn a_target_with_rows_is_refused(first: Backend) {
    if !Backend::Postgres.available() {
        return;
    }
    let (_source_place, source) = first.store().await;
    populate(&source).await;
    let (_place, target) = the_other(first).store().await;
    target.add_domain("already.test").await.unwrap();
    let error = source.copy_to(&target).await.unwrap_err();
    assert!(matches!(error, Error::CopyRefused(_)), "{error}");
    assert!(error.to_string().contains("domains: 1 row"), "{error}");
    assert!(
        store_is_bare(&target).await,
        "nothing was copied into the refused target"
    );
}

async fn store_is_bare(store: &Store) -> bool {
    store.list_accounts(None).await.unwrap().is_empty() && store.list_domains().await.unwrap().len() == 1
}

/// A blob file overwritten in a SQLite source: the copy stops at it,
/// naming its hash.
#[tokio::test]
async fn content_damaged_in_the_source_is_named() {
    if !Backend::Postgres.available() {
        return;
    }
    let (source_place, source) = Backend::Sqlite.store().await;
    populate(&source).await;
    let fan_out = std::fs::read_dir(source_place.dir.path().join("blobs"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().len() == 2)
        .find_map(|e| std::fs::read_dir(e.path()).unwrap().flatten().next())
        .expect("a blob file");
    let hash = fan_out.file_name().into_string().unwrap();
    std::fs::write(fan_out.path(), b"not what was stored").unwrap();
    let (_place, target) = Backend::Postgres.store().await;
    let error = source.copy_to(&target).await.unwrap_err();
    assert!(matches!(error, Error::CopyMismatch(_)), "{error}");
    assert!(error.to_string().contains(&hash), "{error}");
}

/// A chunk row lost in a PostgreSQL target after the copy: verifying
/// again names the content; a value changed names its row and column; a
/// row lost names its table's counts.
#[tokio::test]
async fn content_lost_in_the_target_is_named() {
    if !Backend::Postgres.available() {
        return;
    }
    let (_source_place, source) = Backend::Sqlite.store().await;
    populate(&source).await;
    let (place, target) = Backend::Postgres.store().await;
    source.copy_to(&target).await.unwrap();
    let client = place.postgres().await.unwrap();
    let row = client
        .query_one(
            "DELETE FROM content_chunks WHERE (hash, seq) IN (SELECT hash, seq FROM content_chunks ORDER BY hash LIMIT 1)
             RETURNING hash",
            &[],
        )
        .await
        .unwrap();
    let hash: String = row.get(0);
    let error = source.verify_copy(&target).await.unwrap_err();
    assert!(matches!(error, Error::CopyMismatch(_)), "{error}");
    assert!(error.to_string().contains(&hash), "{error}");
    // A value changed in a row is named with the row's key and column.
    let row = client
        .query_one(
            "UPDATE messages SET flags = flags + 64 WHERE id = (SELECT MIN(id) FROM messages) RETURNING id",
            &[],
        )
        .await
        .unwrap();
    let id: i64 = row.get(0);
    let error = source.verify_copy(&target).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&format!("table messages, row with key ({id}): flags is ")),
        "{error}"
    );
    // A row lost from a table is named with both counts.
    client
        .execute("DELETE FROM message_keywords WHERE keyword = '$Work'", &[])
        .await
        .unwrap();
    let error = source.verify_copy(&target).await.unwrap_err();
    assert!(
        error.to_string().contains("table message_keywords: "),
        "the first difference, a table's count: {error}"
    );
}

on_both_backends!(
    a_round_trip_through_the_other_backend_changes_nothing,
    a_target_with_rows_is_refused,
);
