//! Running as an unprivileged user (issue 19): started as root with
//! `[server] user = "nobody"`, `postamt serve` still serves a port below
//! 1024, runs as that user and group, and everything it makes in its data
//! directory is theirs; as root without a user it refuses to start and
//! says what to set; a data directory of another user is named with the
//! command that fixes it; a private key every user can read is refused.
//!
//! The tests that need root say so and pass without checking elsewhere
//! (CI runs as root).

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// `postamt serve` on the config `text`, written in `dir`.
fn spawn(dir: &Path, text: &str) -> Child {
    let config = dir.join("postamt.toml");
    std::fs::write(&config, text).unwrap();
    Command::new(env!("CARGO_BIN_EXE_postamt"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start postamt")
}

/// What a server that should refuse to start printed; fails the test if
/// it is still running after 20 s.
fn refusal(dir: &Path, text: &str) -> String {
    let mut child = spawn(dir, text);
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("postamt serve kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!child.wait().unwrap().success());
    let mut printed = String::new();
    child.stderr.take().unwrap().read_to_string(&mut printed).unwrap();
    printed
}

/// A port below 1024 free on loopback now; tried at random, as the system
/// hands out no such port by itself.
fn free_low_port() -> u16 {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as usize
        + std::process::id() as usize;
    (0..50)
        .map(|i| 600 + ((seed + i * 7919) % 400) as u16)
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port in 600..1000")
}

/// The numbers after `key:` in /proc/PID/status (e.g. real, effective,
/// saved and filesystem uid).
fn status_ids(pid: u32, key: &str) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("{key} in {status}"));
    line[key.len()..]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

fn owners(dir: &Path, found: &mut Vec<(String, u32, u32)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let metadata = std::fs::symlink_metadata(&path).unwrap();
        found.push((path.display().to_string(), metadata.uid(), metadata.gid()));
        if metadata.is_dir() {
            owners(&path, found);
        }
    }
}

#[test]
fn started_as_root_it_serves_a_low_port_as_the_configured_user() {
    if !is_root() {
        eprintln!("not root: the switch to another user cannot be tested here");
        return;
    }
    let nobody = nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("the user nobody");
    let dir = tempfile::tempdir().unwrap();
    // The user must be able to reach its data directory inside.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let port = free_low_port();
    let mut child = spawn(
        dir.path(),
        &format!(
            "hostname = \"mx.example.test\"\ndata_dir = \"data\"\n[server]\nuser = \"nobody\"\n\
             [listen]\nsmtp = [\"127.0.0.1:{port}\"]\nsubmission = []\nsubmissions = []\n\
             pop3 = []\npop3s = []\nimap = []\nimaps = []\nmanagesieve = []\n"
        ),
    );
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = String::new();
    while !log.contains("postamt is running") {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => log.push_str(&(line + "\n")),
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start:\n{log}");
            }
        }
    }
    let pid = child.id();
    let uid = nobody.uid.as_raw();
    let gid = nobody.gid.as_raw();
    assert_eq!(status_ids(pid, "Uid:"), [uid; 4], "{log}");
    assert_eq!(status_ids(pid, "Gid:"), [gid; 4], "{log}");
    assert!(!status_ids(pid, "Groups:").contains(&0), "root's group kept");

    let mut smtp = std::net::TcpStream::connect(("127.0.0.1", port)).expect("the low port answers");
    smtp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut greeting = [0u8; 4];
    smtp.read_exact(&mut greeting).unwrap();
    assert_eq!(&greeting, b"220 ");

    let data = dir.path().join("data");
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    let mut found = vec![(data.display().to_string(), 0, 0)];
    found[0].1 = std::fs::metadata(&data).unwrap().uid();
    found[0].2 = std::fs::metadata(&data).unwrap().gid();
    owners(&data, &mut found);
    assert!(found.iter().any(|(path, ..)| path.ends_with("postamt.db")), "{found:?}");
    for (path, owner, group) in &found {
        assert_eq!((*owner, *group), (uid, gid), "{path} belongs to {owner}:{group}");
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn root_without_a_user_is_refused_with_what_to_set() {
    if !is_root() {
        eprintln!("not root: nothing to refuse here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let printed = refusal(
        dir.path(),
        "data_dir = \"data\"\n[listen]\nsmtp = [\"127.0.0.1:0\"]\nsubmission = []\nsubmissions = []\n\
         pop3 = []\npop3s = []\nimap = []\nimaps = []\nmanagesieve = []\n",
    );
    assert!(
        printed.contains("refuses to run as root")
            && printed.contains("`user = \"postamt\"`")
            && printed.contains("[server]")
            && printed.contains("`allow_root = true`"),
        "{printed}"
    );
    assert!(!dir.path().join("data").exists(), "nothing made as root");
}

#[test]
fn a_data_directory_of_another_user_is_named_with_the_fix() {
    if !is_root() {
        eprintln!("not root: the switch to another user cannot be tested here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let printed = refusal(
        dir.path(),
        "data_dir = \"data\"\n[server]\nuser = \"nobody\"\n[listen]\nsmtp = [\"127.0.0.1:0\"]\n\
         submission = []\nsubmissions = []\npop3 = []\npop3s = []\nimap = []\nimaps = []\nmanagesieve = []\n",
    );
    let data = dir.path().join("data");
    assert!(
        printed.contains(&format!("the data directory {} belongs to uid 0", data.display()))
            && printed.contains(&format!("`chown -R nobody: {}`", data.display())),
        "{printed}"
    );
}

#[test]
fn a_private_key_every_user_can_read_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ])
        .args(["-subj", "/CN=mx.example.test", "-days", "2", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(made.success());
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let printed = refusal(
        dir.path(),
        "data_dir = \"data\"\n[server]\nallow_root = true\n[tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n\
         [listen]\nsmtp = [\"127.0.0.1:0\"]\nsubmission = []\nsubmissions = []\npop3 = []\npop3s = []\n\
         imap = []\nimaps = []\nmanagesieve = []\n",
    );
    assert!(
        printed.contains(&format!(
            "the private key {} can be read by every user of this machine (mode 0644)",
            key.display()
        )) && printed.contains(&format!("chmod 600 {}", key.display())),
        "{printed}"
    );
}
