//! RFC 1939 §8: a maildrop is locked while a session has it in the
//! TRANSACTION state, so two sessions never delete behind each other.
//! The lock lives in this process; several nodes will need it in the store.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use store::AccountId;

#[derive(Debug, Default, Clone)]
pub struct MaildropLocks {
    held: Arc<Mutex<HashSet<AccountId>>>,
}

/// Held while a session owns a maildrop; dropping it releases the lock,
/// however the session ends.
#[derive(Debug)]
pub struct MaildropLock {
    locks: MaildropLocks,
    account: AccountId,
}

impl MaildropLocks {
    pub fn try_lock(&self, account: AccountId) -> Option<MaildropLock> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.insert(account).then(|| MaildropLock {
            locks: self.clone(),
            account,
        })
    }
}

impl Drop for MaildropLock {
    fn drop(&mut self) {
        let mut held = self.locks.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.remove(&self.account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time() {
        let locks = MaildropLocks::default();
        let first = locks.try_lock(1).unwrap();
        assert!(locks.try_lock(1).is_none());
        assert!(locks.try_lock(2).is_some());
        drop(first);
        assert!(locks.try_lock(1).is_some());
    }
}
