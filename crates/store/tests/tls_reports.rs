//! TLS reporting's counts (RFC 8460 §4.4) on each backend: sessions add
//! up per day, domain and policy; failure details are kept up to their
//! bound while the summary stays exact; a day is claimed for sending
//! once; old days are forgotten.

mod support;

use support::Backend;

use store::{MAX_FAILURE_ROWS, MAX_POLICY_ROWS, TlsFailure, TlsSessionCount, utc_day};

const DAY: i64 = 20_000 * 86_400;

fn session(domain: &str, policy: &str, failure: Option<TlsFailure>) -> TlsSessionCount {
    TlsSessionCount {
        day: DAY,
        domain: domain.into(),
        policy_type: "sts".into(),
        policy_strings: vec!["version: STSv1".into(), format!("mode: {policy}")],
        mx_hosts: vec!["*.remote.test".into()],
        failure,
    }
}

fn failure(mx: &str) -> TlsFailure {
    TlsFailure {
        result_type: "certificate-expired".into(),
        sending_ip: "192.0.2.1".into(),
        receiving_mx: mx.into(),
        receiving_ip: "198.51.100.7".into(),
        reason: "the certificate expired".into(),
    }
}

async fn sessions_add_up(backend: Backend) {
    let (_place, store) = backend.store().await;
    assert_eq!(utc_day(DAY + 3_600), DAY);
    for _ in 0..3 {
        store
            .count_tls_session(session("remote.test", "enforce", None))
            .await
            .unwrap();
    }
    for _ in 0..2 {
        store
            .count_tls_session(session("remote.test", "enforce", Some(failure("mx1.remote.test"))))
            .await
            .unwrap();
    }
    store
        .count_tls_session(session("remote.test", "testing", None))
        .await
        .unwrap();
    store
        .count_tls_session(session("other.test", "enforce", None))
        .await
        .unwrap();

    assert_eq!(
        store.tls_report_domains(DAY).await.unwrap(),
        ["other.test", "remote.test"]
    );
    assert!(store.tls_report_domains(DAY + 86_400).await.unwrap().is_empty());
    let counts = store.tls_report_counts(DAY, "remote.test").await.unwrap();
    assert_eq!(counts.len(), 2, "{counts:?}");
    let enforce = counts
        .iter()
        .find(|c| c.policy_strings.contains(&"mode: enforce".to_string()))
        .unwrap();
    assert_eq!((enforce.successes, enforce.failures), (3, 2));
    assert_eq!(enforce.mx_hosts, ["*.remote.test"]);
    assert_eq!(enforce.details, [(failure("mx1.remote.test"), 2)]);
    let testing = counts.iter().find(|c| c != &enforce).unwrap();
    assert_eq!((testing.successes, testing.failures), (1, 0));
    assert!(testing.details.is_empty());
}

async fn details_and_policies_are_bounded(backend: Backend) {
    let (_place, store) = backend.store().await;
    let extra = 5;
    for n in 0..MAX_FAILURE_ROWS + extra {
        let long_reason = "x".repeat(10_000);
        let mut f = failure(&format!("mx{n}.remote.test"));
        f.reason = long_reason;
        store
            .count_tls_session(session("remote.test", "enforce", Some(f)))
            .await
            .unwrap();
    }
    let counts = store.tls_report_counts(DAY, "remote.test").await.unwrap();
    assert_eq!(
        counts[0].failures as i64,
        MAX_FAILURE_ROWS + extra,
        "the summary counts every failure"
    );
    assert_eq!(
        counts[0].details.len() as i64,
        MAX_FAILURE_ROWS,
        "details stop at the bound"
    );
    assert!(
        counts[0].details.iter().all(|(f, _)| f.reason.len() <= 255),
        "reasons are cut"
    );

    for n in 0..MAX_POLICY_ROWS + extra {
        store
            .count_tls_session(session("policies.test", &format!("p{n}"), None))
            .await
            .unwrap();
    }
    let counts = store.tls_report_counts(DAY, "policies.test").await.unwrap();
    assert_eq!(counts.len() as i64, MAX_POLICY_ROWS);
}

async fn days_are_sent_once_and_forgotten(backend: Backend) {
    let (_place, store) = backend.store().await;
    store
        .count_tls_session(session("remote.test", "enforce", None))
        .await
        .unwrap();
    assert_eq!(store.tls_report_day_sent(DAY).await.unwrap(), None);
    assert!(store.claim_tls_report_day(DAY, DAY + 90_000).await.unwrap());
    assert!(
        !store.claim_tls_report_day(DAY, DAY + 90_001).await.unwrap(),
        "claimed once"
    );
    assert_eq!(store.tls_report_day_sent(DAY).await.unwrap(), Some(DAY + 90_000));
    assert_eq!(store.forget_tls_counts(DAY).await.unwrap(), 0, "the day itself is kept");
    assert_eq!(store.forget_tls_counts(DAY + 86_400).await.unwrap(), 1);
    assert!(store.tls_report_domains(DAY).await.unwrap().is_empty());
    assert!(
        store.tls_report_day_sent(DAY).await.unwrap().is_some(),
        "the claim outlives the counts"
    );
}

on_both_backends!(
    sessions_add_up,
    details_and_policies_are_bounded,
    days_are_sent_once_and_forgotten,
);
