//! Which names a LIST or LSUB answers, with their attributes: the
//! selection options of LIST-EXTENDED (RFC 5258 §3: SUBSCRIBED,
//! RECURSIVEMATCH, REMOTE; SPECIAL-USE of RFC 6154 §2), hierarchy levels
//! that are no mailbox (RFC 3501 §6.3.8-6.3.9) and LSUB's own attributes
//! (issue 13, defects 4 and 5). Pure, so that the examples of RFC 5258 §5
//! are tests here; runs on the blocking pool (see `heavy`), since its cost
//! grows with the account's mailboxes.

use std::collections::{BTreeSet, HashMap, HashSet};

use store::{MailboxInfo, SEPARATOR};

use crate::heavy::Cancel;
use crate::pattern::Pattern;

/// One pattern of a LIST, compiled.
#[derive(Debug)]
pub(crate) struct ListPattern {
    pub pattern: Pattern,
    /// The same in capitals: INBOX matches case-insensitively (RFC 9051 §5.1).
    pub upper: Pattern,
    /// Ends in `%`: then hierarchy levels that match are answered even
    /// when they are no mailbox (RFC 3501 §6.3.8).
    pub levels: bool,
}

/// What a LIST asks for.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ListOptions {
    /// Selection SUBSCRIBED: subscribed names, mailboxes or not.
    pub subscribed: bool,
    /// Selection SPECIAL-USE (RFC 6154 §2): mailboxes with a role.
    pub special_use: bool,
    /// Selection RECURSIVEMATCH: also parents of selected names that are
    /// not selected themselves, with CHILDINFO (RFC 5258 §3.5).
    pub recursive: bool,
    /// Return SUBSCRIBED (implied by the selection).
    pub return_subscribed: bool,
    /// An LSUB: only its attributes, and no extended data.
    pub lsub: bool,
    /// The extended syntax of RFC 5258 (selection or return options, or
    /// several patterns): only then may \NonExistent be answered.
    pub extended: bool,
}

/// One name answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub name: String,
    /// The mailbox, if one has this name: an index into the mailboxes.
    pub mailbox: Option<usize>,
    pub attributes: Vec<String>,
    /// CHILDINFO: why a descendant was selected (`SUBSCRIBED`).
    pub child_info: Option<&'static str>,
}

/// The names `patterns` select among `mailboxes` and `subscriptions`, in
/// name order; empty once `cancel` is set.
pub(crate) fn listing(
    mailboxes: &[MailboxInfo],
    subscriptions: &[String],
    patterns: &[ListPattern],
    options: ListOptions,
    cancel: &Cancel,
) -> Vec<Entry> {
    let (tree, candidates) = Tree::new(mailboxes, subscriptions, patterns, options);
    let mut listed = Vec::new();
    for name in candidates {
        if cancel.is_set() {
            return Vec::new();
        }
        listed.extend(tree.entry(name));
    }
    listed
}

/// The names a listing looks at, and what is known of each level.
struct Tree<'a> {
    mailboxes: &'a [MailboxInfo],
    /// Mailbox names, with their index into `mailboxes`.
    existing: HashMap<&'a str, usize>,
    subscribed: HashSet<&'a str>,
    patterns: &'a [ListPattern],
    options: ListOptions,
    /// Selection by subscription (SUBSCRIBED, or LSUB).
    by_subscription: bool,
    /// Levels with a mailbox below them (\HasChildren).
    has_children: HashSet<&'a str>,
    /// For each level, the selected names below it.
    selected_below: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Tree<'a> {
    /// The tree, and every name that could be answered: mailboxes,
    /// subscriptions, and the levels above them.
    fn new(
        mailboxes: &'a [MailboxInfo],
        subscriptions: &'a [String],
        patterns: &'a [ListPattern],
        options: ListOptions,
    ) -> (Tree<'a>, BTreeSet<&'a str>) {
        let mut tree = Tree {
            mailboxes,
            existing: mailboxes
                .iter()
                .enumerate()
                .map(|(index, mailbox)| (mailbox.name.as_str(), index))
                .collect(),
            subscribed: subscriptions.iter().map(String::as_str).collect(),
            patterns,
            options,
            by_subscription: options.subscribed || options.lsub,
            has_children: HashSet::new(),
            selected_below: HashMap::new(),
        };
        let mut candidates: BTreeSet<&str> = BTreeSet::new();
        for name in sources(&tree.existing, &tree.subscribed, tree.by_subscription) {
            candidates.insert(name);
            let is_mailbox = tree.existing.contains_key(name);
            let is_selected = tree.selected(name);
            for (at, _) in name.match_indices(SEPARATOR) {
                let parent = &name[..at];
                candidates.insert(parent);
                if is_mailbox {
                    tree.has_children.insert(parent);
                }
                if is_selected {
                    tree.selected_below.entry(parent).or_default().push(name);
                }
            }
        }
        (tree, candidates)
    }

    /// Whether the selection options pick `name` (RFC 5258 §3.1).
    fn selected(&self, name: &str) -> bool {
        if self.by_subscription {
            self.subscribed.contains(name)
        } else if self.options.special_use {
            self.existing
                .get(name)
                .is_some_and(|&index| self.mailboxes[index].special_use.is_some())
        } else {
            self.existing.contains_key(name)
        }
    }

    fn matches(&self, name: &str) -> bool {
        self.patterns
            .iter()
            .any(|p| p.pattern.matches(name) || (name == "INBOX" && p.upper.matches(name)))
    }

    fn level_matches(&self, name: &str) -> bool {
        self.patterns.iter().any(|p| p.levels && p.pattern.matches(name))
    }

    /// The attributes of a name answered for itself.
    fn attributes(&self, name: &str, mailbox: Option<usize>) -> Vec<String> {
        let options = self.options;
        let mut attributes = Vec::new();
        if options.lsub {
            // LSUB knows only \Noselect of these (RFC 3501 §6.3.9).
            if mailbox.is_none() {
                attributes.push("\\Noselect".to_string());
            }
            return attributes;
        }
        let children = self.has_children.contains(name);
        match mailbox {
            None => {
                // \NonExistent implies \Noselect (RFC 5258 §3.4); only the
                // extended syntax (SUBSCRIBED, RECURSIVEMATCH) gets here.
                attributes.push("\\NonExistent".to_string());
                if children {
                    attributes.push("\\HasChildren".to_string());
                }
            }
            Some(_) if children => attributes.push("\\HasChildren".to_string()),
            Some(_) => attributes.push("\\HasNoChildren".to_string()),
        }
        if (options.subscribed || options.return_subscribed) && self.subscribed.contains(name) {
            attributes.push("\\Subscribed".to_string());
        }
        if let Some(role) = mailbox.and_then(|index| self.mailboxes[index].special_use.as_ref()) {
            attributes.push(role.clone());
        }
        attributes
    }

    /// The answer for `name`, if it is answered.
    fn entry(&self, name: &str) -> Option<Entry> {
        if !self.matches(name) {
            return None;
        }
        let options = self.options;
        let mailbox = self.existing.get(name).copied();
        let below = self.selected_below.get(name).map_or(&[][..], Vec::as_slice);
        let (attributes, child_info) = if self.selected(name) {
            // RFC 5258 §3.5: CHILDINFO for a selected name too, when
            // something below it is selected.
            (self.attributes(name, mailbox), options.recursive && !below.is_empty())
        } else if options.recursive && below.iter().any(|d| !self.matches(d)) {
            // A parent answered for a selected descendant the patterns do
            // not reach; not when they reach them all (RFC 5258 §5, example 9).
            (self.attributes(name, mailbox), true)
        } else if options.lsub && !below.is_empty() && self.level_matches(name) {
            // RFC 3501 §6.3.9: "foo" for a subscribed "foo/bar" under "%".
            (vec!["\\Noselect".to_string()], false)
        } else if !self.by_subscription
            && !options.special_use
            && mailbox.is_none()
            && self.has_children.contains(name)
            && self.level_matches(name)
        {
            // A level with mailboxes below that is no mailbox itself:
            // \Noselect (RFC 3501 §6.3.8, RFC 9051 §6.3.9), or \NonExistent,
            // which implies it (RFC 5258 §3.4), when the client used the
            // extended syntax; as Dovecot answers.
            let kind = if options.extended {
                "\\NonExistent"
            } else {
                "\\Noselect"
            };
            (vec![kind.to_string(), "\\HasChildren".to_string()], false)
        } else {
            return None;
        };
        Some(Entry {
            name: name.to_string(),
            mailbox,
            attributes,
            child_info: (child_info && !options.lsub).then_some(if options.special_use && !options.subscribed {
                "SPECIAL-USE"
            } else {
                "SUBSCRIBED"
            }),
        })
    }
}

/// The names whose levels a listing looks at: the mailboxes, and the
/// subscriptions only when the listing selects by them. Subscriptions
/// outlive their mailboxes (up to `max_mailboxes` of them, each hundreds of
/// levels deep): a plain LIST, which can answer none of them that is not a
/// mailbox, must not pay for them (review finding 6).
fn sources<'a>(
    existing: &HashMap<&'a str, usize>,
    subscribed: &HashSet<&'a str>,
    by_subscription: bool,
) -> Vec<&'a str> {
    let mut names: Vec<&str> = existing.keys().copied().collect();
    if by_subscription {
        names.extend(subscribed.iter().copied().filter(|name| !existing.contains_key(name)));
    }
    names
}

#[cfg(test)]
mod tests {
    //! The examples of RFC 5258 §5, each with its mailbox tree. Where the
    //! RFC's server shows no child attributes, ours adds \HasChildren or
    //! \HasNoChildren (RFC 9051 §7.3.1 has LIST report them), and INBOX
    //! carries no \Marked or \NoInferiors; otherwise the answers are the
    //! RFC's, in name order.

    use super::*;
    use crate::pattern::PatternLimits;

    /// Mailboxes (with an optional special use) and subscriptions.
    struct Tree {
        mailboxes: Vec<MailboxInfo>,
        subscriptions: Vec<String>,
    }

    fn tree(mailboxes: &[&str], subscriptions: &[&str]) -> Tree {
        Tree {
            mailboxes: mailboxes
                .iter()
                .enumerate()
                .map(|(id, name)| {
                    let (name, role) = name.split_once(' ').map_or((*name, None), |(n, r)| (n, Some(r)));
                    MailboxInfo {
                        id: id as i64,
                        name: name.to_string(),
                        special_use: role.map(str::to_string),
                        uidvalidity: 1,
                        uidnext: 1,
                        highestmodseq: 1,
                        subscribed: subscriptions.contains(&name),
                        object_id: String::new(),
                    }
                })
                .collect(),
            subscriptions: subscriptions.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// `LIST (selection) "" (patterns) RETURN (returns)` as `name (attributes)
    /// CHILDINFO`, one string per answer.
    fn list(tree: &Tree, selection: &str, patterns: &[&str], returns: &str) -> Vec<String> {
        let compiled: Vec<ListPattern> = patterns
            .iter()
            .map(|p| {
                let mut limits = PatternLimits {
                    max_len: 1000,
                    max_wildcards: 100,
                };
                ListPattern {
                    pattern: Pattern::new(p, &mut limits).unwrap(),
                    upper: Pattern::new(&p.to_uppercase(), &mut limits).unwrap(),
                    levels: p.ends_with('%'),
                }
            })
            .collect();
        let options = ListOptions {
            subscribed: selection.contains("SUBSCRIBED"),
            special_use: selection.contains("SPECIAL-USE"),
            recursive: selection.contains("RECURSIVEMATCH"),
            return_subscribed: returns.contains("SUBSCRIBED"),
            lsub: selection == "LSUB",
            extended: !selection.is_empty() || !returns.is_empty() || patterns.len() > 1,
        };
        listing(
            &tree.mailboxes,
            &tree.subscriptions,
            &compiled,
            options,
            &Cancel::default(),
        )
        .into_iter()
        .map(|entry| {
            let mut line = format!("{} ({})", entry.name, entry.attributes.join(" "));
            if let Some(reason) = entry.child_info {
                line.push_str(&format!(" CHILDINFO {reason}"));
            }
            line
        })
        .collect()
    }

    /// The tree of RFC 5258 §5 examples 1 to 6: Fruit/Peach is subscribed
    /// but does not exist.
    fn fruit() -> Tree {
        tree(
            &[
                "INBOX",
                "Fruit",
                "Fruit/Apple",
                "Fruit/Banana",
                "Tofu",
                "Vegetable",
                "Vegetable/Broccoli",
                "Vegetable/Corn",
            ],
            &[
                "INBOX",
                "Fruit/Banana",
                "Fruit/Peach",
                "Vegetable",
                "Vegetable/Broccoli",
            ],
        )
    }

    #[test]
    fn example_1_the_whole_hierarchy() {
        assert_eq!(
            list(&fruit(), "", &["*"], ""),
            [
                "Fruit (\\HasChildren)",
                "Fruit/Apple (\\HasNoChildren)",
                "Fruit/Banana (\\HasNoChildren)",
                "INBOX (\\HasNoChildren)",
                "Tofu (\\HasNoChildren)",
                "Vegetable (\\HasChildren)",
                "Vegetable/Broccoli (\\HasNoChildren)",
                "Vegetable/Corn (\\HasNoChildren)",
            ]
        );
    }

    #[test]
    fn example_2_subscribed_names_existing_or_not() {
        assert_eq!(
            list(&fruit(), "SUBSCRIBED", &["*"], ""),
            [
                "Fruit/Banana (\\HasNoChildren \\Subscribed)",
                "Fruit/Peach (\\NonExistent \\Subscribed)",
                "INBOX (\\HasNoChildren \\Subscribed)",
                "Vegetable (\\HasChildren \\Subscribed)",
                "Vegetable/Broccoli (\\HasNoChildren \\Subscribed)",
            ]
        );
    }

    #[test]
    fn examples_3_and_4_children_and_remote() {
        let expected = [
            "Fruit (\\HasChildren)",
            "INBOX (\\HasNoChildren)",
            "Tofu (\\HasNoChildren)",
            "Vegetable (\\HasChildren)",
        ];
        assert_eq!(list(&fruit(), "", &["%"], "CHILDREN"), expected);
        // No remote mailboxes here: REMOTE changes nothing.
        assert_eq!(list(&fruit(), "REMOTE", &["%"], "CHILDREN"), expected);
    }

    #[test]
    fn examples_5_and_6_remote_with_subscriptions() {
        assert_eq!(
            list(&fruit(), "REMOTE SUBSCRIBED", &["*"], ""),
            list(&fruit(), "SUBSCRIBED", &["*"], "")
        );
        assert_eq!(
            list(&fruit(), "REMOTE", &["*"], "SUBSCRIBED"),
            [
                "Fruit (\\HasChildren)",
                "Fruit/Apple (\\HasNoChildren)",
                "Fruit/Banana (\\HasNoChildren \\Subscribed)",
                "INBOX (\\HasNoChildren \\Subscribed)",
                "Tofu (\\HasNoChildren)",
                "Vegetable (\\HasChildren \\Subscribed)",
                "Vegetable/Broccoli (\\HasNoChildren \\Subscribed)",
                "Vegetable/Corn (\\HasNoChildren)",
            ]
        );
    }

    #[test]
    fn example_7_several_patterns() {
        let tree = tree(
            &[
                "INBOX",
                "Drafts \\Drafts",
                "Sent \\Sent",
                "Sent/March2004",
                "Sent/December2003",
                "Sent/August2004",
                "Junk \\Junk",
            ],
            &[],
        );
        assert_eq!(
            list(&tree, "", &["INBOX", "Drafts", "Sent/%"], ""),
            [
                "Drafts (\\HasNoChildren \\Drafts)",
                "INBOX (\\HasNoChildren)",
                "Sent/August2004 (\\HasNoChildren)",
                "Sent/December2003 (\\HasNoChildren)",
                "Sent/March2004 (\\HasNoChildren)",
            ]
        );
    }

    const FOO: &[&str] = &["INBOX", "Foo", "Foo/Bar", "Foo/Baz", "Moo"];

    #[test]
    fn example_8_recursivematch_with_subscriptions() {
        let none = tree(FOO, &[]);
        assert_eq!(
            list(&none, "", &["*"], ""),
            [
                "Foo (\\HasChildren)",
                "Foo/Bar (\\HasNoChildren)",
                "Foo/Baz (\\HasNoChildren)",
                "INBOX (\\HasNoChildren)",
                "Moo (\\HasNoChildren)",
            ]
        );
        assert_eq!(
            list(&none, "", &["%"], "CHILDREN"),
            [
                "Foo (\\HasChildren)",
                "INBOX (\\HasNoChildren)",
                "Moo (\\HasNoChildren)"
            ]
        );
        // A: only Foo/Baz subscribed.
        let baz = tree(FOO, &["Foo/Baz"]);
        assert_eq!(
            list(&baz, "SUBSCRIBED", &["*"], ""),
            ["Foo/Baz (\\HasNoChildren \\Subscribed)"]
        );
        assert!(list(&baz, "SUBSCRIBED", &["%"], "").is_empty());
        assert_eq!(
            list(&baz, "SUBSCRIBED RECURSIVEMATCH", &["%"], ""),
            ["Foo (\\HasChildren) CHILDINFO SUBSCRIBED"]
        );
        // A1: Foo subscribed too.
        let both = tree(FOO, &["Foo", "Foo/Baz"]);
        assert_eq!(
            list(&both, "SUBSCRIBED RECURSIVEMATCH", &["%"], ""),
            ["Foo (\\HasChildren \\Subscribed) CHILDINFO SUBSCRIBED"]
        );
        // A2: Foo does not exist.
        let gone = tree(&["INBOX", "Foo/Bar", "Foo/Baz", "Moo"], &["Foo/Baz"]);
        assert_eq!(
            list(&gone, "SUBSCRIBED RECURSIVEMATCH", &["%"], ""),
            ["Foo (\\NonExistent \\HasChildren) CHILDINFO SUBSCRIBED"]
        );
        // B: nothing subscribed below Foo.
        assert!(list(&none, "SUBSCRIBED RECURSIVEMATCH", &["%"], "").is_empty());
        // C: Foo and Moo subscribed, nothing below them.
        assert_eq!(
            list(
                &tree(FOO, &["Foo", "Moo"]),
                "SUBSCRIBED RECURSIVEMATCH",
                &["%"],
                "CHILDREN"
            ),
            ["Foo (\\HasChildren \\Subscribed)", "Moo (\\HasNoChildren \\Subscribed)"]
        );
    }

    #[test]
    fn example_9_childinfo_only_for_descendants_the_pattern_misses() {
        let tree = tree(
            &[
                "foo2",
                "foo2/bar1",
                "foo2/bar2",
                "baz2",
                "baz2/bar2",
                "baz2/bar22",
                "baz2/bar222",
                "eps2",
                "eps2/mamba",
                "qux2/bar2",
            ],
            &[
                "foo2/bar1",
                "foo2/bar2",
                "baz2/bar2",
                "baz2/bar22",
                "baz2/bar222",
                "eps2",
                "eps2/mamba",
                "qux2/bar2",
            ],
        );
        assert_eq!(
            list(&tree, "SUBSCRIBED RECURSIVEMATCH", &["*2"], ""),
            [
                "baz2/bar2 (\\HasNoChildren \\Subscribed)",
                "baz2/bar22 (\\HasNoChildren \\Subscribed)",
                "baz2/bar222 (\\HasNoChildren \\Subscribed)",
                "eps2 (\\HasChildren \\Subscribed) CHILDINFO SUBSCRIBED",
                "foo2 (\\HasChildren) CHILDINFO SUBSCRIBED",
                "foo2/bar2 (\\HasNoChildren \\Subscribed)",
                "qux2/bar2 (\\HasNoChildren \\Subscribed)",
            ]
        );
    }

    #[test]
    fn example_10_childinfo_for_a_subscribed_child_that_is_gone() {
        // Foo/Bar was subscribed and then deleted: Foo has no children,
        // yet something below it is subscribed.
        let tree = tree(&["INBOX", "Foo"], &["Foo/Bar"]);
        assert_eq!(
            list(&tree, "SUBSCRIBED RECURSIVEMATCH", &["%"], "CHILDREN"),
            ["Foo (\\HasNoChildren) CHILDINFO SUBSCRIBED"]
        );
    }

    #[test]
    fn example_11_levels_that_are_no_mailbox() {
        let tree = tree(&["INBOX", "Foo/Bar", "Foo/Baz"], &[]);
        assert_eq!(
            list(&tree, "", &["%"], "CHILDREN"),
            ["Foo (\\NonExistent \\HasChildren)", "INBOX (\\HasNoChildren)"]
        );
        // `*` reaches the mailboxes themselves.
        assert_eq!(
            list(&tree, "", &["*"], ""),
            [
                "Foo/Bar (\\HasNoChildren)",
                "Foo/Baz (\\HasNoChildren)",
                "INBOX (\\HasNoChildren)"
            ]
        );
    }

    #[test]
    fn plain_list_shows_levels_that_are_no_mailbox_as_noselect() {
        // Review finding 3: \NonExistent is LIST-EXTENDED's (RFC 5258
        // §3.4); RFC 3501 §6.3.8 and RFC 9051 §6.3.9 have \Noselect.
        let tree = tree(&["INBOX", "Foo/Bar"], &[]);
        assert_eq!(
            list(&tree, "", &["%"], ""),
            ["Foo (\\Noselect \\HasChildren)", "INBOX (\\HasNoChildren)"]
        );
        assert_eq!(list(&tree, "", &["Foo/%"], ""), ["Foo/Bar (\\HasNoChildren)"]);
        // Several patterns are the extended syntax too.
        assert_eq!(
            list(&tree, "", &["%", "INBOX"], ""),
            ["Foo (\\NonExistent \\HasChildren)", "INBOX (\\HasNoChildren)"]
        );
    }

    #[test]
    fn only_a_listing_by_subscription_looks_at_subscriptions() {
        // Review finding 6: deep subscriptions without their mailboxes cost a
        // plain LIST nothing.
        let deep = format!("gone/{}", vec!["x"; 500].join("/"));
        let tree = tree(&["INBOX", "Work"], &["INBOX", &deep]);
        let existing: HashMap<&str, usize> = tree
            .mailboxes
            .iter()
            .enumerate()
            .map(|(index, m)| (m.name.as_str(), index))
            .collect();
        let subscribed: HashSet<&str> = tree.subscriptions.iter().map(String::as_str).collect();
        let mut plain = sources(&existing, &subscribed, false);
        plain.sort_unstable();
        assert_eq!(plain, ["INBOX", "Work"]);
        let mut by_subscription = sources(&existing, &subscribed, true);
        by_subscription.sort_unstable();
        assert_eq!(by_subscription, ["INBOX", "Work", deep.as_str()]);
        // And the answers are the same as before.
        assert_eq!(
            list(&tree, "", &["*"], "SUBSCRIBED"),
            ["INBOX (\\HasNoChildren \\Subscribed)", "Work (\\HasNoChildren)"]
        );
        assert_eq!(list(&tree, "SUBSCRIBED", &["gone"], ""), Vec::<String>::new());
        assert_eq!(
            list(&tree, "SUBSCRIBED RECURSIVEMATCH", &["%"], ""),
            [
                "INBOX (\\HasNoChildren \\Subscribed)",
                "gone (\\NonExistent) CHILDINFO SUBSCRIBED"
            ]
        );
    }

    #[test]
    fn lsub_shows_unsubscribed_levels_as_noselect_and_no_child_attributes() {
        // Issue 13, defect 5 (RFC 3501 §6.3.9).
        let tree = tree(
            &["INBOX", "box", "box/a", "box/a/b", "box/c", "gone/x"],
            &["INBOX", "box/a/b", "box/c", "old"],
        );
        assert_eq!(list(&tree, "LSUB", &["box/%"], ""), ["box/a (\\Noselect)", "box/c ()"]);
        assert_eq!(
            list(&tree, "LSUB", &["*"], ""),
            ["INBOX ()", "box/a/b ()", "box/c ()", "old (\\Noselect)"]
        );
        assert_eq!(
            list(&tree, "LSUB", &["%"], ""),
            ["INBOX ()", "box (\\Noselect)", "old (\\Noselect)"]
        );
    }

    #[test]
    fn special_use_selection_lists_mailboxes_with_a_role() {
        let tree = tree(&["INBOX", "Sent \\Sent", "Archive \\Archive", "Work"], &[]);
        assert_eq!(
            list(&tree, "SPECIAL-USE", &["*"], ""),
            ["Archive (\\HasNoChildren \\Archive)", "Sent (\\HasNoChildren \\Sent)"]
        );
    }

    #[test]
    fn a_cancelled_listing_is_empty() {
        let cancel = Cancel::default();
        cancel.set();
        let fruit = fruit();
        let mut limits = PatternLimits {
            max_len: 10,
            max_wildcards: 10,
        };
        let patterns = [ListPattern {
            pattern: Pattern::new("*", &mut limits).unwrap(),
            upper: Pattern::new("*", &mut limits).unwrap(),
            levels: false,
        }];
        assert!(
            listing(
                &fruit.mailboxes,
                &fruit.subscriptions,
                &patterns,
                ListOptions::default(),
                &cancel
            )
            .is_empty()
        );
    }
}
