//! What NOTIFY's metadata events (RFC 5465 §5.6 MailboxMetadataChange,
//! §5.7 ServerMetadataChange) compare with: the account's METADATA entries
//! as last seen, each kept as its name and a hash of its value, so that a
//! change is found by comparing, whoever made it and however many notices
//! it took (or none, after `Lagged`), as the mailbox list is.
//!
//! Cost: one read of the account's entries per change of the account
//! (bounded by `max_metadata_entries` and `max_metadata_total`), and per
//! session a hash and a name per entry, never the values.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

use store::{AccountId, MailboxId, Store};

/// An entry: its mailbox (None: the server's) and name.
type Entry = (Option<MailboxId>, String);

#[derive(Default)]
pub(crate) struct MetadataWatch {
    /// The hash of each entry's value, as last seen.
    seen: HashMap<Entry, u64>,
}

impl MetadataWatch {
    /// Reads the account's entries again; returns, per mailbox (None: the
    /// server), the names of the entries set, changed or removed since
    /// the last look, sorted. The first look only takes them in.
    pub async fn look(
        &mut self,
        store: &Store,
        account: AccountId,
        first: bool,
    ) -> Result<BTreeMap<Option<MailboxId>, Vec<String>>, store::Error> {
        let now: HashMap<Entry, u64> = store
            .account_metadata(account)
            .await?
            .into_iter()
            .map(|(mailbox, name, value)| ((mailbox, name), digest(&value)))
            .collect();
        let mut changed: BTreeMap<Option<MailboxId>, BTreeSet<String>> = BTreeMap::new();
        if !first {
            let differs = now
                .iter()
                .filter(|(entry, hash)| self.seen.get(*entry) != Some(*hash))
                .map(|(entry, _)| entry);
            let removed = self.seen.keys().filter(|entry| !now.contains_key(*entry));
            for (mailbox, name) in differs.chain(removed) {
                changed.entry(*mailbox).or_default().insert(name.clone());
            }
        }
        self.seen = now;
        Ok(changed
            .into_iter()
            .map(|(mailbox, names)| (mailbox, names.into_iter().collect()))
            .collect())
    }
}

/// A value's hash; a change that kept the hash (one in 2^64) goes untold.
fn digest(value: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}
