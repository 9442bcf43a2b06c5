//! What the protocol crates' dialog tests share (a dev-dependency only,
//! never published): each file in a crate's `tests/dialogs/` is one
//! scenario of client lines and expected server lines, replayed against
//! real sessions over in-memory streams.
//!
//! - [`dialogs!`] makes one test per file and a test that every file of
//!   the directory is listed, so a new file cannot be forgotten.
//! - [`replay`] runs the line format pop3d and imapd share: `c: line`
//!   sends a line (consecutive ones in one write, which is how a file
//!   pipelines), `s: line` expects the next server line (a trailing `...`
//!   matches any line starting with what precedes it), `s: <closed>`
//!   expects the session to have ended, `c2:`/`s2:` talk to a second
//!   session (`c1:`/`s1:` name the first), and `# ...` and `option: ...`
//!   lines are left to the crate's runner. When the script ends the
//!   client hangs up, and anything the server still sends fails the test.
//!
//! smtpd's files have a richer format of their own (TLS, the stored
//! message) and use only [`dialogs!`].

#![forbid(unsafe_code)]

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};

/// How long a server may take over a line before the test fails.
const REPLY_WAIT: Duration = Duration::from_secs(10);

/// The script `tests/dialogs/{name}.{extension}` of the crate at
/// `manifest_dir`, which must begin with a comment saying why it exists.
pub fn script(manifest_dir: &str, name: &str, extension: &str) -> String {
    let path = Path::new(manifest_dir)
        .join("tests/dialogs")
        .join(format!("{name}.{extension}"));
    let script = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(script.starts_with('#'), "{name}: start with a comment saying why");
    script
}

/// Starts a session: `start` gets the server's end of a fresh in-memory
/// stream (and spawns the session on it); the greeting must begin with
/// `greeting`.
pub async fn connect(start: impl FnOnce(DuplexStream), greeting: &str, context: &str) -> Client {
    let (ours, theirs) = tokio::io::duplex(1 << 20);
    start(theirs);
    let mut client = Client::new(ours);
    let line = client.line(context).await.unwrap_or_default();
    assert!(line.starts_with(greeting), "{context}: greeting {line:?}");
    client
}

/// The client end of one session.
pub struct Client {
    stream: BufReader<DuplexStream>,
    pending: Vec<u8>,
}

impl Client {
    pub fn new(stream: DuplexStream) -> Self {
        Client {
            stream: BufReader::new(stream),
            pending: Vec::new(),
        }
    }

    /// Queues `line` and CRLF; it goes out with the next read.
    pub fn queue(&mut self, line: &str) {
        self.pending.extend_from_slice(line.as_bytes());
        self.pending.extend_from_slice(b"\r\n");
    }

    async fn flush(&mut self) {
        if !self.pending.is_empty() {
            // The server may already have hung up; the next `s:` says so.
            let _ = self.stream.get_mut().write_all(&self.pending).await;
            self.pending.clear();
        }
    }

    /// Sends what is queued, then reads the next line without its CRLF
    /// (which it must have), or `None` at the end of the stream.
    pub async fn line(&mut self, context: &str) -> Option<String> {
        self.flush().await;
        let mut line = String::new();
        let read = tokio::time::timeout(REPLY_WAIT, self.stream.read_line(&mut line))
            .await
            .unwrap_or_else(|_| panic!("{context}: no answer within {REPLY_WAIT:?}"))
            .unwrap_or(0);
        if read == 0 {
            return None;
        }
        assert!(line.ends_with("\r\n"), "{context}: line without CRLF: {line:?}");
        line.truncate(line.len() - 2);
        Some(line)
    }

    /// Sends what is queued and hangs up; the session then ends without
    /// writing, so any line still coming was not expected.
    pub async fn hang_up(&mut self, context: &str) {
        self.flush().await;
        let _ = self.stream.get_mut().shutdown().await;
        if let Some(extra) = self.line(context).await {
            panic!("{context}: unexpected {extra:?}");
        }
    }
}

/// An expected line against the one the server sent.
pub fn matches(expected: &str, actual: &str) -> bool {
    match expected.strip_suffix("...") {
        Some(prefix) => actual.starts_with(prefix),
        None => actual == expected,
    }
}

/// Replays the dialog lines of `script` (named `file` in messages);
/// `open` starts a session and returns its client, past the greeting.
pub async fn replay<F, Fut>(file: &str, script: &str, mut open: F)
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Client>,
{
    let mut clients: [Option<Client>; 2] = [None, None];
    for (number, line) in script.lines().enumerate() {
        let context = format!("{file}:{}", number + 1);
        if line.is_empty() || line.starts_with('#') || line.starts_with("option: ") {
            continue;
        }
        let (prefix, text) = line
            .split_once(": ")
            .or_else(|| line.split_once(':'))
            .unwrap_or(("", ""));
        let (kind, session) = match prefix {
            "c" | "s" => (prefix, 0),
            "c1" | "s1" => (&prefix[..1], 0),
            "c2" | "s2" => (&prefix[..1], 1),
            _ => panic!("{context}: not a dialog line: {line:?}"),
        };
        let client = match &mut clients[session] {
            Some(client) => client,
            empty => empty.insert(open(context.clone()).await),
        };
        if kind == "c" {
            client.queue(text);
            continue;
        }
        let actual = client.line(&context).await;
        match (text, actual) {
            ("<closed>", None) => {}
            (expected, Some(actual)) if matches(expected, &actual) => {}
            (expected, actual) => panic!("{context}: expected {expected:?}, got {actual:?}"),
        }
    }
    for (session, client) in clients.iter_mut().enumerate() {
        if let Some(client) = client {
            client.hang_up(&format!("{file}: end of session {}", session + 1)).await;
        }
    }
}

/// One test per dialog file, calling `$run` with the file's name (without
/// the extension), and one test that every `*.$extension` file in the
/// crate's `tests/dialogs/` is listed. With `postgres: $on_postgres`, each
/// dialog is also a test in the module `postgres` that calls that function
/// (of the calling module), to replay it on a store in PostgreSQL.
#[macro_export]
macro_rules! dialogs {
    ($extension:literal, $run:path, postgres: $on_postgres:ident; $($name:ident),* $(,)?) => {
        $crate::dialogs! { $extension, $run; $($name),* }

        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$on_postgres(stringify!($name)).await;
                }
            )*
        }
    };
    ($extension:literal, $run:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                $run(stringify!($name)).await;
            }
        )*

        #[test]
        fn every_dialog_file_has_a_test() {
            let listed = [$(stringify!($name)),*];
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dialogs");
            for entry in std::fs::read_dir(&dir).expect("dialogs directory") {
                let path = entry.expect("entry").path();
                if path.extension().is_some_and(|e| e == $extension) {
                    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
                    assert!(listed.contains(&stem), "{stem}.{} is not listed in dialogs!", $extension);
                }
            }
        }
    };
}
