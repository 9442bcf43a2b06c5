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
