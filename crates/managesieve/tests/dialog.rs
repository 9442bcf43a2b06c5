//! ManageSieve dialogs: every file in `tests/dialogs/` is one scenario,
//! replayed against a real session over an in-memory stream and a real
//! store, by the runner in `crates/dialog-runner`: each once on SQLite in
//! a temporary directory and once on PostgreSQL (`postgres::`). The
//! format is pop3d's (see `tests/dialogs/README`); the options here:
//!
//! - `option: no-cleartext`: AUTHENTICATE refused without TLS.
//! - `option: tls`: a TLS certificate, so STARTTLS is offered.
//! - `option: short-timeout`: 300 ms of silence (before and after login)
//!   end the session, for the tests of clients that stop talking.
//! - `option: small-limits`: two scripts of at most 100 octets.
//!
//! Sessions start after the greeting (the capability list, checked to
//! end with `OK`). A literal is written as its header line followed by
//! `c:` lines whose octets, each with its CRLF, make up its size.
//!
//! Also here, in Rust rather than files: 10 MB lines and literals.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use auth::{Throttle, ThrottleConfig};
use dialog_runner::Client;
use managesieve::{ManageSieveConfig, Server};
use store::{SieveLimits, Store, StoreOptions};

/// The password of alice@example.test in every dialog.
const PASSWORD: &str = "secret";

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

/// A server on a fresh store with alice@example.test, set up as the
/// script's options say.
async fn server(name: &str, script: &str, url: Option<String>, dir: &tempfile::TempDir) -> Arc<Server> {
    let mut config = ManageSieveConfig {
        allow_cleartext_auth: true,
        ..ManageSieveConfig::default()
    };
    let mut tls = None;
    for option in script.lines().filter_map(|l| l.strip_prefix("option: ")) {
        match option.trim() {
            "no-cleartext" => config.allow_cleartext_auth = false,
            "tls" => tls = Some(net::load_or_create_tls(None, None, dir.path(), "mail.example.test").expect("tls")),
            "short-timeout" => {
                config.login_timeout = Duration::from_millis(300);
                config.timeout = Duration::from_millis(300);
            }
            "small-limits" => {
                config.limits = SieveLimits {
                    max_scripts: 2,
                    max_size: 100,
                }
            }
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
    store
        .add_account("alice@example.test", password_hash())
        .await
        .expect("add account");
    // No delay after a failed login: the dialogs test answers, not timing.
    let throttle = Arc::new(Throttle::new(ThrottleConfig {
        failure_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        ..ThrottleConfig::default()
    }));
    Server::new(config, store, tls, throttle)
}

async fn run_on(name: &str, url: Option<String>) {
    let script = dialog_runner::script(env!("CARGO_MANIFEST_DIR"), name, "ms");
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = server(name, &script, url, &dir).await;
    dialog_runner::replay(&format!("{name}.ms"), &script, |context| open(server.clone(), context)).await;
}

/// A session, past its greeting: the capability list, then OK.
async fn open(server: Arc<Server>, context: String) -> Client {
    let peer: SocketAddr = "192.0.2.1:4190".parse().expect("address");
    let start = |theirs| drop(tokio::spawn(net::session(server, theirs, peer, ())));
    let mut client = dialog_runner::connect(start, "\"IMPLEMENTATION\" \"postamt\"", &context).await;
    loop {
        match client.line(&context).await.as_deref() {
            Some("OK") => return client,
            Some(_) => {}
            None => panic!("{context}: the greeting did not end with OK"),
        }
    }
}

/// A 10 MB line is dropped as it arrives, never held: it is refused and
/// the session goes on.
#[tokio::test]
async fn a_ten_megabyte_line_is_refused_and_the_session_goes_on() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = server("ten_megabytes", "", None, &dir).await;
    let mut client = open(server, "ten_megabytes".into()).await;
    client.queue(&format!("NOOP \"{}\"", "x".repeat(10 << 20)));
    assert_eq!(client.line("10 MB").await.as_deref(), Some("NO \"Line too long\""));
    client.queue("NOOP");
    assert_eq!(client.line("after").await.as_deref(), Some("OK \"Done\""));
}

/// A 10 MB line that ends with a literal's header: the literal is dropped
/// with the line, never read as a command (here one that would delete).
#[tokio::test]
async fn a_ten_megabyte_line_takes_its_literal_with_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = server("ten_megabytes_and_a_literal", "", None, &dir).await;
    let mut client = open(server, "ten_megabytes_and_a_literal".into()).await;
    client.queue("AUTHENTICATE \"PLAIN\" \"AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\"");
    client.queue("PUTSCRIPT \"keep\" \"keep;\"");
    assert_eq!(client.line("login").await.as_deref(), Some("OK \"Logged in\""));
    assert_eq!(client.line("put").await.as_deref(), Some("OK \"Stored\""));
    client.queue(&format!("NOOP {} {{21+}}", "x".repeat(10 << 20)));
    client.queue("DELETESCRIPT \"keep\"");
    client.queue("");
    client.queue("LISTSCRIPTS");
    for expected in ["NO \"Line too long\"", "\"keep\"", "OK"] {
        assert_eq!(client.line(expected).await.as_deref(), Some(expected));
    }
}

/// The same with the 10 MB inside a literal announced before login,
/// where a literal may be no longer than a line.
#[tokio::test]
async fn a_ten_megabyte_literal_before_login_is_refused_unread() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = server("ten_megabyte_literal", "", None, &dir).await;
    let mut client = open(server, "ten_megabyte_literal".into()).await;
    let size = 10 << 20;
    client.queue(&format!("AUTHENTICATE \"PLAIN\" {{{size}+}}"));
    assert_eq!(
        client.line("header").await.as_deref(),
        Some("NO \"Literal too large; authenticate first\"")
    );
    client.queue(&"y".repeat(size));
    client.queue("NOOP");
    assert_eq!(client.line("after").await.as_deref(), Some("OK \"Done\""));
}

// One line per command or topic, in file name order.
dialog_runner::dialogs! { "ms", run, postgres: run_on_postgres;
    authenticate_cancel,
    authenticate_errors,
    authenticate_login, authenticate_login_initial,
    authenticate_plain, authenticate_plain_continuation, authenticate_plain_literal,
    authenticate_unknown_user, authenticate_wrong_password,
    before_authenticate,
    capability, capability_after_login,
    checkscript,
    deletescript,
    encrypt_needed,
    getscript,
    havespace,
    line_too_long,
    listscripts,
    literal_never_arrives,
    literal_synchronising,
    literal_too_large,
    logout,
    malformed,
    noop,
    putscript, putscript_invalid_name, putscript_quota, putscript_replace, putscript_syntax_error,
    putscript_warnings,
    quoted_too_long,
    refused_with_literal,
    renamescript,
    setactive,
    silent_client,
    starttls_begins, starttls_pipelined, starttls_unavailable,
    throttle,
    too_many_errors,
    unauthenticate,
    unknown_command,
}
