//! A small IMAP client (RFC 9051, and the IMAP4rev1 servers of RFC 3501),
//! enough for `import imap`: connect (implicit TLS, STARTTLS, or plain
//! text on loopback), LOGIN, LIST, EXAMINE, UID FETCH, LOGOUT.
//!
//! Responses are read a line at a time; a line that ends in a literal
//! announcement (`{123}`, RFC 9051 §4.3) is followed by that many bytes,
//! then the line goes on. Every read has a timeout, a line may be at most
//! `MAX_LINE` bytes and a literal at most the size given at connect (the
//! largest message the import takes), so a hostile or broken server
//! cannot make the import hang or grow without bound.

use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The longest response line, literals aside.
const MAX_LINE: usize = 1024 * 1024;
/// How long a connect, a write or a read of one line may take.
const TIMEOUT: Duration = Duration::from_secs(120);

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tls {
    /// TLS from the first byte (port 993).
    Implicit,
    /// STARTTLS after the greeting (port 143).
    Starttls,
    /// Plain text: only to a server on the same machine (or a test).
    None,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One token of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// An atom, a number, NIL, or a flag (`\Seen`, `BODY[]`).
    Atom(String),
    /// A quoted string or a literal.
    String(Vec<u8>),
    Open,
    Close,
}

pub(crate) struct Client {
    stream: BufReader<Box<dyn Io>>,
    tag: u32,
    max_literal: usize,
}

impl Client {
    /// Connects and reads the greeting; with STARTTLS, upgrades before
    /// anything else is said.
    pub(crate) async fn connect(
        host: &str,
        port: u16,
        tls: Tls,
        connector: &net::TlsConnector,
        max_literal: usize,
    ) -> anyhow::Result<Client> {
        let tcp = timeout(TcpStream::connect((host, port)))
            .await?
            .with_context(|| format!("cannot connect to {host}:{port}"))?;
        let name = net::server_name(host)?;
        let stream: Box<dyn Io> = match tls {
            Tls::Implicit => Box::new(
                timeout(connector.connect(name.clone(), tcp))
                    .await?
                    .with_context(|| format!("TLS with {host}:{port} failed"))?,
            ),
            _ => Box::new(tcp),
        };
        let mut client = Client {
            stream: BufReader::new(stream),
            tag: 0,
            max_literal,
        };
        let greeting = client.read_line().await?;
        if !greeting.starts_with(b"* OK") && !greeting.starts_with(b"* PREAUTH") {
            bail!("{host}:{port} greets with {:?}", String::from_utf8_lossy(&greeting));
        }
        if tls == Tls::Starttls {
            client.command("STARTTLS").await?;
            if !client.stream.buffer().is_empty() {
                bail!("{host}:{port} sent more after its STARTTLS answer (RFC 9051 §6.2.1 forbids it)");
            }
            let plain = std::mem::replace(&mut client.stream, BufReader::new(Box::new(tokio::io::duplex(1).0)));
            let upgraded = timeout(connector.connect(name, plain.into_inner()))
                .await?
                .with_context(|| format!("TLS with {host}:{port} failed"))?;
            client.stream = BufReader::new(Box::new(upgraded));
        }
        Ok(client)
    }

    pub(crate) async fn login(&mut self, user: &str, password: &str) -> anyhow::Result<()> {
        let command = format!("LOGIN {} {}", quote(user.as_bytes())?, quote(password.as_bytes())?);
        self.command(&command)
            .await
            .with_context(|| format!("the server refused the login of {user:?}"))
            .map(drop)
    }

    /// Sends `command` with a new tag; the untagged responses until its
    /// tagged OK, each as tokens. NO or BAD is an error with the
    /// server's text.
    pub(crate) async fn command(&mut self, command: &str) -> anyhow::Result<Vec<Vec<Token>>> {
        self.tag += 1;
        let tag = format!("i{}", self.tag);
        let line = format!("{tag} {command}\r\n");
        let stream = self.stream.get_mut();
        timeout(async {
            stream.write_all(line.as_bytes()).await?;
            stream.flush().await
        })
        .await??;
        let mut untagged = Vec::new();
        loop {
            let response = self.read_response().await?;
            if let Some(rest) = response.first_line.strip_prefix(format!("{tag} ").as_bytes()) {
                if rest.starts_with(b"OK") {
                    return Ok(untagged);
                }
                let verb = command.split(' ').next().unwrap_or(command);
                bail!("{verb}: {}", String::from_utf8_lossy(rest).trim_end());
            }
            if response.first_line.starts_with(b"* ") {
                untagged.push(response.tokens);
            }
            // A continuation request (`+`) is not expected: no literal is
            // sent. Anything else is ignored.
        }
    }

    /// One response: its lines and literals, tokenized.
    async fn read_response(&mut self) -> anyhow::Result<Response> {
        let mut tokens = Vec::new();
        let first_line = self.read_line().await?;
        let mut line = first_line.clone();
        loop {
            let body = line
                .strip_suffix(b"\r\n")
                .or_else(|| line.strip_suffix(b"\n"))
                .unwrap_or(&line);
            let (text, literal) = match literal_size(body) {
                Some((at, size)) => (&body[..at], Some(size)),
                None => (body, None),
            };
            tokenize(text, &mut tokens);
            let Some(size) = literal else {
                return Ok(Response { first_line, tokens });
            };
            if size > self.max_literal {
                bail!(
                    "the server sends a literal of {size} bytes, over the {} bytes allowed",
                    self.max_literal
                );
            }
            let mut data = vec![0; size];
            timeout(self.stream.read_exact(&mut data)).await??;
            tokens.push(Token::String(data));
            line = self.read_line().await?;
        }
    }

    async fn read_line(&mut self) -> anyhow::Result<Vec<u8>> {
        let mut line = Vec::new();
        let read = timeout((&mut self.stream).take(MAX_LINE as u64).read_until(b'\n', &mut line)).await??;
        if read == 0 {
            bail!("the server closed the connection");
        }
        if !line.ends_with(b"\n") {
            bail!("the server sent a line longer than {MAX_LINE} bytes");
        }
        Ok(line)
    }
}

struct Response {
    first_line: Vec<u8>,
    tokens: Vec<Token>,
}

async fn timeout<T>(future: impl Future<Output = T>) -> anyhow::Result<T> {
    tokio::time::timeout(TIMEOUT, future)
        .await
        .map_err(|_| anyhow::anyhow!("the server did not answer within {} s", TIMEOUT.as_secs()))
}

/// `{123}` (or `{123+}`, `~{123}`) at the end of a line: where it starts
/// and the size.
fn literal_size(line: &[u8]) -> Option<(usize, usize)> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = inner[open + 1..].strip_suffix(b"+").unwrap_or(&inner[open + 1..]);
    let size = std::str::from_utf8(digits).ok()?.parse().ok()?;
    let start = if open > 0 && line[open - 1] == b'~' {
        open - 1
    } else {
        open
    };
    Some((start, size))
}

/// Splits response text into tokens.
fn tokenize(text: &[u8], tokens: &mut Vec<Token>) {
    let mut at = 0;
    while at < text.len() {
        match text[at] {
            b' ' => at += 1,
            b'(' => {
                tokens.push(Token::Open);
                at += 1;
            }
            b')' => {
                tokens.push(Token::Close);
                at += 1;
            }
            b'"' => {
                let mut value = Vec::new();
                at += 1;
                while at < text.len() && text[at] != b'"' {
                    if text[at] == b'\\' && at + 1 < text.len() {
                        at += 1;
                    }
                    value.push(text[at]);
                    at += 1;
                }
                at += 1;
                tokens.push(Token::String(value));
            }
            _ => {
                let start = at;
                // `[` opens a section (BODY[HEADER.FIELDS (A B)]) whose
                // spaces and parentheses belong to the atom.
                let mut depth = 0;
                while at < text.len() {
                    match text[at] {
                        b'[' => depth += 1,
                        b']' => depth -= 1,
                        b' ' | b'(' | b')' if depth <= 0 => break,
                        _ => {}
                    }
                    at += 1;
                }
                tokens.push(Token::Atom(String::from_utf8_lossy(&text[start..at]).into_owned()));
            }
        }
    }
}

/// A quoted string (RFC 9051 §4.3), for text without CR, LF or NUL.
pub(crate) fn quote(text: &[u8]) -> anyhow::Result<String> {
    if text.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
        bail!("a login, password or mailbox name with a line break cannot be sent");
    }
    let mut out = String::from("\"");
    for &b in text {
        if b == b'"' || b == b'\\' {
            out.push('\\');
        }
        out.push(b as char);
    }
    out.push('"');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_at_line_ends() {
        assert_eq!(literal_size(b"* 1 FETCH (BODY[] {12}"), Some((18, 12)));
        assert_eq!(literal_size(b"* LIST () \"/\" ~{3}"), Some((14, 3)));
        assert_eq!(literal_size(b"* OK done"), None);
    }

    #[test]
    fn fetch_tokens() {
        let mut tokens = Vec::new();
        tokenize(
            br#"* 1 FETCH (UID 7 FLAGS (\Seen $Label1) INTERNALDATE "01-Dec-2026 14:01:59 +0000" BODY[] "#,
            &mut tokens,
        );
        assert_eq!(tokens[0], Token::Atom("*".into()));
        assert!(tokens.contains(&Token::Atom("\\Seen".into())));
        assert!(tokens.contains(&Token::String(b"01-Dec-2026 14:01:59 +0000".to_vec())));
        assert_eq!(tokens.last(), Some(&Token::Atom("BODY[]".into())));
    }

    #[test]
    fn quoting() {
        assert_eq!(quote(br#"a"b\c"#).unwrap(), r#""a\"b\\c""#);
        assert!(quote(b"a\r\nb").is_err());
    }
}
