//! The warning of a nearly full mailbox: one message from the postmaster
//! into the account's INBOX when usage of a limited resource reaches the
//! threshold (`[quota] warn_percent`, 90 % unless configured), not again
//! until usage has fallen below it and risen again.
//!
//! Whether it was sent is `accounts.quota_warned`, set in the transaction
//! that delivers the warning (the one that crossed the threshold), so a
//! crash loses neither or both, and two deliveries committing together
//! see each other's state: the warning comes exactly once per crossing.
//! The warning itself is not counted against the limit it warns of.

use crate::append::NewMessage;
use crate::quota::{QuotaPolicy, QuotaUsage, Standing};
use crate::{AccountId, MailboxId, MessageFacts, Result, Store};

/// Delivers the warning or resets its state as `standing` says; returns
/// the INBOX the warning went to.
pub(crate) fn settle(
    tx: &crate::sql::Db,
    account: AccountId,
    standing: &Standing,
    policy: QuotaPolicy,
) -> Result<Option<MailboxId>> {
    let usage = &standing.usage;
    let above = above_threshold(usage, policy.warn_percent);
    if above == usage.warned {
        return Ok(None);
    }
    tx.prepare_cached("UPDATE accounts SET quota_warned = $1 WHERE id = $2")?
        .execute((i64::from(above), account))?;
    if !above {
        return Ok(None);
    }
    let text = warning(&standing.address, usage, policy.warn_percent, crate::now());
    let hash = crate::blobs::sha256_hex(&text);
    tx.prepare_cached("INSERT INTO inline_blobs (hash, data) VALUES ($1, $2) ON CONFLICT DO NOTHING")?
        .execute((&hash, &text))?;
    let facts = MessageFacts::of(&text);
    let message = NewMessage {
        blob_hash: &hash,
        blob_size: text.len() as i64,
        trace_headers: b"",
        internal_date: crate::now(),
        flags: &crate::Flags::default(),
        facts: &facts,
        ids: None,
    };
    Store::append_to_inbox(tx, account, &message).map(Some)
}

/// Whether usage of a limited resource is at `percent` of its limit or
/// more (never with `percent` 0, the warning turned off).
pub(crate) fn above_threshold(usage: &QuotaUsage, percent: u8) -> bool {
    let at = |used: u64, limit: Option<u64>| {
        limit.is_some_and(|limit| u128::from(used) * 100 >= u128::from(limit) * u128::from(percent))
    };
    percent > 0 && (at(usage.storage, usage.limits.storage) || at(usage.messages, usage.limits.messages))
}

/// The warning's text (RFC 5322, plain ASCII).
fn warning(address: &str, usage: &QuotaUsage, percent: u8, now: i64) -> Vec<u8> {
    let domain = address.rsplit_once('@').map_or("localhost", |(_, d)| d);
    let mut lines = Vec::new();
    if let Some(limit) = usage.limits.storage {
        lines.push(format!(
            "  Storage:  {} of {} ({}%)",
            size(usage.storage),
            size(limit),
            share(usage.storage, limit)
        ));
    }
    if let Some(limit) = usage.limits.messages {
        lines.push(format!(
            "  Messages: {} of {} ({}%)",
            usage.messages,
            limit,
            share(usage.messages, limit)
        ));
    }
    format!(
        "From: Mail Delivery System <postmaster@{domain}>\r\n\
         To: <{address}>\r\n\
         Subject: Your mailbox is almost full\r\n\
         Date: {date}\r\n\
         Message-ID: <quota-warning.{now}.{hash}@{domain}>\r\n\
         Auto-Submitted: auto-generated\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\
         \r\n\
         Your mailbox {address} has reached {percent}% of its quota:\r\n\
         \r\n\
         {lines}\r\n\
         \r\n\
         When it is full, new mail to you is refused and returned to its\r\n\
         senders, and messages can no longer be saved or copied into it.\r\n\
         Please delete messages you no longer need (and empty the Trash\r\n\
         folder), or ask your postmaster for more room.\r\n\
         \r\n\
         You will not be warned again until usage has fallen below {percent}%.\r\n",
        date = wire::date::rfc5322(now),
        hash = &crate::blobs::sha256_hex(address.as_bytes())[..12],
        lines = lines.join("\r\n"),
    )
    .into_bytes()
}

fn share(used: u64, limit: u64) -> u64 {
    (u128::from(used) * 100 / u128::from(limit.max(1))) as u64
}

/// Octets for people: KiB, MiB or GiB with one decimal.
fn size(octets: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, factor) in UNITS {
        if octets >= factor {
            return format!("{:.1} {unit}", octets as f64 / factor as f64);
        }
    }
    format!("{octets} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::{Limit, QuotaLimits};

    fn usage(storage: u64, limit: u64) -> QuotaUsage {
        QuotaUsage {
            storage,
            messages: 1,
            own_storage: Limit::At(limit),
            own_messages: Limit::Default,
            limits: QuotaLimits {
                storage: Some(limit),
                messages: None,
            },
            warned: false,
        }
    }

    #[test]
    fn the_threshold_is_a_share_of_each_limit() {
        assert!(!above_threshold(&usage(899, 1000), 90));
        assert!(above_threshold(&usage(900, 1000), 90));
        assert!(!above_threshold(&usage(1000, 1000), 0), "0 turns the warning off");
        let text = String::from_utf8(warning("a@example.org", &usage(1 << 20, 1 << 20), 90, 0)).unwrap();
        assert!(text.contains("Storage:  1.0 MiB of 1.0 MiB (100%)"), "{text}");
        assert!(text.contains("From: Mail Delivery System <postmaster@example.org>"));
    }
}
