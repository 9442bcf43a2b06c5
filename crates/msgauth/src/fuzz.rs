//! Entry point for the `auth_results` fuzz target in `fuzz/`, kept here so
//! that `cargo test` replays its committed corpus on stable Rust: whatever
//! the header bytes, removing the Authentication-Results fields under our
//! name leaves none behind, keeps the body, and reading our verdict back
//! never panics; nor does reading the bytes as a trusted forwarder's
//! ARC-Authentication-Results value, which stays within its bounds.

const US: &str = "mx.fuzz.test";

/// Checks one input; a violated property panics.
pub fn auth_results(data: &[u8]) {
    let kept = crate::results::remove_ours(data, US);
    assert!(
        crate::results_read::ours(&kept, US).is_none(),
        "a field under our name survived the removal"
    );
    assert!(kept.len() <= data.len());
    let mut in_place = data.to_vec();
    crate::results::strip_ours(&mut in_place, US);
    assert_eq!(in_place, kept);
    if let Some(value) = crate::results_read::ours(data, US) {
        for (method, result) in crate::results_read::method_results(&value) {
            assert!(!method.contains(';') && !result.contains(';'));
        }
    }
    if let Some(results) = crate::arc_trust::aar_results(data) {
        assert!(results.len() <= crate::arc_trust::MAX_RESULTS);
        for result in results {
            assert!(crate::arc_trust::is_keyword(&result.method) && crate::arc_trust::is_keyword(&result.result));
        }
    }
}

/// The DNS records and header fields mail authentication reads from
/// anyone, through the parsers of the `mail-auth` crate that verification
/// uses: SPF (RFC 7208), DMARC (RFC 7489), DKIM keys (RFC 6376 §3.6.1),
/// and a message's DKIM-Signature and ARC fields (RFC 6376 §3.5, RFC 8617
/// §4.1). Whatever the bytes, no panic, and what parses is within the
/// bounds the RFCs set.
pub fn records(data: &[u8]) {
    use mail_auth::common::parse::TxtRecordParser;
    if let Ok(spf) = mail_auth::spf::Spf::parse(data) {
        // RFC 7208 §4.6.4 limits lookups at evaluation; the parsed record
        // holds no more directives than its text has terms.
        assert!(spf.directives.len() <= data.len());
    }
    let _ = mail_auth::dmarc::Dmarc::parse(data);
    let _ = mail_auth::common::verify::DomainKey::parse(data);
    let _ = mail_auth::spf::Macro::parse(data);
    if let Some(message) = mail_auth::AuthenticatedMessage::parse(data) {
        assert!(message.body_offset as usize <= data.len());
    }
}
