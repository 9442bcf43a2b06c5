//! Greylisting (issue 17): mail from a client network, sender and
//! recipient not seen before is refused for a while with a temporary
//! error; a real mail server retries, and its retry after the delay
//! passes, while much bulk software never retries. The decision for one
//! triplet is one write transaction, so concurrent sessions agree.

use crate::sql::OptionalExtension;

use crate::{Result, Store};

/// What a triplet is made of. `network` is the client's /24 (IPv4) or
/// /64 (IPv6); `sender` and `recipient` are compared in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triplet {
    pub network: String,
    pub sender: String,
    pub recipient: String,
}

/// The rules, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Greylisting {
    /// How long a new triplet waits (5 minutes by default).
    pub delay: i64,
    /// How long after the delay a retry still passes; later, the triplet
    /// starts over.
    pub retry_window: i64,
    /// How long a passed triplet (or network) stays passed without mail.
    pub keep: i64,
    /// Passed triplets after which the whole network passes; 0 never.
    pub auto_allow: i64,
}

impl Store {
    /// Whether mail for `triplet` passes at `now`: None if it does, else
    /// the seconds left to wait.
    pub async fn greylist(&self, triplet: Triplet, rules: Greylisting, now: i64) -> Result<Option<i64>> {
        self.batched(move |tx| {
            let Triplet {
                network,
                sender,
                recipient,
            } = &triplet;
            let (sender, recipient) = (sender.to_lowercase(), recipient.to_lowercase());
            if rules.auto_allow > 0 {
                let passes: Option<(i64, i64)> = tx
                    .prepare_cached("SELECT passes, last_seen FROM greylist_networks WHERE network = $1")?
                    .query_row([network], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()?;
                if let Some((passes, last_seen)) = passes
                    && passes >= rules.auto_allow
                    && now - last_seen <= rules.keep
                {
                    tx.prepare_cached("UPDATE greylist_networks SET last_seen = ?2 WHERE network = ?1")?
                        .execute((network, now))?;
                    return Ok(None);
                }
            }
            let seen: Option<(i64, Option<i64>, i64)> = tx
                .prepare_cached(
                    "SELECT first_seen, passed_at, last_seen FROM greylist
                     WHERE network = $1 AND sender = $2 AND recipient = $3",
                )?
                .query_row((network, &sender, &recipient), |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()?;
            let passes = match seen {
                Some((_, Some(_), last_seen)) if now - last_seen <= rules.keep => true,
                Some((first_seen, None, _)) if now < first_seen + rules.delay => {
                    return Ok(Some(first_seen + rules.delay - now));
                }
                Some((first_seen, None, _)) if now <= first_seen + rules.delay + rules.retry_window => {
                    // The retry came: the triplet passes, and counts for
                    // its network.
                    tx.prepare_cached(
                        "INSERT INTO greylist_networks (network, passes, last_seen) VALUES ($1, 1, $2)
                         ON CONFLICT (network) DO UPDATE SET passes = greylist_networks.passes + 1, last_seen = excluded.last_seen",
                    )?
                    .execute((network, now))?;
                    true
                }
                _ => false,
            };
            if passes {
                tx.prepare_cached(
                    "UPDATE greylist SET passed_at = COALESCE(passed_at, ?4), last_seen = ?4
                     WHERE network = ?1 AND sender = ?2 AND recipient = ?3",
                )?
                .execute((network, &sender, &recipient, now))?;
                return Ok(None);
            }
            // New, or too old to count: it starts (again) now.
            tx.prepare_cached(
                "INSERT INTO greylist (network, sender, recipient, first_seen, passed_at, last_seen)
                 VALUES ($1, $2, $3, $4, NULL, $4)
                 ON CONFLICT (network, sender, recipient)
                 DO UPDATE SET first_seen = $4, passed_at = NULL, last_seen = $4",
            )?
            .execute((network, &sender, &recipient, now))?;
            Ok(Some(rules.delay))
        })
        .await
    }

    /// Forgets triplets and networks that no longer count at `now`.
    pub async fn forget_greylist(&self, rules: Greylisting, now: i64) -> Result<u64> {
        self.batched(move |tx| {
            let triplets = tx
                .prepare_cached(
                    "DELETE FROM greylist WHERE
                     (passed_at IS NULL AND first_seen < $1) OR (passed_at IS NOT NULL AND last_seen < $2)",
                )?
                .execute((now - rules.delay - rules.retry_window, now - rules.keep))?;
            let networks = tx
                .prepare_cached("DELETE FROM greylist_networks WHERE last_seen < $1")?
                .execute([now - rules.keep])?;
            Ok((triplets + networks) as u64)
        })
        .await
    }
}
