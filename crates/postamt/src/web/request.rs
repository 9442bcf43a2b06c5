//! Reading an HTTP/1.1 request head (RFC 9112 §2-3), bounded: a client
//! gets at most [`MAX_HEAD`] bytes of request line and header fields, and
//! a body is never read (nothing served here takes one).

use tokio::io::{AsyncRead, AsyncReadExt};

/// The most a request head may take; more is answered 431.
pub const MAX_HEAD: usize = 16 * 1024;

pub struct Request {
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Header fields, names lowercased.
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Reads up to the empty line that ends the head; an error is the status
/// to answer with.
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
    parse(&head[..end]).ok_or(400)
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
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Some(Request {
        method,
        path: path.to_string(),
        headers,
    })
}
