//! The verifiers against a peer that is not ours: certificates and keys
//! made by the `openssl` command (RSA, as most MTAs use), TLSA data
//! computed from what `openssl` extracts, and Python's `ssl` (OpenSSL)
//! serving them on loopback, over TLS 1.3 and 1.2.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use net::{Connection, Stream, TlsConnector, TlsaRecord, VerifyFailure, dane_connector, pkix_connector};
use ring::digest;
use tokio::net::TcpStream;

const MX: &str = "mx.example.test";

/// Serves `cert` and `key` until dropped, printing its port first.
const SERVER: &str = r#"
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
if sys.argv[3] == "1.2":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
        tls.sendall(b"220 ok\r\n")
        tls.close()
    except (ssl.SSLError, OSError):
        conn.close()
"#;

struct Server {
    child: Child,
    address: SocketAddr,
}

impl Server {
    fn start(chain: &Path, key: &Path, version: &str) -> Server {
        let mut child = Command::new("python3")
            .args(["-c", SERVER])
            .arg(chain)
            .arg(key)
            .arg(version)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no port from the server: {line:?}"));
        Server {
            child,
            address: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `openssl` with `command`'s words as arguments, in `dir`.
fn openssl(dir: &Path, command: &str) {
    let args: Vec<&str> = command.split_whitespace().collect();
    let status = Command::new("openssl")
        .args(&args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl {command}");
}

/// `openssl`'s DER of a certificate (selector 0) or of its public key
/// (selector 1).
fn selected(dir: &Path, cert: &str, selector: u8) -> Vec<u8> {
    let out = format!("{cert}.{selector}.der");
    if selector == 0 {
        openssl(dir, &format!("x509 -in {cert} -outform DER -out {out}"));
    } else {
        openssl(dir, &format!("x509 -in {cert} -noout -pubkey -out {cert}.pub.pem"));
        openssl(dir, &format!("pkey -pubin -in {cert}.pub.pem -outform DER -out {out}"));
    }
    std::fs::read(dir.join(out)).unwrap()
}

fn tlsa(dir: &Path, cert: &str, usage: u8, selector: u8) -> TlsaRecord {
    let data = digest::digest(&digest::SHA256, &selected(dir, cert, selector));
    TlsaRecord {
        usage,
        selector,
        matching: 1,
        data: data.as_ref().to_vec(),
    }
}

/// A self-signed RSA certificate for `name` (`stem.crt`, `stem.key`).
fn self_signed(dir: &Path, stem: &str, name: &str) -> (PathBuf, PathBuf) {
    openssl(
        dir,
        &format!(
            "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN={name} -addext subjectAltName=DNS:{name} \
             -keyout {stem}.key -out {stem}.crt"
        ),
    );
    (dir.join(format!("{stem}.crt")), dir.join(format!("{stem}.key")))
}

/// A CA (`ca.crt`, `ca.key`) and a leaf for `name` it signed, with the
/// chain the server sends (`stem.chain`: leaf, then CA).
fn ca_and_leaf(dir: &Path, stem: &str, name: &str) -> (PathBuf, PathBuf) {
    if !dir.join("ca.crt").exists() {
        openssl(
            dir,
            "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=OpenSSL-Test-CA \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
             -keyout ca.key -out ca.crt",
        );
    }
    openssl(
        dir,
        &format!("req -newkey rsa:2048 -nodes -subj /CN={name} -keyout {stem}.key -out {stem}.csr"),
    );
    std::fs::write(dir.join(format!("{stem}.ext")), format!("subjectAltName=DNS:{name}\n")).unwrap();
    openssl(
        dir,
        &format!(
            "x509 -req -in {stem}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
             -extfile {stem}.ext -out {stem}.crt"
        ),
    );
    let chain = dir.join(format!("{stem}.chain"));
    let mut pem = std::fs::read(dir.join(format!("{stem}.crt"))).unwrap();
    pem.extend(std::fs::read(dir.join("ca.crt")).unwrap());
    std::fs::write(&chain, pem).unwrap();
    (chain, dir.join(format!("{stem}.key")))
}

type Outcome = Result<String, Result<VerifyFailure, String>>;

async fn handshake(connector: &TlsConnector, server: &Server) -> Outcome {
    let tcp = TcpStream::connect(server.address).await.unwrap();
    let mut connection = Connection::new(Stream::Plain(tcp), Duration::from_secs(10));
    match connection
        .start_tls_client(connector, net::server_name(MX).unwrap())
        .await
    {
        Ok(()) => Ok(connection.tls_parameters().unwrap().0),
        Err(e) => Err(VerifyFailure::of(&e).ok_or_else(|| e.to_string())),
    }
}

#[tokio::test]
async fn dane_ee_with_records_from_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = self_signed(dir.path(), "server", "elsewhere.example");
    self_signed(dir.path(), "other", MX);
    for (version, expected) in [("1.3", "TLSv1_3"), ("1.2", "TLSv1_2")] {
        let server = Server::start(&crt, &key, version);
        for selector in [1, 0] {
            let record = tlsa(dir.path(), "server.crt", 3, selector);
            let connector = dane_connector(&[record], &[MX.to_string()]).unwrap();
            assert_eq!(handshake(&connector, &server).await, Ok(expected.to_string()));
        }
        let record = tlsa(dir.path(), "other.crt", 3, 1);
        let connector = dane_connector(&[record], &[MX.to_string()]).unwrap();
        assert_eq!(handshake(&connector, &server).await, Err(Ok(VerifyFailure::NoMatch)));
    }
}

#[tokio::test]
async fn dane_ta_and_pkix_with_an_openssl_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = ca_and_leaf(dir.path(), "mx", MX);
    let (elsewhere_chain, elsewhere_key) = ca_and_leaf(dir.path(), "elsewhere", "mail.elsewhere.example");
    let good = Server::start(&chain, &key, "1.3");
    let misnamed = Server::start(&elsewhere_chain, &elsewhere_key, "1.2");

    let ta = tlsa(dir.path(), "ca.crt", 2, 0);
    let dane = dane_connector(&[ta], &[MX.to_string()]).unwrap();
    assert_eq!(handshake(&dane, &good).await, Ok("TLSv1_3".to_string()));
    let failure = handshake(&dane, &misnamed).await.unwrap_err().unwrap();
    assert_eq!(failure.tlsrpt_result_type(), "certificate-host-mismatch");

    let pkix = pkix_connector(Some(&dir.path().join("ca.crt"))).unwrap();
    assert_eq!(handshake(&pkix, &good).await, Ok("TLSv1_3".to_string()));
    let failure = handshake(&pkix, &misnamed).await.unwrap_err().unwrap();
    assert_eq!(failure, VerifyFailure::HostMismatch(MX.to_string()));
    // Without the CA, the same chain is not trusted.
    let untrusting = pkix_connector(None).unwrap();
    let failure = handshake(&untrusting, &good).await.unwrap_err().unwrap();
    assert_eq!(failure.tlsrpt_result_type(), "certificate-not-trusted");
}
