//! A mail server that is not postamt (tests/python/smtppeer.py, with
//! aiosmtpd): a real peer with STARTTLS where the fake hosts have none.
//! It stores what it accepts as files in a directory of its own.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running peer on 127.0.0.1; it stops when dropped.
pub struct Peer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Peer {
    /// Starts smtppeer.py with `args` (`--starttls`, `--requiretls`, ...).
    pub fn start(args: &[&str]) -> Peer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/python/smtppeer.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("port line");
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("smtppeer.py did not start: {line:?}"));
        Peer { child, port, dir }
    }

    /// How many messages it has accepted.
    pub fn received(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .expect("peer directory")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
            })
            .count()
    }

    /// Whether MAIL of message `n` (from 1) carried REQUIRETLS (with
    /// `--requiretls`).
    pub fn got_requiretls(&self, n: usize) -> bool {
        self.dir.path().join(format!("{n}.requiretls")).exists()
    }

    /// Its self-signed certificate (with `--starttls`), to trust it.
    pub fn certificate(&self) -> PathBuf {
        self.dir.path().join("tls.crt")
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
