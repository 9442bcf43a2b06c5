//! Every connection the store opens to PostgreSQL, and its TLS.
//!
//! The store's URL is libpq's (`postgres://...` or `key=value ...`). Over
//! TCP to another machine TLS is required unless the URL says
//! `sslmode=disable` (PostgreSQL's own default, `prefer`, lets anyone on
//! the path answer "no TLS here" and read the mail that follows); over a
//! Unix socket or loopback it is used when the URL asks for it. The
//! server's certificate is always verified, against the system's CAs and
//! the CA file named by `sslrootcert` (libpq's parameter, for a private
//! CA): postamt never sends a password, or mail, to a server it has not
//! authenticated.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, Config, Socket};

use crate::{DatabaseError, Error, Result};

/// A connection's I/O half, to be driven by a task.
pub(crate) type PgConnection = tokio_postgres::Connection<Socket, TlsStream<Socket>>;

/// Connects to the store's database at `url` (see the module's comment).
pub(crate) async fn connect(url: &str) -> Result<(Client, PgConnection)> {
    let (config, tls) = prepare(url)?;
    Ok(config.connect(tls).await?)
}

/// The parsed URL, with TLS required where the module's comment says,
/// and the connector that verifies the server.
pub(crate) fn prepare(url: &str) -> Result<(Config, MakeTls)> {
    let (rest, ca_file) = take_option(url, "sslrootcert");
    let mut config: Config = rest.parse().map_err(|e| invalid(url, &e))?;
    let remote = config.get_hosts().iter().any(|host| match host {
        Host::Tcp(name) => !is_loopback(name),
        Host::Unix(_) => false,
    });
    if remote && !rest.contains("sslmode") {
        config.ssl_mode(SslMode::Require);
    }
    let connector = net::verifying_connector(ca_file.as_deref().map(Path::new)).map_err(|e| invalid(url, &e))?;
    Ok((config, MakeTls { connector }))
}

fn invalid(url: &str, error: &dyn std::fmt::Display) -> Error {
    Error::Database(DatabaseError::Config(format!(
        "{}: {error}",
        crate::backend::redact(url)
    )))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `url` without the option `name`, and that option's value: in a URL's
/// query (`?a=1&name=v`) or among `key=value` words.
fn take_option(url: &str, name: &str) -> (String, Option<String>) {
    let prefix = format!("{name}=");
    if let Some((base, query)) = url.split_once('?')
        && url.contains("://")
    {
        let (mut kept, mut value) = (Vec::new(), None);
        for pair in query.split('&') {
            match pair.strip_prefix(&prefix) {
                Some(v) => value = Some(v.to_string()),
                None => kept.push(pair),
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return (rest, value);
    }
    if url.contains("://") {
        return (url.to_string(), None);
    }
    let (mut kept, mut value) = (Vec::new(), None);
    for word in url.split_whitespace() {
        match word.strip_prefix(&prefix) {
            Some(v) => value = Some(v.trim_matches('\'').to_string()),
            None => kept.push(word),
        }
    }
    (kept.join(" "), value)
}

/// Makes a TLS connector per connection (tokio-postgres's interface).
#[derive(Clone)]
pub(crate) struct MakeTls {
    connector: tokio_rustls::TlsConnector,
}

impl<S> MakeTlsConnect<S> for MakeTls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = TlsStream<S>;
    type TlsConnect = ConnectTls;
    type Error = io::Error;

    /// Asked for every host, a Unix socket's too (named ""), where TLS is
    /// never tried: a name that is not one fails only if it is.
    fn make_tls_connect(&mut self, domain: &str) -> io::Result<ConnectTls> {
        Ok(ConnectTls {
            connector: self.connector.clone(),
            name: net::server_name(domain).map_err(|e| e.to_string()),
        })
    }
}

/// The TLS handshake of one connection, checking the server's name.
pub(crate) struct ConnectTls {
    connector: tokio_rustls::TlsConnector,
    name: std::result::Result<rustls_pki_types::ServerName<'static>, String>,
}

impl<S> TlsConnect<S> for ConnectTls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = TlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let name = self.name.map_err(io::Error::other)?;
            Ok(TlsStream(self.connector.connect(name, stream).await?))
        })
    }
}

/// A TLS stream to PostgreSQL.
pub(crate) struct TlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for TlsStream<S> {
    /// No channel binding: SCRAM then authenticates the password, and the
    /// verified certificate the server.
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_file_is_taken_out_of_either_form() {
        assert_eq!(
            take_option(
                "postgres://u@db/x?sslrootcert=/etc/ca.pem&sslmode=require",
                "sslrootcert"
            ),
            ("postgres://u@db/x?sslmode=require".into(), Some("/etc/ca.pem".into()))
        );
        assert_eq!(
            take_option("host=db sslrootcert=/etc/ca.pem dbname=x", "sslrootcert"),
            ("host=db dbname=x".into(), Some("/etc/ca.pem".into()))
        );
        assert_eq!(
            take_option("host=/run/postgresql dbname=x", "sslrootcert"),
            ("host=/run/postgresql dbname=x".into(), None)
        );
    }

    #[test]
    fn tls_is_required_to_another_machine_unless_disabled() {
        let mode = |url: &str| prepare(url).unwrap().0.get_ssl_mode();
        assert_eq!(mode("postgres://u@db.example.org/x"), SslMode::Require);
        assert_eq!(mode("host=192.0.2.7 dbname=x"), SslMode::Require);
        assert_eq!(mode("postgres://u@db.example.org/x?sslmode=disable"), SslMode::Disable);
        assert_eq!(mode("postgres://u@localhost/x"), SslMode::Prefer);
        assert_eq!(mode("host=127.0.0.1 dbname=x"), SslMode::Prefer);
        assert_eq!(mode("host=/run/postgresql dbname=x"), SslMode::Prefer);
    }
}
