//! Sessions over in-memory streams, for the imapd crate's own tests: a
//! store in a temporary directory, one account, and as many sessions on it
//! as a test needs, each already logged in (login has tests of its own;
//! these are about what sessions see of each other's changes).

mod appendlimit;
mod copy;
mod errors;
mod fetch;
mod flags;
mod idle;
mod keywords;
mod mailboxes;
mod metadata;
mod nodes;
mod notify;
mod objects;
mod order;
mod search;
mod seen;
mod select;
mod sessions;
mod sort_thread;
mod view_memory;

use std::sync::Arc;
use std::time::Duration;

use auth::{Throttle, ThrottleConfig};
use net::{Connection, Stream};
use store::{Account, Store, StoreOptions};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};

use crate::ImapConfig;
use crate::server::Server;
use crate::session::{Session, State};

pub(crate) struct Harness {
    server: Arc<Server>,
    account: Account,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub async fn new() -> Harness {
        Harness::with_config(ImapConfig::default()).await
    }

    pub async fn with_config(config: ImapConfig) -> Harness {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Store::open(dir.path()).await.expect("open store");
        add_alice(&store).await;
        Harness::serving(config, store, dir).await
    }

    /// Two servers, as two nodes of a cluster, each with its own store on
    /// one fresh PostgreSQL database; None (the reason printed) without
    /// PostgreSQL.
    pub async fn two_nodes() -> Option<(Harness, Harness)> {
        let url = test_postgres::fresh_database()?;
        let mut nodes = Vec::new();
        for _ in 0..2 {
            let dir = tempfile::tempdir().expect("temporary directory");
            let options = StoreOptions {
                url: Some(url.clone()),
                ..StoreOptions::sqlite(dir.path())
            };
            let store = Store::open_with(&options).await.expect("open store");
            if nodes.is_empty() {
                add_alice(&store).await;
            }
            nodes.push(Harness::serving(ImapConfig::default(), store, dir).await);
        }
        let second = nodes.pop()?;
        Some((nodes.pop()?, second))
    }

    /// A server on `store`, whose files are in `dir`, for alice.
    async fn serving(config: ImapConfig, store: Store, dir: tempfile::TempDir) -> Harness {
        let account = store
            .find_account("alice@example.test")
            .await
            .expect("find account")
            .expect("account");
        let throttle = Arc::new(Throttle::new(ThrottleConfig::default()));
        let server = Server::new(config, store, None, throttle);
        Harness {
            server,
            account,
            _dir: dir,
        }
    }

    /// A session logged in as alice, running on a task of its own.
    pub async fn session(&self) -> Client {
        self.session_through(1 << 20).await
    }

    /// A session whose connection holds at most `capacity` bytes on their
    /// way to the client: one that does not read holds the session up.
    pub async fn session_through(&self, capacity: usize) -> Client {
        let (client, ours) = tokio::io::duplex(capacity);
        let conn = Connection::new(Stream::Plain(ours), Duration::from_secs(60));
        let peer = "127.0.0.1:1".parse().expect("address");
        let mut session = Session::new(conn, self.server.clone(), peer);
        session.changes = Some(self.server.store.changes());
        session.state = State::Authenticated {
            account: self.account.clone(),
        };
        tokio::spawn(session.run());
        let mut client = Client {
            stream: BufReader::new(client),
            tag: 0,
        };
        let greeting = client.line().await;
        assert!(greeting.starts_with("* OK"), "{greeting}");
        client
    }
}

pub(crate) struct Client {
    stream: BufReader<DuplexStream>,
    tag: u32,
}

impl Client {
    pub async fn line(&mut self) -> String {
        let mut line = String::new();
        let read = tokio::time::timeout(Duration::from_secs(10), self.stream.read_line(&mut line))
            .await
            .expect("an answer within 10 s")
            .expect("read");
        assert!(read > 0, "the session ended");
        line
    }

    pub async fn send(&mut self, text: &str) {
        self.stream.get_mut().write_all(text.as_bytes()).await.expect("write");
    }

    /// Sends a command; returns the untagged lines of its answer and the
    /// tagged line, which must be OK.
    pub async fn ok(&mut self, command: &str) -> Vec<String> {
        let (untagged, done) = self.command(command).await;
        assert!(done.contains(" OK "), "{command}: {done} after {untagged:?}");
        untagged
    }

    pub async fn command(&mut self, command: &str) -> (Vec<String>, String) {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        self.send(&format!("{tag} {command}\r\n")).await;
        let mut untagged = Vec::new();
        loop {
            let line = self.line().await;
            if line.starts_with(&format!("{tag} ")) {
                return (untagged, line);
            }
            untagged.push(line);
        }
    }

    /// APPEND of a small message, its literal sent at once (LITERAL+).
    pub async fn append(&mut self, flags: &str) {
        let (untagged, done) = self.try_append("INBOX", flags).await;
        assert!(done.contains(" OK "), "APPEND: {done} after {untagged:?}");
    }

    /// APPEND of a small message to `mailbox`, whatever the answer.
    pub async fn try_append(&mut self, mailbox: &str, flags: &str) -> (Vec<String>, String) {
        self.append_message(mailbox, flags, "Subject: test\r\n\r\nbody\r\n")
            .await
    }

    /// APPEND of `message` to `mailbox`, whatever the answer.
    pub async fn append_message(&mut self, mailbox: &str, flags: &str, message: &str) -> (Vec<String>, String) {
        self.command(&format!(
            "APPEND {mailbox} ({flags}) {{{}+}}\r\n{message}",
            message.len()
        ))
        .await
    }

    /// Sends a command that must fail with `status` (NO or BAD); returns
    /// the untagged lines and the tagged one.
    pub async fn fails(&mut self, status: &str, command: &str) -> (Vec<String>, String) {
        let (untagged, done) = self.command(command).await;
        assert!(
            done.contains(&format!(" {status} ")),
            "{command}: {done} after {untagged:?}"
        );
        (untagged, done)
    }

    /// The tagged line of a command that must be answered NO.
    pub async fn no(&mut self, command: &str) -> String {
        self.fails("NO", command).await.1
    }

    /// The tagged line of a command that must be answered BAD.
    pub async fn bad(&mut self, command: &str) -> String {
        self.fails("BAD", command).await.1
    }

    /// Starts IDLE; returns its tag once the server is idling.
    pub async fn idle(&mut self) -> String {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        self.send(&format!("{tag} IDLE\r\n")).await;
        let line = self.line().await;
        assert!(line.starts_with("+ "), "IDLE: {line}");
        tag
    }
}

/// The domain example.test with alice in it.
async fn add_alice(store: &Store) {
    store.add_domain("example.test").await.expect("add domain");
    // Never checked: sessions start logged in.
    store
        .add_account("alice@example.test", "no login")
        .await
        .expect("add account");
}

/// The index of the first line that starts with `start`; panics if none.
pub(crate) fn position(lines: &[String], start: &str) -> usize {
    lines
        .iter()
        .position(|line| line.starts_with(start))
        .unwrap_or_else(|| panic!("no {start:?} in {lines:?}"))
}

/// Untagged lines joined into whole responses: the lines of a literal
/// and what follows it belong to the response they are in.
pub(crate) fn answers(lines: Vec<String>) -> Vec<String> {
    let mut joined: Vec<String> = Vec::new();
    for line in lines {
        match joined.last_mut() {
            Some(last) if !line.starts_with("* ") => last.push_str(&line),
            _ => joined.push(line),
        }
    }
    joined
}
