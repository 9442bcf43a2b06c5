//! Routing against a real DNS server on loopback (tests/python/dnsserver.py).

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use dns::{Resolver, Route, RouteError};

/// A DNS server serving `zone`; it stops when dropped.
struct DnsServer {
    child: Child,
    address: SocketAddr,
    _zone: tempfile::NamedTempFile,
}

impl DnsServer {
    fn start(zone: &str) -> DnsServer {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(zone.as_bytes()).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/python/dnsserver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(file.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with dnslib (pip install dnslib)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("DNS server did not start: {line:?}"));
        DnsServer {
            child,
            address: SocketAddr::from(([127, 0, 0, 1], port)),
            _zone: file,
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ZONE: &str = "
example.test MX 20 mx2.example.test
example.test MX 10 mx1.example.test
mx1.example.test A 127.0.0.5
mx2.example.test AAAA ::1
mx2.example.test A 127.0.0.6
nomx.test A 127.0.0.7
nullmx.test MX 0 .
spread.test MX 10 a.spread.test
spread.test MX 10 b.spread.test
spread.test MX 10 c.spread.test
broken.test SERVFAIL -
";

fn hosts(route: Result<Route, RouteError>) -> Vec<String> {
    route.unwrap().hosts
}

#[tokio::test]
async fn routes_by_preference_and_falls_back_to_the_domain() {
    let server = DnsServer::start(ZONE);
    let resolver = Resolver::new(&[server.address]).unwrap();
    assert_eq!(
        hosts(resolver.route("example.test", "me.test").await),
        ["mx1.example.test", "mx2.example.test"]
    );
    assert_eq!(hosts(resolver.route("nomx.test", "me.test").await), ["nomx.test"]);
    assert_eq!(
        resolver.addresses("mx2.example.test").await.unwrap(),
        ["::1".parse::<std::net::IpAddr>().unwrap(), "127.0.0.6".parse().unwrap()]
    );
    assert_eq!(
        resolver.addresses("nomx.test").await.unwrap(),
        ["127.0.0.7".parse::<std::net::IpAddr>().unwrap()]
    );
}

#[tokio::test]
async fn permanent_and_temporary_failures_are_told_apart() {
    let server = DnsServer::start(ZONE);
    let resolver = Resolver::new(&[server.address]).unwrap();
    let missing = resolver.route("nothere.test", "me.test").await.unwrap_err();
    assert_eq!(missing, RouteError::NoSuchDomain("nothere.test".into()));
    assert!(missing.is_permanent());
    assert_eq!(
        resolver.route("nullmx.test", "me.test").await,
        Err(RouteError::NullMx("nullmx.test".into()))
    );
    let broken = resolver.route("broken.test", "me.test").await.unwrap_err();
    assert!(matches!(broken, RouteError::Temporary(_)), "{broken:?}");
    assert!(!broken.is_permanent());
}

#[tokio::test]
async fn our_own_mx_is_a_configuration_error_not_a_loop() {
    let server = DnsServer::start(ZONE);
    let resolver = Resolver::new(&[server.address]).unwrap();
    // As the second-best MX, only the better one is tried.
    assert_eq!(
        hosts(resolver.route("example.test", "MX2.example.test").await),
        ["mx1.example.test"]
    );
    let error = resolver.route("example.test", "mx1.example.test").await.unwrap_err();
    assert!(matches!(error, RouteError::LoopsToSelf { .. }), "{error:?}");
    assert!(error.to_string().contains("postamt domain add example.test"), "{error}");
}

#[tokio::test]
async fn equal_preferences_are_tried_in_random_order() {
    let server = DnsServer::start(ZONE);
    let resolver = Resolver::new(&[server.address]).unwrap();
    let mut orders = std::collections::HashSet::new();
    for _ in 0..30 {
        let route = hosts(resolver.route("spread.test", "me.test").await);
        assert_eq!(route.len(), 3);
        orders.insert(route);
    }
    assert!(orders.len() > 1, "30 lookups gave one order: {orders:?}");
}
