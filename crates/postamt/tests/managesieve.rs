//! ManageSieve (RFC 5804) end to end, with a real client: sieve-connect
//! (Debian's `sieve-connect`; .ci/run installs it) uploads a script over
//! STARTTLS, activates it, lists, downloads and deletes scripts; the
//! uploaded script then files mail at delivery, as seen over IMAP. And a
//! client of our own over a socket, for what sieve-connect does not show:
//! a script with an error refused with its line number.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{PASSWORD, Server};

const FILTER: &str = "require [\"fileinto\", \"mailbox\"];\r\n\
if header :contains \"subject\" \"newsletter\" {\r\n\
\x20   fileinto :create \"Lists\";\r\n\
\x20   stop;\r\n\
}\r\n";

/// Runs sieve-connect against the server as bob, the password given on
/// standard input (`--passwordfd 0`), trusting the server's self-signed
/// certificate (`--notlsverify`).
fn sieve_connect(server: &Server, args: &[&str]) -> Output {
    let mut child = Command::new("sieve-connect")
        .args(["--server", "127.0.0.1", "--port"])
        .arg(server.managesieve.port().to_string())
        .args([
            "--nosrv",
            "--notlsverify",
            "--user",
            "bob@example.test",
            "--passwordfd",
            "0",
        ])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sieve-connect (apt-get install sieve-connect; .ci/run does)");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(format!("{PASSWORD}\n").as_bytes()).expect("password");
    }
    child.wait_with_output().expect("sieve-connect ran")
}

/// sieve-connect's run, which must have succeeded; its standard output.
fn ok(server: &Server, args: &[&str]) -> String {
    let output = sieve_connect(server, args);
    assert!(
        output.status.success(),
        "sieve-connect {args:?} failed:\n{}{}\n--- server log ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[test]
fn sieve_connect_manages_scripts_and_the_active_one_files_mail() {
    let server = Server::with_users("");
    let work = tempfile::tempdir().unwrap();
    let filter = work.path().join("filter.sieve");
    std::fs::write(&filter, FILTER).unwrap();
    let other = work.path().join("other.sieve");
    std::fs::write(&other, "keep;\r\n").unwrap();

    ok(
        &server,
        &["--localsieve", path(&filter), "--remotesieve", "filter", "--upload"],
    );
    ok(
        &server,
        &["--localsieve", path(&other), "--remotesieve", "other", "--upload"],
    );
    ok(&server, &["--remotesieve", "filter", "--activate"]);
    let listed = ok(&server, &["--list"]);
    // sieve-connect prints LISTSCRIPTS' lines as they come.
    let lines: Vec<&str> = listed.lines().map(str::trim).collect();
    assert_eq!(lines, ["\"filter\" ACTIVE", "\"other\""], "{listed}");

    let downloaded = work.path().join("downloaded.sieve");
    ok(
        &server,
        &[
            "--localsieve",
            path(&downloaded),
            "--remotesieve",
            "filter",
            "--download",
        ],
    );
    assert_eq!(std::fs::read_to_string(&downloaded).unwrap(), FILTER);

    ok(&server, &["--remotesieve", "other", "--delete"]);
    // The active script cannot be deleted (RFC 5804 §2.10).
    let refused = sieve_connect(&server, &["--remotesieve", "filter", "--delete"]);
    assert!(!refused.status.success(), "the active script was deleted");
    let listed = ok(&server, &["--list"]);
    assert_eq!(listed.trim(), "\"filter\" ACTIVE", "{listed}");
    // The store agrees, as the administrator sees it.
    assert!(
        server
            .admin(&["sieve", "list", "bob@example.test"])
            .contains("filter  ")
    );

    // At delivery the uploaded script files the newsletter into Lists.
    server.python(
        r#"
import mailtest
client = mailtest.submit("alice@example.test")
for subject in ["weekly newsletter", "hello"]:
    message = f"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: {subject}\r\n\r\nbody\r\n"
    assert client.sendmail("alice@example.test", ["bob@example.test"], message.encode()) == {}
client.quit()
"#,
    );
    server.wait_until_queue_empty();
    server.python(
        r#"
import mailtest
imap = mailtest.imap("bob@example.test")
typ, data = imap.select("Lists")
assert typ == "OK" and data == [b"1"], (typ, data)
typ, data = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert b"weekly newsletter" in data[0][1], data
typ, data = imap.select("INBOX")
assert data == [b"1"], data
imap.logout()
"#,
    );
}

#[test]
fn a_script_with_an_error_is_refused_with_its_line() {
    let server = Server::with_users("");
    server.python(
        r#"
import mailtest
session = mailtest.ManageSieve("bob@example.test", login=False)
capabilities = b"".join(session.capabilities)
assert b'"SIEVE" "fileinto ' in capabilities and b'"VERSION" "1.0"' in capabilities, capabilities
assert b'"STARTTLS"' not in capabilities, capabilities
assert session.command(b"LISTSCRIPTS") == [b'NO "Authenticate first"\r\n']
session = mailtest.ManageSieve("bob@example.test")
script = b'require "fileinto";\r\n\r\nfileinto "Lists"\r\nkeep;\r\n'
[answer] = session.command(b'PUTSCRIPT "broken"', script)
assert answer.startswith(b'NO "line 4: '), answer
print(answer.decode().strip())
[answer] = session.command(b"CHECKSCRIPT", script)
assert answer.startswith(b'NO "line 4: '), answer
assert session.command(b"LISTSCRIPTS") == [b"OK\r\n"]
assert session.command(b"LOGOUT") == [b'OK "Logout complete"\r\n']
"#,
    );
}
