//! Large message content in the store's content store: a 50 MiB message
//! in and out on either backend (in chunks of at most 1 MiB on
//! PostgreSQL), and, on PostgreSQL only (with SQLite one writer at a time
//! orders them), garbage collection ordered against a transaction of
//! another node that is about to refer to the content, played by the
//! test's own connection.

mod support;

use std::time::{Duration, Instant};

use support::Backend;

use store::{Error, QueueEntry, Store, StoredMessage};
use tokio::io::AsyncReadExt;
use wire::smtp::{MessageOptions, Recipient};

/// The size of the large message: 50 MiB, 50 chunks on PostgreSQL.
const LARGE: usize = 50 << 20;

/// `len` bytes that differ from chunk to chunk and within each (a chunk
/// read twice or out of order shows).
fn pattern(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// This process's peak resident set so far, from /proc (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn entry(id: &str, content: store::Content) -> QueueEntry {
    QueueEntry {
        id: id.into(),
        reverse_path: String::new(),
        recipients: vec![Recipient::new("alice@example.test")],
        options: MessageOptions::default(),
        content,
        received_at: 0,
    }
}

fn stored(hash: &str) -> StoredMessage<'_> {
    StoredMessage {
        trace_headers: b"",
        blob_hash: hash,
        header: None,
    }
}

async fn populated(backend: Backend) -> (support::Place, Store) {
    let (place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    store.add_account("alice@example.test", "h").await.unwrap();
    (place, store)
}

async fn a_50_mib_message_goes_in_and_out_byte_identical(backend: Backend) {
    let (place, store) = populated(backend).await;
    let data = pattern(LARGE);
    let hash = sha256_hex(&data);
    let rss_before = peak_rss_kib();

    let started = Instant::now();
    // Moved in, not copied: the peak after it shows what the put holds.
    let content = store.put_content(data).await.unwrap();
    let put = started.elapsed();
    assert_eq!(
        (content.blob().hash.as_str(), content.blob().size),
        (hash.as_str(), LARGE as u64)
    );
    store.enqueue(entry("BIG", content)).await.unwrap();
    let rss_put = peak_rss_kib();

    // Streamed in small reads, hashed on the way: nothing here holds the
    // message, so the peak shows what the reader holds.
    let started = Instant::now();
    let mut reader = store.open_message(stored(&hash), false).await.unwrap();
    assert_eq!(reader.len(), LARGE as u64);
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let (mut buffer, mut streamed) = (vec![0; 64 * 1024], 0);
    loop {
        let n = reader.read(&mut buffer).await.unwrap();
        if n == 0 {
            break;
        }
        digest.update(&buffer[..n]);
        streamed += n;
    }
    let stream = started.elapsed();
    let streamed_hash: String = digest.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!((streamed, streamed_hash.as_str()), (LARGE, hash.as_str()));
    let rss_streamed = peak_rss_kib();

    let started = Instant::now();
    let whole = store
        .open_message(stored(&hash), false)
        .await
        .unwrap()
        .read_all()
        .await
        .unwrap();
    let read_all = started.elapsed();
    assert_eq!(sha256_hex(&whole), hash, "read_all gave other bytes");
    drop(whole);

    if let Some(client) = place.postgres().await {
        let row = client
            .query_one(
                "SELECT COUNT(*), MAX(octet_length(data)), SUM(octet_length(data))::BIGINT, MIN(seq), MAX(seq)
                 FROM content_chunks WHERE hash = $1",
                &[&hash],
            )
            .await
            .unwrap();
        let (chunks, largest, total): (i64, Option<i32>, Option<i64>) = (row.get(0), row.get(1), row.get(2));
        let (first, last): (Option<i64>, Option<i64>) = (row.get(3), row.get(4));
        assert_eq!(
            (chunks, first, last),
            (50, Some(0), Some(49)),
            "50 chunks numbered from 0"
        );
        assert!(largest <= Some(1 << 20), "a chunk of {largest:?} bytes");
        assert_eq!(total, Some(LARGE as i64));
        assert_eq!(place.blob_files(), 0);
    }
    eprintln!(
        "{backend:?}: 50 MiB put {put:?}, streamed {stream:?}, read whole {read_all:?}; \
         peak RSS (KiB) before {rss_before:?}, after put {rss_put:?}, after the stream {rss_streamed:?}, \
         after read_all {:?}",
        peak_rss_kib()
    );
}

/// Waits (10 s at most) until a session of the store's database waits
/// for a lock: the store's transaction has met the test's.
async fn until_a_lock_is_waited_for(place: &support::Place) {
    let observer = place.postgres().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = observer
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the store never waited for the test's lock");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Another node's transaction holds content it is about to refer to (as
/// `Content::keep` does); collection waits for it, then sees the
/// reference and keeps the content.
#[tokio::test]
async fn collection_waits_for_a_transaction_about_to_refer_to_content() {
    if !Backend::Postgres.available() {
        return;
    }
    let (place, store) = populated(Backend::Postgres).await;
    let other_node = place.postgres().await.unwrap();
    let data = pattern(store::INLINE_LIMIT + 1);
    let content = store.put_content(data.clone()).await.unwrap();
    let hash = content.blob().hash.clone();
    other_node.batch_execute("BEGIN").await.unwrap();
    let held = other_node
        .query("SELECT size FROM chunked_content WHERE hash = $1 FOR SHARE", &[&hash])
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    let collecting = tokio::spawn({
        let store = store.clone();
        async move { store.collect_garbage(Duration::ZERO).await }
    });
    until_a_lock_is_waited_for(&place).await;
    other_node
        .execute(
            "INSERT INTO queue_messages (id, reverse_path, blob_hash, size, received_at) VALUES ('OTHER', '', $1, 1, 0)",
            &[&hash],
        )
        .await
        .unwrap();
    other_node.batch_execute("COMMIT").await.unwrap();
    assert_eq!(
        collecting.await.unwrap().unwrap(),
        0,
        "referenced content was collected"
    );
    let read = store.open_message(stored(&hash), false).await.unwrap();
    assert!(read.read_all().await.unwrap() == data);
}

/// Collection on another node has locked content and removes it; a write
/// about to refer to it waits, then finds it gone and fails instead of
/// committing a reference to nothing.
#[tokio::test]
async fn a_reference_waits_for_collection_and_finds_the_content_gone() {
    if !Backend::Postgres.available() {
        return;
    }
    let (place, store) = populated(Backend::Postgres).await;
    let other_node = place.postgres().await.unwrap();
    let content = store.put_content(pattern(store::INLINE_LIMIT + 1)).await.unwrap();
    let hash = content.blob().hash.clone();
    other_node.batch_execute("BEGIN").await.unwrap();
    other_node
        .query("SELECT size FROM chunked_content WHERE hash = $1 FOR UPDATE", &[&hash])
        .await
        .unwrap();
    other_node
        .execute("DELETE FROM chunked_content WHERE hash = $1", &[&hash])
        .await
        .unwrap();
    let enqueuing = tokio::spawn({
        let store = store.clone();
        async move { store.enqueue(entry("LATE", content)).await }
    });
    until_a_lock_is_waited_for(&place).await;
    other_node.batch_execute("COMMIT").await.unwrap();
    let enqueued = enqueuing.await.unwrap();
    assert!(matches!(enqueued, Err(Error::MissingBlob(_))), "{enqueued:?}");
    assert!(!store.is_queued("LATE").await.unwrap());
}

/// Chunks gone while a message is read (only collection takes them, of
/// content no row refers to) make the read fail: a reader never passes
/// off a shortened message as whole.
#[tokio::test]
async fn chunks_gone_mid_read_fail_the_read() {
    if !Backend::Postgres.available() {
        return;
    }
    let (place, store) = populated(Backend::Postgres).await;
    let content = store.put_content(pattern(3 << 20)).await.unwrap();
    let hash = content.blob().hash.clone();
    let mut reader = store.open_message(stored(&hash), false).await.unwrap();
    let mut first = vec![0; 1 << 20];
    reader.read_exact(&mut first).await.unwrap();
    let client = place.postgres().await.unwrap();
    client
        .execute("DELETE FROM chunked_content WHERE hash = $1", &[&hash])
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = reader.read_to_end(&mut rest).await;
    assert_eq!(
        read.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::UnexpectedEof),
        "{} bytes more",
        rest.len()
    );
}

on_both_backends!(a_50_mib_message_goes_in_and_out_byte_identical);
