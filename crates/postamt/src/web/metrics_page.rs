//! `/metrics`: the counters of the `metrics` crate and the queue's gauges,
//! in the Prometheus text format 0.0.4.
//!
//! Who may read it: without `[http] metrics_token`, loopback peers only
//! (a scraper on the same machine, or a proxy there that guards it); with
//! a token, whoever sends `Authorization: Bearer TOKEN`, from anywhere,
//! and nobody without it, loopback included.

use std::net::SocketAddr;

use super::request::Request;
use super::{Response, Web};

pub async fn answer(web: &Web, request: &Request, peer: SocketAddr) -> Response {
    if let Some(refusal) = refusal(&web.settings().http.metrics_token, request, peer) {
        return refusal;
    }
    let mut out = String::with_capacity(8 * 1024);
    metrics::render(&mut out);
    // Worked out now rather than kept up to date: one aggregate query.
    match web.store.queue_summary().await {
        Ok((messages, oldest)) => {
            metrics::render_gauge(
                &mut out,
                "postamt_queue_messages",
                "Messages in the queue (any recipient still to be delivered or reported).",
                messages as f64,
            );
            let age = oldest.map_or(0, |received| (store::now() - received).max(0));
            metrics::render_gauge(
                &mut out,
                "postamt_queue_oldest_age_seconds",
                "Age of the oldest message in the queue; 0 when it is empty.",
                age as f64,
            );
        }
        Err(e) => tracing::error!(error = %e, "cannot read the queue's size for /metrics"),
    }
    Response::new(200, "text/plain; version=0.0.4; charset=utf-8", out.into_bytes())
}

/// Why the request may not read the metrics, as the answer to give.
fn refusal(token: &str, request: &Request, peer: SocketAddr) -> Option<Response> {
    if token.is_empty() {
        if peer.ip().to_canonical().is_loopback() {
            return None;
        }
        return Some(Response::text(
            403,
            "metrics are served to loopback only; set [http] metrics_token to allow others\n",
        ));
    }
    let given = request
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if same_secret(given.trim().as_bytes(), token.as_bytes()) {
        return None;
    }
    let mut response = Response::text(401, "a bearer token is needed\n");
    response.headers.push(("WWW-Authenticate", "Bearer".into()));
    Some(response)
}

/// Compares two secrets in time that does not depend on where they first
/// differ: both are hashed, and the digests compared in full.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let given = ring::digest::digest(&ring::digest::SHA256, given);
    let expected = ring::digest::digest(&ring::digest::SHA256, expected);
    given
        .as_ref()
        .iter()
        .zip(expected.as_ref())
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(authorization: Option<&str>) -> Request {
        Request {
            method: "GET".into(),
            path: "/metrics".into(),
            query: String::new(),
            headers: authorization
                .map(|value| ("authorization".to_string(), value.to_string()))
                .into_iter()
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn without_a_token_only_loopback_peers_may_read() {
        let loopback: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:40000".parse().unwrap();
        let outside: SocketAddr = "192.0.2.7:40000".parse().unwrap();
        assert!(refusal("", &request(None), loopback).is_none());
        assert!(refusal("", &request(None), mapped).is_none());
        let refused = refusal("", &request(Some("Bearer x")), outside).expect("refused");
        assert_eq!(refused.status, 403);
        // With a token, the peer's address does not matter; the token does.
        assert!(refusal("t0k", &request(Some("Bearer t0k")), outside).is_none());
        assert_eq!(refusal("t0k", &request(None), loopback).map(|r| r.status), Some(401));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"token", b"token"));
        assert!(!same_secret(b"token", b"tokem"));
        assert!(!same_secret(b"", b"token"));
    }
}
