//! Entry point for the `managesieve_command` fuzz target in `fuzz/`, kept
//! here so that `cargo test` replays its committed corpus on stable Rust:
//! whatever a client sends, the command parser takes a whole command, asks
//! for more, or says how much to drop, always within the input and the
//! limits; and a string the server writes reads back as the same octets.

use crate::codec::{Limits, MAX_TOKENS, ParseError, Token, parse};

const LIMITS: Limits = Limits {
    line: 200,
    literal: 300,
};

/// Checks one input; a violated property panics.
pub fn command(data: &[u8]) {
    match parse(data, LIMITS) {
        Ok((tokens, used)) => {
            assert!(used > 0 && used <= data.len());
            assert!(!tokens.is_empty() && tokens.len() <= MAX_TOKENS);
            for token in &tokens {
                if let Token::String(octets) = token {
                    assert!(octets.len() <= LIMITS.literal.max(1024));
                }
            }
            // The command is whole within what it used.
            assert_eq!(parse(&data[..used], LIMITS), Ok((tokens, used)));
        }
        Err(ParseError::Invalid { consumed, .. }) => assert!(consumed > 0 && consumed <= data.len()),
        Err(ParseError::LiteralTooLarge { header_end, size }) => {
            assert!(header_end <= data.len() && size > LIMITS.literal as u64);
        }
        Err(ParseError::Incomplete | ParseError::LineTooLong) => {}
    }
    // What the server writes as a string, a client's parser reads back.
    let mut line = b"X ".to_vec();
    crate::response::string(&mut line, data);
    line.extend_from_slice(b"\r\n");
    let limits = Limits {
        line: 4096,
        literal: data.len().max(1),
    };
    let (tokens, used) = parse(&line, limits).expect("our own string parses");
    assert_eq!(used, line.len());
    assert_eq!(tokens, [Token::Atom("X".into()), Token::String(data.to_vec())]);
}
