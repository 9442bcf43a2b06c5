//! POP3 maildrop locks for the whole cluster (RFC 1939 §8: a maildrop is
//! locked while a session is in the TRANSACTION state). pop3d keeps its
//! own lock per process in front of these; the row here is what another
//! node sees.
//!
//! A lock row names the process holding it (the instance of this store's
//! node claim, see `nodes`) and the session (a random token). It counts
//! while that instance's node claim is alive: a node that crashes stops
//! renewing its claim, and its locks lapse with it, without a renewal per
//! lock. A row of this very process is taken over (pop3d's own lock has
//! already made sure no session of this process holds the maildrop; the
//! row may be one whose release has not been written yet). Releasing
//! deletes the row only if it still carries the session's token, so a late
//! release never frees a lock a newer session took.

use ring::rand::{SecureRandom, SystemRandom};

use crate::{AccountId, Error, Result, Store};

/// The lock of one session; give it to [`Store::unlock_maildrop`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaildropToken {
    account: AccountId,
    token: String,
}

impl Store {
    /// Locks the maildrop of `account` for one session; None if a session
    /// of another live node holds it.
    pub async fn lock_maildrop(&self, account: AccountId) -> Result<Option<MaildropToken>> {
        let mut random = [0u8; 12];
        SystemRandom::new().fill(&mut random).map_err(|_| {
            Error::io(
                std::path::Path::new("maildrop lock"),
                std::io::Error::other("no random numbers"),
            )
        })?;
        let token: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let instance = self.instance();
        let answer = token.clone();
        let locked = self
            .batched(move |tx| {
                Ok(tx
                    .prepare_cached(
                        "INSERT INTO maildrop_locks (account_id, instance, token) VALUES ($1, $2, $3)
                         ON CONFLICT (account_id) DO UPDATE SET instance = excluded.instance, token = excluded.token
                         WHERE maildrop_locks.instance = excluded.instance
                            OR NOT EXISTS (SELECT 1 FROM nodes n
                                           WHERE n.instance = maildrop_locks.instance AND n.alive_until > $4)
                         RETURNING account_id",
                    )?
                    .query_map((account, &instance, &token, crate::now()), |row| row.get::<i64>(0))?
                    .count()
                    > 0)
            })
            .await?;
        Ok(locked.then_some(MaildropToken { account, token: answer }))
    }

    /// Gives a maildrop lock back (a no-op if another session has it now).
    pub async fn unlock_maildrop(&self, lock: MaildropToken) -> Result<()> {
        self.batched(move |tx| {
            tx.prepare_cached("DELETE FROM maildrop_locks WHERE account_id = $1 AND token = $2")?
                .execute((lock.account, &lock.token))?;
            Ok(())
        })
        .await
    }
}
