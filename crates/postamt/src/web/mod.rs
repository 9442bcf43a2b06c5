//! The web listener: plain HTTP (`[listen] http`) and HTTPS (`[listen]
//! https`) for what mail clients and other mail servers fetch over the
//! web, and for the health check. HTTPS uses the server's certificate and
//! answers ACME TLS-ALPN-01 validations itself ([`net::ServerTls::accept`]).
//!
//! Each connection carries one request and is closed after the answer:
//! what is served here is small and rare, so keep-alive would only hold
//! memory for idle clients.

mod autoconfig;
mod metrics_page;
pub mod mta_sts;
mod request;
pub mod settings;
mod xml;

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
    pub store: store::Store,
    /// `[http]` and `[mta_sts]`, which a reload replaces (SIGHUP); a
    /// request uses the value it took when it was routed.
    settings: net::Live<WebSettings>,
    /// The listeners and the name of the start, which change only with a
    /// restart: what clients are told follows what is served.
    listen: crate::config::Listen,
    hostname: String,
}

/// The part of the config the pages answer from.
pub struct WebSettings {
    /// `hostname`, without a final dot, in lower case.
    pub hostname: String,
    pub http: settings::HttpSettings,
    pub clients: settings::ClientSettings,
    pub mta_sts: settings::MtaStsSettings,
}

impl Web {
    pub fn new(
        config: &crate::config::Config,
        tls: net::ServerTls,
        store: store::Store,
        acme_http01: crate::acme::Http01Answers,
    ) -> Web {
        let hostname = config.hostname.clone();
        let listen = config.listen.clone();
        Web {
            tls,
            acme_http01,
            store,
            settings: net::Live::new(web_settings(config, &listen, &hostname)),
            listen,
            hostname,
        }
    }

    /// The settings now.
    pub fn settings(&self) -> Arc<WebSettings> {
        self.settings.get()
    }

    /// Takes `[http]` and `[mta_sts]` from a config read again, for every
    /// request from now on (the listeners and the name stay those of the
    /// start).
    pub fn reload(&self, config: &crate::config::Config) {
        self.settings.set(web_settings(config, &self.listen, &self.hostname));
    }
    /// The hosted domain `domain` (normalised), or None when it is not
    /// hosted here or the store cannot say (logged).
    async fn hosted(&self, domain: &str) -> Option<String> {
        let domain = store::normalize_domain(domain);
        if !store::is_valid_domain(&domain) {
            return None;
        }
        match self.store.is_local_domain(&domain).await {
            Ok(true) => Some(domain),
            Ok(false) => None,
            Err(e) => {
                tracing::error!(error = %e, "cannot look up a hosted domain");
                None
            }
        }
    }
}

fn web_settings(config: &crate::config::Config, listen: &crate::config::Listen, hostname: &str) -> WebSettings {
    WebSettings {
        hostname: hostname.trim_end_matches('.').to_ascii_lowercase(),
        http: config.http.clone(),
        clients: settings::ClientSettings::new(&config.http, listen, hostname),
        mta_sts: config.mta_sts.clone(),
    }
}

/// An answer: status, content type, extra header fields and body.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Send the head only (a HEAD request).
    pub head_only: bool,
}

impl Response {
    pub fn text(status: u16, body: &str) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body.as_bytes().to_vec())
    }

    pub fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body,
            head_only: false,
        }
    }

    pub fn not_found() -> Response {
        Response::text(404, "not found\n")
    }
}

/// Serves one listener until the server stops.
pub async fn serve(
    web: Arc<Web>,
    listener: TcpListener,
    limit: ConnectionLimit,
    secure: bool,
    shutdown: net::Shutdown,
) {
    net::accept_loop(
        listener,
        limit,
        b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        shutdown,
        move |stream, peer, shutdown| {
            let web = web.clone();
            async move {
                connection(web, stream, peer, secure).await;
                // A stop waits for the request under way (bounded by TIMEOUT).
                drop(shutdown);
            }
        },
    )
    .await;
}

/// Serves the plain and the TLS listeners until the server stops.
pub fn serve_all(
    web: Arc<Web>,
    (http, https): (Vec<TcpListener>, Vec<TcpListener>),
    limit: &ConnectionLimit,
    shutdown: &net::Shutdown,
    tasks: &mut tokio::task::JoinSet<()>,
) {
    for (listeners, secure) in [(http, false), (https, true)] {
        for listener in listeners {
            tasks.spawn(serve(web.clone(), listener, limit.clone(), secure, shutdown.clone()));
        }
    }
}

async fn connection(web: Arc<Web>, stream: tokio::net::TcpStream, peer: SocketAddr, secure: bool) {
    if !secure {
        metrics::CONNECTIONS.inc("http");
        return exchange(&web, stream, peer).await;
    }
    metrics::CONNECTIONS.inc("https");
    match tokio::time::timeout(TIMEOUT, web.tls.accept(stream)).await {
        Ok(Ok(Some(tls))) => {
            metrics::TLS_HANDSHAKES.inc("https");
            exchange(&web, tls, peer).await
        }
        Ok(Ok(None)) => tracing::info!(%peer, "answered an ACME TLS-ALPN-01 validation"),
        Ok(Err(e)) => {
            metrics::TLS_HANDSHAKE_FAILURES.inc("https");
            tracing::debug!(%peer, error = %e, "HTTPS handshake failed")
        }
        Err(_) => {
            metrics::TLS_HANDSHAKE_FAILURES.inc("https");
            tracing::debug!(%peer, "HTTPS handshake timed out")
        }
    }
}

/// Reads one request, answers it, closes.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(web: &Web, mut stream: S, peer: SocketAddr) {
    let (response, host) = match tokio::time::timeout(TIMEOUT, request::read(&mut stream)).await {
        Ok(Ok(request)) => {
            let mut response = route(web, &request, peer).await;
            if request.method == "HEAD" {
                // RFC 9110 §9.3.2: the head a GET would get, without the
                // content (Content-Length still says its size).
                response.head_only = true;
            }
            (response, request.host())
        }
        Ok(Err(status)) => (Response::text(status, "bad request\n"), String::new()),
        Err(_) => return,
    };
    tracing::debug!(%peer, %host, status = response.status, "web request");
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = tokio::time::timeout(TIMEOUT, async {
        stream.write_all(head.as_bytes()).await?;
        if !response.head_only {
            stream.write_all(&response.body).await?;
        }
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

/// Which page answers: by path, and for MTA-STS by host (RFC 8461 §3.3
/// names the policy host `mta-sts.DOMAIN`).
async fn route(web: &Web, request: &Request, peer: SocketAddr) -> Response {
    if let Some(answer) = web.acme_http01.answer(&request.path) {
        return Response::text(200, &answer);
    }
    match (request.method.as_str(), request.path.as_str()) {
        ("GET" | "HEAD", "/health") => Response::text(200, "ok\n"),
        ("GET" | "HEAD", "/metrics") => metrics_page::answer(web, request, peer).await,
        ("GET" | "HEAD", mta_sts::PATH) => mta_sts::answer(web, request).await,
        ("GET" | "HEAD", autoconfig::THUNDERBIRD_PATH | autoconfig::THUNDERBIRD_HOST_PATH) => {
            autoconfig::thunderbird(web, request).await
        }
        ("GET" | "HEAD", autoconfig::APPLE_PATH) => autoconfig::apple(web, request).await,
        ("POST", autoconfig::AUTODISCOVER_PATH | autoconfig::AUTODISCOVER_PATH_CAPITALISED) => {
            autoconfig::autodiscover(web, request).await
        }
        ("GET" | "HEAD", _) => Response::not_found(),
        _ => Response::text(405, "method not allowed\n"),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        411 => "Length Required",
        413 => "Content Too Large",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}
