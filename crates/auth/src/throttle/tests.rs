use std::sync::Barrier;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

fn throttle() -> Arc<Throttle> {
    Arc::new(Throttle::new(ThrottleConfig {
        failure_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_failures: 4,
        max_network_failures: 10,
        max_site_failures: 25,
        lockout: Duration::from_secs(60),
        max_entries: 1000,
    }))
}

fn ip(address: &str) -> IpAddr {
    address.parse().unwrap()
}

/// One wrong password: reserved, then failed; its delay in milliseconds.
fn guess(throttle: &Arc<Throttle>, peer: &str, user: &str) -> Result<u128, LockedOut> {
    throttle.reserve(ip(peer), user).map(|a| a.failed().as_millis())
}

fn login(throttle: &Arc<Throttle>, peer: &str, user: &str) -> Result<(), LockedOut> {
    throttle.reserve(ip(peer), user).map(Attempt::succeeded)
}

#[test]
fn delays_grow_then_lock_out_one_account_from_one_network_only() {
    let throttle = throttle();
    let delays: Vec<u128> = (0..4)
        .map(|_| guess(&throttle, "192.0.2.1", "alice").unwrap())
        .collect();
    assert_eq!(delays, [10, 20, 40, 40]);
    // Locked out, even with the right password...
    assert!(login(&throttle, "192.0.2.1", "alice").is_err());
    assert!(
        login(&throttle, "192.0.2.1", "ALICE").is_err(),
        "case does not make a new account"
    );
    // ...but not another account from that network, nor alice elsewhere.
    assert!(login(&throttle, "192.0.2.1", "bob").is_ok());
    assert!(login(&throttle, "192.0.2.2", "alice").is_ok());
}

#[test]
fn a_success_clears_only_its_own_account() {
    let throttle = throttle();
    // The attacker logs in to their own account between guesses at alice.
    for _ in 0..3 {
        login(&throttle, "192.0.2.1", "mallory").unwrap();
        guess(&throttle, "192.0.2.1", "alice").unwrap();
    }
    login(&throttle, "192.0.2.1", "mallory").unwrap();
    assert_eq!(guess(&throttle, "192.0.2.1", "alice"), Ok(40), "the delay kept growing");
    assert!(guess(&throttle, "192.0.2.1", "alice").is_err(), "locked out after 4");
    // alice's own success from elsewhere clears nothing for the attacker.
    login(&throttle, "198.51.100.7", "alice").unwrap();
    assert!(login(&throttle, "192.0.2.1", "alice").is_err());
    // A success clears its own account's count.
    guess(&throttle, "192.0.2.9", "bob").unwrap();
    guess(&throttle, "192.0.2.9", "bob").unwrap();
    login(&throttle, "192.0.2.9", "bob").unwrap();
    assert_eq!(guess(&throttle, "192.0.2.9", "bob"), Ok(10));
}

#[test]
fn a_network_is_locked_out_after_its_own_limit_across_accounts() {
    let throttle = throttle();
    // One guess each at many names: no account reaches its limit.
    for n in 0..10 {
        guess(&throttle, "192.0.2.1", &format!("user{n}")).unwrap();
    }
    assert!(guess(&throttle, "192.0.2.1", "user10").is_err());
    assert!(login(&throttle, "192.0.2.1", "mallory").is_err(), "the whole network");
    assert!(login(&throttle, "192.0.2.2", "user10").is_ok(), "only that network");
}

#[test]
fn an_ipv6_64_is_one_network_and_a_48_is_bounded_too() {
    let throttle = throttle();
    // Every guess from a fresh address in the same /64.
    for n in 0..4 {
        guess(&throttle, &format!("2001:db8:0:1::{n:x}"), "alice").unwrap();
    }
    assert!(login(&throttle, "2001:db8:0:1:ffff::1", "alice").is_err());
    assert!(login(&throttle, "2001:db8:0:2::1", "alice").is_ok(), "another /64");
    // The IPv4-mapped form of an address is that address.
    for _ in 0..4 {
        guess(&throttle, "::ffff:192.0.2.1", "alice").unwrap();
    }
    assert!(login(&throttle, "192.0.2.1", "alice").is_err());
    // Cycling through /64s of one /48 ends at the /48's limit (25): 4
    // failures above and 21 more.
    for n in 0..21 {
        guess(&throttle, &format!("2001:db8:0:{:x}::1", 100 + n), "bob").unwrap();
    }
    assert!(guess(&throttle, "2001:db8:0:ff00::1", "carol").is_err());
    assert!(login(&throttle, "2001:db8:1::1", "bob").is_ok(), "another /48");
}

#[test]
fn attempts_in_flight_count_toward_the_limit() {
    let throttle = throttle();
    let pending: Vec<Attempt> = (0..4)
        .map(|_| throttle.reserve(ip("192.0.2.1"), "alice").unwrap())
        .collect();
    assert!(throttle.reserve(ip("192.0.2.1"), "alice").is_err(), "4 in flight");
    let mut pending = pending.into_iter();
    pending.next().unwrap().succeeded();
    // A success frees its place; a failure keeps it.
    let again = throttle.reserve(ip("192.0.2.1"), "alice").unwrap();
    pending.next().unwrap().failed();
    assert!(throttle.reserve(ip("192.0.2.1"), "alice").is_err());
    // An attempt abandoned (no password checked) frees its place too; one
    // dropped unresolved counts as a failure.
    pending.next().unwrap().abandoned();
    drop(pending.next());
    again.failed();
    let last = throttle.reserve(ip("192.0.2.1"), "alice").unwrap();
    last.failed();
    assert!(
        throttle.reserve(ip("192.0.2.1"), "alice").is_err(),
        "4 failures: locked out"
    );
}

#[test]
fn parallel_attempts_are_verified_at_most_max_failures_times() {
    let throttle = throttle();
    let verified = AtomicU32::new(0);
    let refused = AtomicU32::new(0);
    let barrier = Barrier::new(40);
    std::thread::scope(|s| {
        for _ in 0..40 {
            s.spawn(|| {
                barrier.wait();
                match throttle.reserve(ip("192.0.2.1"), "alice") {
                    Ok(attempt) => {
                        // A slow password check, as argon2id is.
                        verified.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        attempt.failed();
                    }
                    Err(_) => {
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    assert_eq!(verified.load(Ordering::SeqCst), 4);
    assert_eq!(refused.load(Ordering::SeqCst), 36);
}

#[test]
fn the_table_stays_bounded_under_a_flood_of_networks() {
    let throttle = Arc::new(Throttle::new(ThrottleConfig {
        max_entries: 64,
        ..ThrottleConfig::default()
    }));
    // Fresh /48s each time, so no limit stops the flood; 3 keys each.
    for n in 0..20_000u32 {
        let peer = format!("2001:{:x}:{:x}::1", n >> 8, n & 0xff);
        let attempt = throttle.reserve(ip(&peer), "alice").unwrap();
        assert!(throttle.entries() <= 64, "{} entries", throttle.entries());
        attempt.failed();
        assert!(throttle.entries() <= 64, "{} entries", throttle.entries());
    }
    // The most recent lockouts are still remembered.
    for _ in 0..10 {
        guess(&throttle, "192.0.2.1", "alice").unwrap();
    }
    assert!(throttle.entries() <= 64);
    assert!(login(&throttle, "192.0.2.1", "alice").is_err());
}

#[test]
fn successes_leave_nothing_behind_and_lockouts_end() {
    let throttle = Arc::new(Throttle::new(ThrottleConfig {
        max_failures: 2,
        lockout: Duration::from_millis(300),
        ..ThrottleConfig::default()
    }));
    login(&throttle, "192.0.2.1", "alice").unwrap();
    assert_eq!(throttle.entries(), 0, "a good login is not remembered");
    throttle.reserve(ip("192.0.2.1"), "alice").unwrap().failed();
    throttle.reserve(ip("192.0.2.1"), "alice").unwrap().failed();
    assert!(login(&throttle, "192.0.2.1", "alice").is_err());
    // The lockout is what is being waited out here.
    std::thread::sleep(Duration::from_millis(310));
    assert!(login(&throttle, "192.0.2.1", "alice").is_ok(), "the lockout is over");
}
