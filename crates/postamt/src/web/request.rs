//! Reading an HTTP/1.1 request (RFC 9112 §2-3, §6), bounded: a client
//! gets at most [`MAX_HEAD`] bytes of request line and header fields, and
//! a body only where a route asks for one, sized by Content-Length, of at
//! most [`MAX_BODY`] bytes (no chunked bodies: 411 without a length).

use tokio::io::{AsyncRead, AsyncReadExt};

/// The most a request head may take; more is answered 431.
pub const MAX_HEAD: usize = 16 * 1024;
/// The most a request body may take (an autodiscover request is a few
/// hundred bytes); more is answered 413.
pub const MAX_BODY: usize = 8 * 1024;

pub struct Request {
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string after `?`, undecoded; empty without one.
    pub query: String,
    /// Header fields, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body, for methods that carry one (POST).
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The host the request names, lowercased, without port or final dot.
    pub fn host(&self) -> String {
        let host = self.header("host").unwrap_or_default();
        // An IPv6 literal is bracketed; a port follows the last colon.
        let host = match host.rsplit_once(':') {
            Some((name, port)) if !name.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        };
        host.trim_end_matches('.').to_ascii_lowercase()
    }

    /// The value of query parameter `name`, percent-decoded (and `+` as a
    /// space, as forms send it); None when absent or not UTF-8.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then(|| percent_decode(value)).flatten()
        })
    }
}

/// Reads up to the empty line that ends the head, and then, for a POST,
/// the body; an error is the status to answer with.
pub async fn read<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Request, u16> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let end = loop {
        if let Some(end) = find_end(&head) {
            break end;
        }
        if head.len() >= MAX_HEAD {
            return Err(431);
        }
        let n = stream.read(&mut chunk).await.map_err(|_| 400u16)?;
        if n == 0 {
            return Err(400);
        }
        head.extend_from_slice(&chunk[..n]);
    };
    let mut request = parse(&head[..end]).ok_or(400u16)?;
    if request.method == "POST" {
        let length = body_length(&request)?;
        // What came with the head's last read is the body's start.
        let mut body = head.split_off(end + 4);
        if body.len() > length {
            // One request per connection: nothing may follow the body.
            return Err(400);
        }
        while body.len() < length {
            let want = (length - body.len()).min(chunk.len());
            let n = stream.read(&mut chunk[..want]).await.map_err(|_| 400u16)?;
            if n == 0 {
                return Err(400);
            }
            body.extend_from_slice(&chunk[..n]);
        }
        request.body = body;
    }
    Ok(request)
}

/// The declared body length: required (411), within [`MAX_BODY`] (413).
fn body_length(request: &Request) -> Result<usize, u16> {
    if request.header("transfer-encoding").is_some() {
        return Err(411);
    }
    let length: usize = request
        .header("content-length")
        .ok_or(411u16)?
        .parse()
        .map_err(|_| 400u16)?;
    if length > MAX_BODY {
        return Err(413);
    }
    Ok(length)
}

fn find_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(4).position(|w| w == b"\r\n\r\n")
}

fn parse(head: &[u8]) -> Option<Request> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?;
    if !parts.next()?.starts_with("HTTP/1.") || parts.next().is_some() {
        return None;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Some(Request {
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: Vec::new(),
    })
}

/// `%XX` escapes and `+` decoded; None for a bad escape or non-UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_post_body_is_read_to_its_length_and_no_further() {
        let raw = b"POST /a?x=1&emailaddress=al%40ex.test HTTP/1.1\r\nHost: Mail.Example.TEST:8443\r\nContent-Length: 5\r\n\r\nhello";
        let request = read(&mut &raw[..]).await.ok().unwrap();
        assert_eq!(request.body, b"hello");
        assert_eq!(request.host(), "mail.example.test");
        assert_eq!(request.query_param("emailaddress").as_deref(), Some("al@ex.test"));
        assert_eq!(request.query_param("y"), None);
        let long = format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", MAX_BODY + 1);
        assert_eq!(read(&mut long.as_bytes()).await.err(), Some(413));
        let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(read(&mut &chunked[..]).await.err(), Some(411));
        let extra = b"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nab";
        assert_eq!(read(&mut &extra[..]).await.err(), Some(400));
    }
}
