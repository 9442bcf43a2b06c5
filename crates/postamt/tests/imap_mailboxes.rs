//! Issue 13, the mailbox defects, end to end over raw IMAP: UIDVALIDITY
//! never reused for a name (defect 2), `~` as an atom character and BAD
//! that never ends the session (defect 3), LIST-EXTENDED option checks and
//! the examples of RFC 5258 §5 (defect 4), LSUB with unsubscribed parents
//! (defect 5), and the limits on mailbox names and counts (defect 9); and
//! the review of that work: UIDVALIDITY values used up only by mailboxes
//! really made, \Noselect levels in plain LIST, RENAME of non-ASCII
//! parents.

mod common;

use common::Server;

/// Python helpers: a logged-in session that runs one command at a time and
/// returns its untagged lines and its tagged answer.
const HELPERS: &str = r#"
import re, mailtest

class Session:
    def __init__(self):
        self.raw = mailtest.Raw(mailtest.IMAPS_PORT, tls=True)
        self.count = 0
        self.ok('LOGIN alice@example.test "' + mailtest.PASSWORD + '"')

    def run(self, command, data=b""):
        """Sends `command` (and `data`, for a literal the line announces);
        returns (untagged lines, tagged answer without its tag)."""
        self.count += 1
        tag = "t%d" % self.count
        self.raw.send(tag.encode() + b" " + command.encode() + b"\r\n" + data)
        lines = []
        while True:
            line = self.raw.line()
            assert line, ("the server hung up", command, lines)
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if text.startswith(tag + " "):
                return lines, text[len(tag) + 1:]
            if not text.startswith("+ "):
                lines.append(text)

    def ok(self, command, data=b""):
        lines, answer = self.run(command, data)
        assert answer.startswith("OK"), (command, lines, answer)
        return lines

    def lines(self, command, expected):
        """Runs `command` and checks its untagged lines."""
        got = self.ok(command)
        assert got == expected, (command, got, expected)

    def answer(self, command):
        return self.run(command)[1]

    def status(self, name):
        [line] = self.ok("STATUS %s (UIDVALIDITY UIDNEXT)" % name)
        found = re.search(r"UIDVALIDITY (\d+) UIDNEXT (\d+)", line)
        return int(found.group(1)), int(found.group(2))

    def append(self, name):
        message = b"Subject: x\r\n\r\nx\r\n"
        self.ok("APPEND %s {%d+}" % (name, len(message)), message + b"\r\n")
"#;

fn python(server: &Server, script: &str) -> String {
    server.python(&format!("{HELPERS}\n{script}"))
}

/// Defect 2 (RFC 9051 §2.3.1.1): a mailbox deleted and created again, in
/// the same second and after a restart, never shows a UIDVALIDITY a client
/// may have cached for the old one, and its UIDNEXT starts again.
#[test]
fn uidvalidity_of_a_recreated_mailbox_is_new_even_in_the_same_second_and_after_a_restart() {
    let mut server = Server::with_users("");
    let cycle = r#"
s = Session()
seen = [int(v) for v in SEEN.split()]
if not seen:
    s.ok("CREATE box")
    s.append("box")
    seen.append(s.status("box")[0])
for _ in range(3):
    s.ok("DELETE box")
    s.ok("CREATE box")
    validity, uidnext = s.status("box")
    assert uidnext == 1, uidnext
    assert validity > max(seen), (validity, seen)
    seen.append(validity)
    s.append("box")
    assert s.status("box") == (validity, 2)
print(" ".join(map(str, seen)))
"#;
    let seen = python(&server, &cycle.replace("SEEN", "\"\""));
    server.restart();
    let after = python(&server, &cycle.replace("SEEN", &format!("{:?}", seen.trim())));
    assert_eq!(after.split_whitespace().count(), 7, "{after}");
}

/// Defect 3: `~` is an ATOM-CHAR outside APPEND's data (RFC 3516 §4.1),
/// and a BAD never ends the session unless nothing valid comes between.
#[test]
fn tilde_names_work_and_bad_commands_never_end_the_session() {
    let server = Server::with_users("");
    python(
        &server,
        r#"
s = Session()
assert s.ok('LIST "" ~foo') == []
assert s.answer("SELECT ~foo").startswith("NO"), "no such mailbox yet"
s.ok("CREATE ~foo")
[line] = s.ok('LIST "" ~foo')
assert line.endswith(' "/" ~foo') or line.endswith(' "/" "~foo"'), line
s.ok("SELECT ~foo")
s.ok("STATUS ~foo (MESSAGES)")
s.ok("SUBSCRIBE ~foo")
assert len(s.ok('LSUB "" ~f*')) == 1
s.ok("RENAME ~foo ~bar")
s.ok("SELECT ~bar")
# literal8 still works where the grammar has it.
s.ok("APPEND ~bar ~{3+}", b"a\0b\r\n")
# Where it does not, `~{n}` is a BAD like any other, and the session goes on.
assert s.run("SELECT ~{3}", b"abc\r\n")[1].startswith("BAD")
s.ok("NOOP")
# Many more bad commands than max_errors (50), each followed by a good one.
for i in range(120):
    assert s.answer('LIST "" ~{') .startswith("BAD")
    s.ok("NOOP")
# Only max_errors (50) BADs in a row end it: a client sending nothing valid.
for i in range(50):
    assert s.answer('LIST "" ~{').startswith("BAD")
assert s.raw.line().startswith(b"* BYE"), "the fiftieth BAD in a row ends the session"
assert s.raw.closed()
"#,
    );
}

/// Defect 9: names longer than `[imap] max_mailbox_name` and more than
/// `[imap] max_mailboxes` mailboxes get NO [LIMIT]: CREATE, the parents it
/// makes, RENAME, and subscriptions.
#[test]
fn mailbox_names_and_counts_are_limited() {
    let server = Server::with_users("");
    python(
        &server,
        r#"
s = Session()
assert s.answer("CREATE " + "x" * 5000).startswith("NO [LIMIT]")
s.ok("CREATE " + "x" * 1024)
assert s.answer("CREATE " + "y" * 1025).startswith("NO [LIMIT]")
assert s.answer("RENAME %s %s" % ("x" * 1024, "z" * 1025)).startswith("NO [LIMIT]")
# A parent whose children would grow too long in a RENAME.
s.ok("CREATE p/" + "c" * 1000)
assert s.answer("RENAME p " + "q" * 30).startswith("NO [LIMIT]")
s.ok("RENAME p " + "q" * 20)
"#,
    );
    // A small count limit: the six default mailboxes and four more.
    let server = Server::with_users("[imap]\nmax_mailboxes = 10\nmax_mailbox_name = 40\n");
    python(
        &server,
        r#"
s = Session()
assert s.answer("CREATE " + "n" * 41).startswith("NO [LIMIT]")
s.ok("CREATE " + "n" * 40)
s.ok("CREATE a")
# Two more would be over: the parent CREATE makes counts.
assert s.answer("CREATE b/c/d").startswith("NO [LIMIT]")
assert s.ok('LIST "" b*') == [], "nothing of the refused CREATE is left"
s.ok("CREATE b/c")
assert s.answer("CREATE e").startswith("NO [LIMIT]")
s.ok("DELETE a")
s.ok("CREATE e")
names = [l for l in s.ok('LIST "" *')]
assert len(names) == 10, names
# Subscriptions outlive their mailboxes, so they have the same bound.
for name in ["n" * 40, "b", "b/c", "e"]:
    s.ok("SUBSCRIBE " + name)
s.ok("DELETE e")
s.ok("CREATE f")
assert s.answer("SUBSCRIBE f").startswith("NO [LIMIT]")
s.ok("UNSUBSCRIBE e")
s.ok("SUBSCRIBE f")
"#,
    );
}

/// Defect 4 (RFC 5258 §3.1, §3.5): selection options are checked, and
/// RECURSIVEMATCH reports CHILDINFO for a parent whose child is subscribed.
#[test]
fn list_extended_checks_its_options_and_reports_childinfo() {
    let server = Server::with_users("");
    python(
        &server,
        r#"
s = Session()
for bad in ['LIST (XFOO) "" ""', 'LIST (RECURSIVEMATCH) "" %', 'LIST (REMOTE RECURSIVEMATCH) "" %',
            'LIST (SUBSCRIBED) "" % RETURN (XFOO)']:
    assert s.answer(bad).startswith("BAD"), bad
for name in ["Foo/Bar", "Foo/Baz", "Moo"]:
    s.ok("CREATE " + name)
for name in ["INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive"]:
    s.ok("UNSUBSCRIBE " + name)
s.ok("SUBSCRIBE Foo/Baz")
s.lines('LIST (SUBSCRIBED) "" %', [])
# RFC 5258 §5, example 8.
s.lines('LIST (SUBSCRIBED RECURSIVEMATCH) "" %', ['* LIST (\\HasChildren) "/" "Foo" ("CHILDINFO" ("SUBSCRIBED"))'])
s.ok("SUBSCRIBE Foo")
s.lines('LIST (SUBSCRIBED RECURSIVEMATCH) "" %', ['* LIST (\\HasChildren \\Subscribed) "/" "Foo" ("CHILDINFO" ("SUBSCRIBED"))'])
# A subscription outlives its mailbox (RFC 9051 §6.3.7): \NonExistent.
s.ok("DELETE Foo/Baz")
s.lines('LIST (SUBSCRIBED) "" Foo/*', ['* LIST (\\NonExistent \\Subscribed) "/" "Foo/Baz"'])
s.lines('LIST "" Foo/*', ['* LIST (\\HasNoChildren) "/" "Foo/Bar"'])
"#,
    );
}

/// Defect 5 (RFC 3501 §6.3.9): LSUB answers an unsubscribed parent of a
/// subscribed name under `%` with \Noselect, and never child attributes.
#[test]
fn lsub_shows_unsubscribed_parents_with_noselect_only() {
    let server = Server::with_users("");
    python(
        &server,
        r#"
s = Session()
s.ok("CREATE box/a/b")
s.ok("CREATE box/c")
s.ok("SUBSCRIBE box/a/b")
s.ok("SUBSCRIBE box/c")
s.lines('LSUB "" box/%', ['* LSUB (\\Noselect) "/" "box/a"', '* LSUB () "/" "box/c"'])
s.lines('LSUB "" box/*', ['* LSUB () "/" "box/a/b"', '* LSUB () "/" "box/c"'])
lines = s.ok('LSUB "" *')
assert lines and not any("Children" in l for l in lines), lines
"#,
    );
}

/// Review finding 2: the store's UIDVALIDITY counter ends at 2^32-1, so a
/// CREATE takes one value per mailbox it makes, not one per level of the
/// name; recreating a deep leaf moves it by one.
#[test]
fn recreating_a_deep_leaf_uses_up_one_uidvalidity() {
    let server = Server::with_users("");
    python(
        &server,
        r#"
s = Session()
leaf = "/".join("l%d" % i for i in range(100)) + "/leaf"
s.ok("CREATE " + leaf)
last = s.status(leaf)[0]
for _ in range(3):
    s.ok("DELETE " + leaf)
    s.ok("CREATE " + leaf)
    validity = s.status(leaf)[0]
    assert validity == last + 1, (validity, last)
    last = validity
"#,
    );
}

/// Review finding 3: a level with mailboxes below that is no mailbox is
/// \Noselect in a plain LIST (RFC 3501 §6.3.8, RFC 9051 §6.3.9);
/// \NonExistent only answers the extended syntax (RFC 5258 §3.4).
#[test]
fn plain_list_shows_levels_without_a_mailbox_as_noselect() {
    let server = Server::with_users("");
    python(
        &server,
        r#"
s = Session()
s.ok("CREATE a/b")
s.ok("DELETE a")
s.lines('LIST "" a', [])
lines = [l for l in s.ok('LIST "" %') if l.endswith(' "a"')]
assert lines == ['* LIST (\\Noselect \\HasChildren) "/" "a"'], lines
lines = [l for l in s.ok('LIST "" % RETURN (CHILDREN)') if l.endswith(' "a"')]
assert lines == ['* LIST (\\NonExistent \\HasChildren) "/" "a"'], lines
"#,
    );
}

/// Review finding 5: RENAME of a parent whose name is not ASCII moves its
/// children and their subscriptions (SQLite's substr counts characters,
/// the names' lengths are bytes).
#[test]
fn rename_of_a_non_ascii_parent_moves_its_children() {
    let server = Server::with_users("");
    python(
        &server,
        r#"
s = Session()
# "Büro" in modified UTF-7 (RFC 3501 §5.1.3).
s.ok('CREATE "B&APw-ro/2024"')
s.ok('SUBSCRIBE "B&APw-ro/2024"')
s.ok('RENAME "B&APw-ro" Office')
s.lines('LIST "" Office/*', ['* LIST (\\HasNoChildren) "/" "Office/2024"'])
s.lines('LIST "" B*', [])
s.lines('LSUB "" Office/*', ['* LSUB () "/" "Office/2024"'])
"#,
    );
}
