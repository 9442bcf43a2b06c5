//! The input encoding shared by the three session targets.
//!
//! The fuzzer's bytes are the client's side of one session, cut into
//! chunks at every `0xFF` byte: each chunk is written to the server in one
//! write, and the server runs until it waits for more (see `pipe`) before
//! the next is written. `0xFF` never occurs in UTF-8, so seeds are plain
//! text with the cuts where a real client's writes would end; a binary
//! literal or BDAT chunk that needs the byte cannot have it, which costs
//! the sessions nothing they parse (they see every other byte value).
//!
//! A leading `0xFE` byte selects the target's second setup (SMTP: the
//! submission port instead of the MX; POP3 and IMAP: an empty INBOX).
//!
//! Bounds keep one input cheap: at most [`MAX_INPUT`] bytes are used and at
//! most [`MAX_CHUNKS`] chunks (the last one takes the rest); empty chunks
//! are dropped.

/// Input beyond this many bytes is ignored.
pub const MAX_INPUT: usize = 64 * 1024;
/// Chunks beyond this many are joined into the last one.
pub const MAX_CHUNKS: usize = 64;
/// Where one chunk ends and the next begins.
pub const CUT: u8 = 0xFF;
/// A first byte that selects the second setup.
pub const ALTERNATE: u8 = 0xFE;

/// A decoded input: the setup and the client's writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub alternate: bool,
    pub chunks: Vec<Vec<u8>>,
}

/// Decodes the fuzzer's bytes (never fails: every byte string is an input).
pub fn decode(data: &[u8]) -> Input {
    let data = &data[..data.len().min(MAX_INPUT)];
    let (alternate, data) = match data.split_first() {
        Some((&ALTERNATE, rest)) => (true, rest),
        _ => (false, data),
    };
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let end = if chunks.len() + 1 == MAX_CHUNKS {
            rest.len()
        } else {
            rest.iter().position(|&b| b == CUT).unwrap_or(rest.len())
        };
        if end > 0 {
            chunks.push(rest[..end].to_vec());
        }
        rest = rest.get(end + 1..).unwrap_or(&[]);
    }
    Input { alternate, chunks }
}

/// Encodes chunks the other way round, for seeds and tests.
pub fn encode(alternate: bool, chunks: &[&[u8]]) -> Vec<u8> {
    let mut data = Vec::new();
    if alternate {
        data.push(ALTERNATE);
    }
    for (i, chunk) in chunks.iter().enumerate() {
        if i > 0 {
            data.push(CUT);
        }
        data.extend_from_slice(chunk);
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_cut_at_the_separator_and_empty_ones_dropped() {
        let input = decode(b"\xfeab\xff\xffcd\xff");
        assert!(input.alternate);
        assert_eq!(input.chunks, vec![b"ab".to_vec(), b"cd".to_vec()]);
        assert_eq!(
            decode(&encode(false, &[b"x", b"y"])).chunks,
            vec![b"x".to_vec(), b"y".to_vec()]
        );
    }

    #[test]
    fn the_last_chunk_takes_the_rest() {
        let data = [CUT, b'a'].repeat(100);
        let input = decode(&data);
        assert_eq!(input.chunks.len(), MAX_CHUNKS);
        assert!(input.chunks[MAX_CHUNKS - 1].contains(&CUT));
    }
}
