//! What a mail store answers, in a form two stores can be compared by:
//! for every mailbox, its messages in UID order with their flags (sorted,
//! \Recent left out: it belongs to a session), internal date and the
//! SHA-256 of their content with CRLF line ends. From postamt over IMAP
//! (Python's imaplib), and from Dovecot with `doveadm fetch` over a
//! Maildir or mbox it reads itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::Server;

/// One message as a client sees it: flags, internal date, content hash.
pub type Seen = (Vec<String>, i64, String);
/// Every mailbox (as IMAP names it, modified UTF-7) with its messages.
pub type Answers = BTreeMap<String, Vec<Seen>>;

/// One FETCH answer: UID, flags, internal date, content hash.
type Fetched = (i64, Vec<String>, i64, String);

/// What `server` answers over IMAP for `user`'s every mailbox.
pub fn imap_answers(server: &Server, user: &str) -> Answers {
    let script = format!(
        r#"
import hashlib, imaplib, json, re, time, mailtest
c = mailtest.imap("{user}")
typ, lines = c.list()
for line in lines:
    m = re.match(rb'\((.*?)\) "(.*?)" (.*)', line)
    if b'\\Noselect' in m.group(1):
        continue
    name = m.group(3).decode()
    c.select(name, readonly=True)
    print(json.dumps([name.strip('"'), None]))
    typ, data = c.uid('FETCH', '1:*', '(UID FLAGS INTERNALDATE BODY.PEEK[])')
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta, body = item
        uid = int(re.search(rb'UID (\d+)', meta).group(1))
        flags = sorted(f.decode() for f in imaplib.ParseFlags(meta) if f != b'\\Recent')
        date = int(time.mktime(imaplib.Internaldate2tuple(meta)))
        print(json.dumps([name.strip('"'), [uid, flags, date, hashlib.sha256(body).hexdigest()]]))
"#
    );
    let mut answers: BTreeMap<String, Vec<(i64, Seen)>> = BTreeMap::new();
    for line in server.python(&script).lines() {
        let (name, message): (String, Option<Fetched>) = serde_json::from_str(line).expect("a line of JSON");
        let messages = answers.entry(name).or_default();
        if let Some((uid, flags, date, hash)) = message {
            messages.push((uid, (flags, date, hash)));
        }
    }
    answers
        .into_iter()
        .map(|(name, mut messages)| {
            messages.sort_by_key(|(uid, _)| *uid);
            (name, messages.into_iter().map(|(_, seen)| seen).collect())
        })
        .collect()
}

/// SHA-256 in hex of `data` with bare LF made CRLF.
pub fn crlf_hash(data: &[u8]) -> String {
    let mut out = Vec::with_capacity(data.len());
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    ring::digest::digest(&ring::digest::SHA256, &out)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A Dovecot of its own over a mail directory: a minimal config, run by
/// `doveadm` as root with mail access as `nobody` (Dovecot refuses
/// root), without a running server (no userdb lookup: USER and HOME
/// name the user).
pub struct Dovecot {
    pub dir: tempfile::TempDir,
}

impl Dovecot {
    /// A Dovecot whose mail is at `mail_location` (`maildir:~/Maildir`,
    /// `mbox:~/mail:INBOX=~/mail/inbox`), `~` being `self.home()`.
    pub fn new(mail_location: &str) -> Dovecot {
        let dir = tempfile::tempdir().expect("temporary directory");
        let home = dir.path().join("home");
        std::fs::create_dir(&home).unwrap();
        let config = format!(
            "mail_location = {mail_location}\nmail_uid = nobody\nmail_gid = nogroup\n\
             log_path = /dev/stderr\nssl = no\nbase_dir = {base}/run\nstate_dir = {base}/state\n",
            base = dir.path().display()
        );
        std::fs::write(dir.path().join("dovecot.conf"), config).unwrap();
        let dovecot = Dovecot { dir };
        dovecot.give_to_nobody();
        dovecot
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Lets Dovecot's mail user (nobody) write what the test put there.
    pub fn give_to_nobody(&self) {
        let status = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(self.home())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Runs doveadm; its standard output. `input` goes to its standard input.
    pub fn doveadm(&self, args: &[&str], input: Option<&[u8]>) -> String {
        use std::io::Write;
        let mut child = Command::new("doveadm")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .args(args)
            .env("USER", "u")
            .env("HOME", self.home())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("doveadm runs (Debian package dovecot-core)");
        let mut stdin = child.stdin.take().unwrap();
        if let Some(input) = input {
            stdin.write_all(input).unwrap();
        }
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "doveadm {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// What Dovecot answers for every mailbox, named as postamt would name
    /// it (by `rename`), in modified UTF-7.
    pub fn answers(&self, rename: impl Fn(&str) -> String) -> Answers {
        let json = self.doveadm(
            &[
                "-f",
                "json",
                "fetch",
                "mailbox uid flags date.received.unixtime text",
                "ALL",
            ],
            None,
        );
        let rows: Vec<BTreeMap<String, String>> = serde_json::from_str(&json).expect("doveadm's JSON");
        let mut answers: BTreeMap<String, Vec<(i64, Seen)>> = BTreeMap::new();
        for name in self.doveadm(&["mailbox", "list"], None).lines() {
            answers.entry(rename(name)).or_default();
        }
        for row in rows {
            let mut flags: Vec<String> = row["flags"]
                .split(' ')
                .filter(|f| !f.is_empty() && *f != "\\Recent")
                .map(str::to_string)
                .collect();
            flags.sort();
            let seen = (
                flags,
                row["date.received.unixtime"].parse().unwrap(),
                crlf_hash(row["text"].as_bytes()),
            );
            let uid: i64 = row["uid"].parse().unwrap();
            answers.entry(rename(&row["mailbox"])).or_default().push((uid, seen));
        }
        answers
            .into_iter()
            .map(|(name, mut messages)| {
                messages.sort_by_key(|(uid, _)| *uid);
                (name, messages.into_iter().map(|(_, seen)| seen).collect())
            })
            .collect()
    }
}

/// Sets a file's modification time (Dovecot's Maildir internal date).
pub fn set_mtime(path: &Path, unix: i64) {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix as u64);
    std::fs::File::options()
        .append(true)
        .open(path)
        .and_then(|f| f.set_modified(time))
        .unwrap();
}
