//! The data directory holds password hashes and mail: only postamt's own
//! user may read any of it, whatever the umask it was started with; a
//! start narrows what an older version or a copy left wider, and says so.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::Server;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn data_files_and_directories_are_private() {
    let server = Server::with_users("");
    // A message above the inline limit becomes a file of its own.
    server.python(
        r#"
import mailtest
client = mailtest.smtp()
client.sendmail("a@elsewhere.test", ["alice@example.test"], b"Subject: big\r\n\r\n" + (b"x" * 70 + b"\r\n") * 3000)
client.quit()
mailtest.wait_for_messages("alice@example.test", 1)
"#,
    );
    let data = server.dir.path().join("data");
    let mut checked = 0;
    let mut pending = vec![data.clone()];
    while let Some(path) = pending.pop() {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), expected, "{}", path.display());
        checked += 1;
        if path.is_dir() {
            pending.extend(
                std::fs::read_dir(&path)
                    .expect("read_dir")
                    .map(|e| e.expect("entry").path()),
            );
        }
    }
    for file in ["postamt.db", "postamt.db-wal", "blobs/tmp"] {
        assert!(data.join(file).exists(), "{file} was checked");
    }
    let blobs = std::fs::read_dir(data.join("blobs")).expect("blobs").count();
    assert!(
        blobs >= 2 && checked >= 6,
        "a blob file was among the {checked} checked"
    );
}

/// A data directory made by an older version, or copied in with `cp -r`
/// under umask 022: the start narrows it and says so, once per path.
#[test]
fn a_data_directory_with_wide_modes_is_narrowed_with_a_warning() {
    let mut server = Server::with_users("");
    server.kill();
    let data = server.dir.path().join("data");
    let mut wide = vec![(data.clone(), 0o755)];
    if !common::on_postgres() {
        // (With PostgreSQL, the database and the message content are there.)
        wide.extend([(data.join("blobs"), 0o755), (data.join("postamt.db"), 0o644)]);
    }
    for (path, mode) in &wide {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    // Returns once the server says it runs: after the store opened.
    server.restart();
    let log = server.log();
    for (path, wide_mode) in &wide {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(path), expected, "{}", path.display());
        let warning = format!(
            "others could read this; making it private path={} mode=\"{wide_mode:o}\"",
            path.display()
        );
        assert_eq!(log.matches(&warning).count(), 1, "{warning:?} once in:\n{log}");
    }
}
