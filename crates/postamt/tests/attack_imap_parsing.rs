//! Issue 12, attack 2: IMAP commands that cost the server CPU quadratic in
//! their size (re-parsed, literals copied, after every read), accepted even
//! before login; and an APPEND date-time whose time zone is not ASCII,
//! which panicked the session. Each test drives the real binary over raw
//! sockets and bounds what the attack may cost: the server's CPU time (from
//! /proc/<pid>/stat), how soon it refuses, and other clients' latency.

mod common;

use common::Server;

/// The server's CPU time so far, user and system (proc(5): utime and stime
/// are fields 14 and 15 of /proc/<pid>/stat, in clock ticks).
fn cpu_seconds(server: &Server) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", server.pid())).expect("proc stat");
    // The command name (field 2) may hold spaces; count from its ')'.
    let after_name = &stat[stat.rfind(')').expect("command name") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / clock_ticks()
}

fn clock_ticks() -> f64 {
    let output = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf");
    String::from_utf8_lossy(&output.stdout).trim().parse().expect("CLK_TCK")
}

/// Runs `script` (after the helpers below) and returns its output and the
/// server CPU seconds it cost.
fn attack(server: &Server, script: &str) -> (String, f64) {
    let before = cpu_seconds(server);
    let output = server.python(&format!("{HELPERS}\n{script}"));
    let cpu = cpu_seconds(server) - before;
    eprintln!("server CPU: {cpu:.3} s");
    (output, cpu)
}

/// Python helpers: a connection that streams a command from a thread while
/// the main thread collects the server's answers.
const HELPERS: &str = r#"
import socket, threading, time, mailtest

def login(raw, tag=b"l"):
    raw.send(tag + b' LOGIN alice@example.test "' + mailtest.PASSWORD.encode() + b'"\r\n')
    while True:
        line = raw.line()
        if line.startswith(tag + b" "):
            assert line.startswith(tag + b" OK"), line
            return

class Stream:
    """Sends `chunks` on `raw` as fast as the server takes them; `sent`
    counts what the kernel accepted before the server hung up, if it did."""
    def __init__(self, raw, chunks):
        self.raw, self.sent, self.failed = raw, 0, False
        self.thread = threading.Thread(target=self.run, args=(chunks,), daemon=True)
        self.started = time.monotonic()
        self.thread.start()

    def run(self, chunks):
        try:
            for chunk in chunks:
                self.raw.send(chunk)
                self.sent += len(chunk)
        except OSError:
            self.failed = True

    def answers(self, tag=b"a"):
        """Lines until the tagged answer and, if the server hangs up, the end."""
        lines = []
        try:
            while True:
                line = self.raw.line()
                lines.append(line)
                if line == b"":
                    break
                if line.startswith(tag + b" ") and b"TOOBIG" not in line:
                    break
                if line.startswith(b"* BYE"):
                    lines.append(self.raw.line())
                    break
        except OSError:
            lines.append(b"")
        return lines

def pieces(first, piece, count, last=b"\r\n"):
    """`first`, then `piece` `count` times, then `last`, in chunks of about 64 KiB."""
    yield first
    batch = max(1, 65536 // len(piece))
    while count > 0:
        n = min(batch, count)
        yield piece * n
        count -= n
    yield last

BIG = b"x" * 65536
"#;

/// The measured attack: one command of 64 KiB non-synchronising literals,
/// before login. It used to be read to the end and re-parsed (every literal
/// copied) after each 64 KiB read.
#[test]
fn sixty_four_kib_literals_before_login_are_refused_at_once() {
    let server = Server::with_users("");
    let (output, cpu) = attack(
        &server,
        r#"
raw = mailtest.Raw(mailtest.IMAP_PORT)
total = 512 * (len(BIG) + 12)  # 32 MiB as MULTIAPPEND pieces
attack = Stream(raw, pieces(b"a APPEND INBOX {65536+}\r\n", BIG + b" {65536+}\r\n", 511, BIG + b"\r\n"))
lines = attack.answers()
elapsed = time.monotonic() - attack.started
attack.thread.join(30)
assert lines[0].startswith(b"a BAD [TOOBIG]"), lines
assert lines[-1] == b"", "the session ends: the literal's data cannot be told from commands"
# Refused at the first literal's header: most of the 32 MiB never went in.
assert attack.sent < total // 2, (attack.sent, total)
assert elapsed < 2, elapsed
print(elapsed)
"#,
    );
    assert!(cpu < 0.5, "the refused attack cost {cpu:.2} s of server CPU ({output})");
}

/// The other measured attack: a flood of one-byte literals before login.
#[test]
fn a_flood_of_one_byte_literals_before_login_is_refused() {
    let server = Server::with_users("");
    let (output, cpu) = attack(
        &server,
        r#"
raw = mailtest.Raw(mailtest.IMAP_PORT)
count = 800_000  # 6.4 MB
attack = Stream(raw, pieces(b"a APPEND INBOX {1+}\r\nx", b" {1+}\r\nx", count))
lines = attack.answers()
attack.thread.join(30)
assert lines[0].startswith(b"a BAD [TOOBIG]"), lines
assert lines[-1] == b""
assert attack.sent < 8 * count // 2, attack.sent
"#,
    );
    assert!(cpu < 0.5, "the refused flood cost {cpu:.2} s of server CPU ({output})");
}

/// Before login only small commands are taken: one just under the default
/// (8 KiB) is parsed, one over it is refused before its literal is sent.
#[test]
fn before_login_commands_are_small() {
    let server = Server::with_users("");
    server.python(&format!(
        "{HELPERS}\n{}",
        r#"
raw = mailtest.Raw(mailtest.IMAP_PORT)
# A synchronising literal over the bound: refused instead of "+".
line = raw.command(b"a LOGIN alice {9000}")
assert line.startswith(b"a NO [TOOBIG]"), line
# Under it: the continuation comes, and LOGIN is answered (no TLS here).
line = raw.command(b"b LOGIN {7000}")
assert line.startswith(b"+"), line
line = raw.command(b"p" * 7000 + b" secret")
assert line.startswith(b"b NO"), line
# A long line is refused too, and the session goes on.
line = raw.command(b"c ID (\"name\" \"" + b"n" * 9000 + b"\")")
assert line.startswith(b"c BAD [TOOBIG]"), line
assert raw.command(b"d NOOP").startswith(b"d OK")
"#
    ));
}

/// The rest of a refused line is dropped as it comes, but not for ever:
/// dripped a byte at a time it still ends within the command timeout.
#[test]
fn a_refused_line_dripped_slowly_still_times_out() {
    let server = Server::with_users("[imap]\nlogin_timeout = 1");
    server.python(&format!(
        "{HELPERS}\n{}",
        r#"
raw = mailtest.Raw(mailtest.IMAP_PORT)
raw.send(b"a ID (\"name\" \"" + b"n" * 9000)
assert raw.line().startswith(b"a BAD [TOOBIG]")
started = time.monotonic()
lines = []
try:
    while time.monotonic() - started < 10:
        raw.send(b"n")
        time.sleep(0.2)
except OSError:
    pass
raw.sock.settimeout(5)
lines = [raw.line()]
assert lines[0].startswith(b"* BYE"), lines
assert time.monotonic() - started < 4, time.monotonic() - started
"#
    ));
}

/// After login the number of literals in a command and its total size are
/// bounded by `[imap] max_literals` and `max_command`; a synchronising
/// literal beyond them is refused before it is sent.
#[test]
fn after_login_literal_count_and_command_size_are_configurable_bounds() {
    let server = Server::with_users("[auth]\nallow_cleartext = true\n[imap]\nmax_literals = 10\nmax_command = 200000");
    server.python(&format!(
        "{HELPERS}\n{}",
        r#"
raw = mailtest.Raw(mailtest.IMAP_PORT)
login(raw)
assert raw.command(b"s SELECT INBOX").startswith(b"*")
while not raw.line().startswith(b"s OK"):
    pass
ten = b"a SEARCH" + b" TEXT {1+}\r\nx" * 10 + b"\r\n"
raw.send(ten)
while True:
    line = raw.line()
    if line.startswith(b"a "):
        break
assert line.startswith(b"a OK"), line
assert raw.command(b"b SEARCH" + b" TEXT {1+}\r\nx" * 10 + b" TEXT {1}").startswith(b"b NO [TOOBIG]")
assert raw.command(b"c APPEND INBOX {300000}").startswith(b"c NO [TOOBIG]")
assert raw.command(b"d NOOP").startswith(b"d OK")
# A non-synchronising literal over the bound ends the session: its data
# is on the way (RFC 7888 §4).
raw.send(b"e SEARCH TEXT {300000+}\r\n")
assert raw.line().startswith(b"e BAD [TOOBIG]")
assert raw.line().startswith(b"* BYE")
"#
    ));
}

/// The post-login quadratic case: a command of many 64 KiB literals (each
/// within the limits) is parsed in time linear in its size.
#[test]
fn many_literals_after_login_cost_linear_time() {
    let server = Server::with_users("[auth]\nallow_cleartext = true");
    let (output, cpu) = attack(
        &server,
        r#"
raw = mailtest.Raw(mailtest.IMAP_PORT)
login(raw)
raw.send(b"s SELECT INBOX\r\n")
while not raw.line().startswith(b"s OK"):
    pass
count = 480  # 30 MiB
attack = Stream(raw, pieces(b"a SEARCH TEXT {65536+}\r\n", BIG + b" TEXT {65536+}\r\n", count - 1, BIG + b"\r\n"))
lines = attack.answers()
attack.thread.join(30)
assert lines[-1].startswith(b"a OK"), lines
"#,
    );
    assert!(cpu < 1.5, "30 MiB of literals cost {cpu:.2} s of server CPU ({output})");
}

/// A large message sent as one literal still goes in, at a cost linear in
/// its size.
#[test]
fn a_large_append_still_works() {
    let server = Server::with_users("[auth]\nallow_cleartext = true");
    let (_, cpu) = attack(
        &server,
        r#"
raw = mailtest.Raw(mailtest.IMAP_PORT)
login(raw)
body = b"Subject: big\r\n\r\n" + (b"y" * 78 + b"\r\n") * (20_000_000 // 80)
assert raw.command(b"a APPEND INBOX {%d}" % len(body)).startswith(b"+")
raw.send(body + b"\r\n")
line = raw.line()
assert line.startswith(b"a OK"), line
"#,
    );
    assert!(cpu < 5.0, "a 20 MB APPEND cost {cpu:.2} s of server CPU");
}

/// While four connections flood one-byte literals before login, other
/// services still greet within a second.
#[test]
fn attackers_do_not_delay_other_clients() {
    let server = Server::with_users("");
    server.python(&format!(
        "{HELPERS}\n{}",
        r#"
attacks = [Stream(mailtest.Raw(mailtest.IMAP_PORT), pieces(b"a APPEND INBOX {1+}\r\nx", b" {1+}\r\nx", 3_000_000))
           for _ in range(4)]
while any(a.sent == 0 and not a.failed for a in attacks):
    time.sleep(0.01)
worst = 0
for _ in range(5):
    for port in (mailtest.POP3_PORT, mailtest.SMTP_PORT, mailtest.IMAP_PORT):
        started = time.monotonic()
        greeting = mailtest.Raw(port, source="127.0.0.2").greeting
        worst = max(worst, time.monotonic() - started)
        assert greeting[:1] in (b"+", b"2", b"*"), greeting
assert worst < 1, worst
for attack in attacks:
    attack.answers()
"#
    ));
}

/// A time zone with a non-ASCII character in an APPEND date-time used to
/// panic the session (a string sliced inside a character): now it is BAD,
/// before and after login, and the session goes on.
#[test]
fn a_non_ascii_time_zone_is_a_bad_command() {
    let server = Server::with_users("[auth]\nallow_cleartext = true");
    server.python(&format!(
        "{HELPERS}\n{}",
        r#"
raw = mailtest.Raw(mailtest.IMAP_PORT)
date = "01-Jan-2020 00:00:00 \u00e9123".encode()
raw.send(b'a APPEND INBOX "' + date + b'" {1+}\r\nx\r\n')
assert raw.line().startswith(b"a BAD"), "answered before login"
assert raw.command(b"b NOOP").startswith(b"b OK")
login(raw)
raw.send(b'c APPEND INBOX "' + date + b'" {1+}\r\nx\r\n')
assert raw.line().startswith(b"c BAD"), "answered after login"
assert raw.command(b"d NOOP").startswith(b"d OK")
"#
    ));
}
