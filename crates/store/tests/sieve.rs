//! Sieve scripts in the store, on both backends: uploaded within the
//! account's limits, one active at a time, the active one safe from
//! deletion, renamed, the domain's default standing in for accounts
//! without one, global scripts, and the keys that vacation and duplicate
//! remember until they expire.

mod support;

use store::{SieveChange, SieveLimits, SieveRefusal, SieveScriptInfo, Store};
use support::{Backend, Place};

const LIMITS: SieveLimits = SieveLimits {
    max_scripts: 2,
    max_size: 100,
};

async fn alice(backend: Backend) -> (Place, Store, i64) {
    let (place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    let account = store.add_account("alice@example.test", "hash").await.unwrap();
    (place, store, account)
}

fn info(name: &str, active: bool, size: usize) -> SieveScriptInfo {
    SieveScriptInfo {
        name: name.into(),
        active,
        size,
    }
}

async fn scripts_are_stored_within_the_limits(backend: Backend) {
    let (_place, store, account) = alice(backend).await;
    let put = |name: &'static str, script: String| {
        let store = store.clone();
        async move {
            store
                .put_sieve_script(account, name, &script, "{}", LIMITS)
                .await
                .unwrap()
        }
    };
    assert_eq!(put("one", "keep;".into()).await, Ok(()));
    assert_eq!(put("two", "discard;".into()).await, Ok(()));
    assert_eq!(
        put("three", "keep;".into()).await,
        Err(SieveRefusal::TooManyScripts { max_scripts: 2 })
    );
    // Replacing a script adds none; too large is refused whatever the name.
    assert_eq!(put("one", "stop;".into()).await, Ok(()));
    assert_eq!(
        put("one", "x".repeat(101)).await,
        Err(SieveRefusal::TooLarge { max_size: 100 })
    );
    assert_eq!(
        store.sieve_scripts(account).await.unwrap(),
        [info("one", false, 5), info("two", false, 8)]
    );
    let one = store.sieve_script(account, "one").unwrap().unwrap();
    assert_eq!((one.script.as_str(), one.compiled.as_str()), ("stop;", "{}"));
    assert_eq!(store.sieve_script(account, "none").unwrap(), None);
    // HAVESPACE answers as PUTSCRIPT would.
    assert_eq!(store.sieve_space(account, "one", 100, LIMITS).await.unwrap(), Ok(()));
    assert!(store.sieve_space(account, "new", 10, LIMITS).await.unwrap().is_err());
    assert!(store.sieve_space(account, "one", 101, LIMITS).await.unwrap().is_err());
}

async fn one_script_is_active_and_cannot_be_deleted(backend: Backend) {
    let (_place, store, account) = alice(backend).await;
    for name in ["a", "b"] {
        store
            .put_sieve_script(account, name, name, "{}", LIMITS)
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(store.active_sieve_script(account).await.unwrap(), None);
    assert_eq!(
        store.activate_sieve_script(account, Some("missing")).await.unwrap(),
        SieveChange::NoSuchScript
    );
    assert_eq!(
        store.activate_sieve_script(account, Some("a")).await.unwrap(),
        SieveChange::Done
    );
    assert_eq!(
        store.activate_sieve_script(account, Some("b")).await.unwrap(),
        SieveChange::Done
    );
    assert_eq!(
        store.sieve_scripts(account).await.unwrap(),
        [info("a", false, 1), info("b", true, 1)]
    );
    assert_eq!(store.active_sieve_script(account).await.unwrap().unwrap().name, "b");
    // Replacing the active script keeps it active.
    store
        .put_sieve_script(account, "b", "bb", "{}", LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.active_sieve_script(account).await.unwrap().unwrap().script, "bb");
    assert_eq!(
        store.delete_sieve_script(account, "b").await.unwrap(),
        SieveChange::Active
    );
    assert_eq!(
        store.delete_sieve_script(account, "zz").await.unwrap(),
        SieveChange::NoSuchScript
    );
    assert_eq!(
        store.rename_sieve_script(account, "b", "a").await.unwrap(),
        SieveChange::NameTaken
    );
    assert_eq!(
        store.rename_sieve_script(account, "b", "c").await.unwrap(),
        SieveChange::Done
    );
    assert_eq!(store.active_sieve_script(account).await.unwrap().unwrap().name, "c");
    assert_eq!(
        store.activate_sieve_script(account, None).await.unwrap(),
        SieveChange::Done
    );
    assert_eq!(
        store.delete_sieve_script(account, "c").await.unwrap(),
        SieveChange::Done
    );
    assert_eq!(store.sieve_scripts(account).await.unwrap(), [info("a", false, 1)]);
    // Another account's scripts are its own.
    let bob = store.add_account("bob@example.test", "hash").await.unwrap();
    assert!(store.sieve_scripts(bob).await.unwrap().is_empty());
}

async fn the_domain_default_runs_without_an_active_script(backend: Backend) {
    let (_place, store, account) = alice(backend).await;
    store
        .set_domain_sieve_script("Example.TEST", Some(("junk;", "{\"j\":1}")))
        .await
        .unwrap();
    let default = store.active_sieve_script(account).await.unwrap().unwrap();
    assert_eq!(
        (default.script.as_str(), default.compiled.as_str()),
        ("junk;", "{\"j\":1}")
    );
    assert_eq!(store.domain_sieve_script("example.test").await.unwrap(), Some(default));
    store
        .put_sieve_script(account, "mine", "keep;", "{}", LIMITS)
        .await
        .unwrap()
        .unwrap();
    store.activate_sieve_script(account, Some("mine")).await.unwrap();
    assert_eq!(
        store.active_sieve_script(account).await.unwrap().unwrap().script,
        "keep;"
    );
    store.set_domain_sieve_script("example.test", None).await.unwrap();
    assert_eq!(store.domain_sieve_script("example.test").await.unwrap(), None);
    assert!(
        store
            .set_domain_sieve_script("elsewhere.test", Some(("x", "y")))
            .await
            .is_err()
    );

    store.set_global_sieve_script("spam", Some(("g;", "{}"))).await.unwrap();
    assert_eq!(store.global_sieve_script("spam").unwrap().unwrap().script, "g;");
    store.set_global_sieve_script("spam", None).await.unwrap();
    assert_eq!(store.global_sieve_script("spam").unwrap(), None);
}

async fn seen_keys_count_until_they_expire(backend: Backend) {
    let (place, store, account) = alice(backend).await;
    assert!(!store.sieve_seen(account, "k", 100).unwrap());
    store.remember_sieve_seen(account, "k", 200).await.unwrap();
    assert!(store.sieve_seen(account, "k", 199).unwrap());
    assert!(!store.sieve_seen(account, "k", 200).unwrap());
    store.remember_sieve_seen(account, "k", 300).await.unwrap();
    assert!(store.sieve_seen(account, "k", 250).unwrap());
    store.remember_sieve_seen(account, "other", 150).await.unwrap();
    assert_eq!(store.forget_sieve_seen(160).await.unwrap(), 1);
    assert_eq!(place.count("SELECT COUNT(*) FROM sieve_seen").await, 1);
    // An account's scripts and keys go with it.
    store
        .put_sieve_script(account, "s", "keep;", "{}", LIMITS)
        .await
        .unwrap()
        .unwrap();
    store.remove_account("alice@example.test").await.unwrap();
    assert_eq!(place.count("SELECT COUNT(*) FROM sieve_seen").await, 0);
    assert_eq!(place.count("SELECT COUNT(*) FROM sieve_scripts").await, 0);
}

on_both_backends!(
    scripts_are_stored_within_the_limits,
    one_script_is_active_and_cannot_be_deleted,
    the_domain_default_runs_without_an_active_script,
    seen_keys_count_until_they_expire,
);
