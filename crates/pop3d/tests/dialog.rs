//! POP3 dialogs: every file in `tests/dialogs/` is one scenario, replayed
//! against a real session over an in-memory stream and a real store in a
//! temporary directory. The format (see `tests/dialogs/README`):
//!
//! - `# text`: a comment; each file starts with one saying why it exists.
//! - `option: no-cleartext` / `option: tls` / `option: empty`: set up before
//!   the first session (password logins refused without TLS; a TLS
//!   certificate, so STLS is offered; a maildrop with no messages).
//! - `c: line` sends `line` and CRLF; consecutive `c:` lines go out in one
//!   write, which is how a file pipelines.
//! - `s: line` expects the next line the server sends; a line ending in
//!   `...` matches any line that starts with what comes before it.
//! - `s: <closed>` expects the server to have ended the session.
//! - `c2:` / `s2:` talk to a second session, opened on first use.
//!
//! When the script ends the client hangs up; any line the server sent
//! that the script did not expect fails the test.
//!
//! Sessions start after the greeting (checked to be `+OK`). The maildrop
//! holds the three messages of [`MESSAGES`] unless `option: empty`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use auth::{Throttle, ThrottleConfig};
use pop3d::{Pop3Config, Server};
use store::{Flags, MessageFacts, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};

/// The password of alice@example.test in every dialog.
const PASSWORD: &str = "secret";

/// The maildrop: the second message has lines that need dot-stuffing
/// (RFC 1939 §3), the third more body lines than TOP asks for.
const MESSAGES: [&str; 3] = [
    "Subject: one\r\n\r\nfirst\r\n",
    "Subject: two\r\n\r\n.starts with a dot\r\n..two dots\r\n",
    "Subject: three\r\nX-Extra: yes\r\n\r\nline 1\r\nline 2\r\nline 3\r\n",
];

/// One argon2 hash for every dialog: hashing is the slow part of set-up.
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(PASSWORD).expect("hash"))
}

struct Client {
    stream: BufReader<DuplexStream>,
    pending: Vec<u8>,
}

impl Client {
    async fn flush(&mut self) {
        if !self.pending.is_empty() {
            // The server may already have hung up; the next `s:` says so.
            let _ = self.stream.get_mut().write_all(&self.pending).await;
            self.pending.clear();
        }
    }

    /// The next line without CRLF, or None at end of stream.
    async fn line(&mut self, context: &str) -> Option<String> {
        self.flush().await;
        let mut line = String::new();
        let read = tokio::time::timeout(Duration::from_secs(10), self.stream.read_line(&mut line))
            .await
            .unwrap_or_else(|_| panic!("{context}: no answer within 10 s"))
            .unwrap_or(0);
        if read == 0 {
            return None;
        }
        assert!(line.ends_with("\r\n"), "{context}: line without CRLF: {line:?}");
        line.truncate(line.len() - 2);
        Some(line)
    }
}

fn matches(expected: &str, actual: &str) -> bool {
    match expected.strip_suffix("...") {
        Some(prefix) => actual.starts_with(prefix),
        None => actual == expected,
    }
}

async fn run(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/dialogs")
        .join(format!("{name}.pop"));
    let script = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(script.starts_with('#'), "{name}: start with a comment saying why");

    let dir = tempfile::tempdir().expect("temporary directory");
    let mut config = Pop3Config {
        allow_cleartext_auth: true,
        ..Pop3Config::default()
    };
    let mut tls = None;
    let mut empty = false;
    for option in script.lines().filter_map(|l| l.strip_prefix("option: ")) {
        match option.trim() {
            "no-cleartext" => config.allow_cleartext_auth = false,
            "tls" => tls = Some(net::load_or_create_tls(None, None, dir.path(), "mail.example.test").expect("tls")),
            "empty" => empty = true,
            other => panic!("{name}: unknown option {other:?}"),
        }
    }
    let store = Store::open(dir.path()).await.expect("open store");
    store.add_domain("example.test").await.expect("add domain");
    let account = store
        .add_account("alice@example.test", password_hash())
        .await
        .expect("add account");
    if !empty {
        let inbox = store.inbox(account).await.expect("inbox");
        for message in MESSAGES {
            let content = store.put_content(message.as_bytes().to_vec()).await.expect("content");
            store
                .append(inbox.id, content, Flags::default(), 0, MessageFacts::default())
                .await
                .expect("append");
        }
    }
    // No delay after a failed login: the dialogs test answers, not timing.
    let throttle = Arc::new(Throttle::new(ThrottleConfig {
        failure_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        ..ThrottleConfig::default()
    }));
    let server = Server::new(config, store, tls, throttle);

    let mut clients: Vec<Option<Client>> = vec![None, None];
    for (number, line) in script.lines().enumerate() {
        let context = format!("{name}.pop:{}", number + 1);
        if line.is_empty() || line.starts_with('#') || line.starts_with("option: ") {
            continue;
        }
        let (prefix, text) = line
            .split_once(": ")
            .or_else(|| line.split_once(':'))
            .unwrap_or(("", ""));
        let (kind, session) = match prefix {
            "c" | "s" => (prefix, 0),
            "c2" | "s2" => (&prefix[..1], 1),
            _ => panic!("{context}: not a dialog line: {line:?}"),
        };
        if clients[session].is_none() {
            clients[session] = Some(open(&server, &context).await);
        }
        let client = clients[session].as_mut().expect("opened");
        if kind == "c" {
            client.pending.extend_from_slice(text.as_bytes());
            client.pending.extend_from_slice(b"\r\n");
            continue;
        }
        let actual = client.line(&context).await;
        match (text, actual) {
            ("<closed>", None) => {}
            (expected, Some(actual)) if matches(expected, &actual) => {}
            (expected, actual) => panic!("{context}: expected {expected:?}, got {actual:?}"),
        }
    }
    // The script must account for every line: once the client hangs up,
    // the session ends without writing, so anything left was unexpected.
    for (session, client) in clients.iter_mut().enumerate() {
        if let Some(client) = client {
            let context = format!("{name}: end of session {}", session + 1);
            client.flush().await;
            let _ = client.stream.get_mut().shutdown().await;
            if let Some(extra) = client.line(&context).await {
                panic!("{context}: unexpected {extra:?}");
            }
        }
    }
}

async fn open(server: &Arc<Server>, context: &str) -> Client {
    let (ours, theirs) = tokio::io::duplex(1 << 20);
    let peer: SocketAddr = "192.0.2.1:1100".parse().expect("address");
    tokio::spawn(server.clone().session(theirs, peer, false));
    let mut client = Client {
        stream: BufReader::new(ours),
        pending: Vec::new(),
    };
    let greeting = client.line(context).await.unwrap_or_default();
    assert!(greeting.starts_with("+OK"), "{context}: greeting {greeting:?}");
    client
}

/// One test per dialog file, and one that checks none is left out.
macro_rules! dialogs {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                run(stringify!($name)).await;
            }
        )*

        #[test]
        fn every_dialog_file_has_a_test() {
            let listed = [$(stringify!($name)),*];
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dialogs");
            for entry in std::fs::read_dir(&dir).expect("dialogs directory") {
                let path = entry.expect("entry").path();
                if path.extension().is_some_and(|e| e == "pop") {
                    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
                    assert!(listed.contains(&stem), "{stem}.pop is not listed in dialogs!");
                }
            }
        }
    };
}

dialogs! {
    apop_absent,
    argument_errors,
    auth_errors,
    auth_list,
    auth_plain,
    auth_plain_continuation,
    auth_response_too_long,
    auth_unknown_user,
    authorization_after_login,
    capa_transaction,
    dele_after_quit,
    dele_all,
    dele_rset,
    empty_maildrop,
    greeting_capa,
    line_too_long,
    list_errors,
    maildrop_in_use,
    no_cleartext,
    noop_case,
    pass_with_spaces,
    pass_without_user,
    pipelined_login_failure,
    pipelining,
    retr,
    retr_dot_stuffing,
    rset_then_quit,
    session_after_in_use,
    stat_list,
    stls_begins,
    stls_offered,
    stls_pipelined,
    stls_unavailable,
    too_many_errors,
    top,
    top_dot_stuffing,
    top_errors,
    transaction_before_login,
    uidl,
    unknown_command,
    user_again,
    user_case,
    user_pass,
    user_pass_wrong,
}
