//! The fail2ban filter in contrib/fail2ban must ban on the lines a real
//! server logs, in each shape fail2ban sees them (docs/deploy.md §16):
//!
//! - standard error written to a file: the server's own timestamp starts
//!   the line, and fail2ban cuts it off as the line's date;
//! - the journal, which the shipped jail reads (`backend = systemd`):
//!   fail2ban's systemd backend (`formatJournalEntry` in fail2ban 1.0's
//!   filtersystemd.py) hands the filter `HOST postamt[PID]: ` and the
//!   message, the server's timestamp included, with the journal's time
//!   apart. In a file that is the journal's ISO time, a space, then that
//!   text: fail2ban-regex cuts the time off and matches the rest, as the
//!   backend does;
//! - `journalctl -u postamt` written to a file (syslog's short form).
//!
//! The server listens on `[::]`, so IPv4 clients are logged as
//! `[::ffff:a.b.c.d]:port` and an IPv6 client as `[::1]:port`; the
//! failures are real ones over IMAPS, POP3S, submissions and ManageSieve,
//! and a lockout.

mod common;

use common::{Helper, Server};
use std::path::{Path, PathBuf};
use std::process::Command;

fn filter() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib/fail2ban/filter.d/postamt.conf")
}

/// A server on `[::]` (dual stack) with alice, whose account locks after
/// three failures from one network; and the DNS server it asks.
fn server_on_any_address() -> (Server, Helper) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("zone"), "").unwrap();
    // A DNS server of the test's own, so that nothing asks the internet.
    let dns = Helper::start("dnsserver.py", &[dir.path().join("zone").to_string_lossy().as_ref()]);
    let config = format!(
        "hostname = \"mx.example.test\"\ndata_dir = \"data\"\n\
         [server]\nallow_root = true\n\
         [auth]\nfailure_delay_ms = 10\nmax_failures = 3\nlockout = 300\n\
         [listen]\nimaps = [\"[::]:0\"]\npop3s = [\"[::]:0\"]\nsubmissions = [\"[::]:0\"]\nmanagesieve = [\"[::]:0\"]\n\
         [dns]\nnameservers = [\"127.0.0.1:{}\"]\n",
        dns.port
    );
    std::fs::write(dir.path().join("postamt.toml"), config).unwrap();
    let server = Server::start_from(dir);
    server.add_example_users();
    (server, dns)
}

/// Four failures from 127.0.0.3 (IMAP, POP3, SMTP AUTH, then a lockout)
/// and two from ::1 (IMAP, ManageSieve); returns the server's lines about
/// them.
fn failed_logins(server: &Server) -> Vec<String> {
    server.python(
        r#"
import base64, mailtest
def imap(client):
    return client.command(b'a LOGIN "alice@example.test" "wrong"')
client = mailtest.Raw(mailtest.IMAPS_PORT, tls=True, source="127.0.0.3")
assert imap(client).startswith(b"a NO [AUTHENTICATIONFAILED]")
client = mailtest.Raw(mailtest.POP3S_PORT, tls=True, source="127.0.0.3")
assert client.command(b"USER alice@example.test").startswith(b"+OK")
assert client.command(b"PASS wrong").startswith(b"-ERR [AUTH]")
client = mailtest.Raw(mailtest.SUBMISSIONS_PORT, tls=True, source="127.0.0.3")
client.send(b"EHLO client.test\r\n")
client.reply()
reply = client.command(b"AUTH PLAIN " + base64.b64encode(b"\0alice@example.test\0wrong"))
assert reply.startswith(b"535"), reply
client = mailtest.Raw(mailtest.IMAPS_PORT, tls=True, source="127.0.0.3")
assert imap(client).startswith(b"a NO [UNAVAILABLE]")
# Over IPv6: another network, so its guess is checked (and fails).
mailtest.HOST = "::1"
client = mailtest.Raw(mailtest.IMAPS_PORT, tls=True)
assert imap(client).startswith(b"a NO [AUTHENTICATIONFAILED]")
session = mailtest.ManageSieve("alice@example.test", login=False)
wrong = base64.b64encode(b"\0alice@example.test\0wrong")
answer = session.command(b'AUTHENTICATE "PLAIN" "' + wrong + b'"')
assert answer == [b'NO "Authentication failed"\r\n'], answer
"#,
    );
    let lines: Vec<String> = server
        .log()
        .lines()
        .filter(|line| line.contains("auth::login: authentication"))
        .map(str::to_string)
        .collect();
    assert_eq!(
        lines.len(),
        6,
        "the server logged other failures than the six made:\n{}",
        server.log()
    );
    assert!(lines[3].contains("refused: locked out"), "{lines:#?}");
    lines
}

/// The addresses fail2ban-regex finds in `lines` with the repository's
/// filter, one per matched line.
fn banned(dir: &Path, name: &str, lines: &[String]) -> Vec<String> {
    let log = dir.join(name);
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let output = Command::new("fail2ban-regex")
        .args(["-o", "ip"])
        .arg(&log)
        .arg(filter())
        .output()
        .expect("run fail2ban-regex (install fail2ban; .ci/run does)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "fail2ban-regex failed on {name}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout.lines().map(str::to_string).collect()
}

#[test]
fn the_filter_bans_failed_logins_as_logged_to_a_file_and_to_the_journal() {
    let (server, _dns) = server_on_any_address();
    let lines = failed_logins(&server);
    assert!(lines[0].contains("peer=[::ffff:127.0.0.3]:"), "{lines:#?}");
    assert!(lines[4].contains("peer=[::1]:"), "{lines:#?}");
    assert!(lines[5].contains("managesieve{"), "{lines:#?}");
    let expected = ["127.0.0.3", "127.0.0.3", "127.0.0.3", "127.0.0.3", "::1", "::1"];
    let work = tempfile::tempdir().unwrap();

    assert_eq!(banned(work.path(), "stderr.log", &lines), expected, "standard error");

    let pid = server.pid();
    let journal: Vec<String> = lines
        .iter()
        .map(|line| format!("2026-12-01T14:21:35.931914 mx postamt[{pid}]: {line}"))
        .collect();
    assert_eq!(banned(work.path(), "journal.log", &journal), expected, "the journal");

    let journalctl: Vec<String> = lines
        .iter()
        .map(|line| format!("Dec 01 14:21:35 mx postamt[{pid}]: {line}"))
        .collect();
    assert_eq!(
        banned(work.path(), "journalctl.log", &journalctl),
        expected,
        "journalctl's output"
    );
}
