//! POP3 dialogs: every file in `tests/dialogs/` is one scenario, replayed
//! against a real session over an in-memory stream and a real store, by
//! the runner in `crates/dialog-runner`: each once on SQLite in a
//! temporary directory and once on PostgreSQL (`postgres::`). The
//! format (see `tests/dialogs/README`):
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
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use auth::{Throttle, ThrottleConfig};
use dialog_runner::Client;
use pop3d::{Pop3Config, Server};
use store::{Flags, MessageFacts, Store, StoreOptions};

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

async fn run(name: &str) {
    run_on(name, None).await;
}

/// The dialog on a store in PostgreSQL (a database of its own on the test
/// process's server); skipped as `test_postgres` says when there is none.
async fn run_on_postgres(name: &str) {
    if let Some(url) = test_postgres::fresh_database() {
        run_on(name, Some(url)).await;
    }
}

async fn run_on(name: &str, url: Option<String>) {
    let script = dialog_runner::script(env!("CARGO_MANIFEST_DIR"), name, "pop");

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
    let store = Store::open_with(&StoreOptions {
        url,
        ..StoreOptions::sqlite(dir.path())
    })
    .await
    .expect("open store");
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

    dialog_runner::replay(&format!("{name}.pop"), &script, |context| open(server.clone(), context)).await;
}

async fn open(server: Arc<Server>, context: String) -> Client {
    let peer: SocketAddr = "192.0.2.1:1100".parse().expect("address");
    let start = |theirs| drop(tokio::spawn(net::session(server, theirs, peer, false)));
    dialog_runner::connect(start, "+OK", &context).await
}

// One line per command or topic, in file name order.
dialog_runner::dialogs! { "pop", run, postgres: run_on_postgres;
    apop_absent,
    argument_errors,
    auth_errors, auth_list, auth_plain, auth_plain_continuation, auth_response_too_long,
    auth_unknown_user,
    authorization_after_login,
    capa_transaction,
    dele_after_quit, dele_all, dele_rset,
    empty_maildrop,
    greeting_capa,
    line_too_long,
    list_errors,
    maildrop_in_use,
    no_cleartext,
    noop_case,
    pass_with_spaces, pass_without_user,
    pipelined_login_failure,
    pipelining,
    retr, retr_dot_stuffing,
    rset_then_quit,
    session_after_in_use,
    stat_list,
    stls_begins, stls_offered, stls_pipelined, stls_unavailable,
    too_many_errors,
    top, top_dot_stuffing, top_errors,
    transaction_before_login,
    uidl,
    unknown_command,
    user_again, user_case, user_pass, user_pass_wrong,
}
