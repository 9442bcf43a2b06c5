//! The little HTTP/1.1 a local filter needs (rspamd): one POST on a
//! connection of its own, `Connection: close`, the answer read to its end
//! and bounded in size. No TLS: the filter runs on this machine or its
//! network.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// POSTs `body` to `http://{address}{path}` with `headers`; the status
/// and the body of the answer, at most `limit` bytes.
pub async fn post(
    address: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
    limit: usize,
) -> Result<(u16, Vec<u8>), String> {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .and(stream.write_all(body).await)
        .map_err(|e| format!("cannot send to {address}: {e}"))?;
    let mut answer = Vec::new();
    (&mut stream)
        .take(limit as u64 + 64 * 1024)
        .read_to_end(&mut answer)
        .await
        .map_err(|e| format!("cannot read from {address}: {e}"))?;
    parse_answer(&answer, limit)
}

/// The status and body of a complete answer (Content-Length, chunked, or
/// to the end of the connection).
fn parse_answer(answer: &[u8], limit: usize) -> Result<(u16, Vec<u8>), String> {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("an answer without a complete header")?;
    let head = String::from_utf8_lossy(&answer[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("answered {status_line:?}"))?;
    let header = |name: &str| {
        lines
            .clone()
            .filter_map(|line| line.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    let body = &answer[end + 4..];
    let body = if header("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(body)?
    } else if let Some(length) = header("Content-Length") {
        let length: usize = length.parse().map_err(|_| "a bad Content-Length")?;
        body.get(..length).ok_or("an answer cut short")?.to_vec()
    } else {
        body.to_vec()
    };
    if body.len() > limit {
        return Err(format!("an answer over {limit} bytes"));
    }
    Ok((status, body))
}

/// A chunked body (RFC 9112 §7.1) joined.
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut joined = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n").ok_or("a bad chunk")?;
        let size = String::from_utf8_lossy(&body[..line_end]);
        let size = usize::from_str_radix(size.split(';').next().unwrap_or_default().trim(), 16)
            .map_err(|_| "a bad chunk size")?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(joined);
        }
        joined.extend_from_slice(body.get(..size).ok_or("a chunk cut short")?);
        body = size
            .checked_add(2)
            .and_then(|end| body.get(end..))
            .ok_or("a chunk cut short")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_kinds_of_body() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more";
        assert_eq!(parse_answer(plain, 100).unwrap(), (200, b"hello".to_vec()));
        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\n\r\n";
        assert_eq!(parse_answer(chunked, 100).unwrap().1, b"hello");
        let to_end = b"HTTP/1.0 200 OK\r\n\r\nhello";
        assert_eq!(parse_answer(to_end, 100).unwrap().1, b"hello");
        assert_eq!(parse_answer(b"HTTP/1.1 500 Oops\r\n\r\n", 100).unwrap().0, 500);
        assert!(parse_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", 100).is_err());
        assert!(parse_answer(to_end, 3).is_err());
        assert!(parse_answer(b"HTTP/1.1 200", 100).is_err());
        assert!(parse_answer(b"HTTP/1.1 OK\r\n\r\n", 100).is_err());
    }
}
