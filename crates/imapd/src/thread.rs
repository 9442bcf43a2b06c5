//! The THREAD algorithms of RFC 5256 §3, ORDEREDSUBJECT and REFERENCES,
//! over prepared keys (no message is read here), and the thread list of
//! the THREAD response (RFC 5256 §4).
//!
//! The trees live in one arena and every walk over them is iterative: a
//! reply chain as long as the mailbox (or a References field naming
//! thousands of ids) must not overflow the stack of the thread running it.

use std::cmp::Ordering;

// The maps of Message-IDs and subjects: foldhash, several times faster
// than SipHash on 100 000 ids, seeded at random per map, so a sender who
// picks colliding ids cannot know what collides.
use foldhash::HashMap;
use foldhash::HashMapExt as _;

/// What threading needs of one message.
#[derive(Debug, Clone, Default)]
pub(crate) struct ThreadMessage {
    /// What the answer shows: the sequence number or the UID.
    pub number: i64,
    /// The sent date (RFC 5256 §2.2: the Date field, else INTERNALDATE).
    pub sent: i64,
    /// The base subject, folded (`imf::SortKeys::subject`).
    pub subject: String,
    pub reply_or_forward: bool,
    /// The Message-ID and References ids, each as its number from one
    /// [`Ids`] for all the messages threaded together.
    pub message_id: Option<u32>,
    pub references: Box<[u32]>,
}

/// Message ids numbered in the order first met, so that threading
/// compares and looks up numbers: each id's text is hashed once per
/// occurrence as the keys are read, and kept once.
#[derive(Default)]
pub(crate) struct Ids(HashMap<Box<str>, u32>);

impl Ids {
    pub(crate) fn number(&mut self, id: &str) -> u32 {
        if let Some(&n) = self.0.get(id) {
            return n;
        }
        let n = u32::try_from(self.0.len()).unwrap_or(u32::MAX);
        self.0.insert(id.into(), n);
        n
    }
}

/// A node: a message, or a dummy standing for a message that is not
/// there (a parent only known by the References of its children).
#[derive(Debug, Default, Clone)]
struct Container {
    /// Index into the messages (which are in mailbox order, so this is
    /// also the tie-breaker of equal dates).
    message: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// Threads: the arena and its roots, in answer order.
pub(crate) struct Threads {
    containers: Vec<Container>,
    roots: Vec<usize>,
}

/// ORDEREDSUBJECT (RFC 5256 §3): messages sorted by base subject, then
/// sent date; each run of one subject is a thread whose first message is
/// the parent of all the others; threads in the order of their first
/// messages' sent dates.
pub(crate) fn ordered_subject(messages: &[ThreadMessage]) -> Threads {
    let mut order: Vec<usize> = (0..messages.len()).collect();
    order.sort_by(|&a, &b| {
        messages[a]
            .subject
            .cmp(&messages[b].subject)
            .then_with(|| by_date(messages, a, b))
    });
    let mut containers: Vec<Container> = (0..messages.len())
        .map(|i| Container {
            message: Some(i),
            ..Container::default()
        })
        .collect();
    let mut roots = Vec::new();
    let mut current: Option<usize> = None;
    for &i in &order {
        match current {
            Some(root) if messages[root].subject == messages[i].subject => {
                containers[root].children.push(i);
                containers[i].parent = Some(root);
            }
            _ => {
                roots.push(i);
                current = Some(i);
            }
        }
    }
    roots.sort_by(|&a, &b| by_date(messages, a, b));
    Threads { containers, roots }
}

/// Sent date, then mailbox order.
fn by_date(messages: &[ThreadMessage], a: usize, b: usize) -> Ordering {
    messages[a].sent.cmp(&messages[b].sent).then(a.cmp(&b))
}

/// REFERENCES (RFC 5256 §3), steps 1 to 6.
pub(crate) fn references(messages: &[ThreadMessage]) -> Threads {
    let mut arena = Arena::default();
    arena.link(messages);
    // (2) The root set: every container without a parent.
    let roots: Vec<usize> = (0..arena.containers.len())
        .filter(|&c| arena.containers[c].parent.is_none())
        .collect();
    let roots = arena.prune(roots);
    // (4) Siblings sorted (children first, as a dummy's date is that of
    // its first child), then (5) gathered by subject, then (6) sorted
    // again.
    arena.sort_all(messages, &roots);
    let mut roots = roots;
    arena.sort_level(messages, &mut roots);
    let mut roots = arena.gather_subjects(messages, roots);
    arena.sort_all(messages, &roots);
    arena.sort_level(messages, &mut roots);
    Threads {
        containers: arena.containers,
        roots,
    }
}

/// The entry of id number `id` in `ids`, grown to hold it.
fn slot(ids: &mut Vec<Option<usize>>, id: u32) -> &mut Option<usize> {
    let at = id as usize;
    if ids.len() <= at {
        ids.resize(at + 1, None);
    }
    &mut ids[at]
}

#[derive(Default)]
struct Arena {
    containers: Vec<Container>,
}

impl Arena {
    fn new_container(&mut self, message: Option<usize>) -> usize {
        self.containers.push(Container {
            message,
            ..Container::default()
        });
        self.containers.len() - 1
    }

    /// (1) Links messages by Message-ID and References / In-Reply-To.
    fn link(&mut self, messages: &[ThreadMessage]) {
        // The container of each id number, by the number.
        let mut ids: Vec<Option<usize>> = Vec::with_capacity(2 * messages.len());
        self.containers.reserve(2 * messages.len());
        for (i, message) in messages.iter().enumerate() {
            // (1A) A missing or repeated Message-ID gets a unique one: a
            // container of its own that no reference can name.
            let own = match message.message_id {
                Some(id) => match slot(&mut ids, id) {
                    Some(c) if self.containers[*c].message.is_none() => {
                        let c = *c;
                        self.containers[c].message = Some(i);
                        c
                    }
                    Some(_) => self.new_container(Some(i)),
                    None => {
                        let c = self.new_container(Some(i));
                        *slot(&mut ids, id) = Some(c);
                        c
                    }
                },
                None => self.new_container(Some(i)),
            };
            // (1B) Each reference the parent of the next, unless that one
            // has a parent already or a loop would result.
            let mut previous: Option<usize> = None;
            for &reference in &message.references {
                let c = match *slot(&mut ids, reference) {
                    Some(c) => c,
                    None => {
                        let c = self.new_container(None);
                        *slot(&mut ids, reference) = Some(c);
                        c
                    }
                };
                if let Some(parent) = previous
                    && self.containers[c].parent.is_none()
                    && !self.would_loop(parent, c)
                {
                    self.set_parent(c, Some(parent));
                }
                previous = Some(c);
            }
            // (1C) The last reference is the message's parent, replacing
            // one set before (from a truncated References elsewhere);
            // without one (or if it would loop) the message is a root.
            let parent = previous.filter(|&p| !self.would_loop(p, own));
            self.set_parent(own, parent);
        }
    }

    /// Whether making `parent` the parent of `child` closes a loop:
    /// `child` is `parent` or one of its ancestors.
    fn would_loop(&self, parent: usize, child: usize) -> bool {
        // A container without children is nobody's ancestor: the usual
        // case of a new message, which spares the walk up a long chain.
        if parent != child && self.containers[child].children.is_empty() {
            return false;
        }
        let mut at = Some(parent);
        while let Some(c) = at {
            if c == child {
                return true;
            }
            at = self.containers[c].parent;
        }
        false
    }

    fn set_parent(&mut self, child: usize, parent: Option<usize>) {
        if let Some(old) = self.containers[child].parent.take() {
            self.containers[old].children.retain(|&c| c != child);
        }
        if let Some(parent) = parent {
            self.containers[parent].children.push(child);
            self.containers[child].parent = Some(parent);
        }
    }

    /// (3) Prunes dummies: without children they go; with children they
    /// give way to them, except at the root level where only one with a
    /// single child does. Children are pruned before their parents (a
    /// post-order walk with a stack of its own).
    fn prune(&mut self, roots: Vec<usize>) -> Vec<usize> {
        let mut order = Vec::new();
        let mut stack: Vec<usize> = roots.clone();
        while let Some(c) = stack.pop() {
            order.push(c);
            stack.extend(self.containers[c].children.iter().copied());
        }
        // Reversed pre-order: every container after its descendants.
        for &c in order.iter().rev() {
            let children = std::mem::take(&mut self.containers[c].children);
            let pruned = self.pruned_level(children, false);
            for &child in &pruned {
                self.containers[child].parent = Some(c);
            }
            self.containers[c].children = pruned;
        }
        let roots = self.pruned_level(roots, true);
        for &root in &roots {
            self.containers[root].parent = None;
        }
        roots
    }

    /// One level of (3), its containers' own children already pruned.
    fn pruned_level(&mut self, level: Vec<usize>, root: bool) -> Vec<usize> {
        let mut kept = Vec::with_capacity(level.len());
        for c in level {
            let container = &self.containers[c];
            if container.message.is_some() || (root && container.children.len() > 1) {
                kept.push(c);
            } else {
                kept.append(&mut self.containers[c].children);
            }
        }
        kept
    }

    /// The date a container sorts by: its message's, or a dummy's first
    /// child's (children sorted already); with the mailbox order as the
    /// tie-breaker.
    fn date_of(&self, messages: &[ThreadMessage], mut c: usize) -> (i64, usize) {
        loop {
            let container = &self.containers[c];
            if let Some(m) = container.message {
                return (messages[m].sent, m);
            }
            match container.children.first() {
                Some(&first) => c = first,
                None => return (i64::MAX, usize::MAX),
            }
        }
    }

    fn sort_level(&self, messages: &[ThreadMessage], level: &mut [usize]) {
        level.sort_by_cached_key(|&c| self.date_of(messages, c));
    }

    /// Sorts every container's children below `roots`, deepest first.
    fn sort_all(&mut self, messages: &[ThreadMessage], roots: &[usize]) {
        let mut order = Vec::new();
        let mut stack: Vec<usize> = roots.to_vec();
        while let Some(c) = stack.pop() {
            order.push(c);
            stack.extend(self.containers[c].children.iter().copied());
        }
        for &c in order.iter().rev() {
            let mut children = std::mem::take(&mut self.containers[c].children);
            self.sort_level(messages, &mut children);
            self.containers[c].children = children;
        }
    }

    /// The subject a root is gathered by: its message's, or a dummy's
    /// first child's.
    fn subject_of<'m>(&self, messages: &'m [ThreadMessage], c: usize) -> &'m str {
        let container = &self.containers[c];
        let message = container
            .message
            .or_else(|| container.children.first().and_then(|&f| self.containers[f].message));
        message.map_or("", |m| messages[m].subject.as_str())
    }

    fn is_reply(&self, messages: &[ThreadMessage], c: usize) -> bool {
        self.containers[c].message.is_some_and(|m| messages[m].reply_or_forward)
    }

    /// (5) Gathers roots of the same base subject under one.
    fn gather_subjects(&mut self, messages: &[ThreadMessage], roots: Vec<usize>) -> Vec<usize> {
        let dummy = |arena: &Arena, c: usize| arena.containers[c].message.is_none();
        // (5B) The table: per subject the root that others join.
        let mut table: HashMap<&str, usize> = HashMap::new();
        for &c in &roots {
            let subject = self.subject_of(messages, c);
            if subject.is_empty() {
                continue;
            }
            // Replaces the one there: a dummy replaces a message, a
            // message that is no reply one that is.
            let replaces = |old: usize| {
                (dummy(self, c) && !dummy(self, old)) || (self.is_reply(messages, old) && !self.is_reply(messages, c))
            };
            if table.get(subject).is_none_or(|&old| replaces(old)) {
                table.insert(subject, c);
            }
        }
        // (5C) Every other root of that subject joins the table's.
        let mut at_root = vec![false; self.containers.len()];
        for &c in &roots {
            at_root[c] = true;
        }
        let mut replaced: HashMap<usize, usize> = HashMap::new();
        for &c in &roots {
            let subject = self.subject_of(messages, c);
            if !at_root[c] || subject.is_empty() {
                continue;
            }
            let Some(&target) = table.get(subject) else { continue };
            if target == c {
                continue;
            }
            at_root[c] = false;
            if dummy(self, c) && dummy(self, target) {
                let mut children = std::mem::take(&mut self.containers[c].children);
                for &child in &children {
                    self.containers[child].parent = Some(target);
                }
                self.containers[target].children.append(&mut children);
            } else if dummy(self, target) || (self.is_reply(messages, c) && !self.is_reply(messages, target)) {
                self.set_parent(c, Some(target));
            } else {
                let gathered = self.new_container(None);
                at_root.push(false);
                self.set_parent(target, Some(gathered));
                self.set_parent(c, Some(gathered));
                at_root[target] = false;
                table.insert(subject, gathered);
                replaced.insert(target, gathered);
            }
        }
        roots
            .into_iter()
            .filter_map(|c| if at_root[c] { Some(c) } else { replaced.get(&c).copied() })
            .collect()
    }
}

impl Threads {
    /// The thread list (RFC 5256 §4): `(1 2 (3)(4 5))` per thread; a
    /// dummy writes no number. Written without recursion.
    pub(crate) fn write(&self, messages: &[ThreadMessage]) -> String {
        enum Step {
            Node(usize),
            Text(&'static str),
        }
        let mut out = String::new();
        let mut digits = itoa::Buffer::new();
        let mut stack: Vec<Step> = Vec::new();
        for &root in &self.roots {
            stack.push(Step::Text(")"));
            stack.push(Step::Node(root));
            out.push('(');
            while let Some(step) = stack.pop() {
                let c = match step {
                    Step::Text(text) => {
                        out.push_str(text);
                        continue;
                    }
                    Step::Node(c) => c,
                };
                let container = &self.containers[c];
                if let Some(m) = container.message {
                    out.push_str(digits.format(messages[m].number));
                    if !container.children.is_empty() {
                        out.push(' ');
                    }
                    if let [only] = container.children[..] {
                        stack.push(Step::Node(only));
                        continue;
                    }
                }
                for &child in container.children.iter().rev() {
                    stack.push(Step::Text(")"));
                    stack.push(Step::Node(child));
                    stack.push(Step::Text("("));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message numbered `number`, sent at `sent`, with a subject, its
    /// own id `<number>` and its references by number.
    fn message(number: i64, sent: i64, subject: &str, references: &[i64]) -> ThreadMessage {
        let base = imf::base_subject(subject.as_bytes());
        ThreadMessage {
            number,
            sent,
            subject: imf::fold(&base.text),
            reply_or_forward: base.reply_or_forward,
            message_id: Some(id(number)),
            references: references.iter().map(|&r| id(r)).collect(),
        }
    }

    /// The id number of `<n@x>`: the tests number ids by their message.
    fn id(n: i64) -> u32 {
        u32::try_from(n).unwrap()
    }

    fn refs(messages: &[ThreadMessage]) -> String {
        references(messages).write(messages)
    }

    #[test]
    fn ordered_subject_groups_by_base_subject_then_date() {
        let messages = [
            message(1, 10, "b", &[]),
            message(2, 5, "a", &[]),
            message(3, 20, "Re: b", &[]),
            message(4, 30, "Re: a", &[]),
            message(5, 1, "c", &[]),
            message(6, 15, "[list] B", &[]),
        ];
        assert_eq!(ordered_subject(&messages).write(&messages), "(5)(2 4)(1 (6)(3))");
    }

    #[test]
    fn references_chains_branches_and_dummies() {
        let messages = [
            message(1, 1, "a", &[]),
            message(2, 2, "Re: a", &[1]),
            message(3, 3, "Re: a", &[1, 2]),
            message(4, 4, "Re: a", &[1]),
            // Both reply to a message that is not there: a dummy at the
            // root with two children.
            message(5, 5, "x", &[99]),
            message(6, 6, "y", &[99]),
            // A reply whose parent is missing and alone: promoted.
            message(7, 7, "z", &[98]),
        ];
        assert_eq!(refs(&messages), "(1 (2 3)(4))((5)(6))(7)");
    }

    #[test]
    fn references_gathers_by_subject() {
        let messages = [
            message(1, 1, "hello", &[]),
            // No references, but a reply by subject: joins 1.
            message(2, 2, "Re: hello", &[]),
            // Same subject, not a reply: both under a new dummy.
            message(3, 3, "other", &[]),
            message(4, 4, "other", &[]),
            // An empty subject is never gathered.
            message(5, 5, "", &[]),
            message(6, 6, "Re:", &[]),
        ];
        assert_eq!(refs(&messages), "(1 2)((3)(4))(5)(6)");
    }

    #[test]
    fn references_later_message_corrects_a_parent_and_loops_are_refused() {
        let messages = [
            // 2 says its parent is 1 and 1's parent 2: the second link
            // would close a loop and is not made.
            message(1, 1, "a", &[2]),
            message(2, 2, "b", &[1]),
            // 3 names 1 as parent of 2 again (no change) and itself
            // references itself: ignored.
            message(3, 3, "c", &[3]),
        ];
        assert_eq!(refs(&messages), "(2 1)(3)");
    }

    #[test]
    fn references_handles_duplicate_and_missing_ids() {
        let mut messages = [
            message(1, 1, "a", &[]),
            message(2, 2, "b", &[]),
            message(3, 3, "c", &[1]),
        ];
        // 2 repeats 1's id: it gets one of its own, 3 still replies to 1.
        messages[1].message_id = messages[0].message_id;
        messages[0].message_id = Some(id(1));
        assert_eq!(refs(&messages), "(1 3)(2)");
        messages[0].message_id = None;
        assert_eq!(refs(&messages), "(1)(2 3)");
    }

    #[test]
    fn rfc_5256_style_deep_tree() {
        // The shape of RFC 5256 §4's example `(3 6 (4 23)(44 7 96))`.
        let messages = [
            message(3, 1, "x", &[]),
            message(6, 2, "x", &[3]),
            message(4, 3, "x", &[3, 6]),
            message(23, 4, "x", &[3, 6, 4]),
            message(44, 5, "x", &[3, 6]),
            message(7, 6, "x", &[3, 6, 44]),
            message(96, 7, "x", &[3, 6, 44, 7]),
        ];
        assert_eq!(refs(&messages), "(3 6 (4 23)(44 7 96))");
    }

    #[test]
    fn a_chain_as_long_as_a_big_mailbox_does_not_overflow() {
        let messages: Vec<ThreadMessage> = (1..=100_000)
            .map(|n| message(n, n, "s", &[n - 1][..usize::from(n > 1)]))
            .collect();
        let written = refs(&messages);
        assert!(written.starts_with("(1 2 3 "));
        assert!(written.ends_with(" 100000)"));
    }
}
