//! The Sender Rewriting Scheme: the envelope sender of mail that a hosted
//! alias forwards to another domain. The destination checks SPF against
//! the host that hands the copy over (us), not the original sender's
//! domain, so the copy leaves with a sender of the alias's domain that
//! still leads back: `SRS0=hash=tt=origin.example=alice@alias.example`.
//! A bounce to that address is decoded here and goes to alice; an address
//! we did not make (wrong hash) or made long ago (old time stamp) is
//! refused, so nobody can use us to send mail to anyone through it.
//!
//! The format is the one libsrs2 and postsrsd write (SRS0 for a first
//! forward, SRS1 when an SRS0 address of another forwarder is forwarded
//! again, so that addresses do not grow with each hop). The hash is ours
//! alone to check: HMAC-SHA256 under the store's secret, cut to 8 base32
//! characters (40 bits); base32 because some hosts change the case of the
//! local part on the way back, which it survives.

use std::path::Path;

use crate::sql::OptionalExtension;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::{Error, Result, Store};

/// How long an SRS address works, in days: a bounce comes within the
/// queue lifetime of the host that bounces (5 days by default at most
/// hosts); postsrsd and libsrs2 allow 21.
pub const MAX_AGE_DAYS: i64 = 21;

/// The time stamp counts days modulo this (two base32 characters).
const DAYS_MODULO: i64 = 1024;

const HASH_CHARS: usize = 8;

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Why an SRS address is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SrsError {
    #[error("not a well-formed SRS address")]
    Malformed,
    #[error("SRS address not made by this server (wrong hash)")]
    Forged,
    #[error("SRS address older than {MAX_AGE_DAYS} days")]
    Expired,
}

/// Makes and checks SRS addresses under one secret.
#[derive(Clone)]
pub struct Srs {
    key: hmac::Key,
}

impl std::fmt::Debug for Srs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Srs { .. }")
    }
}

/// Whether a local part is an SRS address (of anyone), in any case.
pub fn is_srs(local_part: &str) -> bool {
    srs_tag(local_part).is_some()
}

/// `SRS0=` or `SRS1=` at the start of a local part, and what follows.
fn srs_tag(local_part: &str) -> Option<(u8, &str)> {
    let head = local_part.get(..5)?;
    let rest = &local_part[5..];
    if head.eq_ignore_ascii_case("srs0=") {
        Some((0, rest))
    } else if head.eq_ignore_ascii_case("srs1=") {
        Some((1, rest))
    } else {
        None
    }
}

impl Srs {
    pub fn new(secret: &[u8]) -> Srs {
        Srs {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// The envelope sender for a copy of mail from `sender` (an address
    /// outside the hosted domains) that an alias of `forwarder` forwards,
    /// at `now` (Unix seconds). None when `sender` cannot be rewritten
    /// (no domain, or a quoted local part that would not survive).
    pub fn forward(&self, sender: &str, forwarder: &str, now: i64) -> Option<String> {
        let (local, domain) = sender.rsplit_once('@')?;
        if local.is_empty() || domain.is_empty() || local.starts_with('"') {
            return None;
        }
        let hop = match srs_tag(local) {
            // Already rewritten by another forwarder: keep its address
            // and answer for that hop only (SRS1), so the bounce goes back
            // through it.
            Some((0, rest)) if !rest.is_empty() => Some((domain, rest)),
            // An SRS1 address names the first forwarder itself.
            Some((_, rest)) => rest
                .split_once('=')
                .and_then(|(_hash, hop)| hop.split_once("=="))
                .filter(|(first, rest)| !first.is_empty() && !rest.is_empty()),
            None => None,
        };
        let local = match hop {
            Some((first, rest)) => self.srs1(first, rest),
            None => {
                let stamp = day_stamp(now);
                let hash = self.hash(&[&stamp, domain, local]);
                format!("SRS0={hash}={stamp}={domain}={local}")
            }
        };
        Some(format!("{local}@{forwarder}"))
    }

    fn srs1(&self, first_forwarder: &str, srs0_rest: &str) -> String {
        let hash = self.hash(&[first_forwarder, srs0_rest]);
        format!("SRS1={hash}={first_forwarder}=={srs0_rest}")
    }

    /// Where mail for the SRS address with `local_part` (at a hosted
    /// domain) goes: the original sender for SRS0, the first forwarder's
    /// SRS0 address for SRS1.
    pub fn reverse(&self, local_part: &str, now: i64) -> Result<String, SrsError> {
        match srs_tag(local_part) {
            Some((0, rest)) => {
                let mut fields = rest.splitn(4, '=');
                let (Some(hash), Some(stamp), Some(domain), Some(local)) =
                    (fields.next(), fields.next(), fields.next(), fields.next())
                else {
                    return Err(SrsError::Malformed);
                };
                if domain.is_empty() || local.is_empty() || stamp.len() != 2 {
                    return Err(SrsError::Malformed);
                }
                self.check(hash, &[stamp, domain, local])?;
                let age = (day_number(now) - stamp_day(stamp).ok_or(SrsError::Malformed)?).rem_euclid(DAYS_MODULO);
                if age > MAX_AGE_DAYS {
                    return Err(SrsError::Expired);
                }
                Ok(format!("{local}@{domain}"))
            }
            Some((_, rest)) => {
                let (hash, hop) = rest.split_once('=').ok_or(SrsError::Malformed)?;
                let (first, srs0_rest) = hop.split_once("==").ok_or(SrsError::Malformed)?;
                if first.is_empty() || srs0_rest.is_empty() {
                    return Err(SrsError::Malformed);
                }
                self.check(hash, &[first, srs0_rest])?;
                Ok(format!("SRS0={srs0_rest}@{first}"))
            }
            None => Err(SrsError::Malformed),
        }
    }

    /// The hash of `fields`, lower-cased first so that the address works
    /// in any case; each field is length-prefixed, so fields cannot be
    /// moved across their boundaries.
    fn hash(&self, fields: &[&str]) -> String {
        let mut context = hmac::Context::with_key(&self.key);
        for field in fields {
            let field = field.to_ascii_lowercase();
            context.update(&(field.len() as u64).to_be_bytes());
            context.update(field.as_bytes());
        }
        let tag = context.sign();
        base32(&tag.as_ref()[..5])
    }

    fn check(&self, hash: &str, fields: &[&str]) -> Result<(), SrsError> {
        let expected = self.hash(fields);
        // Compared without stopping at the first difference: how long a
        // refusal takes must not tell a guesser how much of a hash is right.
        let given = hash.to_ascii_lowercase();
        let same = given.len() == expected.len()
            && given
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |difference, (a, b)| difference | (a ^ b))
                == 0;
        if same { Ok(()) } else { Err(SrsError::Forged) }
    }
}

/// The SRS secret of the store, made (32 random bytes) the first time.
/// An insert that ignores a conflict, and a second read: of two processes (or nodes)
/// opening a new store at once, both end with the one secret stored.
pub(crate) fn secret(connection: &crate::sql::Db) -> Result<Vec<u8>> {
    let read = || -> Result<Option<Vec<u8>>> {
        connection
            .query_row("SELECT value FROM secrets WHERE name = 'srs'", (), |row| row.get(0))
            .optional()
    };
    if let Some(secret) = read()? {
        return Ok(secret);
    }
    let mut secret = [0u8; 32];
    SystemRandom::new().fill(&mut secret).map_err(|_| {
        Error::io(
            Path::new("secrets"),
            std::io::Error::other("the system random generator failed"),
        )
    })?;
    connection.execute(
        "INSERT INTO secrets (name, value, created_at) VALUES ('srs', $1, $2) ON CONFLICT DO NOTHING",
        (&secret[..], crate::now()),
    )?;
    read()?.ok_or_else(|| {
        Error::io(
            Path::new("secrets"),
            std::io::Error::other("the SRS secret was not stored"),
        )
    })
}

impl Store {
    /// The SRS addresses of this store's forwarded mail.
    pub fn srs(&self) -> &Srs {
        &self.srs
    }
}

fn day_number(now: i64) -> i64 {
    now.div_euclid(86_400)
}

/// Today modulo 1024, as two base32 characters.
fn day_stamp(now: i64) -> String {
    let day = day_number(now).rem_euclid(DAYS_MODULO) as usize;
    [BASE32[day >> 5] as char, BASE32[day & 31] as char]
        .into_iter()
        .collect()
}

/// The day number modulo 1024 that a time stamp names.
fn stamp_day(stamp: &str) -> Option<i64> {
    let value = |c: u8| BASE32.iter().position(|&b| b == c.to_ascii_lowercase());
    let [high, low] = stamp.as_bytes() else { return None };
    Some((value(*high)? * 32 + value(*low)?) as i64)
}

/// 5 bytes as 8 base32 characters (RFC 4648 §6, lower case, no padding).
fn base32(bytes: &[u8]) -> String {
    let mut bits: u64 = 0;
    for &byte in bytes {
        bits = bits << 8 | u64::from(byte);
    }
    (0..HASH_CHARS)
        .rev()
        .map(|i| BASE32[((bits >> (5 * i)) & 31) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;
    const DAY: i64 = 86_400;

    fn srs() -> Srs {
        Srs::new(b"a secret of the store")
    }

    #[test]
    fn a_forwarded_sender_comes_back() {
        let address = srs().forward("alice@origin.test", "alias.test", NOW).unwrap();
        let (local, domain) = address.rsplit_once('@').unwrap();
        assert_eq!(domain, "alias.test");
        assert!(
            local.starts_with("SRS0=") && local.ends_with("=origin.test=alice"),
            "{address}"
        );
        assert_eq!(srs().reverse(local, NOW), Ok("alice@origin.test".into()));
        // Hosts on the way back may change the case of the local part.
        assert_eq!(
            srs().reverse(&local.to_uppercase(), NOW + 3 * DAY),
            Ok("ALICE@ORIGIN.TEST".into())
        );
        assert_eq!(
            srs().reverse(&local.to_lowercase(), NOW),
            Ok("alice@origin.test".into())
        );
    }

    #[test]
    fn forged_and_old_addresses_are_refused() {
        let address = srs().forward("alice@origin.test", "alias.test", NOW).unwrap();
        let local = address.rsplit_once('@').unwrap().0;
        // Another secret, another target, another hash: all forged.
        assert_eq!(Srs::new(b"other").reverse(local, NOW), Err(SrsError::Forged));
        let redirected = local.replace("=alice", "=mallory");
        assert_eq!(srs().reverse(&redirected, NOW), Err(SrsError::Forged));
        let mut wrong_hash = local.to_string();
        wrong_hash.replace_range(5..6, if &local[5..6] == "a" { "b" } else { "a" });
        assert_eq!(srs().reverse(&wrong_hash, NOW), Err(SrsError::Forged));
        assert_eq!(
            srs().reverse(local, NOW + MAX_AGE_DAYS * DAY),
            Ok("alice@origin.test".into())
        );
        assert_eq!(
            srs().reverse(local, NOW + (MAX_AGE_DAYS + 1) * DAY),
            Err(SrsError::Expired)
        );
        for malformed in [
            "SRS0=",
            "SRS0=abc",
            "SRS0=h=tt=domain",
            "SRS0=h=t=d=l",
            "SRS1=h=x",
            "bob",
        ] {
            assert_eq!(srs().reverse(malformed, NOW), Err(SrsError::Malformed), "{malformed}");
        }
    }

    #[test]
    fn a_second_forward_answers_for_its_hop_only() {
        let first = Srs::new(b"first forwarder");
        let srs0 = first.forward("alice@origin.test", "one.test", NOW).unwrap();
        let srs1 = srs().forward(&srs0, "two.test", NOW).unwrap();
        let (local, domain) = srs1.rsplit_once('@').unwrap();
        assert_eq!(domain, "two.test");
        assert!(local.starts_with("SRS1=") && local.contains("=one.test==") && local.ends_with("=alice"));
        // The bounce goes back to the first forwarder, which checks its own.
        let back = srs().reverse(local, NOW).unwrap();
        assert_eq!(back, srs0);
        assert_eq!(
            first.reverse(back.rsplit_once('@').unwrap().0, NOW),
            Ok("alice@origin.test".into())
        );
        // Forwarded a third time: still one hop back to the first forwarder.
        let again = Srs::new(b"third").forward(&srs1, "three.test", NOW).unwrap();
        let again_local = again.rsplit_once('@').unwrap().0;
        assert_eq!(Srs::new(b"third").reverse(again_local, NOW), Ok(srs0));
        assert_eq!(srs().reverse(again_local, NOW), Err(SrsError::Forged));
    }

    #[test]
    fn senders_that_cannot_be_rewritten() {
        assert_eq!(srs().forward("nodomain", "alias.test", NOW), None);
        assert_eq!(srs().forward("\"a b\"@origin.test", "alias.test", NOW), None);
        assert!(is_srs("srs0=x") && is_srs("SRS1=x") && !is_srs("srs2=x") && !is_srs("srs"));
    }

    #[test]
    fn the_time_stamp_wraps() {
        for day in [0, 1, 31, 32, 1023, 1024, 20_000] {
            let stamp = day_stamp(day * DAY);
            assert_eq!(stamp_day(&stamp), Some(day % DAYS_MODULO), "{stamp}");
        }
        assert_eq!(base32(&[0xff; 5]), "77777777");
        assert_eq!(base32(&[0; 5]), "aaaaaaaa");
    }
}
