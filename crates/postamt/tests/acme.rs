//! Certificates by ACME against a real ACME server: pebble (the Let's
//! Encrypt test server, Debian package `pebble`) on loopback, validating
//! TLS-ALPN-01 on postamt's HTTPS listener and resolving names through the
//! test's DNS server. Checked from outside: what openssl sees on the
//! IMAPS port, verified against pebble's root; an IMAP session that stays
//! logged in across a renewal; a restart that orders nothing.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{PASSWORD, Server};

/// `mta-sts.` resolves where the hostname does, `autoconfig.` not at all:
/// only the first joins the certificate (`domain_names = "resolving"`).
const ZONE: &str = "mx.example.test A 127.0.0.1\nmta-sts.example.test A 127.0.0.1\n";

/// pebble on loopback, with an HTTPS certificate of the test's own CA.
struct Pebble {
    child: Option<Child>,
    dir: tempfile::TempDir,
    listen: u16,
    directory: String,
    management: SocketAddr,
}

impl Pebble {
    /// Its ports and its HTTPS certificate, before it runs.
    fn new() -> Pebble {
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        // Subjects of their own: equal ones would make the leaf look self-signed.
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "postamt test CA");
        let ca_cert = ca_params.self_signed(&ca).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "pebble");
        let issuer = rcgen::Issuer::new(ca_params, ca);
        let cert = params.signed_by(&key, &issuer).unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        let listen = free_port();
        Pebble {
            child: None,
            dir,
            listen,
            directory: format!("https://127.0.0.1:{listen}/dir"),
            management: format!("127.0.0.1:{}", free_port()).parse().unwrap(),
        }
    }

    /// Runs it, validating on the server's HTTPS (TLS-ALPN-01) or HTTP
    /// (HTTP-01) port and asking its DNS server for addresses.
    fn run(&mut self, server: &Server) {
        let (tls_port, http_port, dns) = (server.https.port(), server.http.port(), server.dns.port);
        let config = format!(
            r#"{{"pebble": {{"listenAddress": "127.0.0.1:{}", "managementListenAddress": "{}",
                "certificate": "{2}/cert.pem", "privateKey": "{2}/key.pem", "httpPort": {http_port}, "tlsPort": {tls_port},
                "ocspResponderURL": "", "externalAccountBindingRequired": false}}}}"#,
            self.listen,
            self.management,
            self.dir.path().display()
        );
        std::fs::write(self.dir.path().join("pebble.json"), config).unwrap();
        let child = Command::new("pebble")
            .arg("-config")
            .arg(self.dir.path().join("pebble.json"))
            .arg("-dnsserver")
            .arg(format!("127.0.0.1:{dns}"))
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            // Every order validates afresh, renewals too.
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(std::fs::File::create(self.dir.path().join("pebble.log")).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pebble (Debian package pebble)");
        self.child = Some(child);
        for port in [self.listen, self.management.port()] {
            wait_for(&format!("pebble listening on {port}"), || {
                TcpStream::connect(("127.0.0.1", port)).is_ok().then_some(())
            });
        }
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The root pebble issues under (made anew at each start), as a file.
    fn root(&self) -> PathBuf {
        let path = self.dir.path().join("root.pem");
        let output = Command::new("curl")
            .args(["-sSf", "--cacert"])
            .arg(self.ca_file())
            .arg(format!("https://{}/roots/0", self.management))
            .output()
            .expect("run curl");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        std::fs::write(&path, output.stdout).unwrap();
        path
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `check` until it gives an answer, for at most 60 seconds (a CA
/// validating under a loaded CI machine takes its time).
fn wait_for<T>(what: &str, check: impl FnMut() -> Option<T>) -> T {
    wait_logged(what, check, String::new)
}

/// [`wait_for`], showing `log()` if it times out.
fn wait_logged<T>(what: &str, mut check: impl FnMut() -> Option<T>, log: impl Fn() -> String) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(answer) = check() {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; log:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What openssl sees on `port`: the verification result against `root`
/// and the end-entity certificate's serial and names.
struct Seen {
    verified: bool,
    serial: String,
    names: String,
}

fn openssl_sees(port: u16, root: &Path) -> Seen {
    let output = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-servername", "mx.example.test", "-verify_hostname", "mx.example.test"])
        .args(["-verify_return_error", "-CAfile"])
        .arg(root)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("run openssl s_client");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let certificate = text
        .find("-----BEGIN CERTIFICATE-----")
        .and_then(|start| {
            let end = text[start..].find("-----END CERTIFICATE-----")? + start + 25;
            Some(text[start..end].to_string())
        })
        .unwrap_or_default();
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-serial", "-ext", "subjectAltName"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run openssl x509");
    x509.stdin.take().unwrap().write_all(certificate.as_bytes()).unwrap();
    let described = String::from_utf8_lossy(&x509.wait_with_output().unwrap().stdout).into_owned();
    Seen {
        verified: output.status.success() && text.contains("Verify return code: 0 (ok)"),
        serial: described
            .lines()
            .find_map(|l| l.strip_prefix("serial="))
            .unwrap_or_default()
            .to_string(),
        names: described,
    }
}

/// An IMAP session over TLS (verified against `root`), logged in, that
/// waits for a line on its input before each NOOP.
fn imap_session(server: &Server, root: &Path) -> (Child, BufReader<std::process::ChildStdout>) {
    let script = format!(
        r#"
import imaplib, socket, ssl, sys
class Client(imaplib.IMAP4_SSL):
    # mx.example.test is on loopback, known to the test's DNS server only.
    def _create_socket(self, timeout):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)
context = ssl.create_default_context(cafile={root:?})
client = Client("mx.example.test", {port}, ssl_context=context)
client.login("alice@example.test", {PASSWORD:?})
print("logged in", client.sock.getpeercert()["serialNumber"], flush=True)
for line in sys.stdin:
    print(client.noop()[0], flush=True)
"#,
        root = root.display().to_string(),
        port = server.imaps.port()
    );
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python3");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (child, stdout)
}

fn read_line(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    line.trim().to_string()
}

#[test]
fn certificates_are_obtained_by_tls_alpn_01_served_renewed_and_kept() {
    // postamt first, since pebble must know its HTTPS port: its first
    // order fails until pebble runs, and is tried again a second later.
    let mut pebble = Pebble::new();
    let mut server = Server::start_with_zone(
        &format!(
            "[tls]\nacme = {{ directory = \"{}\", ca_file = \"{}\", poll_seconds = 1 }}\n",
            pebble.directory,
            pebble.ca_file().display()
        ),
        ZONE,
    );
    pebble.run(&server);
    let root = pebble.root();
    let imaps = |server: &Server| server.imaps.port();
    let pebble_log = pebble.dir.path().join("pebble.log");
    let logs = |server: &Server| {
        format!(
            "{}\n--- pebble ---\n{}",
            server.log(),
            std::fs::read_to_string(&pebble_log).unwrap_or_default()
        )
    };

    // The first certificate: the hostname's (no domain is hosted yet).
    let first = wait_logged(
        "the first certificate",
        || {
            let seen = openssl_sees(imaps(&server), &root);
            seen.verified.then_some(seen)
        },
        || logs(&server),
    );
    assert!(first.names.contains("DNS:mx.example.test"), "{}", first.names);
    assert!(!first.names.contains("mta-sts"), "{}", first.names);

    // A hosted domain whose mta-sts name resolves here joins; its
    // autoconfig name, which DNS does not know, does not.
    server.add_example_users();
    let second = wait_logged(
        "a certificate with the domain's name",
        || {
            let seen = openssl_sees(imaps(&server), &root);
            (seen.verified && seen.names.contains("DNS:mta-sts.example.test")).then_some(seen)
        },
        || logs(&server),
    );
    assert!(second.names.contains("DNS:mx.example.test"), "{}", second.names);
    assert!(!second.names.contains("autoconfig"), "{}", second.names);
    let status = server.admin(&["tls", "status"]);
    assert!(status.contains("mx.example.test mta-sts.example.test"), "{status}");
    assert!(status.contains(&format!("serial:       {}", second.serial)), "{status}");

    // A forced renewal: a new certificate for new connections, while a
    // session logged in before keeps going.
    let (mut session, mut answers) = imap_session(&server, &root);
    let logged_in = read_line(&mut answers);
    assert!(logged_in.starts_with("logged in"), "{logged_in:?}");
    server.admin(&["tls", "renew"]);
    let renewed = wait_logged(
        "the renewed certificate",
        || {
            let seen = openssl_sees(imaps(&server), &root);
            (seen.verified && seen.serial != second.serial).then_some(seen)
        },
        || logs(&server),
    );
    assert!(renewed.names.contains("DNS:mta-sts.example.test"), "{}", renewed.names);
    writeln!(session.stdin.as_mut().unwrap(), "noop").unwrap();
    assert_eq!(read_line(&mut answers), "OK", "the session survived the renewal");
    drop(session.stdin.take());
    assert!(session.wait().unwrap().success());

    // A restart serves the stored certificate and orders nothing.
    let orders = server.log().matches("ordering a certificate by ACME").count();
    let current = server.log().matches("the ACME certificate is current").count();
    server.restart();
    wait_for("the restarted server's first look at its certificate", || {
        (server.log().matches("the ACME certificate is current").count() > current).then_some(())
    });
    let after = openssl_sees(imaps(&server), &root);
    assert!(after.verified);
    assert_eq!(after.serial, renewed.serial, "the stored certificate is served");
    assert_eq!(server.log().matches("ordering a certificate by ACME").count(), orders);
    assert!(!server.log().contains("PRIVATE KEY"), "no private key in the log");
}

/// Over HTTP-01, with a hosted domain whose `mta-sts.` and `autoconfig.`
/// names both resolve here: the certificate served names all three.
#[test]
fn certificates_are_obtained_by_http_01_for_every_resolving_name() {
    let mut pebble = Pebble::new();
    let server = Server::start_with_zone(
        &format!(
            "[tls.acme]\ndirectory = \"{}\"\nca_file = \"{}\"\nchallenge = \"http-01\"\npoll_seconds = 1\n",
            pebble.directory,
            pebble.ca_file().display()
        ),
        &format!("{ZONE}autoconfig.example.test A 127.0.0.1\n"),
    );
    server.add_example_users();
    pebble.run(&server);
    let root = pebble.root();
    let seen = wait_logged(
        "a certificate validated over HTTP for the domain's names",
        || {
            let seen = openssl_sees(server.imaps.port(), &root);
            (seen.verified && seen.names.contains("DNS:autoconfig.example.test")).then_some(seen)
        },
        || server.log(),
    );
    for name in ["mx.example.test", "mta-sts.example.test", "autoconfig.example.test"] {
        assert!(
            seen.names.contains(&format!("DNS:{name}")),
            "{name} not in {}",
            seen.names
        );
    }
}

/// Two nodes with one hostname on one PostgreSQL store share the
/// certificate: pebble validates on node A only, so only A's orders
/// succeed, and B serves what A stored (B's own attempts fail and back
/// off; while A holds the lease, B does not order at all).
#[test]
fn nodes_sharing_a_store_and_a_hostname_serve_one_certificate() {
    let Some(url) = test_postgres::fresh_database() else {
        return;
    };
    let mut pebble = Pebble::new();
    let node = |id: &str| {
        Server::start_with_zone(
            &format!(
                "node_id = \"{id}\"\n[tls.acme]\ndirectory = \"{}\"\nca_file = \"{}\"\npoll_seconds = 1\n\
                 [store]\nurl = \"{url}\"\n",
                pebble.directory,
                pebble.ca_file().display()
            ),
            ZONE,
        )
    };
    let (a, b) = (node("a"), node("b"));
    pebble.run(&a);
    let root = pebble.root();
    let on_a = wait_logged(
        "node A's certificate",
        || {
            let seen = openssl_sees(a.imaps.port(), &root);
            seen.verified.then_some(seen)
        },
        || a.log(),
    );
    let on_b = wait_logged(
        "node B serving the same certificate",
        || {
            let seen = openssl_sees(b.imaps.port(), &root);
            (seen.verified && seen.serial == on_a.serial).then_some(seen)
        },
        || b.log(),
    );
    assert_eq!(on_b.serial, on_a.serial);
    assert!(
        b.log().contains("serving the ACME certificate found in the store"),
        "{}",
        b.log()
    );
}
