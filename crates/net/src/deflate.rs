//! DEFLATE (RFC 1951, raw: no zlib or gzip wrapper) in both directions of
//! a connection, as IMAP's COMPRESS=DEFLATE asks (RFC 4978 §3); generic,
//! so POP3 or SMTP could use it too.
//!
//! **Memory.** A compressor that lives as long as the connection costs
//! about 320 KiB here (miniz_oxide's, through flate2, whose window is
//! fixed at 32 KiB: the dictionary, two 32 K-entry hash chains of u16, a
//! 64 KiB LZ buffer and an 83 KiB output buffer; zlib-rs, whose window and
//! memLevel can be set, still needs 140 KiB, its hash table having a fixed
//! 64 K entries; C zlib's deflateInit2 is out of reach without unsafe
//! code), ten times what an idle
//! session holds otherwise (issue 7: 10 000 idle sessions in about 250
//! MB). So the compressor lives only while one batch of output is
//! compressed: each flush makes a new one, compresses the batch, ends it
//! with a sync flush (RFC 4978 §4: the client is never left waiting for
//! the rest of a response) and drops it. The stream stays one valid
//! DEFLATE stream, since a sync flush leaves no block open and a fresh
//! compressor starts a new block; each batch is only compressed on its
//! own, without the earlier ones as dictionary, which costs little on
//! IMAP's batches (a FETCH of many messages is one batch) and a new
//! compressor per reply (about 300 KiB to allocate and clear).
//!
//! The decompressor must keep the 32 KiB window the client may refer back
//! into (RFC 1951 §2, RFC 4978 §4 lets the client pick its window), so it
//! lives as long as the connection: 32 KiB plus miniz_oxide's tables, about
//! 43 KiB. Measured end to end over 200 idle sessions: a compressed IMAP
//! session costs 60 KiB more than an uncompressed one (16 KiB), the test
//! allowing 100 (`postamt/tests/imap_compress.rs`).
//!
//! **Compression bombs.** Input is inflated only into the connection's
//! input buffer and only as much as one read would add (at most 64 KiB per
//! wait), so the codecs' limits on lines and literals apply to the
//! decompressed bytes exactly as to plain ones: a few KiB that inflate to
//! gigabytes are refused like any over-long line, never inflated into
//! memory beyond what the framer allows.

use std::io;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Compressed input is read in pieces of at most this much; what one
/// piece inflates to is bounded separately (see [`Deflate::inflate`]).
pub(crate) const RAW_READ: usize = 16 * 1024;

/// The compression level of each batch: zlib's default, a fair trade of
/// CPU for size on IMAP's text (RFC 4978 §3 leaves the choice to the
/// sender).
const LEVEL: u32 = 6;

pub(crate) struct Deflate {
    inflate: Decompress,
    /// Compressed input read from the peer and not yet inflated: one read
    /// at most, and given back when empty.
    pub(crate) raw: Vec<u8>,
    /// The peer ended its stream (a final block): nothing may follow.
    ended: bool,
}

impl Deflate {
    /// Starts decompressing; `pending` is what the peer already sent
    /// after the command that turned compression on (compressed already,
    /// RFC 4978 §3).
    pub(crate) fn new(pending: &[u8]) -> Self {
        Deflate {
            inflate: Decompress::new(false),
            raw: pending.to_vec(),
            ended: false,
        }
    }

    /// Inflates buffered compressed input onto the end of `into`, adding
    /// at most `limit` bytes; returns how many it added. Zero means it
    /// needs more compressed input.
    pub(crate) fn inflate(&mut self, into: &mut Vec<u8>, limit: usize) -> io::Result<usize> {
        let start = into.len();
        let mut used = 0;
        // Called with no compressed input too: the decompressor may hold
        // output it had no room for last time.
        while into.len() - start < limit {
            if self.ended {
                if used < self.raw.len() {
                    return Err(invalid("data after the end of the compressed stream"));
                }
                break;
            }
            let (before_in, before_out) = (self.inflate.total_in(), self.inflate.total_out());
            let len = into.len();
            into.resize(start + limit, 0);
            let status = self
                .inflate
                .decompress(&self.raw[used..], &mut into[len..], FlushDecompress::None);
            let consumed = (self.inflate.total_in() - before_in) as usize;
            let produced = (self.inflate.total_out() - before_out) as usize;
            into.truncate(len + produced);
            used += consumed;
            match status {
                Ok(Status::StreamEnd) => self.ended = true,
                Ok(_) if consumed == 0 && produced == 0 => break,
                Ok(_) => {}
                Err(e) => return Err(invalid(&format!("invalid compressed data: {e}"))),
            }
        }
        self.raw.drain(..used);
        if self.raw.is_empty() {
            // An idle session holds no compressed input buffer.
            self.raw = Vec::new();
        }
        Ok(into.len() - start)
    }
}

/// Compresses one batch of output onto the end of `out`, ending with a
/// sync flush so the peer can read all of it at once (RFC 4978 §4), with a
/// compressor made for this batch alone (see the module's comment).
pub(crate) fn deflate_batch(plain: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    let mut compress = Compress::new(Compression::new(LEVEL), false);
    loop {
        let consumed = compress.total_in() as usize;
        // Room for the rest as stored blocks, should it not compress.
        out.reserve(plain.len() - consumed + plain.len() / 64 + 64);
        compress
            .compress_vec(&plain[consumed..], out, FlushCompress::Sync)
            .map_err(|e| io::Error::other(format!("compression failed: {e}")))?;
        // Done once all input is taken and the flush left room unused.
        if compress.total_in() as usize == plain.len() && out.len() < out.capacity() {
            return Ok(());
        }
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate_all(deflate: &mut Deflate, limit: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while deflate.inflate(&mut out, limit).unwrap() > 0 {}
        out
    }

    #[test]
    fn batches_compressed_apart_make_one_stream() {
        let mut stream = Vec::new();
        deflate_batch(b"* OK first batch\r\n", &mut stream).unwrap();
        deflate_batch(&b"* 1 FETCH (FLAGS (\\Seen))\r\n".repeat(500), &mut stream).unwrap();
        deflate_batch(b"", &mut stream).unwrap();
        let mut deflate = Deflate::new(&stream);
        let mut expected = b"* OK first batch\r\n".to_vec();
        expected.extend(b"* 1 FETCH (FLAGS (\\Seen))\r\n".repeat(500));
        let got = inflate_all(&mut deflate, 4096);
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "the stream inflates to what went in");
        assert!(stream.len() < expected.len() / 10, "{} bytes", stream.len());
    }

    #[test]
    fn each_batch_ends_readable_with_a_sync_flush() {
        // RFC 1951 §3.2.4: a sync flush ends with an empty stored block.
        let mut stream = Vec::new();
        deflate_batch(b"a OK done\r\n", &mut stream).unwrap();
        assert!(stream.ends_with(&[0, 0, 0xff, 0xff]), "{stream:?}");
    }

    #[test]
    fn inflating_adds_no_more_than_the_limit_at_a_time() {
        let mut bomb = Vec::new();
        deflate_batch(&vec![b'x'; 10 * 1024 * 1024], &mut bomb).unwrap();
        assert!(bomb.len() < 20 * 1024, "{} bytes", bomb.len());
        let mut deflate = Deflate::new(&bomb);
        let mut out = Vec::new();
        assert_eq!(deflate.inflate(&mut out, 1000).unwrap(), 1000);
        assert_eq!(out.len(), 1000);
        assert!(!deflate.raw.is_empty(), "the rest waits, compressed");
    }

    #[test]
    fn garbage_is_an_error() {
        let mut deflate = Deflate::new(&[0xff; 64]);
        assert!(deflate.inflate(&mut Vec::new(), 4096).is_err());
    }
}
