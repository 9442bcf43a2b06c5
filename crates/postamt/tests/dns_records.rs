//! `postamt dkim` and `postamt dns`: the keys a domain gets, the zone
//! lines printed for them, and `dns --check` against a real DNS server on
//! loopback serving first the right zone, then a wrong one.

mod common;

use common::{Helper, Server};

/// The selectors `dkim list` shows in `state`.
fn selectors(server: &Server, state: &str) -> Vec<String> {
    server
        .admin(&["dkim", "list", "example.test"])
        .lines()
        .filter(|line| line.split('\t').nth(2) == Some(state))
        .map(|line| line.split('\t').next().unwrap().to_string())
        .collect()
}

#[test]
fn dns_prints_the_records_of_every_published_key() {
    let server = Server::start("");
    server.admin(&["domain", "add", "example.test"]);
    let active = selectors(&server, "active");
    assert_eq!(active.len(), 2, "one ed25519 and one RSA key");
    let zone = server.admin(&["dns", "example.test"]);
    assert!(zone.contains("\nexample.test. IN MX 10 mx.example.test.\n"), "{zone}");
    assert!(zone.contains("\nexample.test. IN TXT \"v=spf1 mx -all\"\n"), "{zone}");
    assert!(
        zone.contains("\n_dmarc.example.test. IN TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.test\"\n"),
        "{zone}"
    );
    assert!(zone.contains("PTR") && zone.contains("mx.example.test."), "{zone}");
    // MTA-STS and the client records (RFC 6186): every listener of the
    // test server is on, implicit TLS preferred.
    for line in [
        "\n_mta-sts.example.test. IN TXT \"v=STSv1; id=",
        "\nmta-sts.example.test. IN CNAME mx.example.test.\n",
        "\nautoconfig.example.test. IN CNAME mx.example.test.\n",
        "\n_submissions._tcp.example.test. IN SRV 0 1 465 mx.example.test.\n",
        "\n_submission._tcp.example.test. IN SRV 10 1 587 mx.example.test.\n",
        "\n_imaps._tcp.example.test. IN SRV 0 1 993 mx.example.test.\n",
        "\n_imap._tcp.example.test. IN SRV 10 1 143 mx.example.test.\n",
        "\n_pop3s._tcp.example.test. IN SRV 0 1 995 mx.example.test.\n",
        "\n_pop3._tcp.example.test. IN SRV 10 1 110 mx.example.test.\n",
    ] {
        assert!(zone.contains(line), "{line:?} missing:\n{zone}");
    }
    for selector in &active {
        let line = zone
            .lines()
            .find(|l| l.starts_with(&format!("{selector}._domainkey.example.test. IN TXT \"v=DKIM1; k=")))
            .unwrap_or_else(|| panic!("no record for {selector}:\n{zone}"));
        // Character-strings of at most 255 bytes (RFC 1035 §3.3.14).
        let strings: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        assert!(strings.iter().all(|s| s.len() <= 255), "{line}");
        if line.contains("k=rsa") {
            assert!(strings.len() >= 2, "a 2048-bit key needs two strings: {line}");
        }
    }

    // Rotation: new keys sign, the old ones stay published until retired.
    server.admin(&["dkim", "rotate", "example.test"]);
    let rotated = selectors(&server, "active");
    assert_eq!(rotated.len(), 2);
    assert!(rotated.iter().all(|s| !active.contains(s)), "{rotated:?} {active:?}");
    assert_eq!(selectors(&server, "published"), active);
    assert_eq!(
        server.admin(&["dns", "example.test"]).matches("._domainkey.").count(),
        4
    );
    server.admin(&["dkim", "retire", "example.test", &active[0]]);
    let zone = server.admin(&["dns", "example.test"]);
    assert_eq!(zone.matches("._domainkey.").count(), 3, "{zone}");
    assert!(!zone.contains(&format!("{}._domainkey", active[0])), "{zone}");

    let fail = |args: &[&str]| {
        let output = server.admin_output(args, None);
        assert!(!output.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    assert!(fail(&["dkim", "retire", "example.test", &rotated[0]]).contains("rotate first"));
    assert!(fail(&["dkim", "retire", "example.test", "nope"]).contains("postamt dkim list example.test"));
    assert!(fail(&["dns", "other.test"]).contains("postamt domain add other.test"));
    // The private keys are never printed.
    let listed = server.admin(&["dkim", "list", "example.test"]);
    assert!(listed.lines().all(|l| l.split('\t').count() == 4), "{listed}");
}

#[test]
fn with_a_relay_spf_allows_it() {
    let server = Server::start("[delivery]\nrelay = \"smtp.relay.test:587\"\n");
    server.admin(&["domain", "add", "example.test"]);
    let zone = server.admin(&["dns", "example.test"]);
    assert!(
        zone.contains("\nexample.test. IN TXT \"v=spf1 mx a:smtp.relay.test -all\"\n"),
        "{zone}"
    );
}

/// Serves `zone_lines` (as `postamt dns` prints them) and `host_lines`
/// (dnsserver.py's form) from a new DNS server and runs `dns --check`
/// against it.
fn check_against(server: &Server, zone_lines: &str, host_lines: &str) -> (bool, String) {
    let mut zone: String = zone_lines
        .lines()
        .filter(|l| !l.starts_with(';'))
        .map(|l| format!("{}\n", l.replacen(" IN ", " ", 1)))
        .collect();
    zone.push_str(host_lines);
    let path = server.dir.path().join("published-zone");
    std::fs::write(&path, zone).unwrap();
    let dns = Helper::start("dnsserver.py", &[path.to_str().unwrap()]);
    // The command reads the config afresh; the running server is unaffected.
    let config = std::fs::read_to_string(server.config_path()).unwrap();
    let start = config.find("nameservers = ").unwrap();
    let end = start + config[start..].find('\n').unwrap();
    let config = format!(
        "{}nameservers = [\"127.0.0.1:{}\"]{}",
        &config[..start],
        dns.port,
        &config[end..]
    );
    std::fs::write(server.config_path(), config).unwrap();
    let output = server.admin_output(&["dns", "--check", "example.test"], None);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn dns_check_says_which_records_are_missing_or_wrong() {
    let server = Server::start("");
    server.admin(&["domain", "add", "example.test"]);
    let right = server.admin(&["dns", "example.test"]);
    // The server's name, its address, and the address's name back (an
    // address from TEST-NET-1: hickory answers PTR queries for 127/8 as
    // localhost itself, RFC 6761).
    let host = "mx.example.test A 192.0.2.25\n25.2.0.192.in-addr.arpa PTR mx.example.test.\n";
    let (ok, text) = check_against(&server, &right, host);
    assert!(ok, "{text}");
    // MX, SPF, 2 DKIM, DMARC, PTR, MTA-STS, 2 CNAME, 6 SRV, TLS reporting.
    assert_eq!(text.matches("OK ").count(), 16, "{text}");
    assert!(text.contains("OK     SRV _imaps._tcp.example.test"), "{text}");
    assert!(text.contains("OK     CNAME autoconfig.example.test"), "{text}");
    assert!(text.contains("OK     PTR of mx.example.test's addresses"), "{text}");
    assert!(text.contains("OK     MTA-STS (_mta-sts.example.test.)"), "{text}");

    let ed25519 = selectors(&server, "active")
        .into_iter()
        .find(|s| s.ends_with('e'))
        .unwrap();
    let wrong: String = right
        .lines()
        .filter(|l| {
            !l.starts_with(&format!("{ed25519}."))
                && !l.starts_with("_dmarc.")
                && !l.starts_with("autoconfig.")
                && !l.starts_with("_smtp._tls.")
        })
        .map(|l| {
            let l = l.replace("v=spf1 mx -all", "v=spf1 a -all").replace(" 993 ", " 994 ");
            // A policy id from before the policy changed.
            format!("{}\n", l.replace("v=STSv1; id=", "v=STSv1; id=0"))
        })
        .collect();
    let host = "mx.example.test A 192.0.2.25\n25.2.0.192.in-addr.arpa PTR vps-1234.provider.test.\n";
    let (ok, text) = check_against(&server, &wrong, host);
    assert!(!ok, "{text}");
    assert!(text.contains("OK     MX"), "{text}");
    assert!(
        text.contains("WRONG  SPF") && text.contains("found \"v=spf1 a -all\"") && text.contains("v=spf1 mx -all"),
        "{text}"
    );
    assert!(
        text.contains(&format!("WRONG  DKIM {ed25519}")) && text.contains("no such record"),
        "{text}"
    );
    assert!(text.contains("WRONG  DMARC"), "{text}");
    assert!(
        text.contains("WRONG  TLS reporting (_smtp._tls.example.test.): no v=TLSRPTv1 record"),
        "{text}"
    );
    assert_eq!(
        text.matches("OK ").count(),
        8,
        "MX, the RSA key, one CNAME and five SRV: {text}"
    );
    assert!(
        text.contains("WRONG  SRV _imaps._tcp.example.test") && text.contains("found 0 1 994 mx.example.test"),
        "{text}"
    );
    assert!(text.contains("WRONG  CNAME autoconfig.example.test"), "{text}");
    assert!(
        text.contains("WRONG  PTR") && text.contains("the PTR record of 192.0.2.25 names vps-1234.provider.test"),
        "{text}"
    );
    assert!(
        text.contains("WRONG  MTA-STS") && text.contains("its id is not the current policy's"),
        "{text}"
    );
    assert!(text.contains("8 DNS record(s) of example.test need fixing"), "{text}");
}

#[test]
fn dns_check_against_a_server_that_never_answers_ends_in_bounded_time() {
    let server = Server::start("");
    server.admin(&["domain", "add", "example.test"]);
    // A UDP socket nobody reads and a TCP port that accepts (the kernel's
    // backlog) but never answers, on the same port.
    let (udp, tcp) = loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        if let Ok(tcp) = std::net::TcpListener::bind(udp.local_addr().unwrap()) {
            break (udp, tcp);
        }
    };
    let config = std::fs::read_to_string(server.config_path()).unwrap();
    let start = config.find("nameservers = ").unwrap();
    let end = start + config[start..].find('\n').unwrap();
    let silent = format!("nameservers = [\"{}\"]", udp.local_addr().unwrap());
    std::fs::write(
        server.config_path(),
        format!("{}{silent}{}", &config[..start], &config[end..]),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let output = server.admin_output(&["dns", "--check", "example.test"], None);
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert_eq!(stdout.matches("WRONG ").count(), 16, "{stdout}");
    assert!(stdout.contains("[dns] nameservers"), "{stdout}");
    // One budget (10 s) for all records, not one per record.
    assert!(elapsed < std::time::Duration::from_secs(20), "took {elapsed:?}");
    drop((udp, tcp));
}
