//! ARC sealing (RFC 8617 §5.1): the set of three header fields a host adds
//! as it passes a message on, so that the next receivers can see what it
//! found when the message reached it, even after a change on the way
//! (forwarding keeps the From of a domain whose SPF does not name us, and
//! DMARC then rests on DKIM or on this chain):
//!
//! - ARC-Authentication-Results: our Authentication-Results value, as the
//!   checks wrote it when the message arrived;
//! - ARC-Message-Signature: a DKIM-like signature over the message;
//! - ARC-Seal: a signature over every ARC field of every set, ours last,
//!   with `cv=` saying whether the chain before us validated.
//!
//! Canonicalization, hashing and signing are mail-auth's; which fields,
//! in which order, with which tags, is written here after the RFC, so the
//! result value is exactly the one our checks recorded. ARC defines only
//! rsa-sha256 (RFC 8617 §4.1.3 refers to DKIM's algorithms, and no
//! verifier of ARC accepts ed25519 yet), so the domain's RSA key seals.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mail_auth::AuthenticatedMessage;
use mail_auth::arc::ChainValidation;
use mail_auth::common::crypto::SigningKey;
use mail_auth::dkim::Canonicalization;

use crate::keys::Algorithm;
use crate::results_read::{method_results, ours};
use crate::sign::{DomainKey, SIGNED_HEADERS, SignError};

/// RFC 8617 §4.2.1: a chain has at most 50 sets; a host that would add
/// the 51st does not seal.
const MAX_SETS: u32 = 50;

/// The fields the message signature covers, each as often as it occurs:
/// DKIM's list (`sign::SIGNED_HEADERS`) and the DKIM signatures
/// themselves (RFC 8617 §4.1.2 asks for what DKIM would sign; ARC and
/// Authentication-Results fields are left out, as §4.1.2 says they
/// should be).
fn signed_fields() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for name in SIGNED_HEADERS.iter().copied().chain(["DKIM-Signature"]) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The ARC set that `key`'s domain adds to `message`, three header fields
/// to put on top of it (CRLF-terminated); None when no set may be added:
/// the chain failed at an earlier host (RFC 8617 §5.1.2), it is full, or it
/// exists and we recorded no verdict on it (mail we did not check).
/// `authserv_id` is ours; `now` is in Unix seconds.
pub fn seal(message: &[u8], key: &DomainKey, authserv_id: &str, now: u64) -> Result<Option<Vec<u8>>, SignError> {
    let failed = |reason: &str| SignError::Failed {
        selector: key.selector.clone(),
        reason: reason.to_string(),
    };
    if key.algorithm() != Algorithm::RsaSha256 {
        return Err(failed("ARC seals with an RSA key only"));
    }
    let parsed = AuthenticatedMessage::parse(message).ok_or_else(|| failed("the message has no header"))?;
    let verdict = ours(message, authserv_id);
    let Some(cv) = chain_status(&parsed, verdict.as_deref()) else {
        return Ok(None);
    };
    let instance = parsed.as_headers.len() as u32 + 1;
    if instance > MAX_SETS {
        return Ok(None);
    }
    // Our value as the checks folded it: it may be longer than a line.
    let results = format!(
        " i={instance}; {}\r\n",
        verdict.unwrap_or_else(|| format!("{authserv_id}; none"))
    );
    let message_signature = message_signature(&parsed, key, instance, now)?;
    let mut seal = folded(&[
        format!("i={instance}"),
        "a=rsa-sha256".into(),
        format!("t={now}"),
        format!("cv={cv}"),
        format!("d={}", key.domain),
        format!("s={}", key.selector),
        "b=".into(),
    ]);
    // The seal covers every earlier set in order of instance, then ours
    // (RFC 8617 §5.1.1), each field relaxed (§4.1.3 fixes relaxed here).
    let kinds = [
        instances(&parsed.aar_headers, |h| h.header.i),
        instances(&parsed.ams_headers, |h| h.header.i),
        instances(&parsed.as_headers, |h| h.header.i),
    ];
    let mut earlier = Vec::new();
    for i in 1..instance {
        for kind in &kinds {
            match kind.iter().find(|field| field.0 == i) {
                Some(&(_, name, value)) => earlier.push((name, value)),
                // A gap in the chain: it cannot have validated.
                None => return Ok(None),
            }
        }
    }
    let mut signed = Vec::new();
    let fields = earlier.into_iter().chain([
        (&b"ARC-Authentication-Results"[..], results.as_bytes()),
        (b"ARC-Message-Signature", message_signature.as_bytes()),
    ]);
    Canonicalization::Relaxed.canonicalize_headers(fields, &mut signed);
    // The seal itself, without its line end (RFC 6376 §3.7).
    Canonicalization::Relaxed.canonicalize_headers(
        [(&b"ARC-Seal"[..], seal.trim_end().as_bytes())].into_iter(),
        &mut signed,
    );
    seal = with_signature(&seal, &key.key.sign(&signed[..]).map_err(|e| failed(&e.to_string()))?);
    Ok(Some(
        format!("ARC-Seal:{seal}ARC-Message-Signature:{message_signature}ARC-Authentication-Results:{results}")
            .into_bytes(),
    ))
}

/// The `cv=` of the set we add: `none` for the first set; for a later one
/// what our checks found of the chain when the message arrived. None when
/// no set may follow.
fn chain_status(parsed: &AuthenticatedMessage<'_>, verdict: Option<&str>) -> Option<&'static str> {
    let newest = parsed.as_headers.iter().max_by_key(|h| h.header.i);
    let Some(newest) = newest else {
        return Some("none");
    };
    if newest.header.cv == ChainValidation::Fail {
        return None;
    }
    let arc = method_results(verdict?)
        .into_iter()
        .find(|(method, _)| method == "arc")
        .map(|(_, result)| result)?;
    match arc.as_str() {
        "pass" => Some("pass"),
        // RFC 8617 §5.1.2: a broken chain is sealed with cv=fail, which
        // ends it for every later host.
        "fail" => Some("fail"),
        _ => None,
    }
}

/// The instance number and raw name and value of each field of one kind.
fn instances<'x, T>(
    fields: &'x [mail_auth::common::headers::Header<'x, T>],
    instance: impl Fn(&mail_auth::common::headers::Header<'x, T>) -> u32,
) -> Vec<(u32, &'x [u8], &'x [u8])> {
    fields.iter().map(|f| (instance(f), f.name, f.value)).collect()
}

/// The ARC-Message-Signature value (after the colon, CRLF-terminated):
/// relaxed/relaxed, over `signed_fields` bottom-up as DKIM selects them
/// (RFC 6376 §5.4.2), with the body hash of the whole body.
fn message_signature(
    parsed: &AuthenticatedMessage<'_>,
    key: &DomainKey,
    instance: u32,
    now: u64,
) -> Result<String, SignError> {
    let body = parsed
        .raw_message
        .get(parsed.body_offset as usize..)
        .unwrap_or_default();
    let body_hash = key.key.hash(Canonicalization::Relaxed.canonical_body(body, u64::MAX));
    // Each listed field as often as it occurs, the last one first.
    let mut chosen: Vec<(&[u8], &[u8])> = Vec::new();
    let mut names = Vec::new();
    for name in signed_fields() {
        for &(field, value) in parsed.headers.iter().rev() {
            if field.eq_ignore_ascii_case(name.as_bytes()) {
                chosen.push((field, value));
                names.push(name.to_ascii_lowercase());
            }
        }
    }
    let unsigned = folded(&[
        format!("i={instance}"),
        "a=rsa-sha256".into(),
        "c=relaxed/relaxed".into(),
        format!("d={}", key.domain),
        format!("s={}", key.selector),
        format!("t={now}"),
        format!("h={}", names.join(":")),
        format!("bh={}", STANDARD.encode(body_hash.as_ref())),
        "b=".into(),
    ]);
    let mut signed = Vec::new();
    Canonicalization::Relaxed.canonicalize_headers(chosen.into_iter(), &mut signed);
    Canonicalization::Relaxed.canonicalize_headers(
        [(&b"ARC-Message-Signature"[..], unsigned.trim_end().as_bytes())].into_iter(),
        &mut signed,
    );
    let signature = key.key.sign(&signed[..]).map_err(|e| SignError::Failed {
        selector: key.selector.clone(),
        reason: e.to_string(),
    })?;
    Ok(with_signature(&unsigned, &signature))
}

/// Tags as a field value: a space after the colon, `; ` between tags,
/// folded before a tag that would pass 76 characters, CRLF at the end.
/// Relaxed canonicalization reads the folds as single spaces.
fn folded(tags: &[String]) -> String {
    let mut value = String::new();
    let mut line = "ARC-Message-Signature:".len();
    for (n, tag) in tags.iter().enumerate() {
        let separator = if n == 0 { " " } else { "; " };
        if n > 0 && line + separator.len() + tag.len() > 76 {
            value.push_str(";\r\n\t");
            line = 8;
        } else {
            value.push_str(separator);
            line += separator.len();
        }
        value.push_str(tag);
        line += tag.len();
    }
    value.push_str("\r\n");
    value
}

/// An unsigned value (ending `b=` and CRLF) with `signature` in its `b=`
/// tag, in folded lines of 64 base64 characters.
fn with_signature(unsigned: &str, signature: &[u8]) -> String {
    let encoded = STANDARD.encode(signature);
    let mut value = unsigned.trim_end().to_string();
    for (n, chunk) in encoded.as_bytes().chunks(64).enumerate() {
        if n > 0 || value.len() - value.rfind('\n').map_or(0, |i| i + 1) + chunk.len() > 76 {
            value.push_str("\r\n\t");
        }
        value.push_str(std::str::from_utf8(chunk).unwrap_or_default());
    }
    value.push_str("\r\n");
    value
}
