//! The README's quickstart, run as a reader pastes it (issue 19): its sh
//! block goes to bash in an empty directory, with this build's `postamt`
//! first on PATH in place of `cargo build --release`. The mail it sends
//! must come back over POP3 and IMAP, and its `kill %1` must stop the
//! server it started.
//!
//! Two changes only, both said here: the `cargo build --release` line is
//! left out (the test's own build stands in), and the quickstart's
//! loopback ports become ports the kernel just handed out, so that two
//! runs of this test (two worktrees on one machine) never meet on a fixed
//! port. Every other line runs as written, its wait for "postamt is
//! running" included.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the whole quickstart may take before the test gives up.
const LIMIT: Duration = Duration::from_secs(120);

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).expect("README.md")
}

/// The first sh block of the README's "## Quickstart" section.
fn quickstart(readme: &str) -> String {
    let section = readme
        .split("\n## Quickstart\n")
        .nth(1)
        .expect("a \"## Quickstart\" section in README.md");
    let section = section.split("\n## ").next().unwrap_or_default();
    let block = section
        .split("```sh\n")
        .nth(1)
        .expect("an sh block in the README's quickstart");
    block.split("```").next().unwrap_or_default().to_string()
}

/// The ports the script listens on and connects to (`127.0.0.1:PORT`, and
/// Python's `"127.0.0.1", PORT`), each once.
fn loopback_ports(script: &str) -> Vec<u16> {
    let mut ports: Vec<u16> = ["127.0.0.1:", "\"127.0.0.1\", "]
        .iter()
        .flat_map(|prefix| script.split(prefix).skip(1))
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// The script to run: without the release build, the server's pid kept
/// for the test, and each loopback port moved to a free one.
fn runnable(script: &str) -> String {
    let build = "cargo build --release\n";
    assert!(
        script.contains(build),
        "the quickstart no longer builds with {build:?}:\n{script}"
    );
    let serve = "postamt serve 2> postamt.log &\n";
    assert!(
        script.contains(serve),
        "the quickstart no longer starts {serve:?}:\n{script}"
    );
    let mut script = script
        .replace(build, "")
        .replace(serve, &format!("{serve}echo $! > postamt.pid\n"));
    let ports = loopback_ports(&script);
    assert!(ports.len() >= 5, "the quickstart's ports: {ports:?}");
    // All held at once, so the kernel hands out distinct ones.
    let free: Vec<TcpListener> = ports
        .iter()
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    for (port, listener) in ports.iter().zip(&free) {
        let new = listener.local_addr().unwrap().port();
        for prefix in ["127.0.0.1:", "\"127.0.0.1\", "] {
            script = script.replace(&format!("{prefix}{port}"), &format!("{prefix}{new}"));
        }
    }
    for port in &ports {
        assert!(
            !script.contains(&port.to_string()),
            "the quickstart names port {port} in a form this test does not move:\n{script}"
        );
    }
    script
}

/// The quickstart's server, killed if the test ends while it still runs
/// (a failed step, the time limit); the quickstart itself must stop it.
struct StartedServer(PathBuf);

impl StartedServer {
    fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(&self.0).ok()?.trim().parse().ok()
    }

    /// Whether the process is gone (or a zombie nobody reaped yet).
    fn stopped(&self) -> bool {
        let Some(pid) = self.pid() else { return true };
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')),
            Err(_) => true,
        }
    }
}

impl Drop for StartedServer {
    fn drop(&mut self) {
        if let Some(pid) = self.pid().filter(|_| !self.stopped()) {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
    }
}

/// Waits for `child` up to [`LIMIT`]; kills it and fails after.
fn finish(mut child: Child, dir: &Path) {
    let deadline = Instant::now() + LIMIT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.join("postamt.log")).unwrap_or_default();
            panic!("the quickstart ran longer than {LIMIT:?}; the server's log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_readme_quickstart_runs_and_reads_its_mail_back() {
    let script = runnable(&quickstart(&readme()));
    let dir = tempfile::tempdir().unwrap();
    // The script's output goes to files, not pipes: a server it left
    // running would hold a pipe open, and reading to its end would wait
    // for that server.
    let out = tempfile::tempdir().unwrap();
    let (stdout, stderr) = (out.path().join("stdout"), out.path().join("stderr"));
    let server = StartedServer(dir.path().join("postamt.pid"));
    let bin = Path::new(env!("CARGO_BIN_EXE_postamt")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        // As in a reader's shell: the server's default log level (the
        // wait loop greps an info line) and no config named outside.
        .env_remove("POSTAMT_CONFIG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("run bash");
    finish(child, dir.path());
    let read = |path: &Path| String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned();
    let (stdout, log) = (read(&stdout), read(&dir.path().join("postamt.log")));
    let context = format!(
        "--- stdout ---\n{stdout}\n--- stderr ---\n{}\n--- server log ---\n{log}",
        read(&stderr)
    );
    assert!(server.pid().is_some(), "the quickstart started no server:\n{context}");

    // Both messages come back: in full over POP3 (what swaks printed
    // before has no Return-Path: the mailbox adds it), and by subject over
    // IMAP (Python's repr of the fetched header).
    let pop3 = stdout
        .split_once("\nReturn-Path: ")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no message read back over POP3:\n{context}"));
    for read in ["Subject: Hello Alice", "It works.", "Subject: Note to self"] {
        assert!(pop3.contains(read), "{read:?} was not read back over POP3:\n{context}");
    }
    for subject in ["Hello Alice", "Note to self"] {
        let fetched = format!("b'Subject: {subject}\\r\\n\\r\\n'");
        assert!(
            stdout.contains(&fetched),
            "{subject:?} was not read back over IMAP:\n{context}"
        );
    }

    // `kill %1` stops it, gracefully.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server.stopped() {
        assert!(
            Instant::now() < deadline,
            "the quickstart's `kill %1` did not stop the server:\n{context}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = read(&dir.path().join("postamt.log"));
    assert!(log.contains("stopped"), "the server did not log its stop:\n{log}");
}
