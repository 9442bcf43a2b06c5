//! Routing against a real DNS server on loopback (tests/python/dnsserver.py).

#[path = "support/dns_server.rs"]
mod dns_server;

use dns::{Resolver, Route, RouteError};
use dns_server::DnsServer;

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
