//! The command line: start-up errors and administration commands.

mod common;

use std::process::Command;

use common::Server;

/// Every taken address is named, on standard error, not only the first:
/// one failed start shows all there is to fix.
#[test]
fn a_port_in_use_stops_start_up_with_a_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let also_taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let imap = also_taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("postamt.toml");
    std::fs::write(
        &config,
        format!("data_dir = \"data\"\n[listen]\nsmtp = []\npop3 = [\"{address}\"]\npop3s = []\nsubmission = []\nsubmissions = []\nimap = [\"{imap}\"]\nimaps = [\"127.0.0.1:0\"]\nmanagesieve = []\n"),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_postamt"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen for pop3 on {address}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("cannot listen for imap on {imap}")),
        "{stderr}"
    );
    assert!(stderr.contains("[listen]"), "{stderr}");
}

#[test]
fn administration_commands_manage_domains_users_and_aliases() {
    let server = Server::start("");
    let fail = |args: &[&str]| {
        let output = server.admin_output(args, Some("pw\n"));
        assert!(!output.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let err = fail(&["user", "add", "alice@example.test", "--password-stdin"]);
    assert!(err.contains("postamt domain add example.test"), "{err}");
    server.admin(&["domain", "add", "Example.TEST"]);
    assert!(fail(&["domain", "add", "example.test"]).contains("already exists"));
    server.add_user("alice@example.test");
    assert!(fail(&["user", "add", "alice@example.test", "--password-stdin"]).contains("already exists"));
    assert!(fail(&["user", "add", "not an address", "--password-stdin"]).contains("not a valid address"));
    let err = fail(&["user", "add", "carol@example.test"]);
    assert!(
        err.contains("--password-stdin"),
        "without a terminal the hint names the flag: {err}"
    );
    server.admin(&[
        "alias",
        "add",
        "info@example.test",
        "alice@example.test",
        "friend@elsewhere.test",
    ]);
    assert_eq!(server.admin(&["user", "list"]), "alice@example.test\n");
    assert_eq!(
        server.admin(&["alias", "list", "example.test"]),
        "info@example.test\talice@example.test, friend@elsewhere.test\n"
    );
    assert!(fail(&["domain", "remove", "example.test"]).contains("remove them first"));
    server.admin(&["alias", "remove", "info@example.test"]);
    server.admin(&["user", "remove", "alice@example.test"]);
    server.admin(&["domain", "remove", "example.test"]);
    assert_eq!(server.admin(&["domain", "list"]), "");
}

#[test]
fn passwd_changes_the_login_password() {
    let server = Server::with_users("");
    let output = server.admin_output(
        &["user", "passwd", "alice@example.test", "--password-stdin"],
        Some("new password\n"),
    );
    assert!(output.status.success());
    server.python(
        r#"
import imaplib, poplib, mailtest
# The old password no longer works...
client = poplib.POP3_SSL(mailtest.HOST, mailtest.POP3S_PORT, context=mailtest.tls_context(), timeout=30)
client.user("alice@example.test")
try:
    client.pass_(mailtest.PASSWORD)
    raise SystemExit("the old password still works")
except poplib.error_proto as e:
    assert b"[AUTH]" in e.args[0], e
client.quit()
imap = imaplib.IMAP4_SSL(mailtest.HOST, mailtest.IMAPS_PORT, ssl_context=mailtest.tls_context())
try:
    imap.login("alice@example.test", mailtest.PASSWORD)
    raise SystemExit("the old password still works over IMAP")
except imaplib.IMAP4.error as e:
    assert "AUTHENTICATIONFAILED" in str(e), e
# ...and the new one does.
client = poplib.POP3_SSL(mailtest.HOST, mailtest.POP3S_PORT, context=mailtest.tls_context(), timeout=30)
client.user("alice@example.test")
assert client.pass_("new password").startswith(b"+OK")
client.quit()
"#,
    );
}

/// An administration command pointed at a place with no store says so and
/// how to point it at the right one; it makes no empty store there.
#[test]
fn administration_without_a_store_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nothing-here");
    for args in [
        &["queue", "list"][..],
        &["domain", "add", "example.test"],
        &["user", "list"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_postamt"))
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .env_remove("POSTAMT_CONFIG")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} succeeded without a store");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("there is no store at {}", data.display()))
                && stderr.contains("postamt serve")
                && stderr.contains("--data-dir"),
            "{stderr}"
        );
        assert!(!data.join("postamt.db").exists(), "{args:?} made a store");
    }
}

#[test]
fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["domain", "--help"],
        &["domain", "add", "--help"],
        &["user", "add", "--help"],
        &["user", "passwd", "--help"],
        &["alias", "add", "--help"],
        &["dkim", "rotate", "--help"],
        &["dns", "--help"],
        &["reports", "tls", "--help"],
        &["reports", "tls", "send", "--help"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_postamt")).args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage:"), "{args:?}");
    }
    // What the server serves, IMAP included, is said where a newcomer looks.
    for args in [&["--help"][..], &["-h"], &["serve", "--help"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_postamt")).args(args).output().unwrap();
        let help = String::from_utf8_lossy(&output.stdout);
        for service in ["SMTP", "submission", "IMAP", "POP3"] {
            assert!(help.contains(service), "{args:?} does not mention {service}:\n{help}");
        }
    }
}
