//! Entry point for the `deflate` fuzz target in `fuzz/`, kept here so
//! that `cargo test` replays its committed corpus on stable Rust: IMAP's
//! COMPRESS=DEFLATE (RFC 4978) inflates whatever a client sends.

use crate::deflate::{Deflate, deflate_batch};

/// The first input byte picks a limit per call, 64 bytes to 16 KiB (a
/// smaller one only multiplies the calls a bomb takes, which made the
/// fuzzer crawl); the rest is a client's compressed stream: each call
/// adds at most the limit (a bomb inflates no further than the reader
/// asks), and the stream either ends in an error or stops growing. What
/// we compress, in batches split where the input says, inflates back to
/// the same bytes whatever the limit.
pub fn deflate(data: &[u8]) {
    let Some((&limit, stream)) = data.split_first() else {
        return;
    };
    let limit = (usize::from(limit) + 1) * 64;
    let mut inflater = Deflate::new(stream);
    let mut out = Vec::new();
    // Every call either adds or the loop is over: a stream of n bytes
    // cannot keep giving forever, and the 1032:1 ratio of DEFLATE bounds
    // what it can give at all.
    for _ in 0..=stream.len().saturating_mul(1100) / limit + 2 {
        match inflater.inflate(&mut out, limit) {
            Ok(0) | Err(_) => break,
            Ok(added) => assert!(added <= limit, "{added} over the limit {limit}"),
        }
    }
    assert!(
        out.len() <= stream.len().saturating_mul(1100) + 64,
        "{} from {}",
        out.len(),
        stream.len()
    );

    let mut compressed = Vec::new();
    for batch in stream.split(|&b| b == b'\n') {
        deflate_batch(batch, &mut compressed).expect("compression works");
    }
    let mut inflater = Deflate::new(&compressed);
    let mut plain = Vec::new();
    while inflater.inflate(&mut plain, limit).expect("our own stream inflates") > 0 {}
    let expected: Vec<u8> = stream.iter().copied().filter(|&b| b != b'\n').collect();
    assert_eq!(plain, expected);
}
