//! `postamt backup DIR` and `postamt restore DIR` (issue 19, item 7): a
//! backup taken while the server runs and a client keeps appending is a
//! consistent snapshot (each mailbox a prefix of what it became), private
//! (0700/0600), a data directory a server runs from with the same
//! answers, and `restore` puts it in place, verified: a damaged copy is
//! refused, and so is a data directory that holds a store already.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::Server;
use common::answers::imap_answers;

/// An mbox with a message larger than the store keeps in the database
/// (64 KiB), so that the backup has blob files to copy.
fn mbox() -> String {
    let mut text = String::new();
    for n in 0..5 {
        text.push_str(&format!(
            "From a@example.org Tue Dec  1 1{n}:00:00 2026\nSubject: {n}\nStatus: RO\nX-Keywords: Work\n\nbody {n}\n\n"
        ));
    }
    text.push_str("From a@example.org Tue Dec  1 18:00:00 2026\nSubject: large\n\n");
    text.push_str(&"0123456789abcdef\n".repeat(8000));
    text.push('\n');
    text
}

fn fill(server: &Server) {
    let file = server.dir.path().join("mail.mbox");
    std::fs::write(&file, mbox()).unwrap();
    server.admin(&["import", "mbox", file.to_str().unwrap(), "--user", "alice@example.test"]);
}

/// Every file under `dir` is 0600 and every directory 0700.
fn assert_private(dir: &Path) {
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{}", dir.display());
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            assert_private(&path);
        } else {
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
    }
}

#[test]
fn a_backup_taken_while_a_client_writes_is_a_consistent_private_data_directory() {
    let server = Server::with_users("");
    if common::on_postgres() {
        let output = server.admin_output(&["backup", "/nonexistent"], None);
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("pg_dump"));
        return;
    }
    fill(&server);
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("backup");
    // A client appends all the while the backup is taken.
    let appended = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            server.python(
                r#"
import mailtest
c = mailtest.imap("alice@example.test")
for n in range(150):
    c.append("INBOX", "(\\Seen)", None, b"Subject: during %d\r\n\r\nwritten while the backup runs\r\n" % n)
print("done")
"#,
            )
        });
        let out = server.admin(&["backup", backup.to_str().unwrap()]);
        assert!(out.contains("verified") && out.contains("content hashes"), "{out}");
        assert!(out.contains("messages"), "the tables are listed: {out}");
        writer.join().unwrap()
    });
    assert!(appended.contains("done"));
    assert_private(&backup);

    let live = imap_answers(&server, "alice@example.test");
    let copy = Server::start(&format!("data_dir = \"{}\"", backup.display()));
    let backed_up = imap_answers(&copy, "alice@example.test");
    // A snapshot of one moment: each mailbox as it was then, a prefix of
    // what it is now (appends only add at the end).
    for (name, messages) in &live {
        let then = &backed_up[name];
        assert!(
            then.len() >= 6 || name != "INBOX",
            "the imported messages are in the backup"
        );
        assert_eq!(then[..], messages[..then.len()], "mailbox {name}");
    }
    assert_eq!(backed_up.keys().collect::<Vec<_>>(), live.keys().collect::<Vec<_>>());
    drop(copy);

    // Into a directory that holds a store: refused.
    let again = server.admin_output(&["backup", backup.to_str().unwrap()], None);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a store"));
}

#[test]
fn restore_puts_a_verified_backup_in_place_and_refuses_a_damaged_one() {
    if common::on_postgres() {
        return;
    }
    let server = Server::with_users("");
    fill(&server);
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("backup");
    server.admin(&["backup", backup.to_str().unwrap()]);
    let before = imap_answers(&server, "alice@example.test");

    // A fresh machine: a config whose data directory does not exist yet.
    let target = tempfile::tempdir().unwrap();
    let data = target.path().join("data");
    let config = target.path().join("postamt.toml");
    std::fs::write(&config, format!("data_dir = \"{}\"\n", data.display())).unwrap();
    let restore = |from: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_postamt"))
            .arg("--config")
            .arg(&config)
            .arg("restore")
            .arg(from)
            .output()
            .unwrap()
    };

    // A backup whose large message was damaged is refused, naming it.
    let damaged = backups.path().join("damaged");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(&backup)
        .arg(&damaged)
        .status()
        .unwrap();
    assert!(status.success());
    let blob = find_blob(&damaged.join("blobs")).expect("the large message is a blob file");
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    let refused = restore(&damaged);
    assert!(!refused.status.success());
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(error.contains("SHA-256"), "{error}");
    assert!(!data.join("postamt.db").exists(), "nothing is put in place");

    let restored = restore(&backup);
    let out = String::from_utf8_lossy(&restored.stdout);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert!(out.contains("Restored") && out.contains("verified"), "{out}");
    assert_private(&data);
    let again = restore(&backup);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a store"));

    let restored = Server::start(&format!("data_dir = \"{}\"", data.display()));
    assert_eq!(imap_answers(&restored, "alice@example.test"), before);
}

fn find_blob(dir: &Path) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_blob(&path) {
                return Some(found);
            }
        } else if entry.file_name().len() == 64 {
            return Some(path);
        }
    }
    None
}
