//! Quotas (RFC 9208): one quota root per account, with the resources
//! STORAGE (octets here; IMAP shows units of 1024, RFC 9208 §5.1) and
//! MESSAGE (RFC 9208 §5.2).
//!
//! Usage is exact, never estimated: each mailbox row keeps the COUNT and
//! SUM(size) of its messages (`message_count`, `message_bytes`), changed
//! in the same transaction as every insert into or delete from `messages`
//! (see `append`), and an account's usage is their sum over its mailboxes.
//! A crash therefore leaves usage and messages agreeing, and deleting a
//! mailbox takes its usage with it.
//!
//! Every write that adds messages ends with [`Store::settle_quota`] inside
//! its transaction: over a limit, it fails with [`Error::OverQuota`] and
//! the job's savepoint takes back everything it inserted, so nothing of a
//! refused APPEND, COPY or delivery stays. Writes that remove messages
//! settle too, so the warning's state sees usage fall (`quota_warning`).

use crate::sql::OptionalExtension;
use crate::{AccountId, Error, MailboxId, Result, Store};

/// Limits of the two resources; None is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaLimits {
    /// Octets.
    pub storage: Option<u64>,
    pub messages: Option<u64>,
}

/// An account's own setting of one limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The server's default (`[quota]` in the configuration).
    Default,
    /// No limit, whatever the default.
    Unlimited,
    At(u64),
}

impl Limit {
    /// The column's value: NULL for the default, negative for none.
    fn column(self) -> Option<i64> {
        match self {
            Limit::Default => None,
            Limit::Unlimited => Some(-1),
            Limit::At(n) => Some(i64::try_from(n).unwrap_or(i64::MAX)),
        }
    }

    fn from_column(value: Option<i64>) -> Limit {
        match value {
            None => Limit::Default,
            Some(n) if n < 0 => Limit::Unlimited,
            Some(n) => Limit::At(n as u64),
        }
    }

    /// The limit in force, with `default` for [`Limit::Default`].
    pub fn effective(self, default: Option<u64>) -> Option<u64> {
        match self {
            Limit::Default => default,
            Limit::Unlimited => None,
            Limit::At(n) => Some(n),
        }
    }
}

/// The server's quota settings: the limits of accounts without their own,
/// and at what share of a limit the user is warned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaPolicy {
    pub default: QuotaLimits,
    /// Percent of a limit; 0 turns the warning off.
    pub warn_percent: u8,
}

impl Default for QuotaPolicy {
    /// No limits, so that a server without `[quota]` behaves as before.
    fn default() -> QuotaPolicy {
        QuotaPolicy {
            default: QuotaLimits::default(),
            warn_percent: 90,
        }
    }
}

/// An account's quota root as RFC 9208 §4.1 reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaUsage {
    /// Octets used: the sum of the sizes of the account's messages.
    pub storage: u64,
    pub messages: u64,
    /// The account's own settings.
    pub own_storage: Limit,
    pub own_messages: Limit,
    /// The limits in force.
    pub limits: QuotaLimits,
    /// Whether the warning was delivered for the current crossing.
    pub warned: bool,
}

/// What a write adds to an account (negative: removes).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Added {
    pub bytes: i64,
    pub messages: i64,
    /// The largest message added: over the whole STORAGE limit it can
    /// never fit, which makes a refusal permanent.
    pub largest: i64,
}

impl Added {
    /// Counts one more message of `size` octets.
    pub(crate) fn add(&mut self, size: i64) {
        self.bytes += size;
        self.messages += 1;
        self.largest = self.largest.max(size);
    }
}

/// An account's row as [`Store::settle_quota`] needs it.
pub(crate) struct Standing {
    pub address: String,
    pub usage: QuotaUsage,
}

impl Store {
    /// Sets the server's quota settings (from the configuration), for the
    /// writes made from now on.
    pub fn set_quota_policy(&self, policy: QuotaPolicy) {
        *self.quota.write().unwrap_or_else(|e| e.into_inner()) = policy;
    }

    pub fn quota_policy(&self) -> QuotaPolicy {
        *self.quota.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes an account's own limits; None leaves one as it is.
    pub async fn set_quota(&self, address: &str, storage: Option<Limit>, messages: Option<Limit>) -> Result<()> {
        let account = self
            .find_account(address)
            .await?
            .ok_or_else(|| Error::NoSuchAccount(address.to_string()))?;
        let policy = self.quota_policy();
        let inbox = self
            .batched(move |tx| {
                if let Some(limit) = storage {
                    tx.prepare_cached("UPDATE accounts SET quota_storage = $1 WHERE id = $2")?
                        .execute((limit.column(), account.id))?;
                }
                if let Some(limit) = messages {
                    tx.prepare_cached("UPDATE accounts SET quota_messages = $1 WHERE id = $2")?
                        .execute((limit.column(), account.id))?;
                }
                // A lower limit may cross the threshold now: warned then.
                Self::settle_quota(tx, account.id, Added::default(), policy)
            })
            .await?;
        if let Some(inbox) = inbox {
            self.announce(inbox);
        }
        Ok(())
    }

    /// An account's usage and limits.
    pub async fn quota(&self, account: AccountId) -> Result<QuotaUsage> {
        let policy = self.quota_policy();
        self.point_reads
            .read(|c| standing(c, account, policy))?
            .map(|s| s.usage)
            .ok_or_else(|| Error::NoSuchAccount(account.to_string()))
    }

    /// Ends every write that changes an account's messages, inside its
    /// transaction, once the rows are in (or out): refuses what `added`
    /// brought over a limit (RFC 9208 §5: a write that adds nothing, such
    /// as MOVE within the account, or that removes, is never refused), and
    /// delivers the warning when usage crossed the threshold. Returns the
    /// INBOX the warning went to, for the change bus.
    pub(crate) fn settle_quota(
        tx: &crate::sql::Db,
        account: AccountId,
        added: Added,
        policy: QuotaPolicy,
    ) -> Result<Option<MailboxId>> {
        let Some(standing) = standing(tx, account, policy)? else {
            return Ok(None);
        };
        let usage = &standing.usage;
        let over_storage = usage.limits.storage.is_some_and(|l| usage.storage > l);
        let over_messages = usage.limits.messages.is_some_and(|l| usage.messages > l);
        if (added.bytes > 0 && over_storage) || (added.messages > 0 && over_messages) {
            let permanent =
                usage.limits.storage.is_some_and(|l| added.largest as u64 > l) || usage.limits.messages == Some(0);
            return Err(Error::OverQuota {
                permanent,
                reason: refusal(&standing.address, usage, permanent),
            });
        }
        crate::quota_warning::settle(tx, account, &standing, policy)
    }

    /// [`Store::settle_quota`] for the account of a mailbox.
    pub(crate) fn settle_mailbox_quota(
        tx: &crate::sql::Db,
        mailbox: MailboxId,
        added: Added,
        policy: QuotaPolicy,
    ) -> Result<Option<MailboxId>> {
        let account: Option<AccountId> = tx
            .prepare_cached("SELECT account_id FROM mailboxes WHERE id = $1")?
            .query_row([mailbox], |row| row.get(0))
            .optional()?;
        match account {
            Some(account) => Self::settle_quota(tx, account, added, policy),
            None => Ok(None),
        }
    }
}

/// An account's address, limits and usage, read on `db`.
pub(crate) fn standing(db: &crate::sql::Db, account: AccountId, policy: QuotaPolicy) -> Result<Option<Standing>> {
    type Row = (String, Option<i64>, Option<i64>, i64, i64, i64);
    let row: Option<Row> = db
        .prepare_cached(
            "SELECT a.local_part || '@' || d.name, a.quota_storage, a.quota_messages, a.quota_warned,
                    CAST(COALESCE(SUM(m.message_bytes), 0) AS BIGINT),
                    CAST(COALESCE(SUM(m.message_count), 0) AS BIGINT)
             FROM accounts a JOIN domains d ON d.id = a.domain_id
                  LEFT JOIN mailboxes m ON m.account_id = a.id
             WHERE a.id = $1 GROUP BY a.id, d.name",
        )?
        .query_row([account], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
            ))
        })
        .optional()?;
    Ok(row.map(|(address, storage, messages, warned, bytes, count)| {
        let (own_storage, own_messages) = (Limit::from_column(storage), Limit::from_column(messages));
        Standing {
            address,
            usage: QuotaUsage {
                storage: bytes.max(0) as u64,
                messages: count.max(0) as u64,
                own_storage,
                own_messages,
                limits: QuotaLimits {
                    storage: own_storage.effective(policy.default.storage),
                    messages: own_messages.effective(policy.default.messages),
                },
                warned: warned != 0,
            },
        }
    }))
}

/// Why a write was refused, for the client or the sender.
fn refusal(address: &str, usage: &QuotaUsage, permanent: bool) -> String {
    if permanent {
        let limit = usage.limits.storage.unwrap_or(0);
        return format!("the message is larger than the whole quota of {address} ({limit} octets)");
    }
    format!("the mailbox of {address} is full (quota exceeded)")
}
