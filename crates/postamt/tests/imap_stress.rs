//! Ten sessions at once on one mailbox (issue 13's stress run, bounded):
//! each (some as IMAP4rev1, some as IMAP4rev2) SELECTs or EXAMINEs,
//! FETCHes, STOREs random keywords (new ones keep appearing), APPENDs,
//! SEARCHes and EXPUNGEs, while
//! tests/python/imapcheck.py checks every untagged response it receives
//! against the ordering rules of RFC 3501 and RFC 9051: no keyword before
//! its FLAGS, no EXPUNGE during FETCH/STORE/SEARCH, no message number
//! beyond EXISTS, UIDs strictly ascending, RECENT never above EXISTS. At
//! the end every session's idea of the mailbox must match the mailbox.
//!
//! `POSTAMT_STRESS_ROUNDS` sets the commands per session (300 by
//! default, a few seconds; try 2000 for a longer run).

mod common;

use std::time::{Duration, Instant};

use common::Server;

#[test]
fn ten_sessions_see_every_untagged_response_in_order() {
    let rounds: usize = std::env::var("POSTAMT_STRESS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(300);
    let server = Server::with_users("[auth]\nallow_cleartext = true\n");
    let started = Instant::now();
    let output = server.python(&format!(
        r#"
import collections, random, threading, imapcheck
ROUNDS = {rounds}
message = b"Subject: stress\r\n\r\nbody\r\n"
sessions = [imapcheck.Session("alice@example.test", f"s{{i}}") for i in range(10)]
errors = []

def work(number, session):
    rng = random.Random(number)
    try:
        if number % 3 == 2:
            # Some answer as IMAP4rev2: no RECENT, the same FLAGS rules.
            session.command(b"ENABLE IMAP4rev2")
        session.command(b"SELECT INBOX")
        for _ in range(ROUNDS):
            op = rng.random()
            n = session.exists
            keyword = b"$k%d" % rng.randrange(400)
            if op < 0.15:
                flags = b"(" + keyword + b")" if rng.random() < 0.5 else b"()"
                session.command(b"APPEND INBOX " + flags, message)
            elif op < 0.40 and n:
                mode = rng.choice([b"+FLAGS", b"-FLAGS", b"FLAGS", b"+FLAGS.SILENT"])
                first = rng.randint(1, n)
                session.command(b"STORE %d:%d %s (%s)" % (first, rng.randint(first, n), mode, keyword))
            elif op < 0.50 and n:
                session.command(b"UID STORE %d:* +FLAGS (%s \\Seen)" % (rng.randint(1, 50), keyword))
            elif op < 0.62:
                session.command(b"FETCH 1:* (FLAGS)")
            elif op < 0.72:
                session.command(b"UID FETCH 1:* (UID RFC822.SIZE FLAGS)")
            elif op < 0.78:
                session.command(b"SEARCH KEYWORD " + keyword)
            elif op < 0.86 and n:
                # Keeps the mailbox small, so that every command sees it change.
                first = rng.randint(1, n)
                session.command(b"STORE %d:%d +FLAGS.SILENT (\\Deleted)" % (first, n if n > 20 else first))
                session.command(b"EXPUNGE")
            elif op < 0.90:
                session.command(rng.choice([b"SELECT INBOX", b"EXAMINE INBOX"]))
            else:
                session.command(b"NOOP")
    except Exception as e:
        errors.append(f"{{session.name}}: {{e!r}}")

threads = [threading.Thread(target=work, args=(i, s)) for i, s in enumerate(sessions)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert not errors, errors

# Quiet now: after a NOOP each session holds the mailbox as it is.
truth = imapcheck.Session("alice@example.test", "truth")
truth.command(b"EXAMINE INBOX")
for session in sessions:
    session.command(b"NOOP")
    if session.exists != truth.exists:
        session.violations.append(f"{{session.name}}: holds {{session.exists}} messages, the mailbox {{truth.exists}}")
violations = [v for s in sessions + [truth] for v in s.violations]
print(len(violations), "violations")
rules = collections.Counter(v.split(": ")[1] for v in violations)
assert not violations, f"{{len(violations)}} violations {{dict(rules)}}, the first:\n" + "\n".join(violations[:10])
"#
    ));
    assert!(output.contains("0 violations"), "{output}");
    // Bounded: the default run stays well inside CI's minute.
    if rounds <= 300 {
        assert!(
            started.elapsed() < Duration::from_secs(45),
            "took {:?}",
            started.elapsed()
        );
    }
}
