//! The store behind the POP3 and IMAP targets, one per thread: opened
//! once, with one account whose mailbox is reset before every exec, and
//! replaced by a fresh one in a new directory every
//! [`crate::STORE_EXECS`] execs so that it does not grow without bound.

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

use auth::{Throttle, ThrottleConfig};
use store::{Flags, MessageFacts, Store, StoreOptions};
use tokio::runtime::Runtime;

use crate::pipe::ServerEnd;
use crate::transcript::{Transcript, Violation, check_memory};

/// The account every session logs in to (password [`crate::PASSWORD`]).
pub const USER: &str = "alice@example.test";
const DOMAIN: &str = "example.test";

/// INBOX before each session: flags, then content. The second message
/// needs dot-stuffing in POP3 (RFC 1939 §3), the third has a MIME
/// structure for BODYSTRUCTURE and more lines than a TOP asks for.
pub const MESSAGES: [(&str, &str); 3] = [
    ("\\Seen", "Subject: one\r\nFrom: bob@example.test\r\n\r\nfirst\r\n"),
    ("", "Subject: two\r\n\r\n.starts with a dot\r\n..two dots\r\n"),
    (
        "\\Flagged $Important",
        "Subject: three\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nline 1\r\nline 2\r\nline 3\r\n--b--\r\n",
    ),
];

pub struct World {
    pub runtime: Runtime,
    pub store: Store,
    /// Holds the store's files; removed with it.
    _dir: tempfile::TempDir,
    execs: u64,
}

fn fail<T, E: std::fmt::Display>(what: &str, result: Result<T, E>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("session-fuzz set-up: {what}: {e}"),
    }
}

impl World {
    pub fn open() -> World {
        let runtime = crate::driver::runtime();
        let (dir, store) = open_store(&runtime);
        World {
            runtime,
            store,
            _dir: dir,
            execs: 0,
        }
    }

    /// Makes [`USER`] afresh, with [`MESSAGES`] in INBOX unless `empty`.
    pub fn reset_account(&mut self, empty: bool) {
        self.execs += 1;
        if self.execs.is_multiple_of(crate::STORE_EXECS) {
            let (dir, store) = open_store(&self.runtime);
            self.store = store;
            self._dir = dir;
        }
        let store = self.store.clone();
        self.runtime.block_on(async move {
            if fail("find the account", store.find_account(USER).await).is_some() {
                fail("remove the account", store.remove_account(USER).await);
            }
            let account = fail("add the account", store.add_account(USER, crate::password_hash()).await);
            if empty {
                return;
            }
            let inbox = fail("find INBOX", store.inbox(account).await);
            let mut messages = Vec::new();
            for (flags, text) in MESSAGES {
                let names: Vec<String> = flags.split_whitespace().map(str::to_string).collect();
                let content = fail("store a message", store.put_content(text.as_bytes().to_vec()).await);
                let facts = MessageFacts::of(text.as_bytes());
                messages.push((content, Flags::from_names(&names), 1_767_261_600, facts));
            }
            fail("append", store.append_many(inbox.id, messages).await);
        });
    }
}

/// Where the stores go: in memory (tmpfs) where there is one, so that a
/// commit's fsync costs nothing; an exec commits several times.
fn store_parent() -> std::path::PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Stores are named after their process, so that those of processes that
/// died without cleaning up (a fuzzer's crashing child, aborted) can be
/// removed: in /dev/shm they would hold memory until the next boot.
const PREFIX: &str = "session-fuzz-";

/// Removes the stores of processes that no longer run (where /proc says
/// which run).
fn remove_orphans(parent: &std::path::Path) {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)?.split('-').next()) else {
            continue;
        };
        let alive = std::path::Path::new("/proc").join(pid).exists();
        if !alive && pid.parse::<u32>().is_ok() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn open_store(runtime: &Runtime) -> (tempfile::TempDir, Store) {
    let parent = store_parent();
    remove_orphans(&parent);
    let prefix = format!("{PREFIX}{}-", std::process::id());
    let dir = fail(
        "a temporary directory",
        tempfile::Builder::new().prefix(&prefix).tempdir_in(parent),
    );
    let options = StoreOptions::sqlite(dir.path());
    let store = fail("open the store", runtime.block_on(Store::open_with(&options)));
    fail("add the domain", runtime.block_on(store.add_domain(DOMAIN)));
    (dir, store)
}

/// No waits after failed logins: the targets test answers, not timing.
pub fn throttle() -> std::sync::Arc<Throttle> {
    std::sync::Arc::new(Throttle::new(ThrottleConfig {
        failure_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        ..ThrottleConfig::default()
    }))
}

thread_local! {
    /// The thread's store and runtime, shared by the POP3 and IMAP targets
    /// (each exec resets the account it uses).
    static WORLD: RefCell<Option<World>> = const { RefCell::new(None) };
}

/// Runs one input of a store-backed target: the thread's account reset
/// (emptied when the input asks for the alternate setup), the session
/// `start` makes from the store driven write by write with `check` after
/// each, then `check` on the whole transcript and the heap within `memory`.
pub fn run_on_store<F>(
    data: &[u8],
    start: impl FnOnce(Store, ServerEnd) -> F,
    check: impl Fn(&Transcript) -> Result<(), Violation>,
    memory: usize,
) -> Result<Transcript, Violation>
where
    F: Future<Output = ()> + Send + 'static,
{
    let input = crate::input::decode(data);
    let run = WORLD.with_borrow_mut(|world| {
        let world = world.get_or_insert_with(World::open);
        world.reset_account(input.alternate);
        let store = world.store.clone();
        crate::driver::drive(&world.runtime, &input.chunks, |stream| start(store, stream), &check)
    })?;
    check(&run.transcript)?;
    check_memory(run.peak, memory)?;
    Ok(run.transcript)
}
