//! Where a delivered copy goes when a filter (Sieve's fileinto, RFC 5228
//! §4.1) names its mailbox: the mailbox with a special use if one is asked
//! for and exists (RFC 8579 §4), else the mailbox of that name, created
//! if asked (RFC 5490 §3.2) and the account's mailbox limit allows, else
//! the INBOX: a message is never lost to a mailbox that is not there.

use crate::append::NewMessage;
use crate::mailboxes::{SEPARATOR, canonical_name};
use crate::sql::OptionalExtension;
use crate::{AccountId, MailboxId, Result, Store};

/// The mailboxes a filter may create for one account, counting all it
/// has: a script that files into `${subject}` with :create must not make
/// an account unusable.
pub const MAX_FILTER_MAILBOXES: i64 = 1000;

/// The longest mailbox name a filter may create, in bytes.
const MAX_FILTER_NAME: usize = 255;

/// The mailbox a delivered copy goes into.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CopyTarget {
    #[default]
    Inbox,
    /// The account's Junk mailbox (see `append_to_junk`).
    Junk,
    /// A mailbox a filter names.
    Mailbox {
        name: String,
        create: bool,
        special_use: Option<String>,
    },
}

impl Store {
    /// Appends `message` to the mailbox `target` names for `account`.
    pub(crate) fn append_to_target(
        tx: &crate::sql::Db,
        account: AccountId,
        target: &CopyTarget,
        message: &NewMessage,
    ) -> Result<MailboxId> {
        let (name, create, special_use) = match target {
            CopyTarget::Inbox => return Self::append_to_inbox(tx, account, message),
            CopyTarget::Junk => return Self::append_to_junk(tx, account, message),
            CopyTarget::Mailbox {
                name,
                create,
                special_use,
            } => (name, *create, special_use),
        };
        let mut mailbox = None;
        if let Some(special_use) = special_use {
            mailbox = tx
                .prepare_cached(
                    "SELECT id FROM mailboxes WHERE account_id = $1 AND special_use = $2 ORDER BY id LIMIT 1",
                )?
                .query_row((account, special_use), |row| row.get(0))
                .optional()?;
        }
        let name = canonical_name(name.trim_end_matches(SEPARATOR));
        if mailbox.is_none() {
            mailbox = tx
                .prepare_cached("SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2")?
                .query_row((account, &name), |row| row.get(0))
                .optional()?;
        }
        if mailbox.is_none() && create {
            mailbox = create_for_filter(tx, account, &name)?;
        }
        match mailbox {
            Some(mailbox) => Self::append_to_id(tx, mailbox, message),
            None => Self::append_to_inbox(tx, account, message),
        }
    }
}

/// Creates `name` and its missing parents, unless the name is not one a
/// client could create or the account has too many mailboxes.
fn create_for_filter(tx: &crate::sql::Db, account: AccountId, name: &str) -> Result<Option<MailboxId>> {
    let valid = !name.is_empty()
        && name.len() <= MAX_FILTER_NAME
        && name != "INBOX"
        && name.split(SEPARATOR).all(|level| !level.is_empty())
        && !name.chars().any(|c| c.is_control() || c == '*' || c == '%');
    if !valid {
        return Ok(None);
    }
    let levels: Vec<&str> = name.split(SEPARATOR).collect();
    let count: i64 = tx
        .prepare_cached("SELECT COUNT(*) FROM mailboxes WHERE account_id = $1")?
        .query_row([account], |row| row.get(0))?;
    if count + levels.len() as i64 > MAX_FILTER_MAILBOXES {
        return Ok(None);
    }
    let mut path = String::new();
    let mut id = None;
    for level in levels {
        if !path.is_empty() {
            path.push(SEPARATOR);
        }
        path.push_str(level);
        id = tx
            .prepare_cached("SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2")?
            .query_row((account, &path), |row| row.get(0))
            .optional()?;
        if id.is_none() {
            id = Some(
                tx.prepare_cached(
                    "INSERT INTO mailboxes (account_id, name, uidvalidity, object_id) VALUES ($1, $2, $3, $4) RETURNING id",
                )?
                .query_row(
                    (
                        account,
                        &path,
                        crate::uidvalidity::next_uidvalidity(tx, crate::now())?,
                        crate::object_ids::new_id('M')?,
                    ),
                    |row| row.get(0),
                )?,
            );
            tx.prepare_cached("INSERT INTO subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING")?
                .execute((account, &path))?;
        }
    }
    Ok(id)
}
