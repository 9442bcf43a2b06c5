//! CREATE-SPECIAL-USE (RFC 6154 §3): which special uses CREATE may give a
//! new mailbox. Each mailbox has at most one here, and each use is held
//! by one mailbox of an account (the store refuses a second); \All and
//! \Flagged name virtual mailboxes, which postamt does not make.

use crate::error::CommandError;

/// The uses a CREATE may ask for (RFC 6154 §2).
const CREATABLE: [&str; 5] = ["\\Archive", "\\Drafts", "\\Junk", "\\Sent", "\\Trash"];

/// The role for the store from CREATE's `USE (...)`: None for no use, NO
/// [USEATTR] (RFC 6154 §3) for one this server cannot give or for more
/// than one.
pub(crate) fn role_of(uses: &[String]) -> Result<Option<&'static str>, CommandError> {
    match uses {
        [] => Ok(None),
        [one] => CREATABLE
            .iter()
            .find(|known| known.eq_ignore_ascii_case(one))
            .map(|known| Some(*known))
            .ok_or_else(|| CommandError::no("USEATTR", format!("{one} cannot be given to a mailbox here"))),
        _ => Err(CommandError::no("USEATTR", "A mailbox has one special use at most")),
    }
}
