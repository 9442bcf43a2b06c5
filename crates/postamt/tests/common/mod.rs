//! Runs the real `postamt` binary for end-to-end tests: a temporary data
//! directory, listeners on port 0 (the ports chosen are read from the log),
//! a real DNS server of its own on loopback (so no test asks the
//! internet), and helpers that drive it with real clients (Python's
//! smtplib and poplib, swaks) or stand beside it as peers (aiosmtpd).
//!
//! With `POSTAMT_TEST_STORE=postgres` every server gets a store of its own
//! in a fresh database on a throwaway PostgreSQL (the `test-postgres`
//! crate) instead of SQLite in its data directory: .ci/run runs the
//! crash torture and the hostile-client tests that way too.
#![allow(dead_code)]

pub mod answers;
pub mod keys;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "correct horse battery staple";

/// What the server logs once it serves.
const RUNNING: &str = "postamt is running";

pub struct Server {
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    pub smtp: SocketAddr,
    pub submission: SocketAddr,
    pub submissions: SocketAddr,
    pub pop3: SocketAddr,
    pub pop3s: SocketAddr,
    pub imap: SocketAddr,
    pub imaps: SocketAddr,
    pub managesieve: SocketAddr,
    pub http: SocketAddr,
    pub https: SocketAddr,
    log: Arc<Mutex<String>>,
    pub dns: Helper,
    /// The PostgreSQL store's connection string, when the server has one.
    pub store_url: Option<String>,
}

impl Server {
    /// Starts a server whose config is the test defaults plus `extra` (TOML
    /// lines appended to the top level, before any table).
    pub fn start(extra: &str) -> Server {
        Server::start_with_zone(extra, "")
    }

    /// Starts a server that asks a DNS server serving `zone` (see
    /// tests/python/dnsserver.py for its form).
    pub fn start_with_zone(extra: &str, zone: &str) -> Server {
        Server::start_with_dns(extra, zone, None)
    }

    /// Starts a server whose `[dns] nameservers` is `nameserver`, another
    /// DNS server than its own (which is still started, empty): knotd with
    /// DNSSEC-signed zones, say (crates/dns/tests/support/signed_zones.rs).
    pub fn start_with_nameserver(extra: &str, nameserver: SocketAddr) -> Server {
        Server::start_with_dns(extra, "", Some(nameserver))
    }

    fn start_with_dns(extra: &str, zone: &str, nameserver: Option<SocketAddr>) -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("zone"), zone).expect("write zone");
        let dns = Helper::start("dnsserver.py", &[dir.path().join("zone").to_string_lossy().as_ref()]);
        let hostname = if extra.contains("hostname =") {
            ""
        } else {
            "hostname = \"mx.example.test\"\n"
        };
        let data_dir = if extra.contains("data_dir =") {
            ""
        } else {
            "data_dir = \"data\"\n"
        };
        let store_url = postgres_store(extra);
        // CI runs the tests as root, where `postamt serve` refuses to run
        // without a `[server] user` to become; these servers stay root
        // (tests/privileges.rs tests the switch itself).
        let server = if extra.contains("[server]") {
            ""
        } else {
            "[server]\nallow_root = true\n"
        };
        let config = format!(
            "{hostname}{data_dir}{extra}\n{server}\
             [listen]\nsmtp = [\"127.0.0.1:0\"]\nsubmission = [\"127.0.0.1:0\"]\nsubmissions = [\"127.0.0.1:0\"]\n\
             pop3 = [\"127.0.0.1:0\"]\npop3s = [\"127.0.0.1:0\"]\nimap = [\"127.0.0.1:0\"]\nimaps = [\"127.0.0.1:0\"]\n\
             managesieve = [\"127.0.0.1:0\"]\n\
             http = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\n\
             [dns]\nnameservers = [\"{}\"]\n{}",
            nameserver.unwrap_or(SocketAddr::from(([127, 0, 0, 1], dns.port))),
            store_url
                .as_ref()
                .map_or(String::new(), |url| format!("[store]\nurl = \"{url}\"\n"))
        );
        std::fs::write(dir.path().join("postamt.toml"), config).expect("write config");
        let mut server = Server {
            dir,
            child: None,
            smtp: "0.0.0.0:0".parse().unwrap(),
            submission: "0.0.0.0:0".parse().unwrap(),
            submissions: "0.0.0.0:0".parse().unwrap(),
            pop3: "0.0.0.0:0".parse().unwrap(),
            pop3s: "0.0.0.0:0".parse().unwrap(),
            imap: "0.0.0.0:0".parse().unwrap(),
            imaps: "0.0.0.0:0".parse().unwrap(),
            managesieve: "0.0.0.0:0".parse().unwrap(),
            http: "0.0.0.0:0".parse().unwrap(),
            https: "0.0.0.0:0".parse().unwrap(),
            log: Arc::new(Mutex::new(String::new())),
            dns,
            store_url,
        };
        server.launch();
        server
    }

    /// Starts a server from the config file already in `dir` (as `postamt
    /// setup` wrote it, listeners and all), with a DNS server of its own
    /// that knows no names.
    pub fn start_from(dir: tempfile::TempDir) -> Server {
        std::fs::write(dir.path().join("zone"), "").expect("write zone");
        let dns = Helper::start("dnsserver.py", &[dir.path().join("zone").to_string_lossy().as_ref()]);
        let unset: SocketAddr = "0.0.0.0:0".parse().unwrap();
        let mut server = Server {
            dir,
            child: None,
            smtp: unset,
            submission: unset,
            submissions: unset,
            pop3: unset,
            pop3s: unset,
            imap: unset,
            imaps: unset,
            managesieve: unset,
            http: unset,
            https: unset,
            log: Arc::new(Mutex::new(String::new())),
            dns,
            store_url: None,
        };
        server.launch();
        server
    }

    /// A server with example.test, users alice and bob, and
    /// postmaster@example.test as an alias of alice.
    pub fn with_users(extra: &str) -> Server {
        let server = Server::start(extra);
        server.add_example_users();
        server
    }

    /// Hosts example.test with alice, bob and postmaster (alias of alice).
    pub fn add_example_users(&self) {
        self.admin(&["domain", "add", "example.test"]);
        self.add_user("alice@example.test");
        self.add_user("bob@example.test");
        self.admin(&["alias", "add", "postmaster@example.test", "alice@example.test"]);
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("postamt.toml")
    }

    fn launch(&mut self) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_postamt"))
            .arg("--config")
            .arg(self.config_path())
            .arg("serve")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start postamt");
        let stderr = child.stderr.take().expect("stderr");
        self.child = Some(child);
        let (found_tx, found_rx) = std::sync::mpsc::channel();
        let log = self.log.clone();
        // Drain the log for the whole run, so the server never blocks on a
        // full pipe; pass the "listening on" lines back as they come.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some((service, address)) = parse_listening(&line) {
                    let _ = found_tx.send(Some((service, address)));
                } else if line.contains(RUNNING) {
                    let _ = found_tx.send(None);
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        // Every listener is named before the server says it runs; a
        // config without some services (as `postamt setup` writes) leaves
        // their addresses unset. The wait is for that line, not for the
        // ports: they are bound before the store opens (and before the
        // switch to the [server] user), and a connection made then would
        // wait for the rest of the start, which timing tests would count.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let Some((service, address)) = found_rx
                .recv_timeout(remaining)
                .unwrap_or_else(|_| panic!("server did not start; log:\n{}", self.log()))
            else {
                break;
            };
            match service.as_str() {
                "smtp" => self.smtp = address,
                "submission" => self.submission = address,
                "submissions" => self.submissions = address,
                "pop3" => self.pop3 = address,
                "pop3s" => self.pop3s = address,
                "imap" => self.imap = address,
                "imaps" => self.imaps = address,
                "managesieve" => self.managesieve = address,
                "http" => self.http = address,
                "https" => self.https = address,
                _ => {}
            }
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends the server a signal by name (`TERM`, `HUP`, ...).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {name} failed");
    }

    /// Waits up to `limit` for the server to exit by itself; its status.
    pub fn wait_for_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        let child = self.child.as_mut().expect("running");
        loop {
            if let Some(status) = child.try_wait().expect("wait for postamt") {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within {limit:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to 20 s for a line of the log containing `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.log().contains(needle) {
            assert!(Instant::now() < deadline, "no {needle:?} in the log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same data directory (new ports).
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// Runs an administration command; panics unless it succeeds.
    pub fn admin(&self, args: &[&str]) -> String {
        let output = self.admin_output(args, None);
        assert!(
            output.status.success(),
            "postamt {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn admin_output(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_postamt"))
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run postamt");
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
        drop(input);
        child.wait_with_output().expect("wait for postamt")
    }

    /// Runs SQL on the server's PostgreSQL store with psql; its rows, one
    /// per line, columns separated by `|`.
    pub fn psql(&self, sql: &str) -> String {
        let url = self.store_url.as_ref().expect("a server on PostgreSQL");
        let output = Command::new(test_postgres::server().expect("PostgreSQL").binary("psql"))
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
            .output()
            .expect("psql runs");
        assert!(
            output.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn add_user(&self, address: &str) {
        let output = self.admin_output(
            &["user", "add", address, "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
        );
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }

    /// Runs a Python script with the helper module `mailtest` importable and
    /// the server's ports in its environment; returns its standard output.
    pub fn python(&self, script: &str) -> String {
        let output = self.python_output(script);
        assert!(
            output.status.success(),
            "python failed:\n{}\n--- server log ---\n{}",
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs a Python script as [`Self::python`] does, without judging its
    /// exit. A script still running after [`PYTHON_TIMEOUT`] (a server
    /// that stopped answering, a loop on a closed connection) is killed
    /// and the test fails, instead of hanging the whole run.
    pub fn python_output(&self, script: &str) -> Output {
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .env("PYTHONPATH", clients_dir())
            .env("SMTP_PORT", self.smtp.port().to_string())
            .env("SUBMISSION_PORT", self.submission.port().to_string())
            .env("SUBMISSIONS_PORT", self.submissions.port().to_string())
            .env("POP3_PORT", self.pop3.port().to_string())
            .env("POP3S_PORT", self.pop3s.port().to_string())
            .env("IMAP_PORT", self.imap.port().to_string())
            .env("IMAPS_PORT", self.imaps.port().to_string())
            .env("MANAGESIEVE_PORT", self.managesieve.port().to_string())
            .env("HTTP_PORT", self.http.port().to_string())
            .env("HTTPS_PORT", self.https.port().to_string())
            .env("PASSWORD", PASSWORD)
            .env("DATA_DIR", self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run python3");
        let stdout = read_in_background(child.stdout.take().expect("stdout"));
        let stderr = read_in_background(child.stderr.take().expect("stderr"));
        let deadline = Instant::now() + PYTHON_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for python3") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "python ran longer than {PYTHON_TIMEOUT:?} and was stopped:\n{}\n--- server log ---\n{}",
                    String::from_utf8_lossy(&stderr.join().unwrap_or_default()),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Output {
            status,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        }
    }

    /// Starts measuring the server's peak resident memory afresh (Linux
    /// resets VmHWM to the current RSS when 5 is written to clear_refs).
    pub fn reset_peak_rss(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").expect("clear_refs");
    }

    /// Waits up to 20 s until nothing is left in the queue: every
    /// recipient delivered, failed or bounced.
    pub fn wait_until_queue_empty(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let queue = self.admin(&["queue", "list"]);
            if queue == "The queue is empty.\n" {
                return;
            }
            assert!(Instant::now() < deadline, "the queue did not empty:\n{queue}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Resident memory of the server now, from /proc.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// How much the server's peak resident memory grows over what it held
    /// just before `work` ran: the cost of that work alone, not of
    /// starting up.
    pub fn peak_growth_kib(&self, work: impl FnOnce()) -> u64 {
        self.reset_peak_rss();
        let before = self.rss_kib();
        work();
        self.peak_rss_kib().saturating_sub(before)
    }

    /// Peak resident memory of the server, from /proc.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A helper process from tests/python that prints its port and runs until
/// its standard input closes (when this is dropped).
pub struct Helper {
    child: Child,
    pub port: u16,
}

impl Helper {
    pub fn start(script: &str, args: &[&str]) -> Helper {
        Helper::try_start(script, args)
            .unwrap_or_else(|| panic!("{script} did not start (is its Python package installed?)"))
    }

    /// As [`Helper::start`], but None when the helper did not start (for
    /// example because the port it was given is taken).
    pub fn try_start(script: &str, args: &[&str]) -> Option<Helper> {
        let mut child = Command::new("python3")
            .arg(clients_dir().join(script))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 (with dnslib and aiosmtpd: bash .ci/run installs them)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("helper output");
        match line.trim().parse() {
            Ok(port) => Some(Helper { child, port }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mail server that is not postamt (tests/python/smtppeer.py): stores
/// what it accepts as files in `dir`.
pub struct Peer {
    pub dir: tempfile::TempDir,
    pub helper: Helper,
}

impl Peer {
    pub fn start(args: &[&str]) -> Peer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut all = vec![dir.path().to_str().expect("utf-8 path")];
        all.extend_from_slice(args);
        let helper = Helper::start("smtppeer.py", &all);
        Peer { dir, helper }
    }

    /// The messages received so far, in order, waiting up to 20 s for
    /// `count` of them; more than `count` (a duplicate delivery) fails.
    pub fn wait_for(&self, count: usize) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.received() < count && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            self.received(),
            count,
            "the peer received {} messages, not {count}",
            self.received()
        );
        (1..=count)
            .map(|n| std::fs::read(self.dir.path().join(format!("{n}.eml"))).expect("message file"))
            .collect()
    }

    /// How many messages the peer has accepted so far.
    pub fn received(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .expect("peer directory")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
            })
            .count()
    }

    /// The number of the connection message `n` came over.
    pub fn connection(&self, n: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{n}.conn"))).expect("connection number")
    }

    /// The envelope of message `n`: reverse-path, then recipients.
    pub fn envelope(&self, n: usize) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join(format!("{n}.env")))
            .expect("envelope")
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// The longest a test's Python client may run.
pub const PYTHON_TIMEOUT: Duration = Duration::from_secs(180);

/// Reads a pipe to its end on a thread of its own, so a child that writes
/// much never blocks on a full pipe while we wait for it.
fn read_in_background(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

pub fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python")
}

/// A fresh PostgreSQL database for a server's store when
/// `POSTAMT_TEST_STORE=postgres` (and the test did not choose a store
/// itself), else None (SQLite in the data directory).
fn postgres_store(extra: &str) -> Option<String> {
    if !on_postgres() || extra.contains("[store]") {
        return None;
    }
    Some(test_postgres::fresh_database().expect("POSTAMT_TEST_STORE=postgres needs PostgreSQL"))
}

/// Whether this run's servers keep their store in PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("POSTAMT_TEST_STORE").as_deref() == Ok("postgres")
}

/// "... smtp listening on 127.0.0.1:40001" → ("smtp", address).
fn parse_listening(line: &str) -> Option<(String, SocketAddr)> {
    let (head, address) = line.split_once(" listening on ")?;
    let service = head.rsplit(' ').next()?.to_string();
    Some((service, address.trim().parse().ok()?))
}
