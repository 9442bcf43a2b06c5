//! Sans-I/O protocol codecs for postamt: bytes in, typed commands out, and
//! typed replies back to bytes. Nothing here does I/O, logs or touches the
//! store, so every parser can be fed byte by byte, tested from tables and
//! fuzzed. Every limit a peer could abuse (line length, message size) is
//! enforced here, where the bytes are first seen.

#![forbid(unsafe_code)]

pub mod date;
pub mod dot;
#[doc(hidden)]
pub mod fuzz;
pub mod imap;
pub mod line;
pub mod pop3;
pub mod smtp;
