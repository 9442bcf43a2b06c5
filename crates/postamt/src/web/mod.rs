//! The web listener: plain HTTP (`[listen] http`) and HTTPS (`[listen]
//! https`) for what mail clients and other mail servers fetch over the
//! web, and for the health check. HTTPS uses the server's certificate and
//! answers ACME TLS-ALPN-01 validations itself ([`net::ServerTls::accept`]).
//!
//! Each connection carries one request and is closed after the answer:
//! what is served here is small and rare, so keep-alive would only hold
//! memory for idle clients.

mod request;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use net::ConnectionLimit;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use request::Request;

/// How long a client has to send its request (and to read the answer).
const TIMEOUT: Duration = Duration::from_secs(10);

/// What the web listener serves from.
pub struct Web {
    pub tls: net::ServerTls,
    /// ACME HTTP-01 answers, served on plain HTTP (see crate::acme).
    pub acme_http01: crate::acme::Http01Answers,
}

/// An answer: status, content type and body.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
        }
    }
}

/// Serves one listener until the server stops.
pub async fn serve(web: Arc<Web>, listener: TcpListener, limit: ConnectionLimit, secure: bool) {
    net::accept_loop(
        listener,
        limit,
        b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        move |stream, peer| connection(web.clone(), stream, peer, secure),
    )
    .await;
}

async fn connection(web: Arc<Web>, stream: tokio::net::TcpStream, peer: SocketAddr, secure: bool) {
    if !secure {
        return exchange(&web, stream, peer).await;
    }
    match tokio::time::timeout(TIMEOUT, web.tls.accept(stream)).await {
        Ok(Ok(Some(tls))) => exchange(&web, tls, peer).await,
        Ok(Ok(None)) => tracing::info!(%peer, "answered an ACME TLS-ALPN-01 validation"),
        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "HTTPS handshake failed"),
        Err(_) => tracing::debug!(%peer, "HTTPS handshake timed out"),
    }
}

/// Reads one request, answers it, closes.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(web: &Web, mut stream: S, peer: SocketAddr) {
    let (response, host) = match tokio::time::timeout(TIMEOUT, request::read(&mut stream)).await {
        Ok(Ok(request)) => (
            route(web, &request),
            request.header("host").unwrap_or_default().to_string(),
        ),
        Ok(Err(status)) => (Response::text(status, "bad request\n"), String::new()),
        Err(_) => return,
    };
    tracing::debug!(%peer, %host, status = response.status, "web request");
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    let _ = tokio::time::timeout(TIMEOUT, async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&response.body).await?;
        stream.shutdown().await
    })
    .await;
    linger(&mut stream).await;
}

/// Reads and drops what the client still sends, for a little while, before
/// closing: closing with unread input makes the kernel reset the
/// connection, and a reset can destroy the answer before the client reads
/// it (a client that sent too much is exactly the one told so). Bounded in
/// time and bytes.
async fn linger<S: AsyncRead + Unpin>(stream: &mut S) {
    let mut left = 256 * 1024usize;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

fn route(web: &Web, request: &Request) -> Response {
    if let Some(answer) = web.acme_http01.answer(&request.path) {
        return Response::text(200, &answer);
    }
    match (request.method.as_str(), request.path.as_str()) {
        ("GET" | "HEAD", "/health") => Response::text(200, "ok\n"),
        ("GET" | "HEAD", _) => Response::text(404, "not found\n"),
        _ => Response::text(405, "method not allowed\n"),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}
