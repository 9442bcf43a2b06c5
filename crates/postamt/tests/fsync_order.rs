//! Invariant 1 of docs/architecture.md below what SIGKILL can show: a process
//! killed keeps its writes in the page cache, so a crash test passes with
//! every fsync removed. Here the real binary runs under `strace -f`, and
//! the order of its system calls is checked instead: for an accepted
//! message, everything that makes it durable is done before the `250` is
//! written to the client's connection.
//!
//! - A large message (above the 64 KiB inline limit) is a blob file: its
//!   temporary file is written and fsynced, renamed into place, and the
//!   directory that now holds it fsynced (POSIX: a rename is durable only
//!   once its directory is), and the commit that refers to it wrote the
//!   write-ahead log and synced it (`synchronous = FULL`), all before the
//!   250.
//! - A small message lives in that commit: the log is written and synced
//!   before the 250.
//!
//! This shows the order the calls were made in; whether the disk honours
//! fsync is beyond any test (docs/security.md, section 1).

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Server;

/// The system calls that write, sync, rename and open files, and those a
/// reply to a client may be written with.
const TRACED: &str = "trace=openat,write,writev,pwrite64,sendto,sendmsg,fsync,fdatasync,rename,renameat,renameat2";

#[test]
fn durable_before_the_250() {
    let mut server = Server::with_users("[smtp]\npregreet_wait_ms = 0");
    // The same data directory and configuration, now run under strace.
    server.kill();
    let trace_path = server.dir.path().join("strace.txt");
    let traced = Traced::start(&mut server, &trace_path);

    // Each message on a connection of its own, so that its 250 is found by
    // the client's port. The large one is well above the inline limit.
    let ports = server.python(
        r#"
import mailtest
for size in (300 * 1024, 2 * 1024):
    client = mailtest.smtp()
    body = b"".join(b"%07d durable line of text\r\n" % n for n in range(size // 27))
    client.sendmail("a@other.test", ["alice@example.test"], b"Subject: traced\r\n\r\n" + body)
    print(client.sock.getsockname()[1])
    client.quit()
"#,
    );
    let ports: Vec<u16> = ports.lines().map(|p| p.parse().expect("port")).collect();
    let trace = traced.stop(&trace_path);

    let large = trace.accepted(ports[0]);
    let blob = trace.blob_written_in(&large);
    trace.assert_blob_durable(&blob, large.reply);
    trace.assert_log_synced("the large message", blob.rename, large.reply);

    let small = trace.accepted(ports[1]);
    trace.assert_log_synced("the small message", small.data_started, small.reply);
}

/// The server running under strace; its log is drained (and the ports
/// read) as `Server` does for the binary it starts itself.
struct Traced {
    strace: Child,
}

impl Traced {
    fn start(server: &mut Server, trace_path: &Path) -> Traced {
        let mut strace = Command::new("strace")
            .args(["-f", "-yy", "-qq", "-e", TRACED, "-o"])
            .arg(trace_path)
            .arg(env!("CARGO_BIN_EXE_postamt"))
            .arg("--config")
            .arg(server.config_path())
            .arg("serve")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("strace (bash .ci/run installs it)");
        let stderr = strace.stderr.take().expect("stderr");
        let (found_tx, found_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // "... smtp listening on 127.0.0.1:40001"
                if let Some((head, address)) = line.split_once(" listening on ")
                    && head.ends_with(" smtp")
                {
                    let _ = found_tx.send(address.trim().to_string());
                }
            }
        });
        let address = found_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server under strace did not start");
        server.smtp = address.parse().expect("smtp address");
        Traced { strace }
    }

    /// Kills the server (strace, killed itself, would leave it running
    /// detached), lets strace finish its output, and reads it.
    fn stop(mut self, trace_path: &Path) -> Trace {
        let children = format!("/proc/{0}/task/{0}/children", self.strace.id());
        let pid = std::fs::read_to_string(&children).expect("strace's children");
        let pid: i32 = pid.split_whitespace().next().expect("the server").parse().expect("pid");
        // SAFETY: kill(2) with a pid and a signal number; no memory is shared.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.strace.try_wait().expect("wait").is_none() {
            assert!(Instant::now() < deadline, "strace did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
        Trace::parse(&std::fs::read_to_string(trace_path).expect("strace output"))
    }
}

impl Drop for Traced {
    fn drop(&mut self) {
        let _ = self.strace.kill();
        let _ = self.strace.wait();
    }
}

/// One system call: its thread, name and arguments (as strace decodes them,
/// paths of descriptors included), and the positions in the trace where
/// it began and where it returned. strace stops each thread at both, so
/// a call that returned before another began is listed before it.
#[derive(Debug, Clone)]
struct Call {
    tid: u32,
    name: String,
    args: String,
    began: usize,
    returned: usize,
}

/// An accepted message: where its DATA began (the 354 was written) and
/// where the 250 after it began to be written.
struct Accepted {
    data_started: usize,
    reply: usize,
}

/// A blob file written for a message: its temporary path, its final path
/// and the position of the rename between them.
struct Blob {
    temporary: String,
    stored: String,
    rename: usize,
}

struct Trace {
    calls: Vec<Call>,
    text: String,
}

impl Trace {
    /// Lines are `TID name(args) = result`, or, when threads interleave,
    /// `TID name(args <unfinished ...>` then `TID <... name resumed>...`.
    fn parse(text: &str) -> Trace {
        let mut calls = Vec::new();
        let mut unfinished: HashMap<u32, (String, String, usize)> = HashMap::new();
        for (position, line) in text.lines().enumerate() {
            let Some((tid, rest)) = line.split_once(' ') else {
                continue;
            };
            let Ok(tid) = tid.parse::<u32>() else { continue };
            let rest = rest.trim_start();
            if let Some(resumed) = rest.strip_prefix("<... ") {
                if let Some((name, args, began)) = unfinished.remove(&tid) {
                    let tail = resumed.split_once("resumed>").map_or("", |(_, t)| t);
                    calls.push(Call {
                        tid,
                        name,
                        args: args + tail,
                        began,
                        returned: position,
                    });
                }
                continue;
            }
            let Some((name, args)) = rest.split_once('(') else {
                continue;
            };
            if let Some(args) = args.strip_suffix(" <unfinished ...>") {
                unfinished.insert(tid, (name.to_string(), args.to_string(), position));
            } else {
                calls.push(Call {
                    tid,
                    name: name.to_string(),
                    args: args.to_string(),
                    began: position,
                    returned: position,
                });
            }
        }
        calls.sort_by_key(|c| c.began);
        Trace {
            calls,
            text: text.to_string(),
        }
    }

    /// The calls matching `pick`, in the order they began.
    fn find(&self, pick: impl Fn(&Call) -> bool) -> Vec<&Call> {
        self.calls.iter().filter(|c| pick(c)).collect()
    }

    /// The 354 and the 250 after it on the connection from `port`.
    fn accepted(&self, port: u16) -> Accepted {
        // -yy shows a socket as TCP:[local->peer].
        let connection = format!("->127.0.0.1:{port}]>");
        let replies = self.find(|c| {
            matches!(c.name.as_str(), "write" | "writev" | "sendto" | "sendmsg") && c.args.contains(&connection)
        });
        let data_started = replies
            .iter()
            .find(|c| c.args.contains("\"354 "))
            .unwrap_or_else(|| self.fail(&format!("no 354 on the connection from port {port}")))
            .began;
        let reply = replies
            .iter()
            .find(|c| c.began > data_started && c.args.contains("\"250 "))
            .unwrap_or_else(|| self.fail(&format!("no 250 after DATA on the connection from port {port}")))
            .began;
        Accepted { data_started, reply }
    }

    /// The blob file renamed into place while `message` was being received.
    fn blob_written_in(&self, message: &Accepted) -> Blob {
        let renames = self.find(|c| {
            c.name.starts_with("rename")
                && c.args.contains("/blobs/tmp/")
                && c.began > message.data_started
                && c.began < message.reply
        });
        let [rename] = renames[..] else {
            self.fail(&format!(
                "expected one blob renamed into place, found {}",
                renames.len()
            ));
        };
        // The quoted arguments: the temporary path, then the final one.
        let paths: Vec<&str> = rename.args.split('"').skip(1).step_by(2).collect();
        let [temporary, stored] = paths[..] else {
            self.fail(&format!("cannot read the paths of {rename:?}"));
        };
        Blob {
            temporary: temporary.to_string(),
            stored: stored.to_string(),
            rename: rename.began,
        }
    }

    /// The blob was written, its file fsynced, renamed, and its directory
    /// fsynced, all before the commit that refers to it wrote the log, and
    /// so before `reply`. (Nothing else commits meanwhile: the large
    /// message is the first thing this server stores.)
    fn assert_blob_durable(&self, blob: &Blob, reply: usize) {
        let on = |path: &str| format!("{}>", tail(path));
        let file = on(&blob.temporary);
        let writes = self.find(|c| c.name == "write" && c.args.contains(&file));
        let synced = self
            .find(|c| c.name == "fsync" && c.args.contains(&file))
            .first()
            .map(|c| (c.began, c.returned))
            .unwrap_or_else(|| {
                self.fail(&format!(
                    "the blob file {} was not fsynced before its rename",
                    blob.temporary
                ))
            });
        assert!(!writes.is_empty(), "no write to the blob file {}", blob.temporary);
        assert!(
            writes.iter().all(|w| w.returned < synced.0),
            "the blob file was written after its fsync"
        );
        assert!(
            synced.1 < blob.rename,
            "the blob file was renamed before its fsync returned"
        );
        let directory = on(Path::new(&blob.stored).parent().and_then(Path::to_str).unwrap_or(""));
        let directory_synced = self.find(|c| c.name == "fsync" && c.args.contains(&directory) && c.began > blob.rename);
        let commit = self.first_frame(blob.rename, reply).map_or(reply, |c| c.began);
        match directory_synced.first() {
            Some(c) if c.returned < commit => {}
            Some(_) => self.fail("the blob's directory was fsynced only after the commit referring to it"),
            None => self.fail(&format!(
                "the directory of {} was not fsynced after the rename",
                blob.stored
            )),
        }
    }

    /// Frames were written to the write-ahead log after `from` (the commit
    /// holding the message) and synced by the thread that wrote them,
    /// before `reply`. Commits run one after another on the writer thread,
    /// so the first frame written after `from` belongs to this commit or
    /// one before it, and either is synced before this one's caller hears
    /// of it. Neither another thread's sync (a checkpoint's) nor the sync
    /// of the log's 32-byte header (at offset 0, written when the log
    /// starts afresh) counts: with `synchronous = NORMAL` those are the
    /// only syncs the log gets.
    fn assert_log_synced(&self, message: &str, from: usize, reply: usize) {
        let write = self.first_frame(from, reply).unwrap_or_else(|| {
            self.fail(&format!(
                "{message}: no frame written to the write-ahead log before its 250"
            ))
        });
        let synced = self.find(|c| {
            matches!(c.name.as_str(), "fsync" | "fdatasync")
                && c.args.contains(LOG)
                && c.tid == write.tid
                && c.began > write.returned
                && c.returned < reply
        });
        if synced.is_empty() {
            self.fail(&format!(
                "{message}: the write-ahead log was not synced by its writer before the 250"
            ));
        }
    }

    /// The first write of log frames (not of the log's header, at offset
    /// 0) that began between `from` and `until`.
    fn first_frame(&self, from: usize, until: usize) -> Option<&Call> {
        self.calls.iter().find(|c| {
            c.name == "pwrite64"
                && c.args.contains(LOG)
                && offset(&c.args).is_some_and(|o| o > 0)
                && c.began > from
                && c.began < until
        })
    }

    fn fail(&self, what: &str) -> ! {
        let relevant: Vec<&str> = self
            .text
            .lines()
            .filter(|l| l.contains("blobs") || l.contains("-wal") || l.contains("TCP:"))
            .collect();
        panic!("{what}\n--- strace (files and sockets) ---\n{}", relevant.join("\n"));
    }
}

/// The write-ahead log, as -yy shows its descriptors.
const LOG: &str = "postamt.db-wal>";

/// The file offset of a pwrite64: `fd, "data"..., count, offset) = result`.
fn offset(args: &str) -> Option<u64> {
    let (call, _) = args.rsplit_once(") =")?;
    call.rsplit(", ").next()?.trim().parse().ok()
}

/// The last two components of a path, as -yy shows it at the end of a
/// descriptor (the data directory may be named differently in a rename).
fn tail(path: &str) -> String {
    let mut parts = path.rsplit('/');
    let (name, parent) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    format!("/{parent}/{name}")
}
