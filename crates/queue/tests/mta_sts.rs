//! MTA-STS as a sender (RFC 8461): the TXT record and the policy parsed
//! from tables, MX patterns matched, and policies fetched from a real HTTPS
//! server on loopback (tests/python/mtasts_https.py) with a certificate
//! from a CA made here, refused when they break a rule of §3.3; then the
//! cache: a policy fetched once is used until its TXT id changes, outlasts
//! its server and its TXT record, and a failed fetch is not retried at once.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use queue::mta_sts::{self, FetchError, Fetcher, Mode, Policies, Policy, PolicyError};
use support::DnsServer;

const DOMAIN: &str = "example.test";
const POLICY: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmx: *.backup.example.test\r\nmax_age: 86400\r\n";

fn strings(records: &[&str]) -> Vec<String> {
    records.iter().map(|r| r.to_string()).collect()
}

#[test]
fn txt_records_announce_one_policy_id() {
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["v=STSv1; id=20160831085700Z;"], Some("20160831085700Z")),
        (&["v=STSv1;id=abc"], Some("abc")),
        (&["v=STSv1; id=abc; ext=value"], Some("abc")),
        (&["v=spf1 -all", "v=STSv1; id=abc"], Some("abc")),
        // §3.1: more than one STS record is no policy.
        (&["v=STSv1; id=abc", "v=STSv1; id=def"], None),
        (&[], None),
        (&["v=STSv1;"], None),
        (&["v=STSv1; id="], None),
        (&["v=STSv1; id=has-dash"], None),
        (&["v=STSv1; id=123456789012345678901234567890123"], None),
        (
            &["v=STSv1; id=12345678901234567890123456789012"],
            Some("12345678901234567890123456789012"),
        ),
        (&["v=STSv2; id=abc"], None),
        (&["V=STSv1; id=abc"], None),
        (&["v=STSv1 id=abc"], None),
        (&["v=STSv1; id=abc;; x=y"], None),
        (&["v=STSv1; id=abc; bad"], None),
    ];
    for (records, expected) in cases {
        assert_eq!(
            mta_sts::policy_id(&strings(records)).as_deref(),
            *expected,
            "{records:?}"
        );
    }
}

#[test]
fn policies_parse_with_crlf_or_lf() {
    let policy = Policy::parse(POLICY).unwrap();
    assert_eq!(policy.mode, Mode::Enforce);
    assert_eq!(policy.mx, ["mx1.example.test", "*.backup.example.test"]);
    assert_eq!(policy.max_age, 86400);
    let lf = "version: STSv1\nmode: testing\nmx: MX.Example.Test.\nmax_age:604800\nfuture_key: whatever\n";
    let policy = Policy::parse(lf).unwrap();
    assert_eq!(policy.mode, Mode::Testing);
    assert_eq!(policy.mx, ["mx.example.test"]);
    assert_eq!(policy.max_age, 604800);
    let none = Policy::parse("version: STSv1\r\nmode: none\r\nmax_age: 1\r\n").unwrap();
    assert_eq!(none.mode, Mode::None);
    let long = Policy::parse("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 9999999999\n").unwrap();
    assert_eq!(long.max_age, mta_sts::MAX_AGE_LIMIT, "cut to a year");
}

#[test]
fn bad_policies_are_refused() {
    let cases: &[(&str, PolicyError)] = &[
        (
            "mode: enforce\nmx: a.test\nmax_age: 1\n",
            PolicyError::Missing("version"),
        ),
        (
            "version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1\n",
            PolicyError::Version("STSv2".into()),
        ),
        ("version: STSv1\nmx: a.test\nmax_age: 1\n", PolicyError::Missing("mode")),
        (
            "version: STSv1\nmode: strict\nmx: a.test\nmax_age: 1\n",
            PolicyError::Mode("strict".into()),
        ),
        (
            "version: STSv1\nmode: enforce\nmx: a.test\n",
            PolicyError::Missing("max_age"),
        ),
        (
            "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -1\n",
            PolicyError::MaxAge("-1".into()),
        ),
        (
            "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 12345678901\n",
            PolicyError::MaxAge("12345678901".into()),
        ),
        (
            "version: STSv1\nmode: enforce\nmax_age: 1\n",
            PolicyError::Missing("mx"),
        ),
        (
            "version: STSv1\nmode: enforce\nmx: mx.*.test\nmax_age: 1\n",
            PolicyError::Mx("mx.*.test".into()),
        ),
        (
            "version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n",
            PolicyError::Mx("*".into()),
        ),
        ("version: STSv1\ngarbage\n", PolicyError::Syntax(2)),
        ("version: STSv1\n bad key: x\n", PolicyError::Syntax(2)),
    ];
    for (text, error) in cases {
        assert_eq!(Policy::parse(text).as_ref(), Err(error), "{text:?}");
    }
    // A bounded number of mx patterns: the limit is taken, one more not.
    let with = |count: usize| {
        let patterns: String = (0..count).map(|n| format!("mx: mx{n}.a.test\n")).collect();
        format!("version: STSv1\nmode: enforce\n{patterns}max_age: 1\n")
    };
    let most = Policy::parse(&with(mta_sts::MAX_MX_PATTERNS)).unwrap();
    assert_eq!(most.mx.len(), mta_sts::MAX_MX_PATTERNS);
    assert_eq!(
        Policy::parse(&with(mta_sts::MAX_MX_PATTERNS + 1)),
        Err(PolicyError::TooManyMx)
    );
}

#[test]
fn mx_patterns_match_one_label_of_wildcard() {
    let policy = Policy::parse(POLICY).unwrap();
    assert!(policy.allows("mx1.example.test"));
    assert!(policy.allows("MX1.EXAMPLE.TEST."));
    assert!(policy.allows("a.backup.example.test"));
    assert!(!policy.allows("backup.example.test"), "the wildcard needs a label");
    assert!(!policy.allows("a.b.backup.example.test"), "and only one");
    assert!(!policy.allows("mx2.example.test"));
    assert!(!policy.allows("xmx1.example.test"));
    assert!(mta_sts::mx_matches("*.example.test.", "Mail.Example.Test"));
    assert!(!mta_sts::mx_matches("*.example.test", ".example.test"));
}

/// A CA, and certificates it issues, in a directory of their own.
struct Pki {
    dir: tempfile::TempDir,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let (issuer, pem) = ca("postamt test CA");
        std::fs::write(dir.path().join("ca.pem"), pem).unwrap();
        Pki { dir, issuer }
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A certificate for `name` from this CA (or, with `stranger`, from
    /// another one): the paths of its chain and key.
    fn issue(&self, name: &str, stranger: bool) -> (PathBuf, PathBuf) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        let cert = if stranger {
            params.signed_by(&key, &ca("another CA").0).unwrap()
        } else {
            params.signed_by(&key, &self.issuer).unwrap()
        };
        let tag = format!("{name}-{stranger}");
        let (cert_path, key_path) = (
            self.dir.path().join(format!("{tag}.pem")),
            self.dir.path().join(format!("{tag}.key")),
        );
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (cert_path, key_path)
    }
}

fn ca(name: &str) -> (rcgen::Issuer<'static, rcgen::KeyPair>, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    let pem = params.self_signed(&key).unwrap().pem();
    (rcgen::Issuer::new(params, key), pem)
}

/// tests/python/mtasts_https.py, serving `policy`; stops when dropped.
struct PolicyServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl PolicyServer {
    fn start(cert: &(PathBuf, PathBuf), policy: &[u8], options: &[&str]) -> PolicyServer {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("policy"), policy).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/python/mtasts_https.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([&cert.0, &cert.1, &dir.path().join("policy")])
            .arg("--log")
            .arg(dir.path().join("log"))
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("server did not start: {line:?}"));
        PolicyServer { child, port, dir }
    }

    /// How many requests it got.
    fn requests(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("log"))
            .unwrap_or_default()
            .lines()
            .filter(|line| *line == "/.well-known/mta-sts.txt")
            .count()
    }
}

impl Drop for PolicyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A zone where `mta-sts.example.test` is on loopback, and `txt` is the
/// `_mta-sts` record (none when empty).
fn zone(txt: &str) -> String {
    let mut zone = format!("mta-sts.{DOMAIN} A 127.0.0.1\n");
    if !txt.is_empty() {
        zone.push_str(&format!("_mta-sts.{DOMAIN} TXT \"{txt}\"\n"));
    }
    zone
}

fn fetcher(dns: &DnsServer, ca_file: &Path, port: u16) -> Fetcher {
    let resolver = dns::Resolver::new(&[dns.address]).unwrap();
    Fetcher::new(resolver, net::verifying_connector(Some(ca_file)).unwrap(), port)
}

async fn fetch_from(pki: &Pki, server: &PolicyServer) -> Result<mta_sts::Fetched, FetchError> {
    let dns = DnsServer::start(&zone(""));
    fetcher(&dns, &pki.ca_file(), server.port)
        .with_time_limit(Duration::from_secs(3))
        .fetch(DOMAIN)
        .await
}

#[tokio::test]
async fn a_policy_is_fetched_over_verified_https() {
    let pki = Pki::new();
    let cert = pki.issue("mta-sts.example.test", false);
    let server = PolicyServer::start(&cert, POLICY.as_bytes(), &[]);
    let fetched = fetch_from(&pki, &server).await.expect("fetched");
    assert_eq!(fetched.text, POLICY);
    assert_eq!(fetched.policy, Policy::parse(POLICY).unwrap());
    assert_eq!(server.requests(), 1);
    let charset = PolicyServer::start(
        &cert,
        POLICY.as_bytes(),
        &["--content-type", "Text/Plain; charset=utf-8"],
    );
    assert!(
        fetch_from(&pki, &charset).await.is_ok(),
        "parameters after the type are fine"
    );
}

#[tokio::test]
async fn fetches_that_break_the_rules_are_refused() {
    let pki = Pki::new();
    let cert = pki.issue("mta-sts.example.test", false);
    let refused = |result: Result<mta_sts::Fetched, FetchError>| result.expect_err("refused");

    let redirect = PolicyServer::start(
        &cert,
        POLICY.as_bytes(),
        &["--status", "301", "--location", "https://elsewhere.test/"],
    );
    let error = refused(fetch_from(&pki, &redirect).await);
    assert!(
        error.to_string().contains("status 301: redirects are not followed"),
        "{error}"
    );
    assert_eq!(error.result_type(), "sts-policy-fetch-error");

    let missing = PolicyServer::start(&cert, POLICY.as_bytes(), &["--status", "404"]);
    assert!(
        refused(fetch_from(&pki, &missing).await)
            .to_string()
            .contains("status 404")
    );

    let html = PolicyServer::start(&cert, POLICY.as_bytes(), &["--content-type", "text/html"]);
    let error = refused(fetch_from(&pki, &html).await);
    assert!(error.to_string().contains("not text/plain"), "{error}");

    let mut big = POLICY.as_bytes().to_vec();
    big.extend(std::iter::repeat_n(b'#', mta_sts::MAX_BODY));
    let too_big = PolicyServer::start(&cert, &big, &[]);
    let error = refused(fetch_from(&pki, &too_big).await);
    assert!(error.to_string().contains("longer than 65536 bytes"), "{error}");

    let invalid = PolicyServer::start(&cert, b"version: STSv1\r\nmode: enforce\r\n", &[]);
    let error = refused(fetch_from(&pki, &invalid).await);
    assert!(matches!(error, FetchError::Invalid { .. }), "{error}");
    assert_eq!(error.result_type(), "sts-policy-invalid");
}

#[tokio::test]
async fn a_slow_server_runs_out_of_time() {
    let pki = Pki::new();
    let cert = pki.issue("mta-sts.example.test", false);
    let slow = PolicyServer::start(&cert, POLICY.as_bytes(), &["--delay", "30"]);
    let started = Instant::now();
    let error = fetch_from(&pki, &slow).await.expect_err("too slow");
    assert!(matches!(error, FetchError::TimedOut { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_certificate_not_valid_for_the_policy_host_is_refused() {
    let pki = Pki::new();
    for cert in [
        pki.issue("www.example.test", false),
        pki.issue("mta-sts.example.test", true),
    ] {
        let server = PolicyServer::start(&cert, POLICY.as_bytes(), &[]);
        let error = fetch_from(&pki, &server).await.expect_err("refused");
        assert!(matches!(error, FetchError::Certificate { .. }), "{error}");
        assert_eq!(error.result_type(), "sts-webpki-invalid");
        assert_eq!(server.requests(), 0, "no request went to it");
    }
}

async fn store_in(dir: &Path) -> store::Store {
    store::Store::open_with(&store::StoreOptions::sqlite(dir))
        .await
        .unwrap()
}

fn policies(dns: &DnsServer, pki: &Pki, server: &PolicyServer, store: &store::Store) -> Policies {
    let resolver = dns::Resolver::new(&[dns.address]).unwrap();
    let fetcher = fetcher(dns, &pki.ca_file(), server.port).with_time_limit(Duration::from_secs(3));
    Policies::new(resolver, fetcher, store.clone())
}

#[tokio::test]
async fn policies_are_cached_until_the_id_changes_and_outlast_their_server() {
    let pki = Pki::new();
    let cert = pki.issue("mta-sts.example.test", false);
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path()).await;
    let server = PolicyServer::start(&cert, POLICY.as_bytes(), &[]);
    let dns = DnsServer::start(&zone("v=STSv1; id=one"));
    let sts = policies(&dns, &pki, &server, &store);
    for _ in 0..3 {
        let found = sts.discover("Example.Test.").await;
        assert_eq!(found.policy.as_deref(), Some(&Policy::parse(POLICY).unwrap()));
        assert!(found.failure.is_none());
    }
    assert_eq!(server.requests(), 1, "fetched once, then cached");
    let stored = store.mta_sts_policy(DOMAIN).await.unwrap().expect("kept in the store");
    assert_eq!((stored.policy_id.as_str(), stored.policy.as_str()), ("one", POLICY));
    assert_eq!(stored.expires_at - stored.fetched_at, 86400);

    // A new id: fetched again (a new process, so from the store first).
    let dns_two = DnsServer::start(&zone("v=STSv1; id=two"));
    let testing = POLICY.replace("enforce", "testing");
    std::fs::write(server.dir.path().join("policy"), &testing).unwrap();
    let found = policies(&dns_two, &pki, &server, &store).discover(DOMAIN).await;
    assert_eq!(found.policy.map(|p| p.mode), Some(Mode::Testing));
    assert_eq!(server.requests(), 2);

    // The server gone and the TXT record too: the cached policy holds
    // (§5.1), in a process that only has the store.
    drop(server);
    let down = PolicyServer::start(&cert, POLICY.as_bytes(), &["--status", "500"]);
    let no_record = DnsServer::start(&zone(""));
    let found = policies(&no_record, &pki, &down, &store).discover(DOMAIN).await;
    assert_eq!(found.policy.map(|p| p.mode), Some(Mode::Testing));
    // A newer id whose policy cannot be fetched: the cached one still holds.
    let dns_three = DnsServer::start(&zone("v=STSv1; id=three"));
    let found = policies(&dns_three, &pki, &down, &store).discover(DOMAIN).await;
    assert_eq!(found.policy.map(|p| p.mode), Some(Mode::Testing));
    assert!(found.failure.is_some_and(|e| e.to_string().contains("status 500")));
}

#[tokio::test]
async fn a_failed_fetch_is_remembered_and_means_no_policy() {
    let pki = Pki::new();
    let cert = pki.issue("mta-sts.example.test", false);
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path()).await;
    let broken = PolicyServer::start(&cert, b"not a policy", &[]);
    let dns = DnsServer::start(&zone("v=STSv1; id=one"));
    let sts = policies(&dns, &pki, &broken, &store);
    let first = sts.discover(DOMAIN).await;
    assert!(first.policy.is_none(), "§5: as if there were no policy");
    assert_eq!(first.failure.map(|e| e.result_type()), Some("sts-policy-invalid"));
    let second = sts.discover(DOMAIN).await;
    assert!(second.policy.is_none() && second.failure.is_none());
    assert_eq!(broken.requests(), 1, "not asked again at once");
    assert_eq!(store.mta_sts_policy(DOMAIN).await.unwrap(), None);
}

/// tests/python/smtppeer.py with STARTTLS and a certificate for `name`;
/// stops when dropped.
struct TlsPeer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl TlsPeer {
    fn start(pki: &Pki, name: &str) -> TlsPeer {
        let (cert, key) = pki.issue(name, false);
        let dir = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/python/smtppeer.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .arg("--tls")
            .args([&cert, &key])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("peer did not start: {line:?}"));
        TlsPeer { child, port, dir }
    }

    fn received(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
            })
            .count()
    }
}

impl Drop for TlsPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One MX host serves a domain without a policy and one with an enforced
/// policy. Its certificate is for another name, so only the first may
/// use it; the session kept idle after the first message (opportunistic
/// TLS, any certificate) must not carry the second.
#[tokio::test]
async fn an_opportunistic_session_is_not_reused_for_an_enforced_domain() {
    let pki = Pki::new();
    let peer = TlsPeer::start(&pki, "wrong.test");
    let https = PolicyServer::start(
        &pki.issue("mta-sts.enforced.test", false),
        b"version: STSv1\nmode: enforce\nmx: mx.shared.test\nmax_age: 600\n",
        &[],
    );
    let zone = "plain.test MX 10 mx.shared.test\nenforced.test MX 10 mx.shared.test\n\
                mx.shared.test A 127.0.0.1\nmta-sts.enforced.test A 127.0.0.1\n\
                _mta-sts.enforced.test TXT \"v=STSv1; id=1\"\n";
    let ca_file = pki.ca_file();
    let harness = support::Harness::start(zone, peer.port, |config| {
        config.ca_file = Some(ca_file);
        config.mta_sts_port = https.port;
    })
    .await;
    let plain = harness.send_to(&["a@plain.test"]).await;
    harness.run().await;
    assert!(harness.gone(&plain).await, "delivered without a policy");
    assert_eq!(peer.received(), 1);
    let enforced = harness.send_to(&["b@enforced.test"]).await;
    harness.run().await;
    let recipient = harness.recipient(&enforced, "b@enforced.test").await;
    let reply = recipient.last_reply.unwrap_or_default();
    assert!(
        reply.starts_with("451 4.7.5") && reply.contains("certificate valid for mx.shared.test"),
        "{reply}"
    );
    assert_eq!(peer.received(), 1, "the idle opportunistic session was not used");

    // TLS reporting (RFC 8460 §4.4) counts each session under the policy
    // it was held to: none for plain.test, the enforced policy's lines
    // and patterns for enforced.test, whose one session failed.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let day = store::utc_day(now);
    let plain_counts = harness.store.tls_report_counts(day, "plain.test").await.unwrap();
    assert_eq!(plain_counts.len(), 1, "{plain_counts:?}");
    assert_eq!(plain_counts[0].policy_type, "no-policy-found");
    assert_eq!((plain_counts[0].successes, plain_counts[0].failures), (1, 0));
    let enforced_counts = harness.store.tls_report_counts(day, "enforced.test").await.unwrap();
    assert_eq!(enforced_counts.len(), 1, "{enforced_counts:?}");
    let counts = &enforced_counts[0];
    assert_eq!(counts.policy_type, "sts");
    assert_eq!(
        counts.policy_strings,
        ["version: STSv1", "mode: enforce", "mx: mx.shared.test", "max_age: 600"]
    );
    assert_eq!(counts.mx_hosts, ["mx.shared.test"]);
    assert_eq!((counts.successes, counts.failures), (0, 1));
    assert_eq!(counts.details[0].0.result_type, "certificate-host-mismatch");
    assert_eq!(counts.details[0].0.receiving_mx, "mx.shared.test");
}

/// An internationalized domain's policy is looked up and fetched under its
/// A-labels, the names DNS and its certificate carry.
#[tokio::test]
async fn an_internationalized_domain_is_looked_up_by_its_a_labels() {
    let pki = Pki::new();
    let server = PolicyServer::start(&pki.issue("mta-sts.xn--bcher-kva.test", false), POLICY.as_bytes(), &[]);
    let dns =
        DnsServer::start("mta-sts.xn--bcher-kva.test A 127.0.0.1\n_mta-sts.xn--bcher-kva.test TXT \"v=STSv1; id=1\"\n");
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path()).await;
    let found = policies(&dns, &pki, &server, &store).discover("Bücher.test").await;
    assert!(found.failure.is_none(), "{:?}", found.failure);
    assert_eq!(found.policy.map(|p| p.mode), Some(Mode::Enforce));
    assert!(store.mta_sts_policy("xn--bcher-kva.test").await.unwrap().is_some());
}
