//! The queue's delivery decisions, beside the queue: where a message goes
//! (MX order, fallback, implicit and null MX), what a reply means for each
//! recipient (deliver, retry later, bounce), when the sender hears of it
//! (DSN, RFC 3461/3464), and local delivery. A real store and a real DNS
//! server; fake SMTP hosts answer from scripts (`support`). The queue is
//! driven one run at a time (`Queue::run_once`), so nothing waits on time.

mod support;

use store::RecipientStatus;
use support::{Harness, Hosts, MESSAGE, Peer, SENDER, Script, notify};
use wire::smtp::{BodyType, DsnReturn, MessageOptions, Recipient};

/// A zone: `domain` with one MX per fake host (preference 10, 20, ...).
fn mx_zone(domain: &str, hosts: &Hosts) -> String {
    let mut zone = String::new();
    for (i, host) in hosts.hosts.iter().enumerate() {
        zone.push_str(&format!("{domain} MX {} mx{}.{domain}\n", 10 * (i + 1), i + 1));
        zone.push_str(&format!("mx{}.{domain} A {}\n", i + 1, host.ip));
    }
    zone
}

/// The status code of a recipient left waiting for its next attempt.
async fn deferred_with(q: &Harness, id: &str, address: &str) -> String {
    let r = q.recipient(id, address).await;
    assert_eq!(r.status, RecipientStatus::Pending, "{r:?}");
    r.status_code.unwrap_or_default()
}

/// One accepting host for `peer.test`, and a queue routing to it.
async fn one_peer(configure: impl FnOnce(&mut queue::QueueConfig)) -> (Harness, Hosts) {
    one_peer_with(Script::accepting(), configure).await
}

async fn one_peer_with(script: Script, configure: impl FnOnce(&mut queue::QueueConfig)) -> (Harness, Hosts) {
    let hosts = Hosts::start(vec![script]).await;
    let harness = Harness::start(&mx_zone("peer.test", &hosts), hosts.port, configure).await;
    (harness, hosts)
}

// --- Routing: RFC 5321 §5.1, RFC 7505 ---

#[tokio::test]
async fn the_most_preferred_mx_gets_the_message() {
    let hosts = Hosts::start(vec![Script::accepting(), Script::accepting()]).await;
    // Listed worst first: the order comes from the preferences.
    let zone = format!(
        "peer.test MX 20 mx2.peer.test\npeer.test MX 10 mx1.peer.test\nmx1.peer.test A {}\nmx2.peer.test A {}\n",
        hosts.hosts[0].ip, hosts.hosts[1].ip
    );
    let q = Harness::start(&zone, hosts.port, |_| {}).await;
    let id = q.send_to(&["bob@peer.test"]).await;
    q.run().await;
    assert_eq!(hosts.hosts[0].delivered().len(), 1);
    assert!(hosts.hosts[1].seen().is_empty(), "the backup MX was tried");
    assert!(q.gone(&id).await);
}

#[tokio::test]
async fn an_unreachable_mx_falls_back_to_the_next() {
    let hosts = Hosts::start(vec![Script::accepting()]).await;
    let zone = format!(
        "peer.test MX 10 mx1.peer.test\npeer.test MX 20 mx2.peer.test\nmx1.peer.test A {}\nmx2.peer.test A {}\n",
        Hosts::UNREACHABLE,
        hosts.hosts[0].ip
    );
    let q = Harness::start(&zone, hosts.port, |_| {}).await;
    let id = q.send_to(&["bob@peer.test"]).await;
    q.run().await;
    assert_eq!(hosts.hosts[0].delivered().len(), 1);
    assert!(q.gone(&id).await);
}

#[tokio::test]
async fn an_mx_that_refuses_the_session_falls_back_to_the_next() {
    let refusing = Script {
        greeting: "421 4.3.2 too busy",
        ..Script::accepting()
    };
    let hosts = Hosts::start(vec![refusing, Script::accepting()]).await;
    let q = Harness::start(&mx_zone("peer.test", &hosts), hosts.port, |_| {}).await;
    let id = q.send_to(&["bob@peer.test"]).await;
    q.run().await;
    assert_eq!(hosts.hosts[1].delivered().len(), 1);
    assert!(q.gone(&id).await);
}

#[tokio::test]
async fn a_domain_without_mx_is_its_own_mx() {
    let hosts = Hosts::start(vec![Script::accepting()]).await;
    let zone = format!("peer.test A {}\n", hosts.hosts[0].ip);
    let q = Harness::start(&zone, hosts.port, |_| {}).await;
    let id = q.send_to(&["bob@peer.test"]).await;
    q.run().await;
    assert_eq!(hosts.hosts[0].delivered().len(), 1);
    assert!(q.gone(&id).await);
}

#[tokio::test]
async fn a_domain_without_mx_is_reached_at_its_ipv6_address() {
    let ipv6 = std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
    let hosts = Hosts::start_at(vec![(ipv6, Script::accepting())]).await;
    let q = Harness::start("peer.test AAAA ::1\n", hosts.port, |_| {}).await;
    let id = q.send_to(&["bob@peer.test"]).await;
    q.run().await;
    assert_eq!(hosts.hosts[0].delivered().len(), 1);
    assert!(q.gone(&id).await);
}

#[tokio::test]
async fn a_null_mx_bounces_without_trying() {
    let q = Harness::start("nullmx.test MX 0 .\n", 1, |_| {}).await;
    let id = q.send_to(&["bob@nullmx.test"]).await;
    q.run().await;
    assert!(q.gone(&id).await, "nothing left to try or report");
    let report = q.report().await;
    assert!(report.contains("Action: failed\r\nStatus: 5.1.10\r\n"), "{report}");
}

#[tokio::test]
async fn a_domain_that_does_not_exist_bounces() {
    let q = Harness::start("other.test A 127.0.0.1\n", 1, |_| {}).await;
    let id = q.send_to(&["bob@missing.test"]).await;
    q.run().await;
    assert!(q.gone(&id).await);
    assert!(q.report().await.contains("Status: 5.1.2\r\n"));
}

#[tokio::test]
async fn a_failing_dns_server_means_try_later() {
    let q = Harness::start("broken.test SERVFAIL -\n", 1, |_| {}).await;
    let id = q.send_to(&["bob@broken.test"]).await;
    q.run().await;
    assert_eq!(deferred_with(&q, &id, "bob@broken.test").await, "4.4.3");
    assert!(q.reports().await.is_empty());
}

#[tokio::test]
async fn no_reachable_host_means_try_later() {
    let zone = format!(
        "peer.test MX 10 mx1.peer.test\nmx1.peer.test A {}\n",
        Hosts::UNREACHABLE
    );
    let hosts = Hosts::start(vec![Script::accepting()]).await;
    let q = Harness::start(&zone, hosts.port, |_| {}).await;
    let id = q.send_to(&["bob@peer.test"]).await;
    q.run().await;
    assert_eq!(deferred_with(&q, &id, "bob@peer.test").await, "4.4.1");
}

// --- Replies: RFC 5321 §4.2.1, §4.5.4.1 ---

#[tokio::test]
async fn a_temporary_refusal_is_retried_on_a_growing_schedule() {
    let (q, hosts) = one_peer(|_| {}).await;
    let before = store::now();
    let id = q.send_to(&["temp@peer.test"]).await;
    q.run().await;
    let r = q.recipient(&id, "temp@peer.test").await;
    assert_eq!((r.status, r.attempts), (RecipientStatus::Pending, 1));
    assert!(r.last_reply.as_deref().unwrap().starts_with("451 4.2.1"));
    // The first gap is a minute (QueueConfig::retry_intervals).
    assert!((before + 60..=store::now() + 60).contains(&r.next_attempt_at), "{r:?}");
    // Not due yet: a second run leaves it alone.
    q.run().await;
    assert_eq!(hosts.hosts[0].seen().len(), 1);
    // Made due, it is tried again, and the next gap is five minutes.
    q.store.retry_now(Some(&id)).await.unwrap();
    let before = store::now();
    q.run().await;
    let r = q.recipient(&id, "temp@peer.test").await;
    assert_eq!(r.attempts, 2);
    assert!(
        (before + 300..=store::now() + 300).contains(&r.next_attempt_at),
        "{r:?}"
    );
    assert!(q.reports().await.is_empty(), "no report for a retry");
}

#[tokio::test]
async fn a_permanent_refusal_bounces_only_that_recipient() {
    let (q, hosts) = one_peer(|_| {}).await;
    let id = q.send_to(&["bob@peer.test", "perm@peer.test"]).await;
    q.run().await;
    let seen = hosts.hosts[0].delivered();
    assert_eq!(seen.len(), 1, "one transaction for both");
    assert_eq!(seen[0].rcpts.len(), 2);
    assert!(q.gone(&id).await);
    let report = q.report().await;
    assert!(
        report.contains("Final-Recipient: rfc822; perm@peer.test\r\n"),
        "{report}"
    );
    assert!(!report.contains("bob@peer.test"), "{report}");
}

#[tokio::test]
async fn one_transaction_can_deliver_defer_and_bounce() {
    let (q, hosts) = one_peer(|_| {}).await;
    let id = q.send_to(&["bob@peer.test", "temp@peer.test", "perm@peer.test"]).await;
    q.run().await;
    assert_eq!(hosts.hosts[0].seen().len(), 1);
    let message = q.queued().await.into_iter().find(|m| m.id == id).expect("still queued");
    let states: Vec<_> = message
        .recipients
        .iter()
        .map(|r| (r.address.as_str(), r.status))
        .collect();
    assert_eq!(
        states,
        [
            ("bob@peer.test", RecipientStatus::Delivered),
            ("temp@peer.test", RecipientStatus::Pending),
            ("perm@peer.test", RecipientStatus::Failed),
        ]
    );
    // The failure is reported now; the deferred one is not a failure yet.
    let report = q.report().await;
    assert!(
        report.contains("perm@peer.test") && !report.contains("temp@peer.test"),
        "{report}"
    );
}

#[tokio::test]
async fn a_refused_message_fails_every_accepted_recipient() {
    let refusing = Script {
        data_reply: "554 5.6.0 content rejected",
        ..Script::accepting()
    };
    let (q, _hosts) = one_peer_with(refusing, |_| {}).await;
    let id = q.send_to(&["bob@peer.test", "carol@peer.test"]).await;
    q.run().await;
    assert!(q.gone(&id).await);
    let report = q.report().await;
    assert_eq!(report.matches("Status: 5.6.0\r\n").count(), 2, "{report}");
}

#[tokio::test]
async fn a_temporary_refusal_of_the_message_is_retried() {
    let deferring = Script {
        data_reply: "452 4.3.1 out of space",
        ..Script::accepting()
    };
    let (q, _hosts) = one_peer_with(deferring, |_| {}).await;
    let id = q.send_to(&["bob@peer.test"]).await;
    q.run().await;
    assert_eq!(deferred_with(&q, &id, "bob@peer.test").await, "4.3.1");
}

#[tokio::test]
async fn eight_bit_content_is_not_sent_to_a_host_without_8bitmime() {
    let (q, hosts) = one_peer_with(Script::accepting().without("8BITMIME"), |_| {}).await;
    let options = MessageOptions {
        body: BodyType::EightBitMime,
        ..MessageOptions::default()
    };
    let id = q.send(SENDER, vec![Recipient::new("bob@peer.test")], options).await;
    q.run().await;
    assert!(hosts.hosts[0].seen().is_empty(), "no transaction begun");
    assert!(q.gone(&id).await);
    assert!(q.report().await.contains("Status: 5.6.3\r\n"));
}

#[tokio::test]
async fn a_utf8_envelope_is_not_sent_to_a_host_without_smtputf8() {
    let (q, hosts) = one_peer_with(Script::accepting().without("SMTPUTF8"), |_| {}).await;
    let options = MessageOptions {
        smtputf8: true,
        ..MessageOptions::default()
    };
    let id = q.send(SENDER, vec![Recipient::new("jürgen@peer.test")], options).await;
    q.run().await;
    // RFC 6531 §3.2: it cannot be relayed as it is.
    assert!(hosts.hosts[0].seen().is_empty(), "no transaction begun");
    assert!(q.gone(&id).await);
    assert!(q.report().await.contains("Status: 5.6.7\r\n"));
}

// --- Transport security: RFC 8689 (REQUIRETLS), issue 21 ---

/// A queue routing peer.test to the real peer (smtppeer.py) at mx.peer.test.
async fn to_peer(peer: &Peer, configure: impl FnOnce(&mut queue::QueueConfig)) -> Harness {
    let zone = "peer.test MX 10 mx.peer.test\nmx.peer.test A 127.0.0.1\n";
    Harness::start(zone, peer.port, configure).await
}

fn require_tls() -> MessageOptions {
    MessageOptions {
        require_tls: true,
        ..MessageOptions::default()
    }
}

#[tokio::test]
async fn a_requiretls_message_is_returned_rather_than_sent_over_opportunistic_tls() {
    // The peer even offers REQUIRETLS; its certificate is just not one
    // anything vouches for (RFC 8689 §4.2.1: 5.7.10, encryption needed).
    let peer = Peer::start(&["--starttls", "--requiretls"]);
    let q = to_peer(&peer, |_| {}).await;
    let id = q
        .send(SENDER, vec![Recipient::new("bob@peer.test")], require_tls())
        .await;
    q.run().await;
    assert!(q.gone(&id).await);
    let report = q.report().await;
    assert!(report.contains("Status: 5.7.10\r\n"), "{report}");
    assert!(report.contains("could not be authenticated"), "{report}");
    assert!(
        !report.contains("the secret body"),
        "only the header comes back: {report}"
    );
    assert_eq!(peer.received(), 0, "the peer never got it");
}

#[tokio::test]
async fn a_requiretls_message_is_not_sent_in_the_clear() {
    let (q, hosts) = one_peer_with(
        Script {
            extensions: vec!["REQUIRETLS", "ENHANCEDSTATUSCODES"],
            ..Script::accepting()
        },
        |_| {},
    )
    .await;
    let id = q
        .send(SENDER, vec![Recipient::new("bob@peer.test")], require_tls())
        .await;
    q.run().await;
    assert!(hosts.hosts[0].seen().is_empty(), "no transaction begun");
    assert!(q.gone(&id).await);
    assert!(q.report().await.contains("offers no TLS"));
    // A report (null reverse-path) is exempt (RFC 8689 §4.2.1) and goes.
    let (q, hosts) = one_peer(|_| {}).await;
    q.send("", vec![Recipient::new("bob@peer.test")], require_tls()).await;
    q.run().await;
    assert_eq!(hosts.hosts[0].delivered().len(), 1);
}

#[tokio::test]
async fn a_requiretls_message_waits_while_a_host_that_might_take_it_is_down() {
    // RFC 8689 §4.2.1: every MX host is tried; the better one is down, so
    // it may yet do, and the message waits instead of coming back.
    let plain = Script {
        extensions: vec!["REQUIRETLS", "ENHANCEDSTATUSCODES"],
        ..Script::accepting()
    };
    let hosts = Hosts::start(vec![plain]).await;
    let zone = format!(
        "peer.test MX 10 mx1.peer.test\npeer.test MX 20 mx2.peer.test\nmx1.peer.test A {}\nmx2.peer.test A {}\n",
        Hosts::UNREACHABLE,
        hosts.hosts[0].ip
    );
    let q = Harness::start(&zone, hosts.port, |_| {}).await;
    let id = q
        .send(SENDER, vec![Recipient::new("bob@peer.test")], require_tls())
        .await;
    q.run().await;
    assert_eq!(deferred_with(&q, &id, "bob@peer.test").await, "4.4.1");
    let last = q.recipient(&id, "bob@peer.test").await.last_reply.unwrap_or_default();
    assert!(last.contains("mx2.peer.test offers no TLS"), "{last}");
    assert!(hosts.hosts[0].seen().is_empty(), "no transaction begun");
}

#[tokio::test]
async fn a_requiretls_message_is_returned_by_a_verified_host_without_requiretls() {
    // A smarthost whose certificate verifies (the peer's own, trusted),
    // but which does not offer REQUIRETLS: 5.7.30.
    let peer = Peer::start(&["--starttls"]);
    let certificate = peer.certificate();
    let q = to_peer(&peer, |config| {
        config.relay = Some(queue::Relay {
            host: "mx.peer.test".into(),
            port: peer.port,
            tls: queue::RelayTls::StartTls,
            credentials: None,
            ca_file: Some(certificate),
        });
    })
    .await;
    let id = q
        .send(SENDER, vec![Recipient::new("bob@peer.test")], require_tls())
        .await;
    q.run().await;
    assert!(q.gone(&id).await);
    let report = q.report().await;
    assert!(report.contains("Status: 5.7.30\r\n"), "{report}");
    assert!(report.contains("REQUIRETLS support required"), "{report}");
    assert_eq!(peer.received(), 0, "the peer never got it");
    // Without REQUIRETLS the same message goes over the same relay (and
    // so does the report, which the relay takes too).
    let id = q.send_to(&["bob@peer.test"]).await;
    q.run().await;
    assert!(q.gone(&id).await);
    assert_eq!(peer.received(), 2, "the message and the report");
}

#[tokio::test]
async fn a_requiretls_message_goes_on_with_requiretls_to_a_verified_host_that_offers_it() {
    let peer = Peer::start(&["--starttls", "--requiretls"]);
    let certificate = peer.certificate();
    let q = to_peer(&peer, |config| {
        config.relay = Some(queue::Relay {
            host: "mx.peer.test".into(),
            port: peer.port,
            tls: queue::RelayTls::StartTls,
            credentials: None,
            ca_file: Some(certificate),
        });
    })
    .await;
    let id = q
        .send(SENDER, vec![Recipient::new("bob@peer.test")], require_tls())
        .await;
    q.run().await;
    q.assert_ended_unreported(&id).await;
    assert_eq!(peer.received(), 1);
    assert!(
        peer.got_requiretls(1),
        "RFC 8689 §4.2.1: the next hop takes the requirement on"
    );
}

#[tokio::test]
async fn each_attempt_records_the_policy_and_the_tls_it_had() {
    let peer = Peer::start(&["--starttls", "--defer", "1"]);
    let q = to_peer(&peer, |_| {}).await;
    let id = q.send_to(&["bob@peer.test"]).await;
    q.run().await;
    assert_eq!(deferred_with(&q, &id, "bob@peer.test").await, "4.3.0");
    let [attempt] = q
        .store
        .queue_attempts(&id)
        .await
        .unwrap()
        .try_into()
        .expect("one attempt");
    assert_eq!(attempt.host.as_deref(), Some("mx.peer.test"));
    assert_eq!(attempt.transport.policy.as_deref(), Some("opportunistic"));
    assert_eq!(attempt.transport.tls_version.as_deref(), Some("TLSv1_3"));
    assert!(
        attempt
            .transport
            .tls_cipher
            .as_deref()
            .is_some_and(|c| c.starts_with("TLS13_")),
        "{attempt:?}"
    );
    assert!(attempt.reply.contains("try again later"), "{attempt:?}");

    // Without STARTTLS: policy none, no TLS.
    let (q, _hosts) = one_peer(|_| {}).await;
    let id = q.send_to(&["temp@peer.test"]).await;
    q.run().await;
    let [attempt] = q
        .store
        .queue_attempts(&id)
        .await
        .unwrap()
        .try_into()
        .expect("one attempt");
    assert_eq!(attempt.transport.policy.as_deref(), Some("none"));
    assert_eq!(
        (attempt.transport.tls_version, attempt.transport.tls_cipher),
        (None, None)
    );
}

// --- Lifetime: RFC 5321 §4.5.4.1 ---

#[tokio::test]
async fn a_message_past_its_lifetime_is_returned_to_the_sender() {
    // With delay warnings on (the default): a message this old that was
    // never warned of a delay gets only its failure report.
    let (q, hosts) = one_peer(|_| {}).await;
    let ten_days_ago = store::now() - 10 * 86_400;
    let id = q
        .send_at(
            SENDER,
            vec![Recipient::new("bob@peer.test")],
            MessageOptions::default(),
            ten_days_ago,
        )
        .await;
    q.run().await;
    assert!(hosts.hosts[0].seen().is_empty(), "an expired message is not sent");
    assert!(q.gone(&id).await);
    let report = q.report().await;
    assert!(report.contains("Status: 4.4.7\r\n"), "{report}");
    assert!(report.contains("(delivery time expired)"), "{report}");
    assert_eq!(q.reports().await.len(), 1, "no delay warning beside the failure");
}

#[tokio::test]
async fn an_expired_bounce_is_dropped_without_a_report() {
    let (q, _hosts) = one_peer(|_| {}).await;
    let ten_days_ago = store::now() - 10 * 86_400;
    let id = q
        .send_at(
            "",
            vec![Recipient::new("temp@peer.test")],
            MessageOptions::default(),
            ten_days_ago,
        )
        .await;
    q.run().await;
    q.assert_ended_unreported(&id).await;
}

// --- Reports: RFC 3461, RFC 3464 ---

#[tokio::test]
async fn a_bounce_is_never_bounced() {
    let (q, _hosts) = one_peer(|_| {}).await;
    let id = q.send_one("", Recipient::new("perm@peer.test")).await;
    q.run().await;
    q.assert_ended_unreported(&id).await;
}

#[tokio::test]
async fn notify_never_means_no_failure_report() {
    let (q, _hosts) = one_peer(|_| {}).await;
    let id = q.send_one(SENDER, notify("perm@peer.test", "NEVER")).await;
    q.run().await;
    q.assert_ended_unreported(&id).await;
}

#[tokio::test]
async fn notify_success_through_a_host_without_dsn_reports_relayed() {
    let (q, hosts) = one_peer_with(Script::accepting().without("DSN"), |_| {}).await;
    let id = q.send_one(SENDER, notify("bob@peer.test", "SUCCESS")).await;
    q.run().await;
    assert_eq!(hosts.hosts[0].delivered()[0].rcpts, ["RCPT TO:<bob@peer.test>"]);
    assert!(q.gone(&id).await);
    let report = q.report().await;
    assert!(report.contains("Action: relayed\r\n"), "{report}");
}

#[tokio::test]
async fn notify_success_through_a_host_with_dsn_is_left_to_that_host() {
    let (q, hosts) = one_peer(|_| {}).await;
    let recipient = Recipient {
        orcpt: Some("rfc822;Bob+x@peer.test".into()),
        ..notify("bob@peer.test", "SUCCESS,FAILURE")
    };
    let options = MessageOptions {
        dsn_ret: Some(DsnReturn::Headers),
        dsn_envid: Some("ENV 1".into()),
        ..MessageOptions::default()
    };
    let id = q.send(SENDER, vec![recipient], options).await;
    q.run().await;
    let seen = &hosts.hosts[0].delivered()[0];
    assert_eq!(seen.mail, "MAIL FROM:<sender@origin.test> RET=HDRS ENVID=ENV+201");
    assert_eq!(
        seen.rcpts,
        ["RCPT TO:<bob@peer.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob+2Bx@peer.test"]
    );
    q.assert_ended_unreported(&id).await;
}

#[tokio::test]
async fn senders_hear_of_a_delay_once_unless_they_asked_not_to() {
    let (q, _hosts) = one_peer(|config| config.delay_warning = std::time::Duration::from_secs(3600)).await;
    let two_hours_ago = store::now() - 7200;
    let recipients = vec![Recipient::new("temp1@peer.test"), notify("temp2@peer.test", "FAILURE")];
    let id = q
        .send_at(SENDER, recipients, MessageOptions::default(), two_hours_ago)
        .await;
    q.run().await;
    let report = q.report().await;
    assert!(
        report.contains("Subject: Delayed Mail (still being retried)\r\n"),
        "{report}"
    );
    assert!(report.contains("Action: delayed\r\n"), "{report}");
    assert!(report.contains("Will-Retry-Until: "), "{report}");
    assert!(!report.contains("temp2@peer.test"), "NOTIFY without DELAY: {report}");
    // Once per message, however many runs follow.
    q.store.retry_now(Some(&id)).await.unwrap();
    q.run().await;
    assert_eq!(q.reports().await.len(), 1);
}

#[tokio::test]
async fn ret_hdrs_returns_only_the_header() {
    let (q, _hosts) = one_peer(|_| {}).await;
    let options = MessageOptions {
        dsn_ret: Some(DsnReturn::Headers),
        ..MessageOptions::default()
    };
    q.send(SENDER, vec![Recipient::new("perm@peer.test")], options).await;
    q.run().await;
    let report = q.report().await;
    assert!(report.contains("Content-Type: text/rfc822-headers\r\n"), "{report}");
    assert!(report.contains("Subject: test\r\n"), "{report}");
    assert!(!report.contains("the secret body"), "{report}");
}

#[tokio::test]
async fn a_failure_report_returns_the_whole_message_by_default() {
    let (q, _hosts) = one_peer(|_| {}).await;
    q.send_to(&["perm@peer.test"]).await;
    q.run().await;
    let report = q.report().await;
    assert!(report.contains("Content-Type: message/rfc822\r\n"), "{report}");
    assert!(report.contains("the secret body"), "{report}");
}

#[tokio::test]
async fn a_message_bounced_by_hand_is_reported_as_notify_asks() {
    let (q, _hosts) = one_peer(|_| {}).await;
    let recipients = vec![Recipient::new("temp1@peer.test"), notify("temp2@peer.test", "NEVER")];
    let id = q.send(SENDER, recipients, MessageOptions::default()).await;
    q.run().await;
    let bounced = q
        .store
        .bounce_now(&id, "550 5.0.0 returned by the postmaster", "5.0.0")
        .await;
    assert_eq!(bounced.unwrap(), 2);
    q.run().await;
    assert!(q.gone(&id).await);
    let report = q.report().await;
    assert!(
        report.contains("Final-Recipient: rfc822; temp1@peer.test\r\n"),
        "{report}"
    );
    assert!(!report.contains("temp2@peer.test"), "NOTIFY=NEVER: {report}");
}

// --- Local delivery ---

/// A store hosting `local.test` with the account alice.
async fn hosting(q: &Harness) -> store::AccountId {
    q.store.add_domain("local.test").await.unwrap();
    q.store.add_account("alice@local.test", "x").await.unwrap()
}

async fn inbox_count(q: &Harness, account: store::AccountId) -> u32 {
    let inbox = q.store.inbox(account).await.unwrap();
    q.store.mailbox_status(&inbox).await.unwrap().messages as u32
}

#[tokio::test]
async fn local_mail_goes_into_the_inbox() {
    let (q, hosts) = one_peer(|_| {}).await;
    let alice = hosting(&q).await;
    let id = q.send_one(SENDER, notify("alice@local.test", "SUCCESS")).await;
    q.run().await;
    assert_eq!(inbox_count(&q, alice).await, 1);
    assert!(hosts.hosts[0].seen().is_empty());
    assert!(q.gone(&id).await);
    assert!(q.report().await.contains("Action: delivered\r\n"));
}

#[tokio::test]
async fn an_unknown_local_user_bounces() {
    let (q, _hosts) = one_peer(|_| {}).await;
    hosting(&q).await;
    let id = q.send_to(&["nobody@local.test"]).await;
    q.run().await;
    assert!(q.gone(&id).await);
    assert!(q.report().await.contains("Status: 5.1.1\r\n"));
}

#[tokio::test]
async fn an_alias_delivers_here_and_forwards_elsewhere() {
    let (q, hosts) = one_peer(|_| {}).await;
    let alice = hosting(&q).await;
    let targets = ["alice@local.test".to_string(), "bob@peer.test".to_string()];
    q.store.add_alias("team@local.test", &targets).await.unwrap();
    let id = q.send_to(&["team@local.test"]).await;
    q.run().await;
    assert_eq!(inbox_count(&q, alice).await, 1);
    // The forward is a message of its own, due at once, from an SRS
    // address of the alias's domain that leads back to the sender.
    assert!(q.gone(&id).await);
    q.run().await;
    let [forwarded] = hosts.hosts[0].delivered().try_into().expect("one forward");
    assert_eq!(forwarded.rcpts, ["RCPT TO:<bob@peer.test>"]);
    let srs = forwarded
        .mail
        .strip_prefix("MAIL FROM:<")
        .and_then(|m| m.split('>').next())
        .unwrap();
    assert!(
        srs.starts_with("SRS0=") && srs.ends_with("=origin.test=sender@local.test"),
        "{}",
        forwarded.mail
    );
    let local = srs.rsplit_once('@').unwrap().0;
    assert_eq!(
        q.store.resolve(local, "local.test").await.unwrap(),
        store::Resolution::Local(vec![store::Target::Remote(SENDER.into())])
    );
    assert_eq!(
        forwarded.data.as_deref(),
        Some(MESSAGE),
        "no sealer: the content as it came"
    );
    assert!(q.queued().await.is_empty());
}

#[tokio::test]
async fn forwards_keep_null_and_hosted_senders() {
    let (q, hosts) = one_peer(|_| {}).await;
    hosting(&q).await;
    q.store
        .add_alias("team@local.test", &["bob@peer.test".to_string()])
        .await
        .unwrap();
    // A bounce is forwarded as a bounce; a hosted sender's domain names
    // us in its SPF record anyway.
    q.send("", vec![Recipient::new("team@local.test")], MessageOptions::default())
        .await;
    q.send(
        "alice@local.test",
        vec![Recipient::new("team@local.test")],
        MessageOptions::default(),
    )
    .await;
    q.run().await;
    q.run().await;
    let mut senders: Vec<String> = hosts.hosts[0].delivered().into_iter().map(|seen| seen.mail).collect();
    senders.sort();
    assert_eq!(senders, ["MAIL FROM:<>", "MAIL FROM:<alice@local.test>"]);
}

#[tokio::test]
async fn a_forged_srs_address_fails_and_a_real_one_reaches_the_sender() {
    let (q, hosts) = one_peer(|_| {}).await;
    hosting(&q).await;
    let srs = q
        .store
        .srs()
        .forward("carol@peer.test", "local.test", store::now())
        .unwrap();
    let forged = srs.replace("=carol@", "=mallory@");
    q.send(
        "",
        vec![Recipient::new(&srs), Recipient::new(&forged)],
        MessageOptions::default(),
    )
    .await;
    q.run().await;
    q.run().await;
    let [bounce] = hosts.hosts[0].delivered().try_into().expect("one delivery");
    assert_eq!(bounce.mail, "MAIL FROM:<>");
    assert_eq!(bounce.rcpts, ["RCPT TO:<carol@peer.test>"]);
    let failed = q.store.queued_messages().await.unwrap();
    assert!(failed.is_empty(), "{failed:?}");
}

// --- Concurrency ---

#[tokio::test]
async fn one_destination_gets_at_most_max_per_domain_sessions() {
    let (q, hosts) = one_peer(|config| config.max_per_domain = 1).await;
    for _ in 0..30 {
        q.send_to(&["bob@peer.test"]).await;
    }
    q.run().await;
    assert_eq!(hosts.hosts[0].delivered().len(), 30);
    assert_eq!(hosts.hosts[0].most_sessions(), 1);
    assert!(q.queued().await.is_empty());
}
