//! Rate limits counted for the whole cluster (issue 18): with several
//! nodes on one PostgreSQL, a limit counted by each node in memory lets a
//! user or client reach it once per node. Here each key (the limit's name
//! and the user or address) counts in fixed windows, and the sliding
//! window is estimated from the current one and the overlapping part of
//! the previous one, as smtpd's in-memory counters do: a burst at a
//! window's edge cannot pass twice the limit.
//!
//! The decision and the count are one write job, so two nodes counting
//! the same key at once agree: the current window's row is locked first.

use crate::{Result, Store};

impl Store {
    /// Counts `n` events for `key` at `now` (Unix seconds) if that keeps
    /// the estimate for the last `window` seconds within `limit`; false,
    /// and nothing counted, if it would not.
    pub async fn count_within_rate(&self, key: &str, n: u64, limit: u64, window: i64, now: i64) -> Result<bool> {
        let key = key.to_string();
        let window = window.max(1);
        let start = now - now.rem_euclid(window);
        self.batched(move |tx| {
            // The row exists, and is ours until the commit (on PostgreSQL
            // the upsert locks it; SQLite has one writer): its count is
            // the one to decide on.
            let current: i64 = tx
                .prepare_cached(
                    "INSERT INTO rate_counters (key, window_start, count) VALUES ($1, $2, 0)
                     ON CONFLICT (key, window_start) DO UPDATE SET count = rate_counters.count
                     RETURNING count",
                )?
                .query_row((&key, start), |row| row.get(0))?;
            let previous: i64 = tx
                .prepare_cached(
                    "SELECT COALESCE(MAX(count), 0) FROM rate_counters WHERE key = $1 AND window_start = $2",
                )?
                .query_row((&key, start - window), |row| row.get(0))?;
            let overlap = 1.0 - (now - start) as f64 / window as f64;
            let estimate = current as f64 + previous as f64 * overlap.max(0.0);
            if estimate + n as f64 > limit as f64 {
                return Ok(false);
            }
            tx.prepare_cached("UPDATE rate_counters SET count = count + $1 WHERE key = $2 AND window_start = $3")?
                .execute((n as i64, &key, start))?;
            Ok(true)
        })
        .await
    }

    /// Forgets the windows that ended before `before`; what they counted
    /// no longer weighs on any estimate.
    pub async fn forget_rate_counts(&self, before: i64) -> Result<u64> {
        self.batched(move |tx| {
            Ok(tx
                .prepare_cached("DELETE FROM rate_counters WHERE window_start < $1")?
                .execute([before])? as u64)
        })
        .await
    }
}
