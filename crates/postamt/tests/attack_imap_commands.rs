//! Issue 12, attacks 3 and 4 and two lesser ones, each played against the
//! real server by a logged-in client: a LIST pattern made to backtrack, a
//! FETCH asking for one big section many times, too many FETCH items, a
//! UID EXPUNGE and `$` over a big mailbox, and an IDLE kept awake by
//! deliveries. Each test bounds what the server spends (CPU seconds and
//! memory from /proc, another client's wait) and checks the answers.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::Server;

/// Cleartext login on the imap port, so that big answers cost no TLS.
const CLEARTEXT: &str = "[auth]\nallow_cleartext = true\n";

/// A raw IMAP client for the scripts: literals read, answers kept apart.
const CLIENT: &str = r#"
import threading, time, mailtest
USER = b"alice@example.test"

class Imap:
    def __init__(self, timeout=30):
        self.raw = mailtest.Raw(mailtest.IMAP_PORT)
        self.raw.sock.settimeout(timeout)
        assert self.raw.greeting.startswith(b"* OK"), self.raw.greeting
        self.n = 0

    def send(self, command):
        self.n += 1
        tag = b"t%d" % self.n
        self.raw.send(tag + b" " + command + b"\r\n")
        return tag

    def response(self, tag, keep=True):
        """The untagged lines and literals (or, unless `keep`, the literals'
        sizes), then the tagged line."""
        data = []
        while True:
            line = self.raw.line()
            if not line:
                raise EOFError("the server closed the connection")
            while line.endswith(b"}\r\n"):
                size = int(line[line.rindex(b"{") + 1:-3])
                data.append(line)
                literal = self.raw.reader.read(size)
                assert len(literal) == size, "short literal"
                data.append(literal if keep else size)
                line = self.raw.line()
            if line.startswith(tag + b" "):
                return data, line
            data.append(line)

    def command(self, command, keep=True):
        return self.response(self.send(command), keep)

    def ok(self, command, keep=True):
        data, done = self.command(command, keep)
        assert done.split()[1] == b"OK", (command[:80], done)
        return data

    def login(self):
        self.ok(b'LOGIN ' + USER + b' "' + mailtest.PASSWORD.encode() + b'"')
        return self

    def append(self, mailbox, message):
        tag = self.send(b"APPEND " + mailbox + b" {%d}" % len(message))
        assert self.raw.line().startswith(b"+")
        self.raw.send(message + b"\r\n")
        _, done = self.response(tag)
        assert done.split()[1] == b"OK", done
"#;

/// CPU seconds (user and system) the process has used, from
/// /proc/<pid>/stat fields 14 and 15.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // The command name may hold spaces; the fields after it do not.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    let output = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf");
    let per_second: f64 = String::from_utf8_lossy(&output.stdout).trim().parse().expect("CLK_TCK");
    ticks as f64 / per_second
}

fn script(body: &str) -> String {
    format!("{CLIENT}\n{body}")
}

#[test]
fn a_backtracking_list_pattern_is_answered_at_once_and_freezes_no_one() {
    let server = Server::with_users(CLEARTEXT);
    server.python(&script(
        r#"
Imap().login().ok(b"CREATE " + b"a" * 200)
"#,
    ));
    let before = cpu_seconds(server.pid());
    server.python(&script(
        r#"
# Eight "*a" then "*b" against 200 a's: an exponential matcher tries
# C(200, 8) ways before it says no. Four at once hold every worker.
pattern = b'"' + b"*a" * 8 + b'*b"'
sessions = [Imap().login() for _ in range(4)]
answers = []
def attack(session):
    started = time.monotonic()
    data, done = session.command(b'LIST "" ' + pattern)
    answers.append((time.monotonic() - started, data, done))
threads = [threading.Thread(target=attack, args=(s,)) for s in sessions]
for t in threads:
    t.start()
# Another client is greeted at once all the while.
probes = 0
while probes < 3 or any(t.is_alive() for t in threads):
    started = time.monotonic()
    probe = mailtest.Raw(mailtest.POP3_PORT)
    probe.sock.settimeout(5)
    waited = time.monotonic() - started
    assert probe.greeting.startswith(b"+OK") and waited < 1, (waited, probe.greeting)
    probe.sock.close()
    probes += 1
for t in threads:
    t.join()
for took, data, done in answers:
    assert done.split()[1] == b"OK" and data == [] and took < 2, (took, data, done)
# A pattern that matches still does, '%' stopping at the separator.
one = sessions[0]
assert one.ok(b'LIST "" "*a*a*a"') == [b'* LIST (\\HasNoChildren) "/" "' + b"a" * 200 + b'"\r\n']
one.ok(b"CREATE x/y")
assert one.ok(b'LIST "" "x%"') == [b'* LIST (\\HasChildren) "/" "x"\r\n']
assert one.ok(b'LIST "" "x/%"') == [b'* LIST (\\HasNoChildren) "/" "x/y"\r\n']
# A command sent behind a LIST waits its turn (LIST reads on while it
# matches, to notice a client that has gone).
one.raw.send(b't90 LIST "" "x/*"\r\nt91 NOOP\r\n')
assert one.response(b"t90") == ([b'* LIST (\\HasNoChildren) "/" "x/y"\r\n'], b"t90 OK LIST completed\r\n")
assert one.response(b"t91")[1].startswith(b"t91 OK")
# Patterns beyond the limits are refused outright.
_, done = one.command(b'LIST "" "' + b"*a" * 40 + b'*b"')
assert done.startswith(b"t") and b" BAD " in done and b"wildcards" in done, done
_, done = one.command(b'LIST "" "' + b"a" * 2000 + b'"')
assert b" BAD " in done and b"long" in done, done
# The limits hold for a LIST's patterns together (RFC 5258 allows many).
_, done = one.command(b'LIST "" (' + b" ".join([b'"*a"'] * 33) + b")")
assert b" BAD " in done and b"wildcards" in done, done
_, done = one.command(b'LIST "" (' + b" ".join([b"a" * 100] * 11) + b")")
assert b" BAD " in done and b"long" in done, done
assert one.ok(b'LIST "" (' + b" ".join([b"a" * 100] * 10) + b")") == []
"#,
    ));
    let spent = cpu_seconds(server.pid()) - before;
    eprintln!("the server spent {spent:.2} s of CPU");
    // Five logins (argon2) and the LISTs; the exponential matcher spent
    // hours here.
    assert!(spent < 2.0, "the server spent {spent:.2} s of CPU");
}

/// Runs `setup`, then `measured` in the same Python process, and returns
/// how much the server's peak memory grew during `measured` alone: the
/// logins, whose password hashing takes 19 MiB for a moment, stay out.
fn peak_growth_kib(server: &Server, setup: &str, measured: &str) -> u64 {
    let script = format!("{CLIENT}\n{setup}\nimport sys\nprint('ready', flush=True)\nsys.stdin.readline()\n{measured}");
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .env("PYTHONPATH", common::clients_dir())
        .env("IMAP_PORT", server.imap.port().to_string())
        .env("PASSWORD", common::PASSWORD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    let mut ready = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut ready)
        .expect("python output");
    server.reset_peak_rss();
    let before = server.rss_kib();
    let _ = child.stdin.as_mut().expect("stdin").write_all(b"go\n");
    let output = child.wait_with_output().expect("wait for python3");
    assert!(
        ready == "ready\n" && output.status.success(),
        "python failed:\n{}\n--- server log ---\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    let grown = server.peak_rss_kib().saturating_sub(before);
    eprintln!("the server grew by {grown} KiB");
    grown
}

/// Appends a message of about 2 MB with a body of numbered lines and
/// selects it in a session of its own, `imap`.
const APPEND_BIG: &str = r#"
lines = b"".join(b"line %06d of a long message body, padded to be longer\r\n" % i for i in range(36000))
message = b"From: bob@example.test\r\nTo: alice@example.test\r\nSubject: big\r\n\r\n" + lines
assert len(message) > 2_000_000
Imap().login().append(b"INBOX", message)
imap = Imap().login()
imap.ok(b"SELECT INBOX")
"#;

#[test]
fn a_fetch_of_one_big_section_500_times_answers_once_in_bounded_memory() {
    let server = Server::with_users(CLEARTEXT);
    let grown = peak_growth_kib(
        &server,
        APPEND_BIG,
        r#"
data = imap.ok(b"FETCH 1 (" + b" ".join([b"BODY.PEEK[TEXT]"] * 500) + b")")
assert len(data) == 3 and data[0] == b"* 1 FETCH (BODY[TEXT] {%d}\r\n" % len(lines), data[0][:80]
assert data[1] == lines, "the body, once"
assert data[2] == b")\r\n", data[2][:80]
"#,
    );
    // The reply built whole took about 1 GB. The message is read once
    // (2 MB) and its text cut from it (2 MB).
    assert!(grown < 12 * 1024, "the server grew by {grown} KiB");
}

#[test]
fn a_fetch_of_many_distinct_big_sections_streams_in_bounded_memory() {
    let server = Server::with_users(CLEARTEXT);
    let grown = peak_growth_kib(
        &server,
        APPEND_BIG,
        r#"
# 90 distinct items of 1 MB each: 90 MB of answer, if it were built whole.
items = b" ".join(b"BODY.PEEK[TEXT]<%d.1000000>" % i for i in range(90))
data = imap.ok(b"FETCH 1 (" + items + b")", keep=False)
sizes = [d for d in data if isinstance(d, int)]
assert sizes == [1000000] * 90, sizes
assert data[0] == b"* 1 FETCH (BODY[TEXT]<0> {1000000}\r\n", data[0]
"#,
    );
    assert!(grown < 12 * 1024, "the server grew by {grown} KiB");
}

/// Asks for `limit` distinct FETCH items, then for the same repeated,
/// then for one more than `limit`.
const FETCH_ITEMS: &str = r#"
imap = Imap().login()
imap.append(b"INBOX", b"Subject: one\r\nX-1: a\r\n\r\nbody\r\n")
imap.ok(b"SELECT INBOX")
def items(n):
    return b"(" + b" ".join(b"BODY.PEEK[HEADER.FIELDS (X-%d)]" % i for i in range(n)) + b")"
# As many as allowed, and duplicates beyond that, are answered.
data = imap.ok(b"FETCH 1 " + items(limit))
assert sum(1 for d in data if isinstance(d, bytes) and b"HEADER.FIELDS" in d) == limit, data
data = imap.ok(b"FETCH 1 (" + b"FLAGS " * 300 + b"UID)")
assert len(data) == 1 and data[0].count(b"FLAGS") == 1 and data[0].endswith(b" UID 1)\r\n"), data[0][:80]
# One more distinct item is too many.
_, done = imap.command(b"FETCH 1 " + items(limit + 1))
assert b" BAD " in done and b"items" in done, done
imap.ok(b"NOOP")
"#;

#[test]
fn too_many_fetch_items_are_refused() {
    let server = Server::with_users(CLEARTEXT);
    server.python(&script(&format!("limit = 100\n{FETCH_ITEMS}")));
    let server = Server::with_users(&format!("{CLEARTEXT}[imap]\nmax_fetch_items = 5\n"));
    server.python(&script(&format!("limit = 5\n{FETCH_ITEMS}")));
}

#[test]
fn uid_expunge_and_saved_results_over_a_big_mailbox_cost_little() {
    let server = Server::with_users(CLEARTEXT);
    server.python(&script(
        r#"
imap = Imap().login()
imap.append(b"INBOX", b"Subject: copied\r\n\r\nbody\r\n")
imap.ok(b"SELECT INBOX")
for _ in range(14):
    imap.ok(b"COPY 1:* INBOX")
"#,
    ));
    let script = script(&format!("server_pid = {}\n{BIG_MAILBOX_COMMANDS}", server.pid()));
    let spent = server.python(&script);
    eprintln!("CPU seconds per command: {spent}");
}

/// Over 16384 messages, commands with a set of 8192 ranges or a saved
/// result of 8192 UIDs: each is timed in the server's CPU seconds, read
/// from /proc/<pid>/stat (fields 14 and 15).
const BIG_MAILBOX_COMMANDS: &str = r#"
import os
def cpu():
    fields = open("/proc/%d/stat" % server_pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
spent = {}
def timed(name, command):
    before = cpu()
    answer = imap.command(command)
    spent[name] = round(cpu() - before, 2)
    return answer
imap = Imap().login()
data = imap.ok(b"SELECT INBOX")
assert b"* 16384 EXISTS\r\n" in data, data
odd = b",".join(b"%d" % uid for uid in range(1, 16385, 2))
data, done = timed("search", b"UID SEARCH RETURN (SAVE COUNT) UID " + odd)
assert len(data) == 1 and data[0].endswith(b" UID COUNT 8192\r\n"), data
data, done = timed("fetch $", b"UID FETCH $ (UID)")
assert len(data) == 8192, len(data)
# Every message changed since: each one fails UNCHANGEDSINCE.
data, done = timed("store unchangedsince", b"STORE 1:* (UNCHANGEDSINCE 1) +FLAGS (\\Seen)")
assert len(data) <= 1 and b" OK [MODIFIED " in done, (data, done[:80])
data, done = timed("store", b"UID STORE " + odd + b" +FLAGS.SILENT (\\Deleted)")
assert done.split()[1] == b"OK", done
imap.ok(b"STORE 2 +FLAGS.SILENT (\\Deleted)")
data, done = timed("uid expunge", b"UID EXPUNGE " + odd)
assert len(data) == 8192 and all(line.endswith(b" EXPUNGE\r\n") for line in data), data[:3]
data = imap.ok(b"UID SEARCH ALL")
assert data[0].startswith(b"* SEARCH 2 4 6 ") and len(data[0].split()) == 8192 + 2, data[0][:80]
print(spent)
# Measured before: 1.9, 0.8, 1.2, 2.3 and 2.5 s; after: 0.02, 0.0, 0.07,
# 0.5 and 0.3 s (the last two write 8192 rows).
bounds = {"search": 0.5, "fetch $": 0.3, "store unchangedsince": 0.5, "store": 1.2, "uid expunge": 1.2}
assert all(spent[name] < bound for name, bound in bounds.items()), spent
"#;

#[test]
fn idle_ends_at_the_timeout_though_deliveries_keep_coming() {
    let server = Server::with_users(&format!("{CLEARTEXT}[imap]\ntimeout = 2\n"));
    server.python(&script(
        r#"
idler = Imap(timeout=15).login()
idler.ok(b"SELECT INBOX")
tag = idler.send(b"IDLE")
assert idler.raw.line().startswith(b"+")
started = time.monotonic()
stop = False
def deliver():
    sender = Imap().login()
    while not stop:
        sender.append(b"INBOX", b"Subject: busy\r\n\r\nbody\r\n")
        sender.ok(b"NOOP")
        time.sleep(0.2)
sender = threading.Thread(target=deliver)
sender.start()
updates = 0
try:
    while True:
        assert time.monotonic() - started < 8, "still idling"
        line = idler.raw.line()
        if line.endswith((b" EXISTS\r\n", b" RECENT\r\n")):
            updates += 1
            continue
        assert line.startswith(b"* BYE"), line
        break
finally:
    stop = True
    sender.join()
waited = time.monotonic() - started
assert updates >= 3, updates
assert 1.5 < waited < 4, waited
assert idler.raw.closed()
"#,
    ));
}

#[test]
fn a_client_that_half_closes_after_list_still_gets_its_answers() {
    // As `printf '...' | nc -N` sends it: every command, then a half-close.
    let server = Server::with_users("[auth]\nallow_cleartext = true");
    server.python(
        r#"
import socket, mailtest
sock = socket.create_connection((mailtest.HOST, mailtest.IMAP_PORT), timeout=30)
sock.sendall(b'a LOGIN "alice@example.test" "' + mailtest.PASSWORD.encode() + b'"\r\nb LIST "" "*"\r\nc LOGOUT\r\n')
sock.shutdown(socket.SHUT_WR)
answer = b""
while True:
    data = sock.recv(65536)
    if not data:
        break
    answer += data
assert b"\r\nb OK" in answer, answer
assert b'* LIST (' in answer and b"INBOX" in answer, answer
assert b"* BYE" in answer and b"\r\nc OK" in answer, answer
"#,
    );
}
