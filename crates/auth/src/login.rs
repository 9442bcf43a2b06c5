//! The login sequence every protocol runs for a name and a password, so
//! that SMTP AUTH, POP3 USER/PASS and AUTH, and IMAP LOGIN and
//! AUTHENTICATE are throttled and answered alike.

use std::fmt::Display;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::{LockedOut, Throttle, verify_login_limited};

/// How a login ended; each protocol words the answer its own way.
#[derive(Debug)]
pub enum LoginOutcome<A, E> {
    /// The password was right for this account; the throttle has cleared
    /// the account's count from this network.
    LoggedIn(A),
    /// Wrong password or unknown user, the two told apart by neither the
    /// answer nor its timing. Say so only after `delay` has passed, once
    /// what was queued before has gone out, so a guesser waits for it.
    Failed { delay: Duration },
    /// Too many failures from this network: refused without checking the
    /// password, for about this long.
    LockedOut(Duration),
    /// The account lookup failed: a temporary failure, nothing counted.
    Unavailable(E),
}

/// Looks up the account behind `name`, reserves the attempt with the
/// throttle, checks the password (off the executor, one per core at a
/// time: [`verify_login_limited`]) and records the result. `lookup`
/// finds the account; `stored` gives its canonical address and password
/// hash. Logs each refusal, under the caller's span, and counts it under
/// `protocol` ("smtp", "pop3", "imap" or "managesieve") in the login
/// failure metric.
///
/// The attempt is reserved before the password is checked, so parallel
/// guesses cannot all pass a check made before any of them failed; it is
/// counted against the account itself, however its name was written, or
/// against the name as given when there is no such account.
pub async fn login<A, E, L>(
    protocol: &'static str,
    throttle: &Arc<Throttle>,
    peer: IpAddr,
    name: &str,
    password: String,
    lookup: L,
    stored: impl Fn(&A) -> (&str, &str),
) -> LoginOutcome<A, E>
where
    L: Future<Output = Result<Option<A>, E>>,
    E: Display,
{
    let account = match lookup.await {
        Ok(account) => account,
        Err(e) => {
            tracing::error!(error = %e, "account lookup failed");
            return LoginOutcome::Unavailable(e);
        }
    };
    let (target, hash) = match &account {
        Some(account) => {
            let (address, hash) = stored(account);
            (address, Some(hash.to_string()))
        }
        None => (name, None),
    };
    let attempt = match throttle.reserve(peer, target) {
        Ok(attempt) => attempt,
        Err(LockedOut(remaining)) => {
            tracing::info!(?remaining, user = %name, "authentication refused: locked out");
            metrics::LOGIN_FAILURES.inc(protocol);
            return LoginOutcome::LockedOut(remaining);
        }
    };
    let verified = verify_login_limited(hash, password).await;
    match account.filter(|_| verified) {
        Some(account) => {
            attempt.succeeded();
            LoginOutcome::LoggedIn(account)
        }
        None => {
            tracing::info!(user = %name, "authentication failed");
            metrics::LOGIN_FAILURES.inc(protocol);
            LoginOutcome::Failed {
                delay: attempt.failed(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ThrottleConfig;

    struct Account {
        address: String,
        hash: String,
    }

    fn throttle() -> Arc<Throttle> {
        Arc::new(Throttle::new(ThrottleConfig {
            max_failures: 2,
            ..ThrottleConfig::default()
        }))
    }

    async fn attempt(throttle: &Arc<Throttle>, name: &str, password: &str) -> LoginOutcome<Account, String> {
        let hash = crate::hash_password("right").unwrap();
        let lookup = async {
            // Two names for one account, as a store may resolve them.
            let alice = ["alice", "alice@example.test"].contains(&name);
            Ok(alice.then(|| Account {
                address: "alice@example.test".into(),
                hash,
            }))
        };
        let peer = IpAddr::from([192, 0, 2, 1]);
        login("imap", throttle, peer, name, password.into(), lookup, |a: &Account| {
            (a.address.as_str(), a.hash.as_str())
        })
        .await
    }

    #[tokio::test]
    async fn counts_failures_against_the_account_whatever_name_reached_it() {
        let throttle = throttle();
        assert!(matches!(
            attempt(&throttle, "alice", "wrong").await,
            LoginOutcome::Failed { .. }
        ));
        assert!(matches!(
            attempt(&throttle, "alice", "wrong").await,
            LoginOutcome::Failed { .. }
        ));
        assert!(matches!(
            attempt(&throttle, "alice@example.test", "right").await,
            LoginOutcome::LockedOut(_)
        ));
    }

    #[tokio::test]
    async fn logs_in_with_the_right_password_and_not_an_unknown_user() {
        let throttle = throttle();
        let LoginOutcome::LoggedIn(account) = attempt(&throttle, "alice@example.test", "right").await else {
            panic!("the right password must log in");
        };
        assert_eq!(account.address, "alice@example.test");
        assert!(matches!(
            attempt(&throttle, "bob@example.test", "right").await,
            LoginOutcome::Failed { .. }
        ));
    }

    #[tokio::test]
    async fn a_failed_lookup_counts_nothing() {
        let throttle = throttle();
        for _ in 0..3 {
            let lookup = async { Err::<Option<Account>, _>("down") };
            let peer = IpAddr::from([192, 0, 2, 1]);
            let outcome = login("imap", &throttle, peer, "alice", "x".into(), lookup, |a: &Account| {
                (a.address.as_str(), a.hash.as_str())
            })
            .await;
            assert!(matches!(outcome, LoginOutcome::Unavailable("down")));
        }
        assert_eq!(throttle.entries(), 0);
    }
}
