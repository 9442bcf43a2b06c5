//! rspamd end to end (issue 17): Debian's rspamd, started here on loopback
//! ports with the system's rules and the test settings in tests/rspamd/,
//! scans what arrives on port 25 (and, with scan_outgoing, what users
//! submit). The GTUBE test string is rejected with
//! rspamd's message; a message rspamd puts at "add header" lands in the
//! recipient's Junk with X-Spam headers (in the INBOX, marked, for a user
//! who chose `postamt user spam ADDRESS inbox`); a clean one in the INBOX;
//! and when rspamd is stopped, mail is accepted unscanned (fail open).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Server;

/// A running rspamd (with the redis its Bayes statistics need), stopped
/// when dropped.
struct Rspamd {
    _turn: Option<std::sync::MutexGuard<'static, ()>>,
    child: Child,
    port: u16,
    controller: u16,
    redis: Child,
    _dir: tempfile::TempDir,
}

/// The tests of this file that run rspamd take turns: each picks free
/// ports for its rspamd and redis, and two picking at once could be given
/// the same ones.
static ONE_RSPAMD_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

impl Rspamd {
    /// Starts rspamd and its redis. A start that fails (a picked port
    /// taken meanwhile by another test, say) is tried again with new ports.
    fn start() -> Rspamd {
        let mut turn = ONE_RSPAMD_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Rspamd::launch(turn) {
                Ok(rspamd) => return rspamd,
                Err((given_back, why)) => {
                    turn = given_back;
                    failures.push(why);
                }
            }
        }
        panic!("rspamd did not start: {failures:#?}");
    }

    fn launch(
        turn: std::sync::MutexGuard<'static, ()>,
    ) -> Result<Rspamd, (std::sync::MutexGuard<'static, ()>, String)> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/rspamd");
        let local = dir.path().join("local.d");
        std::fs::create_dir_all(&local).unwrap();
        for entry in std::fs::read_dir(repo.join("local.d")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, local.join(path.file_name().unwrap())).unwrap();
        }
        std::fs::copy(repo.join("spam-subjects.map"), dir.path().join("spam-subjects.map")).unwrap();
        let (port, controller, redis_port) = (free_port(), free_port(), free_port());
        for (file, port) in [("worker-normal.inc", port), ("worker-controller.inc", controller)] {
            let text = format!("bind_socket = \"127.0.0.1:{port}\";\ncount = 1;\n");
            std::fs::write(local.join(file), text).unwrap();
        }
        std::fs::write(
            local.join("redis.conf"),
            format!("servers = \"127.0.0.1:{redis_port}\";\n"),
        )
        .unwrap();
        let redis = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &redis_port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's package) runs");
        for sub in ["db", "run"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let var = |name: &str, path: &Path| format!("--var={name}={}", path.display());
        let log = std::fs::File::create(dir.path().join("rspamd.log")).unwrap();
        let child = Command::new("rspamd")
            .args(["-f", "-i", "-c", "/etc/rspamd/rspamd.conf"])
            .arg(var("LOCAL_CONFDIR", dir.path()))
            .arg(var("DBDIR", &dir.path().join("db")))
            .arg(var("RUNDIR", &dir.path().join("run")))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("rspamd (Debian's package) runs");
        let rspamd = Rspamd {
            _turn: Some(turn),
            child,
            port,
            controller,
            redis,
            _dir: dir,
        };
        // Ready when its normal worker answers /ping; ended, or silent for
        // a minute and a half, it failed.
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut rspamd = rspamd;
        while !rspamd.answers_ping() {
            let ended = rspamd.child.try_wait().ok().flatten().is_some();
            if ended || Instant::now() > deadline {
                let log = std::fs::read_to_string(rspamd._dir.path().join("rspamd.log")).unwrap_or_default();
                let why = format!("ended: {ended}; log: {}", &log[log.len().saturating_sub(2000)..]);
                // Dropping it stops its processes; the turn goes back for
                // the next try.
                let turn = rspamd._turn.take().expect("the turn is held");
                return Err((turn, why));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(rspamd)
    }

    fn answers_ping(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut answer = String::new();
        stream.write_all(b"GET /ping HTTP/1.0\r\n\r\n").is_ok()
            && stream.read_to_string(&mut answer).is_ok()
            && answer.contains("pong")
    }

    /// Stops rspamd with its workers: SIGTERM to the main process, which
    /// ends them (SIGKILL would leave them serving).
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Rspamd {
    fn drop(&mut self) {
        self.stop();
        let _ = self.redis.kill();
        let _ = self.redis.wait();
    }
}

const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

#[test]
fn rspamd_rejects_gtube_junks_spam_and_fails_open() {
    let mut rspamd = Rspamd::start();
    let server = Server::with_users(&format!(
        "[rspamd]\nurl = \"http://127.0.0.1:{}\"\ntimeout = 5\nscan_outgoing = true\n",
        rspamd.port
    ));
    let script = |body: &str| {
        format!(
            r#"
import smtplib, time, mailtest
def send(subject, body):
    client = mailtest.smtp(source="127.0.0.5")
    message = ("From: someone@elsewhere.test\r\nTo: bob@example.test\r\nSubject: " + subject +
               "\r\nDate: Tue, 1 Dec 2026 08:00:00 +0000\r\nMessage-ID: <" + str(time.time()) + "@elsewhere.test>\r\n\r\n" +
               body + "\r\n").encode()
    try:
        client.sendmail("someone@elsewhere.test", ["bob@example.test"], message)
        return None
    except smtplib.SMTPDataError as e:
        return (e.smtp_code, e.smtp_error)
    finally:
        client.quit()
{body}"#
        )
    };
    server.python(&script(&format!(
        r#"
code, text = send("hello", "{GTUBE}")
assert code == 554 and text == b"5.7.1 Gtube pattern", (code, text)

# With scan_outgoing, what a logged-in user sends is scanned too.
client = mailtest.submit("alice@example.test")
try:
    client.sendmail("alice@example.test", ["someone@elsewhere.test"], b"Subject: out\r\n\r\n{GTUBE}\r\n")
    raise AssertionError("outgoing GTUBE accepted")
except smtplib.SMTPDataError as e:
    assert e.smtp_code == 554, e
client.quit()

assert send("postamt spam test", "Buy now.") is None
assert send("lunch", "See you at noon.") is None
[clean] = mailtest.wait_for_messages("bob@example.test", 1)
assert b"Subject: lunch" in clean and b"X-Spam:" not in clean, clean[:600]
imap = mailtest.imap("bob@example.test")
typ, data = imap.select("Junk")
assert typ == "OK" and int(data[0]) == 1, (typ, data)
typ, data = imap.fetch("1", "(BODY.PEEK[HEADER])")
header = data[0][1]
assert b"X-Spam: Yes\r\n" in header and b'action="add header"' in header, header
# rspamd's own fields (its milter block) are added too.
assert b"X-Spamd-Bar: " in header and b"X-Rspamd-Server: " in header, header
assert b"Subject: postamt spam test" in header, header
imap.logout()
"#
    )));
    // A user who wants spam in the INBOX gets it there, marked.
    server.admin(&["user", "spam", "bob@example.test", "inbox"]);
    server.python(&script(
        r#"
assert send("postamt spam test again", "Buy more.") is None
stored = mailtest.wait_for_messages("bob@example.test", 2)
assert b"Subject: postamt spam test again" in stored[1] and b"X-Spam: Yes" in stored[1], stored[1][:600]
"#,
    ));
    // A stopped rspamd: mail goes on, unscanned, and the log says so.
    rspamd.stop();
    server.python(&script(
        r#"
assert send("while rspamd is down", "x") is None
stored = mailtest.wait_for_messages("bob@example.test", 3)
assert b"Subject: while rspamd is down" in stored[2] and b"X-Spam:" not in stored[2] and b"X-Spamd-Bar" not in stored[2], stored[2][:600]
"#,
    ));
    assert!(
        server
            .log()
            .contains("rspamd failed; the message is accepted unscanned"),
        "{}",
        server.log()
    );
}

#[test]
fn a_message_moved_into_junk_teaches_rspamd_once() {
    let rspamd = Rspamd::start();
    let server = Server::with_users(&format!(
        "[rspamd]\nurl = \"http://127.0.0.1:{}\"\ncontroller = \"http://127.0.0.1:{}\"\n",
        rspamd.port, rspamd.controller
    ));
    server.python(&format!(
        r#"
import json, os, sqlite3, time, urllib.request, mailtest
def learned():
    with urllib.request.urlopen("http://127.0.0.1:{controller}/stat", timeout=10) as answer:
        return json.load(answer)["learned"]
def training():
    db = sqlite3.connect("file:" + os.path.join(os.environ["DATA_DIR"], "data", "postamt.db") + "?mode=ro", uri=True)
    rows = db.execute("SELECT class, state FROM spam_training").fetchall()
    db.close()
    return rows
before = learned()
client = mailtest.smtp(source="127.0.0.5")
body = "\r\n".join("word%d cheap pills offer limited time click here now %d" % (n, n * 7) for n in range(40))
client.sendmail("someone@elsewhere.test", ["bob@example.test"],
                ("From: someone@elsewhere.test\r\nTo: bob@example.test\r\nSubject: an offer\r\n"
                 "Date: Tue, 1 Dec 2026 08:00:00 +0000\r\nMessage-ID: <offer@elsewhere.test>\r\n\r\n" + body + "\r\n").encode())
client.quit()
mailtest.wait_for_messages("bob@example.test", 1)
imap = mailtest.imap("bob@example.test")
imap.select("INBOX")
start = time.monotonic()
assert imap.copy("1", "Junk")[0] == "OK"
assert time.monotonic() - start < 1, "the COPY does not wait for rspamd"
deadline = time.monotonic() + 30
while training() != [("spam", "done")]:
    assert time.monotonic() < deadline, ("rspamd was not taught", training())
    time.sleep(0.1)
assert learned() == before + 1, (before, learned())
# The same content into Junk again teaches nothing new: it is not even
# noted (the learning task would find nothing pending).
assert imap.copy("1", "Junk")[0] == "OK"
assert training() == [("spam", "done")], training()
imap.logout()
"#,
        controller = rspamd.controller
    ));
    assert!(
        server.log().contains("rspamd learned a message a user moved"),
        "{}",
        server.log()
    );
}

/// With `fail_closed`, an rspamd that cannot be reached defers mail
/// (451) instead of letting it through unscanned.
#[test]
fn fail_closed_defers_mail_while_rspamd_is_unreachable() {
    let nothing_there = free_port();
    let server = Server::with_users(&format!(
        "[rspamd]\nurl = \"http://127.0.0.1:{nothing_there}\"\nfail_closed = true\n"
    ));
    server.python(
        r#"
import smtplib, mailtest
client = mailtest.smtp(source="127.0.0.5")
try:
    client.sendmail("someone@elsewhere.test", ["bob@example.test"], b"Subject: x\r\n\r\nx\r\n")
    raise AssertionError("accepted unscanned")
except smtplib.SMTPDataError as e:
    assert e.smtp_code == 451 and e.smtp_error.startswith(b"4.7.1"), e
client.quit()
"#,
    );
    assert!(server.log().contains("failures=1"), "{}", server.log());
}
