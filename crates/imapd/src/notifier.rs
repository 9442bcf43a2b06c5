//! What a session with NOTIFY set (RFC 5465) watches, and what it last
//! told the client: the account's mailboxes and subscriptions as last seen
//! (so a change of the list is found by comparing, whatever caused it and
//! however many notices it took), and the mailboxes watched for message
//! events by id, each with the STATUS last sent for it; and, if metadata
//! events are asked, the account's METADATA entries as last seen
//! (`metadata_watch`).
//!
//! Cost: a notice names one mailbox; whether it is watched is one hash
//! lookup, and only a watched one is read (its STATUS), so a session
//! watching PERSONAL on an account of 1000 mailboxes reads one mailbox per
//! change, not 1000. A change of the account's mailbox list costs two
//! reads (the mailboxes, the subscriptions).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use store::{AccountId, Changes, MailboxId, MailboxStatus, SEPARATOR, Store};
use wire::imap::FetchItem;

use crate::metadata_watch::MetadataWatch;

/// The events asked for a group of mailboxes (RFC 5465 §5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Interest {
    /// MessageNew and MessageExpunge, which go together (§5).
    pub messages: bool,
    pub flags: bool,
    pub names: bool,
    pub subscriptions: bool,
    /// MailboxMetadataChange (§5.6).
    pub metadata: bool,
}

/// The events asked for the selected mailbox (SELECTED or
/// SELECTED-DELAYED, RFC 5465 §6).
#[derive(Debug, Clone, Default)]
pub(crate) struct SelectedInterest {
    /// SELECTED-DELAYED: expunges wait for a command that allows them.
    pub delayed: bool,
    /// What to FETCH of each new message (MessageNew's fetch-att, §5.2).
    pub fetch: Vec<FetchItem>,
}

/// Which mailboxes a group is about, names canonical.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    Inboxes,
    Personal,
    Subscribed,
    Subtree(Vec<String>),
    Mailboxes(Vec<String>),
}

/// A mailbox watched for message events.
struct Watch {
    flags: bool,
    /// The STATUS last sent (or read at NOTIFY SET).
    last: Option<MailboxStatus>,
}

/// A change of the mailbox list, found by comparing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ListChange {
    Created(String),
    Deleted(String),
    Renamed {
        from: String,
        to: String,
    },
    Subscribed(String, bool),
    /// METADATA entries of a mailbox ("" for the server's) set, changed
    /// or removed (RFC 5465 §5.6, §5.7): their names.
    Metadata(String, Vec<String>),
}

pub(crate) struct Notifier {
    /// This NOTIFY's own bus listener: the session's other listener is
    /// drained by commands (`report_changes`), which pass over account
    /// changes; this one hears every change once, for NOTIFY alone.
    pub changes: Changes,
    account: AccountId,
    /// None when the selected mailbox is not watched (no SELECTED group).
    pub selected: Option<SelectedInterest>,
    /// The other groups, in the command's order: a mailbox gets the events
    /// of the first that names it.
    groups: Vec<(Filter, Interest)>,
    mailboxes: HashMap<MailboxId, String>,
    subscriptions: BTreeSet<String>,
    watched: HashMap<MailboxId, Watch>,
    /// ServerMetadataChange (§5.7), named in any group: the server's
    /// entries belong to no mailbox a filter could name.
    server_metadata: bool,
    /// The entries as last seen, if any metadata event is asked.
    metadata: Option<MetadataWatch>,
}

impl Notifier {
    pub fn new(
        changes: Changes,
        account: AccountId,
        selected: Option<SelectedInterest>,
        groups: Vec<(Filter, Interest)>,
        server_metadata: bool,
    ) -> Notifier {
        let metadata =
            (server_metadata || groups.iter().any(|(_, interest)| interest.metadata)).then(MetadataWatch::default);
        Notifier {
            server_metadata,
            metadata,
            changes,
            account,
            selected,
            groups,
            mailboxes: HashMap::new(),
            subscriptions: BTreeSet::new(),
            watched: HashMap::new(),
        }
    }

    /// The events asked for mailbox `name`.
    fn interest(&self, name: &str, subscriptions: &[&BTreeSet<String>]) -> Interest {
        interest(&self.groups, name, subscriptions)
    }

    /// Reads the account's mailboxes and subscriptions again; returns what
    /// changed since last time that the client asked to hear of, and
    /// updates the watched set. The first call only takes the list in.
    pub async fn refresh(&mut self, store: &Store) -> Result<Vec<ListChange>, store::Error> {
        let first = self.mailboxes.is_empty();
        // The entries are read before the list: a mailbox deleted in
        // between is then missing from the list, and its entries going
        // with it are not told. Read after, they showed as removed from a
        // mailbox the list still had.
        let metadata = match &mut self.metadata {
            Some(watch) => Some(watch.look(store, self.account, first).await?),
            None => None,
        };
        let list = store.mailboxes(self.account).await?;
        let subscriptions: BTreeSet<String> = store.subscriptions(self.account).await?.into_iter().collect();
        let mailboxes: HashMap<MailboxId, String> = list.into_iter().map(|m| (m.id, m.name)).collect();
        let mut changes = Vec::new();
        if !first {
            let both = [&self.subscriptions, &subscriptions];
            let names = |name: &str| self.interest(name, &both).names;
            let mut renamed = Vec::new();
            for (id, name) in &mailboxes {
                match self.mailboxes.get(id) {
                    None if names(name) => changes.push(ListChange::Created(name.clone())),
                    Some(old) if old != name && (names(old) || names(name)) => {
                        renamed.push((old.clone(), name.clone()));
                        changes.push(ListChange::Renamed {
                            from: old.clone(),
                            to: name.clone(),
                        });
                    }
                    _ => {}
                }
            }
            for (id, name) in &self.mailboxes {
                if !mailboxes.contains_key(id) && names(name) {
                    changes.push(ListChange::Deleted(name.clone()));
                }
            }
            // A subscription that moved with its mailbox is told by the
            // rename (RFC 5465 §5.4 lists the new name with OLDNAME).
            let moved = |name: &String, old: bool| {
                renamed
                    .iter()
                    .any(|(from, to)| if old { from == name } else { to == name })
            };
            for name in subscriptions.difference(&self.subscriptions) {
                if self.interest(name, &both).subscriptions && !moved(name, false) {
                    changes.push(ListChange::Subscribed(name.clone(), true));
                }
            }
            for name in self.subscriptions.difference(&subscriptions) {
                if self.interest(name, &both).subscriptions && !moved(name, true) {
                    changes.push(ListChange::Subscribed(name.clone(), false));
                }
            }
        }
        self.mailboxes = mailboxes;
        self.subscriptions = subscriptions;
        let mut watched = HashMap::new();
        for (id, name) in &self.mailboxes {
            let interest = self.interest(name, &[&self.subscriptions]);
            if interest.messages {
                let last = self.watched.remove(id).and_then(|watch| watch.last);
                watched.insert(
                    *id,
                    Watch {
                        flags: interest.flags,
                        last,
                    },
                );
            }
        }
        self.watched = watched;
        if let Some(metadata) = metadata {
            self.metadata_changes(metadata, &mut changes);
        }
        Ok(changes)
    }

    /// The METADATA entries changed since the last look, for the mailboxes
    /// (and the server) whose metadata events were asked. A mailbox gone
    /// is told by MailboxName, not by its entries going with it.
    fn metadata_changes(&self, metadata: BTreeMap<Option<MailboxId>, Vec<String>>, changes: &mut Vec<ListChange>) {
        for (mailbox, names) in metadata {
            match mailbox {
                None if self.server_metadata => changes.push(ListChange::Metadata(String::new(), names)),
                None => {}
                Some(id) => {
                    let Some(name) = self.mailboxes.get(&id) else {
                        continue;
                    };
                    if self.interest(name, &[&self.subscriptions]).metadata {
                        changes.push(ListChange::Metadata(name.clone(), names));
                    }
                }
            }
        }
    }

    /// The account whose mailboxes this follows.
    pub fn account(&self) -> AccountId {
        self.account
    }

    /// How many mailboxes are watched for message events.
    pub fn watched_count(&self) -> usize {
        self.watched.len()
    }

    /// The watched mailboxes, by name, for STATUS after NOTIFY SET STATUS
    /// and after missed changes.
    pub fn watched(&self) -> Vec<(MailboxId, String)> {
        let mut all: Vec<_> = self
            .watched
            .keys()
            .filter_map(|id| Some((*id, self.mailboxes.get(id)?.clone())))
            .collect();
        all.sort_by(|a, b| a.1.cmp(&b.1));
        all
    }

    /// Whether `mailbox` is watched for message events: one lookup.
    pub fn watches(&self, mailbox: MailboxId) -> bool {
        self.watched.contains_key(&mailbox)
    }

    /// Takes `status`, read for a watched mailbox; true if the client is to
    /// be told: what it was told differs in an item it asked to follow
    /// (MessageNew/MessageExpunge: MESSAGES, UIDNEXT, UIDVALIDITY;
    /// FlagChange: UNSEEN too, RFC 5465 §5.2-§5.4), or it was told nothing.
    pub fn status_changed(&mut self, mailbox: MailboxId, status: MailboxStatus) -> bool {
        let Some(watch) = self.watched.get_mut(&mailbox) else {
            return false;
        };
        let differs = match &watch.last {
            None => true,
            Some(last) => {
                (last.messages, last.uidnext, last.uidvalidity) != (status.messages, status.uidnext, status.uidvalidity)
                    || (watch.flags && last.unseen != status.unseen)
            }
        };
        watch.last = Some(status);
        differs
    }
}

/// The events `groups` ask for mailbox `name`: those of the first group
/// naming it. `subscriptions` are the names SUBSCRIBED matches.
fn interest(groups: &[(Filter, Interest)], name: &str, subscriptions: &[&BTreeSet<String>]) -> Interest {
    groups
        .iter()
        .find(|(filter, _)| match filter {
            Filter::Inboxes => name == "INBOX",
            Filter::Personal => true,
            Filter::Subscribed => subscriptions.iter().any(|set| set.contains(name)),
            Filter::Subtree(roots) => roots.iter().any(|root| {
                name == root || (name.starts_with(root.as_str()) && name[root.len()..].starts_with(SEPARATOR))
            }),
            Filter::Mailboxes(names) => names.iter().any(|n| n == name),
        })
        .map(|(_, interest)| *interest)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGES: Interest = Interest {
        messages: true,
        flags: false,
        names: false,
        subscriptions: false,
        metadata: false,
    };
    const NAMES: Interest = Interest {
        messages: false,
        flags: false,
        names: true,
        subscriptions: false,
        metadata: false,
    };

    /// RFC 5465 §6's filters; a mailbox gets the events of the first group
    /// that names it, and a subtree is its root and what is below it.
    #[test]
    fn the_first_group_that_names_a_mailbox_decides() {
        let groups = vec![
            (Filter::Subtree(vec!["Lists".into()]), MESSAGES),
            (Filter::Mailboxes(vec!["misc".into()]), Interest::default()),
            (Filter::Inboxes, MESSAGES),
            (Filter::Personal, NAMES),
        ];
        let none = BTreeSet::new();
        let at = |name: &str| interest(&groups, name, &[&none]);
        assert_eq!(at("Lists"), MESSAGES);
        assert_eq!(at("Lists/rust"), MESSAGES);
        assert_eq!(at("Listserv"), NAMES, "not below Lists");
        assert_eq!(at("misc"), Interest::default(), "named first with no events");
        assert_eq!(at("INBOX"), MESSAGES);
        assert_eq!(at("Archive"), NAMES);
        let subscribed: BTreeSet<String> = ["Archive".to_string()].into();
        let only_subscribed = vec![(Filter::Subscribed, MESSAGES)];
        assert_eq!(interest(&only_subscribed, "Archive", &[&subscribed]), MESSAGES);
        assert_eq!(interest(&only_subscribed, "Trash", &[&subscribed]), Interest::default());
    }
}
