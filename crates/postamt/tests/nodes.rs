//! A node id is used by one running process at a time (issue 18): a
//! second `postamt serve` on the same store with the same id is refused
//! at start with a message that says what to do; with an id of its own it
//! runs beside the first; and a node that was killed starts again at once
//! on the same machine.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Server;

/// Runs `postamt serve` with the config `text` (in the first server's
/// directory, so `data_dir` is the same store) and returns what it
/// printed until it said it runs or ended, and whether it is running.
fn second_serve(server: &Server, text: &str) -> (String, bool) {
    let path = server.dir.path().join("second.toml");
    std::fs::write(&path, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_postamt"))
        .arg("--config")
        .arg(&path)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut printed = String::new();
    let mut running = false;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.contains("postamt is running hostname=") {
            running = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait_timeout_or_kill(Duration::from_secs(5));
    (printed, running)
}

trait WaitOrKill {
    fn wait_timeout_or_kill(&mut self, limit: Duration) -> std::io::Result<()>;
}

impl WaitOrKill for std::process::Child {
    fn wait_timeout_or_kill(&mut self, limit: Duration) -> std::io::Result<()> {
        let deadline = std::time::Instant::now() + limit;
        while self.try_wait()?.is_none() {
            if std::time::Instant::now() > deadline {
                self.kill()?;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

#[test]
fn a_node_id_serves_in_one_process_at_a_time() {
    let mut server = Server::with_users("node_id = \"mx1\"");
    let config = std::fs::read_to_string(server.config_path()).unwrap();

    let (printed, running) = second_serve(&server, &config);
    assert!(!running, "a second mx1 started: {printed}");
    assert!(
        printed.contains("another postamt is running with node id \"mx1\" on this store")
            && printed.contains("give this one its own `node_id`"),
        "{printed}"
    );

    let (printed, running) = second_serve(&server, &config.replace("node_id = \"mx1\"", "node_id = \"mx2\""));
    assert!(running, "mx2 did not start beside mx1: {printed}");

    // Killed, mx1 leaves its claim; started again here, it takes it over.
    server.kill();
    server.restart();
    server.python("import mailtest\nmailtest.smtp().quit()\n");
}
