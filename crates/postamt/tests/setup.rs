//! `postamt setup DOMAIN` (issue 19, item 3): the config it writes loads
//! and a server starts from it, the postmaster logs in with the password
//! printed once, a second run is refused without --force, and --force
//! keeps the domain's keys and the postmaster's password.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use common::Server;

fn setup(dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_postamt"))
        .arg("--config")
        .arg(dir.join("postamt.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["setup", "example.test", "--hostname", "mx.example.test"])
        .args(extra)
        .output()
        .expect("run postamt setup")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "postamt setup failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The password setup printed: the indented line after "with the password".
fn printed_password(output: &str) -> String {
    let line = output
        .lines()
        .skip_while(|line| !line.contains("with the password"))
        .find(|line| line.starts_with("    "))
        .unwrap_or_else(|| panic!("no password in:\n{output}"));
    line.trim().to_string()
}

/// The config setup wrote, with its listeners moved to loopback ports the
/// system picks (the standard ports may be taken or need privileges).
fn listen_on_loopback(dir: &Path) {
    let path = dir.join("postamt.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    for port in [25, 587, 465, 143, 993, 110, 995, 4190, 80, 443] {
        for any in ["[::]", "0.0.0.0"] {
            config = config.replace(&format!("\"{any}:{port}\""), "\"127.0.0.1:0\"");
        }
    }
    assert_eq!(config.matches("127.0.0.1:0").count(), 10, "{config}");
    // CI runs as root with no `postamt` user: the server stays root here
    // (tests/privileges.rs tests the switch).
    let config = match config.contains("\n[server]\n") {
        true => config.replace("user = \"postamt\"", "allow_root = true"),
        false => format!("{config}\n[server]\nallow_root = true\n"),
    };
    std::fs::write(path, config).unwrap();
}

fn imap_login(server: &Server, password: &str) -> String {
    server.python(&format!(
        r#"
import imaplib, mailtest
imap = imaplib.IMAP4_SSL(mailtest.HOST, mailtest.IMAPS_PORT, ssl_context=mailtest.tls_context())
print(imap.login("postmaster@example.test", {password:?})[0])
imap.logout()
"#
    ))
}

#[test]
fn setup_writes_a_config_the_server_starts_from_and_the_postmaster_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    let output = stdout(&setup(dir.path(), &[]));
    let password = printed_password(&output);
    assert_eq!(password.len(), 23, "{password}");
    for expected in [
        "Added domain example.test with DKIM keys",
        "abuse@example.test -> postmaster@example.test",
        "example.test. IN MX 10 mx.example.test.",
        "example.test. IN TXT \"v=spf1 mx -all\"",
        "._domainkey.example.test. IN TXT \"v=DKIM1; k=ed25519;",
        "_dmarc.example.test. IN TXT",
        "Next steps:",
        "dns example.test --check",
    ] {
        assert!(output.contains(expected), "{expected:?} not in:\n{output}");
    }
    let config = std::fs::read_to_string(dir.path().join("postamt.toml")).unwrap();
    assert!(config.contains("hostname = \"mx.example.test\""), "{config}");
    assert!(config.contains(":25\"]"), "{config}");
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("postamt.toml")), 0o640);
    assert_eq!(mode(&dir.path().join("data")), 0o700);

    listen_on_loopback(dir.path());
    let server = Server::start_from(dir);
    assert_eq!(imap_login(&server, &password).trim(), "OK");
    // The hostname setup wrote is the one the server greets with.
    let greeting = server
        .python("import smtplib, mailtest\nprint(smtplib.SMTP(mailtest.HOST, mailtest.SMTP_PORT).ehlo()[1].decode())");
    assert!(greeting.starts_with("mx.example.test"), "{greeting}");
    let users = server.admin(&["user", "list"]);
    assert_eq!(users.trim(), "postmaster@example.test");
}

#[test]
fn a_second_setup_is_refused_and_force_keeps_the_keys_and_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let password = printed_password(&stdout(&setup(dir.path(), &[])));
    let config_path = dir.path().join("postamt.toml");
    let written = std::fs::read_to_string(&config_path).unwrap();

    let again = setup(dir.path(), &[]);
    assert!(!again.status.success(), "a second setup ran");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains(&config_path.display().to_string()), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&config_path).unwrap(), written);

    let keys = |dir: &Path| {
        let output = Command::new(env!("CARGO_BIN_EXE_postamt"))
            .arg("--config")
            .arg(dir.join("postamt.toml"))
            .args(["dkim", "list", "example.test"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let keys_before = keys(dir.path());
    let forced = stdout(&setup(dir.path(), &["--force"]));
    assert!(forced.contains("Kept domain example.test"), "{forced}");
    assert!(forced.contains("Kept account postmaster@example.test"), "{forced}");
    assert!(!forced.contains("with the password"), "{forced}");
    assert!(forced.contains("IN MX 10 mx.example.test."), "{forced}");
    assert_eq!(keys(dir.path()), keys_before);

    listen_on_loopback(dir.path());
    let server = Server::start_from(dir);
    assert_eq!(imap_login(&server, &password).trim(), "OK");
}

/// Only an explicit --config is written by someone who is not root: the
/// system-wide file is root's.
#[test]
fn without_config_a_user_is_told_to_name_one() {
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    // As root the default is /etc/postamt/postamt.toml, which a test must
    // not write: run as nobody to see what a user sees.
    let mut command = if root {
        let mut setpriv = Command::new("setpriv");
        setpriv
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_postamt"));
        setpriv
    } else {
        Command::new(env!("CARGO_BIN_EXE_postamt"))
    };
    let output = command
        .args(["setup", "example.test"])
        .env_remove("POSTAMT_CONFIG")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("name the config file to write with --config"),
        "{stderr}"
    );
}

/// The ports of the listeners in a config's `[listen]` table.
fn listened_ports(config: &str) -> Vec<u16> {
    let table = config.split("[listen]").nth(1).expect("a [listen] table");
    let table = table.split("\n[").next().unwrap_or_default();
    let mut ports: Vec<u16> = table
        .split('"')
        .filter_map(|address| address.rsplit_once(':')?.1.parse().ok())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Every port setup's config listens on is one the next steps say to
/// open, and every one below 1024 one the systemd unit's capability
/// comment names (80 and 443 for ACME and autoconfiguration as much as
/// the mail ports; ManageSieve's 4190 needs no capability).
#[test]
fn the_next_steps_open_every_port_setup_listens_on() {
    let dir = tempfile::tempdir().unwrap();
    let output = stdout(&setup(dir.path(), &[]));
    let ports = listened_ports(&std::fs::read_to_string(dir.path().join("postamt.toml")).unwrap());
    assert_eq!(
        ports,
        [25, 80, 110, 143, 443, 465, 587, 993, 995, 4190],
        "setup's listeners"
    );
    let unit = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib/postamt.service"))
        .expect("contrib/postamt.service");
    for (what, text) in [
        ("setup's next steps", output.as_str()),
        ("contrib/postamt.service", unit.as_str()),
    ] {
        let line = text
            .lines()
            .find(|line| line.to_lowercase().contains("ports 25"))
            .unwrap_or_else(|| panic!("{what} list no ports:\n{text}"));
        let named: Vec<&str> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|word| !word.is_empty())
            .collect();
        // The unit names the ports its capability is for: those below 1024.
        let needed = ports
            .iter()
            .filter(|&&port| what == "setup's next steps" || port < 1024);
        for port in needed {
            assert!(
                named.contains(&port.to_string().as_str()),
                "{what} leave out port {port}: {line}"
            );
        }
    }
}
