//! TLS reporting (RFC 8460) end to end. Outbound: postamt delivers to a
//! domain whose first MX offers STARTTLS but cannot complete a handshake
//! and whose second MX takes TLS; `postamt reports tls send` then mails
//! the day's report to the address in the domain's `_smtp._tls` record,
//! where an independent reader checks the message (§5.3), its gzipped
//! JSON against a schema written from §4.3/§4.4, its counts, and its DKIM
//! signature (dkimpy). Inbound: that report, a gzip bomb and broken JSON
//! delivered to our own report address are listed by `postamt reports
//! tls`, the bad ones as malformed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Helper, Peer, Server};

/// A self-signed certificate and key for the peers' STARTTLS.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
        ])
        .args(["-subj", "/CN=mx.remote.test", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run openssl");
    assert!(status.success());
    (cert, key)
}

/// Serves `zone` and a.test's DKIM keys (as `postamt dns` prints them)
/// from a new DNS server, and restarts `server` asking it: the reports
/// that come back to us are checked for a.test's signature on arrival.
fn serve_with_keys(server: &mut Server, zone: &str) {
    let keys: String = server
        .admin(&["dns", "a.test"])
        .lines()
        .filter(|l| l.contains("._domainkey."))
        .map(|l| format!("{}\n", l.replacen(". IN TXT ", " TXT ", 1)))
        .collect();
    assert!(!keys.is_empty());
    let path = server.dir.path().join("zone-with-keys");
    std::fs::write(&path, format!("{zone}{keys}")).unwrap();
    let dns = Helper::start("dnsserver.py", &[path.to_str().unwrap()]);
    let old = format!("127.0.0.1:{}\"]", server.dns.port);
    let config = std::fs::read_to_string(server.config_path()).unwrap();
    assert_eq!(config.matches(&old).count(), 1);
    std::fs::write(
        server.config_path(),
        config.replace(&old, &format!("127.0.0.1:{}\"]", dns.port)),
    )
    .unwrap();
    server.dns = dns;
    server.restart();
}

/// Today's UTC date, YYYY-MM-DD, and the Unix time it began.
fn today() -> (String, u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let start = now - now % 86_400;
    let output = Command::new("date")
        .args(["-u", "-d", &format!("@{start}"), "+%F"])
        .output()
        .expect("run date");
    (String::from_utf8(output.stdout).unwrap().trim().to_string(), start)
}

fn schema() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/tlsrpt/report.schema.json")
        .to_string_lossy()
        .into_owned()
}

/// Python: checks the report message at `path` as RFC 8460 §5.3 shapes
/// it, validates its JSON, verifies its DKIM signatures, and prints the
/// report's JSON and the file name of its gzip part.
fn check_report(server: &Server, path: &Path) -> (serde_json::Value, String) {
    let out = server.python(&format!(
        r#"
import email, email.policy, gzip, json, re, jsonschema
{verifier}
raw = open({path:?}, "rb").read()
msg = email.message_from_bytes(raw, policy=email.policy.default)
assert msg.get_content_type() == "multipart/report", msg.get_content_type()
assert msg.get_param("report-type") == "tlsrpt", msg["Content-Type"]
assert msg["TLS-Report-Domain"] == "remote.test", msg["TLS-Report-Domain"]
assert msg["TLS-Report-Submitter"] == "a.test", msg["TLS-Report-Submitter"]
assert msg["TLS-Required"] == "No", msg["TLS-Required"]
assert re.fullmatch(r"Report Domain: remote\.test Submitter: a\.test Report-ID: <\S+>", msg["Subject"]), msg["Subject"]
assert msg["From"].addresses[0].addr_spec == "postmaster@a.test", msg["From"]
parts = list(msg.iter_parts())
assert parts[0].get_content_type() == "text/plain", parts[0].get_content_type()
[part] = [p for p in parts if p.get_content_type() == "application/tlsrpt+gzip"]
report = json.loads(gzip.decompress(part.get_payload(decode=True)))
jsonschema.validate(report, json.load(open({schema:?})), format_checker=jsonschema.FormatChecker())
signatures = verify(raw)
assert signatures and all(ok for _, ok in signatures), signatures
print(json.dumps(report))
print(part.get_filename())
"#,
        verifier = common::keys::dkimpy_verifier(&server.admin(&["dns", "a.test"])),
        path = path.to_string_lossy(),
        schema = schema(),
    ));
    let mut lines = out.lines();
    let report = serde_json::from_str(lines.next().expect("the report")).expect("JSON");
    (report, lines.next().expect("the file name").to_string())
}

#[test]
fn reports_are_sent_counted_signed_and_read_back() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(certs.path());
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    // The report address's server, and the two MX hosts of remote.test on
    // the same port (the one every delivery dials) at other addresses.
    let rua = Peer::start(&[]);
    let port = rua.helper.port.to_string();
    let good = Peer::start(&["--host", "127.0.0.2", "--port", &port, "--tls", cert, key]);
    let broken = Peer::start(&["--host", "127.0.0.3", "--port", &port, "--broken-tls", cert, key]);
    let zone = "remote.test MX 10 mx0.remote.test\n\
                remote.test MX 20 mx1.remote.test\n\
                mx0.remote.test A 127.0.0.3\n\
                mx1.remote.test A 127.0.0.2\n\
                _smtp._tls.remote.test TXT \"v=TLSRPTv1; rua=mailto:reports@rua.test\"\n\
                rua.test MX 10 mx.rua.test\n\
                _smtp._tls.rua.test TXT \"v=TLSRPTv1; rua=mailto:reports@rua.test\"\n\
                mx.rua.test A 127.0.0.1\n";
    let config = format!("hostname = \"mx.a.test\"\n[delivery]\nport = {port}\n");
    let mut server = Server::start_with_zone(&config, zone);
    server.admin(&["domain", "add", "a.test"]);
    server.add_user("alice@a.test");
    server.add_user("postmaster@a.test");
    serve_with_keys(&mut server, zone);

    for to in ["x@remote.test", "y@remote.test"] {
        server.python(&format!(
            r#"
import mailtest
client = mailtest.submit("alice@a.test")
assert client.sendmail("alice@a.test", ["{to}"], b"From: alice@a.test\r\nTo: {to}\r\nSubject: hi\r\n\r\nhello\r\n") == {{}}
client.quit()
"#
        ));
    }
    good.wait_for(2);
    assert_eq!(broken.received(), 0);
    // Each message met the broken MX first, on a session of its own; the
    // good one's sessions may have carried both.
    let good_sessions = (1..=2)
        .map(|n| good.connection(n))
        .collect::<std::collections::BTreeSet<_>>()
        .len();

    let (day, day_start) = today();
    let sent = server.admin(&["reports", "tls", "send", "--day", &day]);
    assert!(sent.contains("Queued 1 TLS report(s)"), "{sent}");
    let received = rua.wait_for(1);
    assert!(!received.is_empty());
    assert_eq!(rua.envelope(1), ["postmaster@a.test", "reports@rua.test"]);
    let path = rua.dir.path().join("1.eml");
    let (report, filename) = check_report(&server, &path);

    let prefix = format!("a.test!remote.test!{day_start}!{}!", day_start + 86_399);
    assert!(
        filename.starts_with(&prefix) && filename.ends_with(".json.gz"),
        "{filename}"
    );
    assert_eq!(report["organization-name"], "a.test");
    assert_eq!(report["date-range"]["start-datetime"], format!("{day}T00:00:00Z"));
    let policies = report["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "{report}");
    let policy = &policies[0];
    assert_eq!(policy["policy"]["policy-type"], "no-policy-found");
    assert_eq!(policy["policy"]["policy-domain"], "remote.test");
    assert_eq!(policy["summary"]["total-successful-session-count"], good_sessions);
    assert_eq!(policy["summary"]["total-failure-session-count"], 2);
    // One detail row per distinct failure; the handshake's error text
    // (its failure-reason-code) may differ from one session to the next.
    let details = policy["failure-details"].as_array().unwrap();
    let mut failed = 0;
    for detail in details {
        assert_eq!(detail["result-type"], "validation-failure", "{report}");
        assert_eq!(detail["receiving-mx-hostname"], "mx0.remote.test");
        assert_eq!(detail["receiving-ip"], "127.0.0.3");
        assert_eq!(detail["sending-mta-ip"], "127.0.0.1");
        failed += detail["failed-session-count"].as_u64().unwrap();
    }
    assert_eq!(failed, 2, "{report}");
    // The report's own session to rua.test (which asks for reports too)
    // is in no report (§5.3): sending again sends remote.test's alone.
    let again = server.admin(&["reports", "tls", "send", "--day", &day]);
    assert!(again.contains("Queued 1 TLS report(s)"), "{again}");
    rua.wait_for(2);
    let (second, _) = check_report(&server, &rua.dir.path().join("2.eml"));
    assert_eq!(second["policies"].as_array().unwrap().len(), 1, "{second}");
    assert_eq!(second["policies"][0]["policy"]["policy-domain"], "remote.test");

    read_back(&server, &path, &day, good_sessions);
}

/// Our report, a gzip bomb, broken JSON and a well-formed report nobody
/// signed, delivered to our own report address (postmaster@a.test by
/// default), as `postamt reports tls` lists them.
fn read_back(server: &Server, report: &Path, day: &str, good_sessions: usize) {
    server.python(&format!(
        r#"
import base64, gzip, json, mailtest
def bad(name, part):
    return ("From: reporter@else.test\r\nTo: postmaster@a.test\r\nSubject: {{0}}\r\n"
            "TLS-Report-Domain: a.test\r\nTLS-Report-Submitter: else.test\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=tlsrpt; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n"
            "--b\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(part).decode().replace("\n", "\r\n") + "--b--\r\n").format(name).encode()
bomb = gzip.compress(b" " * (64 << 20), 9)
messages = [
    open({report:?}, "rb").read(),
    bad("bomb", bomb),
    bad("broken", gzip.compress(b'{{"organization-name": "x", "policies": [')),
    bad("unsigned", gzip.compress(json.dumps({{
        "organization-name": "else.test", "contact-info": "x@else.test", "report-id": "r1",
        "date-range": {{"start-datetime": "{day}T00:00:00Z", "end-datetime": "{day}T23:59:59Z"}},
        "policies": [{{"policy": {{"policy-type": "no-policy-found", "policy-domain": "a.test"}},
                      "summary": {{"total-successful-session-count": 7, "total-failure-session-count": 0}}}}],
    }}).encode())),
]
client = mailtest.smtp()
for message in messages:
    assert client.sendmail("reporter@else.test", ["postmaster@a.test"], message) == {{}}
client.quit()
mailtest.wait_for_messages("postmaster@a.test", 4)
"#,
        report = report.to_string_lossy()
    ));
    let table = server.admin(&["reports", "tls"]);
    let row = table
        .lines()
        .find(|l| l.starts_with("a.test"))
        .unwrap_or_else(|| panic!("{table}"));
    let columns: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        columns[..6],
        [
            "a.test",
            day,
            "remote.test",
            "no-policy-found",
            &good_sessions.to_string(),
            "2"
        ],
        "{table}"
    );
    assert!(row.contains("validation-failure: 2"), "{table}");
    assert_eq!(table.matches("MALFORMED").count(), 2, "{table}");
    assert!(table.contains("inflates to more than"), "{table}");
    assert!(table.contains("not RFC 8460 JSON"), "{table}");
    // RFC 8460 §3: a report without its reporter's signature is ignored.
    assert_eq!(table.matches("IGNORED").count(), 1, "{table}");
    assert!(
        table.contains("no DKIM signature of its reporting domain (else.test)"),
        "{table}"
    );
    assert!(
        !table.contains("else.test "),
        "the unsigned report is not counted: {table}"
    );

    let json: serde_json::Value = serde_json::from_str(&server.admin(&["reports", "tls", "--json"])).unwrap();
    assert_eq!(json["reports"][0]["failures"]["validation-failure"], 2, "{json}");
    assert_eq!(json["malformed"].as_array().unwrap().len(), 2, "{json}");
    assert_eq!(json["ignored"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json["reports"].as_array().unwrap().len(), 1, "{json}");
    let other = server.admin_output(&["reports", "tls", "--address", "nobody@a.test"], None);
    assert!(!other.status.success());
}

#[test]
fn dns_prints_and_checks_the_tlsrpt_record() {
    let zone = "_smtp._tls.a.test TXT \"v=TLSRPTv1; rua=mailto:postmaster@a.test\"\n\
                _smtp._tls.b.test TXT \"v=TLSRPTv1; rua=mailto:someone@else.test\"\n";
    let server = Server::start_with_zone("hostname = \"mx.a.test\"\n", zone);
    server.admin(&["domain", "add", "a.test"]);
    server.admin(&["domain", "add", "b.test"]);
    let printed = server.admin(&["dns", "b.test"]);
    assert!(
        printed.contains("_smtp._tls.b.test. IN TXT \"v=TLSRPTv1; rua=mailto:postmaster@a.test\""),
        "{printed}"
    );
    let checked = server.admin_output(&["dns", "a.test", "--check"], None);
    let text = String::from_utf8_lossy(&checked.stdout);
    assert!(text.contains("OK     TLS reporting (_smtp._tls.a.test.)"), "{text}");
    let checked = server.admin_output(&["dns", "b.test", "--check"], None);
    let text = String::from_utf8_lossy(&checked.stdout);
    assert!(
        text.contains("WRONG  TLS reporting (_smtp._tls.b.test.): reports go to someone@else.test"),
        "{text}"
    );
}

#[test]
fn a_report_is_queued_to_go_despite_tls_policies() {
    // RFC 8460 §5.3: a report must reach its domain even when the TLS
    // policy it is about is what fails; it is queued as a message saying
    // TLS-Required: No (RFC 8689 §5), as `queue show` tells while the
    // report address's server keeps deferring it.
    let rua = Peer::start(&["--defer", "100"]);
    let port = rua.helper.port.to_string();
    let remote = Peer::start(&["--host", "127.0.0.2", "--port", &port]);
    let zone = "remote.test MX 10 mx.remote.test\n\
                mx.remote.test A 127.0.0.2\n\
                _smtp._tls.remote.test TXT \"v=TLSRPTv1; rua=mailto:reports@rua.test\"\n\
                rua.test MX 10 mx.rua.test\n\
                mx.rua.test A 127.0.0.1\n";
    let config = format!("hostname = \"mx.a.test\"\n[delivery]\nport = {port}\n");
    let server = Server::start_with_zone(&config, zone);
    server.admin(&["domain", "add", "a.test"]);
    server.add_user("alice@a.test");
    server.add_user("postmaster@a.test");
    server.python(
        r#"
import mailtest
client = mailtest.submit("alice@a.test")
assert client.sendmail("alice@a.test", ["x@remote.test"], b"From: alice@a.test\r\nTo: x@remote.test\r\nSubject: hi\r\n\r\nhello\r\n") == {}
client.quit()
"#,
    );
    remote.wait_for(1);
    let (day, _) = today();
    let sent = server.admin(&["reports", "tls", "send", "--day", &day]);
    assert!(sent.contains("Queued 1 TLS report(s)"), "{sent}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let listing = loop {
        let listing = server.admin(&["queue", "list"]);
        if listing.contains("451 4.3.0") {
            break listing;
        }
        assert!(std::time::Instant::now() < deadline, "{listing}\n{}", server.log());
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let id = listing.split_whitespace().next().unwrap();
    let shown = server.admin(&["queue", "show", id]);
    assert!(shown.contains("Requires: nothing (TLS-Required: No"), "{shown}");
}
