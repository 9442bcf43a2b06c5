//! Entry point for the `sasl` fuzz target in `fuzz/`, kept here so that
//! `cargo test` replays its committed corpus on stable Rust: the SASL
//! PLAIN response (RFC 4616) that SMTP AUTH, POP3 AUTH and IMAP
//! AUTHENTICATE all decode before anyone is logged in.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::sasl::decode_plain;

/// A response decodes to three parts without NUL, the user name and the
/// password never empty; what a client encodes decodes back to itself.
pub fn sasl(data: &[u8]) {
    if let Ok(credentials) = decode_plain(&String::from_utf8_lossy(data)) {
        for part in [&credentials.authzid, &credentials.authcid, &credentials.password] {
            assert!(!part.contains('\0'));
        }
        assert!(!credentials.authcid.is_empty() && !credentials.password.is_empty());
    }
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\0');
    if let (Some(authzid), Some(authcid), Some(password)) = (parts.next(), parts.next(), parts.next()) {
        let response = STANDARD.encode(format!("{authzid}\0{authcid}\0{password}"));
        match decode_plain(&response) {
            Ok(decoded) => assert_eq!(
                (
                    decoded.authzid.as_str(),
                    decoded.authcid.as_str(),
                    decoded.password.as_str()
                ),
                (authzid, authcid, password)
            ),
            Err(_) => assert!(authcid.is_empty() || password.is_empty() || password.contains('\0')),
        }
    }
}
