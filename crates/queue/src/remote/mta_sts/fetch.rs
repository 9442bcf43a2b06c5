//! Fetching a policy (RFC 8461 §3.3): `GET /.well-known/mta-sts.txt` from
//! `mta-sts.DOMAIN` over HTTPS, the certificate verified for that name
//! (system CAs and the configured extra CA file), within a time and a size
//! limit. HTTP is written here rather than taken from a client library:
//! one request, one response, and every limit in view.
//!
//! The request is HTTP/1.0 so the answer cannot be chunked (RFC 9112 §6.1:
//! a server sends Transfer-Encoding only to HTTP/1.1 requests); its body
//! ends at Content-Length or when the server closes the connection.

use std::net::SocketAddr;
use std::time::Duration;

use dns::Resolver;
use net::TlsConnector;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::policy::{Policy, PolicyError};

/// §3.3 suggests a policy body of at most 64 KiB.
pub const MAX_BODY: usize = 64 * 1024;
/// The status line and header fields.
const MAX_HEAD: usize = 8 * 1024;
/// §3.3 suggests a fetch take no more than a minute.
pub const FETCH_TIME_LIMIT: Duration = Duration::from_secs(60);
/// Addresses of the policy host tried, at most.
const MAX_ADDRESSES: usize = 4;
const PATH: &str = "/.well-known/mta-sts.txt";

/// A policy as fetched: the text (kept in the store) and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub text: String,
    pub policy: Policy,
}

/// Why no policy could be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("MTA-STS policy host {host}: {reason}")]
    Unreachable { host: String, reason: String },
    #[error("MTA-STS policy host {host}: certificate not valid: {reason}")]
    Certificate { host: String, reason: String },
    #[error("MTA-STS policy from {host}: {reason}")]
    Http { host: String, reason: String },
    #[error("MTA-STS policy from {host}: {error}")]
    Invalid { host: String, error: PolicyError },
    #[error("MTA-STS policy from {host}: no answer within {limit:?}")]
    TimedOut { host: String, limit: Duration },
}

impl FetchError {
    /// The RFC 8460 §4.3 result type a TLS report gives this failure.
    pub fn result_type(&self) -> &'static str {
        match self {
            FetchError::Certificate { .. } => "sts-webpki-invalid",
            FetchError::Invalid { .. } => "sts-policy-invalid",
            _ => "sts-policy-fetch-error",
        }
    }
}

/// Fetches policies: how the policy hosts are found and verified.
#[derive(Clone)]
pub struct Fetcher {
    resolver: Resolver,
    tls: TlsConnector,
    /// 443; other ports only in tests (the `[queue] mta_sts_port` setting).
    port: u16,
    time_limit: Duration,
}

impl Fetcher {
    /// `tls` must verify certificates (`net::pkix_connector`, or
    /// `net::verifying_connector`).
    pub fn new(resolver: Resolver, tls: TlsConnector, port: u16) -> Fetcher {
        Fetcher {
            resolver,
            tls,
            port,
            time_limit: FETCH_TIME_LIMIT,
        }
    }

    /// The same, with a time limit other than `FETCH_TIME_LIMIT`.
    pub fn with_time_limit(mut self, limit: Duration) -> Fetcher {
        self.time_limit = limit;
        self
    }

    /// The policy of `domain` (lower case, no final dot), parsed.
    pub async fn fetch(&self, domain: &str) -> Result<Fetched, FetchError> {
        let host = format!("mta-sts.{domain}");
        let limit = self.time_limit;
        match tokio::time::timeout(limit, self.fetch_from(&host)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::TimedOut { host, limit }),
        }
    }

    async fn fetch_from(&self, host: &str) -> Result<Fetched, FetchError> {
        let unreachable = |reason: String| FetchError::Unreachable {
            host: host.to_string(),
            reason,
        };
        let addresses = self
            .resolver
            .addresses(host)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if addresses.is_empty() {
            return Err(unreachable("no address".into()));
        }
        let name = net::server_name(host).map_err(|e| unreachable(e.to_string()))?;
        let mut last = unreachable("no address".into());
        for ip in addresses.into_iter().take(MAX_ADDRESSES) {
            let address = SocketAddr::new(ip, self.port);
            let tcp = match TcpStream::connect(address).await {
                Ok(tcp) => tcp,
                Err(e) => {
                    last = unreachable(format!("connecting to {address}: {e}"));
                    continue;
                }
            };
            // §3.3: the certificate must be valid for the policy host;
            // one that is not is not "unreachable" but refused, and says so.
            let mut tls = match self.tls.connect(name.clone(), tcp).await {
                Ok(tls) => tls,
                Err(e) if is_certificate_error(&e) => {
                    return Err(FetchError::Certificate {
                        host: host.to_string(),
                        reason: e.to_string(),
                    });
                }
                Err(e) => {
                    last = unreachable(format!("TLS with {address}: {e}"));
                    continue;
                }
            };
            let request = format!(
                "GET {PATH} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: postamt\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
            );
            let http = |reason: String| FetchError::Http {
                host: host.to_string(),
                reason,
            };
            tls.write_all(request.as_bytes())
                .await
                .map_err(|e| http(e.to_string()))?;
            tls.flush().await.map_err(|e| http(e.to_string()))?;
            let body = read_response(&mut tls).await.map_err(http)?;
            let text = String::from_utf8(body).map_err(|_| http("the policy is not UTF-8".into()))?;
            let policy = Policy::parse(&text).map_err(|error| FetchError::Invalid {
                host: host.to_string(),
                error,
            })?;
            return Ok(Fetched { text, policy });
        }
        Err(last)
    }
}

fn is_certificate_error(error: &std::io::Error) -> bool {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|e| matches!(e, rustls::Error::InvalidCertificate(_)))
}

/// Reads the response and returns its body, if it is a policy: status 200
/// (§3.3: no redirects are followed, so a 3xx is a failure), Content-Type
/// text/plain (§3.2), at most `MAX_BODY` bytes, whole.
async fn read_response<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Result<Vec<u8>, String> {
    let mut buffer = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > MAX_HEAD {
            return Err(format!("the response head is longer than {MAX_HEAD} bytes"));
        }
        if read_some(stream, &mut buffer, MAX_HEAD + MAX_BODY).await? == 0 {
            return Err("the connection closed before the response head ended".into());
        }
    };
    let head = std::str::from_utf8(&buffer[..head_end]).map_err(|_| "the response head is not text".to_string())?;
    let length = check_head(head)?;
    let mut body = buffer.split_off(head_end);
    match length {
        Some(length) => {
            while body.len() < length {
                if read_some(stream, &mut body, length).await? == 0 {
                    return Err(format!("the body ended after {} of {length} bytes", body.len()));
                }
            }
            body.truncate(length);
        }
        None => loop {
            if body.len() > MAX_BODY {
                return Err(format!("the policy is longer than {MAX_BODY} bytes"));
            }
            if read_some(stream, &mut body, MAX_BODY + 1).await? == 0 {
                break;
            }
        },
    }
    Ok(body)
}

/// The status and header fields; the body's length if given.
fn check_head(head: &str) -> Result<Option<usize>, String> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (version, status) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    if !version.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP response: {:?}", truncate(status_line)));
    }
    match status {
        "200" => {}
        s if s.starts_with('3') => return Err(format!("status {s}: redirects are not followed (RFC 8461 §3.3)")),
        s => return Err(format!("status {}", truncate(s))),
    }
    let (mut content_type, mut length) = (None, None);
    for line in lines.filter(|line| !line.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {:?}", truncate(line)))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .parse()
                .map_err(|_| format!("bad Content-Length {:?}", truncate(value)))?;
            if n > MAX_BODY {
                return Err(format!("the policy is longer than {MAX_BODY} bytes ({n})"));
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // An HTTP/1.0 request gets no chunked answer (RFC 9112 §6.1).
            return Err(format!("Transfer-Encoding {:?} in answer to HTTP/1.0", truncate(value)));
        }
    }
    // §3.2: the media type is text/plain; parameters (charset) may follow.
    let media_type = content_type.as_deref().and_then(|t| t.split(';').next()).map(str::trim);
    if !media_type.is_some_and(|t| t.eq_ignore_ascii_case("text/plain")) {
        return Err(format!(
            "Content-Type {:?}, not text/plain (RFC 8461 §3.2)",
            content_type.as_deref().map(truncate).unwrap_or_default()
        ));
    }
    Ok(length)
}

fn truncate(text: &str) -> &str {
    match text.char_indices().nth(80) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// Reads what is there into `into`, never past `limit` bytes in all;
/// returns how much (0 at the end).
async fn read_some<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    into: &mut Vec<u8>,
    limit: usize,
) -> Result<usize, String> {
    let mut chunk = [0u8; 4096];
    let room = (limit + 1).saturating_sub(into.len()).clamp(1, chunk.len());
    let n = stream
        .read(&mut chunk[..room])
        .await
        .map_err(|e| format!("reading: {e}"))?;
    into.extend_from_slice(&chunk[..n]);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: &[u8]) -> Result<Vec<u8>, String> {
        let mut stream = response;
        read_response(&mut stream).await
    }

    #[tokio::test]
    async fn the_body_ends_at_its_length_or_at_the_close() {
        let with_length = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbodyand more";
        assert_eq!(body_of(with_length).await.unwrap(), b"body");
        let to_close = b"HTTP/1.1 200 OK\r\ncontent-type: TEXT/PLAIN;charset=utf-8\r\n\r\nall of it";
        assert_eq!(body_of(to_close).await.unwrap(), b"all of it");
        let short = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nbody";
        assert_eq!(body_of(short).await.unwrap_err(), "the body ended after 4 of 10 bytes");
    }

    #[tokio::test]
    async fn answers_out_of_bounds_are_refused() {
        let chunked =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n";
        assert!(body_of(chunked).await.unwrap_err().starts_with("Transfer-Encoding"));
        let announced = format!(
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert!(body_of(announced.as_bytes()).await.unwrap_err().contains("longer than"));
        let mut unannounced = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n".to_vec();
        unannounced.extend(std::iter::repeat_n(b'x', MAX_BODY + 1));
        assert!(body_of(&unannounced).await.unwrap_err().contains("longer than"));
        let mut long_head = b"HTTP/1.0 200 OK\r\nX-Filler: ".to_vec();
        long_head.extend(std::iter::repeat_n(b'x', MAX_HEAD + 1));
        assert!(
            body_of(&long_head)
                .await
                .unwrap_err()
                .contains("response head is longer")
        );
        assert!(
            body_of(b"HTTP/1.0 200 OK\r\n\r\npolicy")
                .await
                .unwrap_err()
                .contains("not text/plain")
        );
        assert!(
            body_of(b"SSH-2.0-OpenSSH\r\n\r\n")
                .await
                .unwrap_err()
                .starts_with("not an HTTP response")
        );
        let redirect = b"HTTP/1.1 302 Found\r\nLocation: https://elsewhere/\r\n\r\n";
        assert!(
            body_of(redirect)
                .await
                .unwrap_err()
                .contains("redirects are not followed")
        );
    }
}
