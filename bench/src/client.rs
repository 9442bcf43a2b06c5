//! A line-oriented client connection, plain or TLS, on postamt's own
//! buffered `net::Connection`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use net::{Connection, Stream};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(120);

pub struct Client {
    pub conn: Connection<TcpStream>,
}

impl Client {
    pub async fn connect(server: SocketAddr, tls: bool) -> anyhow::Result<Client> {
        let stream = TcpStream::connect(server)
            .await
            .with_context(|| format!("connecting to {server}"))?;
        let _ = stream.set_nodelay(true);
        let conn = if tls {
            let connector = net::opportunistic_connector()?;
            let name = net::server_name(&server.ip().to_string())?;
            Connection::connect_tls(stream, &connector, name, TIMEOUT).await?
        } else {
            Connection::new(Stream::Plain(stream), TIMEOUT)
        };
        Ok(Client { conn })
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.conn.send(bytes);
    }

    /// One line, CRLF removed.
    pub async fn line(&mut self) -> anyhow::Result<Vec<u8>> {
        loop {
            if let Some(end) = self.conn.buffered().iter().position(|&b| b == b'\n') {
                let line = wire::line::strip_eol(&self.conn.buffered()[..=end]).to_vec();
                self.conn.consume(end + 1);
                return Ok(line);
            }
            if self.conn.fill().await.is_err() {
                bail!("the server closed the connection");
            }
        }
    }

    /// Reads an IMAP answer up to the line tagged `tag`, taking literals
    /// whole; `untagged` sees every other line (CRLF removed, literals
    /// skipped) where it lies in the buffer, so a 100 000-line FETCH costs
    /// the client no allocation per line.
    pub async fn imap_answer(&mut self, tag: &str, mut untagged: impl FnMut(&[u8])) -> anyhow::Result<Answer> {
        let mut octets = 0;
        loop {
            let Some(end) = self.conn.buffered().iter().position(|&b| b == b'\n') else {
                if self.conn.fill().await.is_err() {
                    bail!("the server closed the connection");
                }
                continue;
            };
            octets += end + 1;
            let line = wire::line::strip_eol(&self.conn.buffered()[..=end]);
            if line.starts_with(tag.as_bytes()) && line.get(tag.len()) == Some(&b' ') {
                let tagged = line[tag.len() + 1..].to_vec();
                self.conn.consume(end + 1);
                return Ok(Answer { tagged, octets });
            }
            untagged(line);
            let literal = literal_size(line);
            self.conn.consume(end + 1);
            if let Some(size) = literal {
                self.octets(size).await?;
                octets += size;
            }
        }
    }

    /// [`Self::imap_answer`], which must be OK.
    pub async fn imap_ok(&mut self, tag: &str) -> anyhow::Result<Answer> {
        let answer = self.imap_answer(tag, |_| {}).await?;
        if !answer.ok() {
            bail!("{}", answer.text());
        }
        Ok(answer)
    }

    /// Exactly `n` octets (a literal).
    pub async fn octets(&mut self, n: usize) -> anyhow::Result<()> {
        let mut left = n;
        while left > 0 {
            if self.conn.buffered().is_empty() && self.conn.fill().await.is_err() {
                bail!("the server closed the connection");
            }
            let take = left.min(self.conn.buffered().len());
            self.conn.consume(take);
            left -= take;
        }
        Ok(())
    }
}

/// An IMAP answer: its tagged line (after the tag) and how many octets
/// came in all.
pub struct Answer {
    pub tagged: Vec<u8>,
    pub octets: usize,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.tagged.starts_with(b"OK")
    }

    /// The tagged line, for a message.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.tagged).into_owned()
    }
}

/// `{n}` (or `{n+}`, `~{n}`) at the end of a line announces n octets of
/// literal.
fn literal_size(line: &[u8]) -> Option<usize> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = &inner[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    std::str::from_utf8(digits).ok()?.parse().ok()
}
