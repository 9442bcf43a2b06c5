//! Entry point for the `srs` fuzz target in `fuzz/`, kept here so that
//! `cargo test` replays its committed corpus on stable Rust: an SRS local
//! part from anyone (a RCPT TO) is refused or decoded without panicking,
//! and any sender we rewrite decodes back to itself.

use crate::Srs;

/// Checks one input; a violated property panics.
pub fn srs(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let srs = Srs::new(b"fuzz secret");
    let now = 1_780_000_000;
    let _ = srs.reverse(&text, now);
    let sender = format!("{text}@origin.test");
    if let Some(address) = srs.forward(&sender, "alias.test", now) {
        let (local, domain) = address.rsplit_once('@').expect("an address");
        assert_eq!(domain, "alias.test");
        let back = srs.reverse(local, now);
        if crate::srs::is_srs(&text) {
            // Another forwarder's address: back to that forwarder.
            assert!(back.is_ok(), "{address}: {back:?}");
        } else {
            assert_eq!(back.as_deref(), Ok(sender.as_str()), "{address}");
        }
    }
}
