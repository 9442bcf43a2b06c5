//! Issue 12, attack 5: the login throttle must not be bypassable. Guesses
//! sent in parallel are counted before any of them is checked; a login to
//! the guesser's own account does not wipe the count against another; and
//! a lockout of an account from one address leaves its owner, elsewhere,
//! free to log in. All against the real binary over IMAPS, POP3S and
//! submissions (SMTP AUTH).

mod common;

use common::Server;

/// How many "authentication failed" lines the server logged: each is one
/// password that was actually verified and found wrong.
fn verified_failures(server: &Server) -> usize {
    server.log().matches("authentication failed").count()
}

#[test]
fn parallel_guesses_at_one_account_are_verified_at_most_max_failures_times() {
    let server = Server::with_users("[auth]\nfailure_delay_ms = 10\nmax_failures = 5\nlockout = 300");
    let output = server.python(
        r#"
import base64, threading, time, mailtest
attacker = "127.0.0.3"
count = 40
# Each protocol in turn, so every login path shares the one reservation.
# Every connection is ready before any guess is sent, so the 40 guesses
# arrive together, while the first is still being checked.
def ready(n):
    kind = ("imap", "pop3", "smtp")[n % 3]
    if kind == "imap":
        client = mailtest.Raw(mailtest.IMAPS_PORT, tls=True, source=attacker)
        guess = b'a LOGIN "alice@example.test" "wrong password %d"' % n
    elif kind == "pop3":
        client = mailtest.Raw(mailtest.POP3S_PORT, tls=True, source=attacker)
        assert client.command(b"USER alice@example.test").startswith(b"+OK")
        guess = b"PASS wrong password %d" % n
    else:
        client = mailtest.Raw(mailtest.SUBMISSIONS_PORT, tls=True, source=attacker)
        client.send(b"EHLO client.test\r\n")
        client.reply()
        guess = b"AUTH PLAIN " + base64.b64encode(b"\0alice@example.test\0wrong password %d" % n)
    return kind, client, guess
clients = [ready(n) for n in range(count)]
barrier = threading.Barrier(count)
replies = [None] * count
def attempt(n):
    kind, client, guess = clients[n]
    barrier.wait()
    started = time.monotonic()
    reply = client.command(guess)
    replies[n] = (kind, reply, time.monotonic() - started)
threads = [threading.Thread(target=attempt, args=(n,)) for n in range(count)]
for t in threads:
    t.start()
for t in threads:
    t.join()
FAILED = {"imap": b"a NO [AUTHENTICATIONFAILED]", "pop3": b"-ERR [AUTH]", "smtp": b"535 5.7.8"}
REFUSED = {"imap": b"a NO [UNAVAILABLE]", "pop3": b"-ERR [SYS/TEMP]", "smtp": b"454 4.7.0"}
failed = [r for r in replies if r[1].startswith(FAILED[r[0]])]
refused = [r for r in replies if r[1].startswith(REFUSED[r[0]])]
assert len(failed) + len(refused) == count, replies
# A refused guess costs no password check: it is answered at once, not
# after the checks of the guesses that got through.
slowest = max((r[2] for r in refused), default=0)
assert slowest < 1.0, slowest
print(len(failed))
# The owner's own password is refused too from this address now.
late = mailtest.Raw(mailtest.IMAPS_PORT, tls=True, source=attacker)
reply = late.command(b'a LOGIN "alice@example.test" "' + mailtest.PASSWORD.encode() + b'"')
assert reply.startswith(b"a NO [UNAVAILABLE]"), reply
"#,
    );
    let failed: usize = output.trim().parse().expect("count of failed answers");
    assert_eq!(
        failed, 5,
        "{failed} of 40 parallel guesses were verified, max_failures is 5"
    );
    assert_eq!(
        verified_failures(&server),
        5,
        "the log shows {} verified failures",
        verified_failures(&server)
    );
}

#[test]
fn parallel_guesses_at_many_accounts_are_bounded_per_network() {
    let server =
        Server::with_users("[auth]\nfailure_delay_ms = 10\nmax_failures = 5\nmax_network_failures = 8\nlockout = 300");
    let output = server.python(
        r#"
import threading, mailtest
attacker = "127.0.0.3"
count = 40
clients = [mailtest.Raw(mailtest.IMAPS_PORT, tls=True, source=attacker) for _ in range(count)]
barrier = threading.Barrier(count)
replies = [None] * count
def guess(n):
    barrier.wait()
    # A different account name each time: the per-account count never
    # grows, only the one for the attacker's network does.
    replies[n] = clients[n].command(b'a LOGIN "user%d@example.test" "guess"' % n)
threads = [threading.Thread(target=guess, args=(n,)) for n in range(count)]
for t in threads:
    t.start()
for t in threads:
    t.join()
failed = sum(r.startswith(b"a NO [AUTHENTICATIONFAILED]") for r in replies)
refused = sum(r.startswith(b"a NO [UNAVAILABLE]") for r in replies)
assert failed + refused == count, replies
print(failed)
# The network is locked out as a whole, for every account...
pop = mailtest.Raw(mailtest.POP3S_PORT, tls=True, source=attacker)
pop.command(b"USER bob@example.test")
reply = pop.command(b"PASS " + mailtest.PASSWORD.encode())
assert reply.startswith(b"-ERR [SYS/TEMP]"), reply
# ...and another network is not.
client = mailtest.Raw(mailtest.IMAPS_PORT, tls=True, source="127.0.0.4")
reply = client.command(b'a LOGIN "bob@example.test" "' + mailtest.PASSWORD.encode() + b'"')
assert reply.startswith(b"a OK"), reply
"#,
    );
    let failed: usize = output.trim().parse().expect("count of failed answers");
    assert_eq!(
        failed, 8,
        "{failed} of 40 parallel guesses were verified, max_network_failures is 8"
    );
}

#[test]
fn own_logins_between_guesses_do_not_clear_the_count_against_another_account() {
    let server = Server::with_users("[auth]\nfailure_delay_ms = 10\nmax_failures = 5\nlockout = 300");
    server.python(
        r#"
import mailtest
attacker = "127.0.0.3"
password = mailtest.PASSWORD.encode()
def login(user, secret, source=attacker):
    client = mailtest.Raw(mailtest.IMAPS_PORT, tls=True, source=source)
    reply = client.command(b'a LOGIN "' + user + b'" "' + secret + b'"')
    client.sock.close()
    return reply
failed = 0
for round in range(5):
    # The attacker's own account (bob) logs in fine every round: failures
    # at alice's account do not count against bob's.
    reply = login(b"bob@example.test", password)
    assert reply.startswith(b"a OK"), (round, reply)
    # Fewer guesses per round than max_failures: before, bob's login
    # wiped the address's count and this went on for ever.
    for n in range(4):
        reply = login(b"alice@example.test", b"guess %d.%d" % (round, n))
        if reply.startswith(b"a NO [AUTHENTICATIONFAILED]"):
            failed += 1
        else:
            assert reply.startswith(b"a NO [UNAVAILABLE]"), reply
# Only max_failures guesses in all were checked, despite bob's logins.
assert failed == 5, failed
# alice is locked out for the attacker's address, even with her password...
reply = login(b"alice@example.test", password)
assert reply.startswith(b"a NO [UNAVAILABLE]"), reply
pop = mailtest.Raw(mailtest.POP3S_PORT, tls=True, source=attacker)
pop.command(b"USER alice@example.test")
reply = pop.command(b"PASS " + password)
assert reply.startswith(b"-ERR [SYS/TEMP]"), reply
# ...but alice herself, from another address, logs in on every protocol.
reply = login(b"alice@example.test", password, source="127.0.0.4")
assert reply.startswith(b"a OK"), reply
mailtest.submit("alice@example.test", source="127.0.0.4").quit()
"#,
    );
    assert_eq!(verified_failures(&server), 5, "only max_failures guesses are verified");
}

#[test]
fn other_spellings_of_an_account_share_its_count() {
    // The store finds alice under many spellings (case, a trailing dot, a
    // quoted local part); each is the same account to the throttle.
    let server = Server::with_users("[auth]\nfailure_delay_ms = 10\nmax_failures = 5\nlockout = 300");
    server.python(
        r#"
import mailtest
spellings = [b"alice@example.test", b"ALICE@Example.Test", b"alice@example.test.", b'\\"alice\\"@example.test']
failed = 0
for n in range(12):
    client = mailtest.Raw(mailtest.IMAPS_PORT, tls=True, source="127.0.0.3")
    user = spellings[n % len(spellings)]
    reply = client.command(b'a LOGIN "' + user + b'" "guess %d"' % n)
    client.sock.close()
    if reply.startswith(b"a NO [AUTHENTICATIONFAILED]"):
        failed += 1
    else:
        assert reply.startswith(b"a NO [UNAVAILABLE]"), (user, reply)
assert failed == 5, failed
"#,
    );
    assert_eq!(verified_failures(&server), 5, "only max_failures guesses are verified");
}
