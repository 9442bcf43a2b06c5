//! A full disk: SMTP answers 452 4.3.1, nothing acknowledged before is
//! lost, and service resumes by itself when space returns. The data
//! directory is a small tmpfs mounted for the test (CI runs as root).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Server;

/// A tmpfs of `size` at a temporary directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount");
        assert!(
            status.success(),
            "this test mounts a tmpfs and needs root (CI runs as root)"
        );
        Tmpfs { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_disk_is_answered_with_452_and_service_resumes() {
    let disk = Tmpfs::mount("6m");
    let extra = format!("data_dir = {:?}\n[queue]\nretry_intervals = [1]", disk.path());
    let server = Server::start(&extra);
    server.add_example_users();
    server.python(&format!(
        r#"
import os, smtplib, mailtest
data = {data:?}
# Leave about 300 KB free.
free = os.statvfs(data).f_bavail * os.statvfs(data).f_frsize
with open(os.path.join(data, "filler"), "wb") as f:
    f.write(b"\0" * max(0, free - 300 * 1024))
def no_temporary_files():
    left = os.listdir(os.path.join(data, "blobs", "tmp"))
    assert left == [], left
# A large message is a file of its own: writing it fails on the full disk,
# is refused, and leaves no temporary file behind.
large = b"Subject: large\r\n\r\n" + (b"z" * 78 + b"\r\n") * 12000
client = mailtest.smtp()
try:
    client.sendmail("a@other.test", ["alice@example.test"], large)
    raise SystemExit("a message larger than the free space was accepted")
except smtplib.SMTPDataError as e:
    assert e.smtp_code == 452 and e.smtp_error.startswith(b"4.3.1"), e
no_temporary_files()
acked, refused = [], None
for n in range(100):
    message = b"Subject: fill %d\r\n\r\n" % n + (b"y" * 78 + b"\r\n") * 500
    try:
        client.sendmail("a@other.test", ["alice@example.test"], message)
        acked.append(n)
    except smtplib.SMTPDataError as e:
        refused = e
        break
assert refused is not None, "the disk never filled"
assert refused.smtp_code == 452 and refused.smtp_error.startswith(b"4.3.1"), refused
assert acked, "some mail fit before the disk was full"
client.quit()
# Space comes back: mail is accepted again, and everything acknowledged arrives.
os.remove(os.path.join(data, "filler"))
client = mailtest.smtp()
client.sendmail("a@other.test", ["alice@example.test"], b"Subject: after\r\n\r\nroom again\r\n")
client.sendmail("a@other.test", ["alice@example.test"], large)
client.quit()
# A message whose delivery could not be recorded on the full disk is
# claimed again when the queue run's short claim (a minute) runs out.
messages = mailtest.wait_for_messages("alice@example.test", len(acked) + 2, timeout=150)
subjects = {{m.split(b"Subject: ")[1].split(b"\r\n")[0] for m in messages}}
assert subjects == {{b"fill %d" % n for n in acked}} | {{b"after", b"large"}}, subjects
no_temporary_files()
"#,
        data = disk.path().display().to_string()
    ));
    drop(server);
}
