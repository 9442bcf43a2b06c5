//! What every server does with a new connection, written once: accept it
//! within the connection limits, give it a numbered log span, make the TLS
//! handshake first on an implicit-TLS port (RFC 8314 §3.3), and hand the
//! [`Connection`] to the protocol's session.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use crate::{Connection, ConnectionLimit, accept_loop};

/// A protocol server as the accept loop sees it.
pub trait Service: Send + Sync + 'static {
    /// What a listener is for, passed to every session it starts: SMTP's
    /// role, or whether the port is an implicit-TLS one.
    type Port: Copy + Send + Sync + 'static;

    /// Sent to a connection over the limit, which is then closed.
    const BUSY_REPLY: &'static [u8];

    /// The log span of a new session from `peer` (its number, protocol
    /// and address).
    fn span(&self, peer: SocketAddr, port: Self::Port) -> tracing::Span;

    /// The acceptor for TLS, and whether a connection on `port` begins
    /// with the handshake.
    fn tls(&self, port: Self::Port) -> (Option<&TlsAcceptor>, bool);

    /// The read and write timeout a new connection starts with (for the
    /// TLS handshake and until the session changes it, e.g. at login).
    fn opening_timeout(&self) -> Duration;

    /// Runs the protocol on an opened connection until it ends.
    fn run<S>(
        self: Arc<Self>,
        connection: Connection<S>,
        peer: SocketAddr,
        port: Self::Port,
    ) -> impl Future<Output = ()> + Send
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static;
}

/// Serves one listener forever, a session per connection.
pub async fn serve<T: Service>(service: Arc<T>, listener: TcpListener, limit: ConnectionLimit, port: T::Port) {
    accept_loop(listener, limit, T::BUSY_REPLY, move |stream, peer| {
        session(service.clone(), stream, peer, port)
    })
    .await;
}

/// Runs one session over any stream; tests use this with in-memory pipes.
pub async fn session<T, S>(service: Arc<T>, stream: S, peer: SocketAddr, port: T::Port)
where
    T: Service,
    S: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static,
{
    let span = service.span(peer, port);
    async move {
        tracing::debug!("connected");
        let (tls, implicit_tls) = service.tls(port);
        let connection = match Connection::open(stream, tls, implicit_tls, service.opening_timeout()).await {
            Ok(connection) => connection,
            Err(e) => {
                tracing::info!(error = %e, "TLS handshake failed");
                return;
            }
        };
        service.run(connection, peer, port).await;
        tracing::debug!("disconnected");
    }
    .instrument(span)
    .await
}
