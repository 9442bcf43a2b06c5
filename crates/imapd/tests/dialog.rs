//! IMAP dialogs: every file in `tests/dialogs/` is one scenario, replayed
//! against real sessions over in-memory streams and a real store, by the
//! runner in `crates/dialog-runner`: each once on SQLite in a temporary
//! directory and once on PostgreSQL (the tests in `postgres::`). The
//! format (see `tests/dialogs/README`):
//!
//! - `# text`: a comment; each file starts with one saying why it exists.
//! - `option: empty` / `option: no-cleartext`: set up before the first
//!   session (no messages in INBOX; logins refused without TLS).
//! - `c: line` sends `line` and CRLF; consecutive `c:` lines go out in one
//!   write, so a literal's content is the `c:` lines after its `{n+}`.
//! - `s: line` expects the next line the server sends, untagged (`* `),
//!   continuation (`+ `), tagged, or a line inside a literal; a line ending
//!   in `...` matches any line that starts with what comes before it.
//! - `s: <closed>` expects the server to have ended the session.
//! - `c2:` / `s2:` talk to a second session on the same account, opened on
//!   first use; `c1:` / `s1:` are the same as `c:` / `s:`.
//!
//! When the script ends the client hangs up; any line the server sent
//! that the script did not expect fails the test.
//!
//! Sessions start after the greeting (checked to be `* OK`). Unless
//! `option: empty`, INBOX holds the three messages of [`MESSAGES`],
//! appended over IMAP before the dialog starts.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use auth::{Throttle, ThrottleConfig};
use dialog_runner::Client;
use imapd::{ImapConfig, Server};
use store::{Store, StoreOptions};

/// The password of alice@example.test in every dialog.
const PASSWORD: &str = "secret";

/// INBOX: flags, then content. UIDs 1, 2, 3; sizes 23, 48, 56.
const MESSAGES: [(&str, &str); 3] = [
    ("\\Seen", "Subject: one\r\n\r\nfirst\r\n"),
    ("", "Subject: two\r\n\r\n.starts with a dot\r\n..two dots\r\n"),
    (
        "\\Flagged $Important",
        "Subject: three\r\nX-Extra: yes\r\n\r\nline 1\r\nline 2\r\nline 3\r\n",
    ),
];

/// One argon2 hash for every dialog: hashing is the slow part of set-up.
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(PASSWORD).expect("hash"))
}

/// Sends a command and reads up to its tagged answer, which must be OK.
async fn ok(client: &mut Client, tag: &str, command: &str) {
    client.queue(&format!("{tag} {command}"));
    loop {
        let line = client.line(command).await.expect("an answer");
        if let Some(done) = line.strip_prefix(&format!("{tag} ")) {
            assert!(done.starts_with("OK"), "{command}: {line}");
            return;
        }
    }
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
    let script = dialog_runner::script(env!("CARGO_MANIFEST_DIR"), name, "imap");

    let dir = tempfile::tempdir().expect("temporary directory");
    let mut config = ImapConfig {
        allow_cleartext_auth: true,
        ..ImapConfig::default()
    };
    let mut empty = false;
    let mut quota = None;
    for option in script.lines().filter_map(|l| l.strip_prefix("option: ")) {
        match option.trim() {
            "no-cleartext" => config.allow_cleartext_auth = false,
            "empty" => empty = true,
            other if other.starts_with("quota ") => quota = Some(quota_option(name, other)),
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
    let alice = store
        .add_account("alice@example.test", password_hash())
        .await
        .expect("add account");
    // `{UIDVALIDITY}` in a script is INBOX's (it depends on the clock),
    // for commands that must name it (QRESYNC, RFC 7162 §3.2.5).
    let inbox = store.inbox(alice).await.expect("INBOX");
    let script = script.replace("{UIDVALIDITY}", &inbox.uidvalidity.to_string());
    // No delay after a failed login: the dialogs test answers, not timing.
    let throttle = Arc::new(Throttle::new(ThrottleConfig {
        failure_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        ..ThrottleConfig::default()
    }));
    let cleartext = config.allow_cleartext_auth;
    let server = Server::new(
        ImapConfig {
            allow_cleartext_auth: true,
            ..config.clone()
        },
        store.clone(),
        None,
        throttle.clone(),
    );
    if !empty {
        let mut setup = open(server.clone(), "setup".into()).await;
        ok(&mut setup, "s1", &format!("LOGIN alice@example.test {PASSWORD}")).await;
        for (flags, content) in MESSAGES {
            let command = format!(
                "APPEND INBOX ({flags}) \"01-Jan-2026 10:00:00 +0000\" {{{}+}}\r\n{content}",
                content.len()
            );
            ok(&mut setup, "s2", &command).await;
        }
        ok(&mut setup, "s3", "LOGOUT").await;
    }
    if let Some((storage, messages)) = quota {
        // The warning would be a message of its own in INBOX.
        store.set_quota_policy(store::QuotaPolicy {
            warn_percent: 0,
            ..store::QuotaPolicy::default()
        });
        store
            .set_quota("alice@example.test", Some(storage), Some(messages))
            .await
            .expect("set the quota");
    }
    let server = if cleartext {
        server
    } else {
        Server::new(config, store, None, throttle)
    };

    dialog_runner::replay(&format!("{name}.imap"), &script, |context| {
        open(server.clone(), context)
    })
    .await;
}

/// `quota STORAGE MESSAGES`: alice's limits, in octets and messages.
fn quota_option(name: &str, option: &str) -> (store::Limit, store::Limit) {
    let limits: Vec<u64> = option
        .split_whitespace()
        .skip(1)
        .map(|n| {
            n.parse()
                .unwrap_or_else(|_| panic!("{name}: {option:?} needs two numbers"))
        })
        .collect();
    assert_eq!(limits.len(), 2, "{name}: {option:?} needs two numbers");
    (store::Limit::At(limits[0]), store::Limit::At(limits[1]))
}

async fn open(server: Arc<Server>, context: String) -> Client {
    let peer: SocketAddr = "192.0.2.1:1430".parse().expect("address");
    let start = |theirs| drop(tokio::spawn(net::session(server, theirs, peer, false)));
    dialog_runner::connect(start, "* OK", &context).await
}

// One line per command or topic, in file name order.
dialog_runner::dialogs! { "imap", run, postgres: run_on_postgres;
    append, append_multi, append_selected,
    authenticate, authenticate_errors, authenticate_initial,
    capabilities,
    catenate,
    close_readonly,
    condstore_fetch, condstore_search, condstore_select, condstore_store,
    copy_move,
    create_special_use,
    create_delete_rename,
    expunge_close,
    fetch_attributes, fetch_body, fetch_errors, fetch_partial,
    idle, idle_authenticated,
    notify_rfc_example, notify_mailbox_events, notify_metadata, notify_new_fetch, notify_new_condstore, notify_selected_delayed,
    keywords_flag_list,
    list_patterns, list_special_use_status,
    literal_before_login,
    login, login_literal, login_literal_plus,
    logout_selected,
    metadata_get, metadata_rename_delete, metadata_set,
    long_line_before_login,
    misc,
    move_many,
    no_cleartext,
    quota_getquota, quota_none, quota_overquota, quota_setquota, quota_status,
    not_authenticated,
    qresync_expunge,
    objectid,
    preview,
    rename_inbox,
    replace,
    savedate,
    search,
    sort, sort_esort_partial, sort_two_sessions, sort_base_subjects,
    context_rfc_examples, context_two_sessions, context_limits, context_idle,
    thread,
    searchres_empty,
    searchres_min_max,
    select_examine,
    selected_state_only,
    status, status_selected,
    store_flags,
    subscribe,
    syntax_errors,
    too_many_errors,
    two_sessions_append, two_sessions_copy, two_sessions_examine, two_sessions_expunge,
    two_sessions_idle, two_sessions_keyword_announce, two_sessions_store,
    two_sessions_condstore, two_sessions_qresync,
    uid_commands,
    uidonly_rfc_examples, uidonly_refusals, uidonly_two_sessions, uidonly_qresync,
    utf7_invalid,
    utf8_names,
}
