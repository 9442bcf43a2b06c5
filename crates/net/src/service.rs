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

use crate::{Connection, ConnectionLimit, Shutdown, accept_loop};

/// A stream a session runs over: TCP, or an in-memory pipe in tests.
pub trait SessionStream: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static> SessionStream for T {}

/// How a new connection is opened, as its server says.
pub struct Opening {
    /// The session's log span (protocol, session number, peer).
    pub span: tracing::Span,
    /// The listener's name as `[listen]` spells it ("smtp", "imaps", ...):
    /// the label its connections and TLS handshakes are counted under.
    pub service: &'static str,
    pub tls: Option<TlsAcceptor>,
    /// Whether the connection begins with the TLS handshake.
    pub implicit_tls: bool,
    /// The read and write timeout the connection starts with, until the
    /// session sets its own (e.g. at login).
    pub timeout: Duration,
}

/// A protocol server as the accept loop sees it.
pub trait Service: Send + Sync + 'static {
    /// What a listener is for, passed to every session it starts: SMTP's
    /// role, or whether the port is an implicit-TLS one.
    type Port: Copy + Send + Sync + 'static;

    /// Sent to a connection over the limit, which is then closed.
    const BUSY_REPLY: &'static [u8];

    /// Sent to a client waiting between commands when the server stops
    /// (see [`Connection::read_command`]).
    const STOP_REPLY: &'static [u8];

    /// How to open a connection from `peer` on a `port` listener.
    fn opening(&self, peer: SocketAddr, port: Self::Port) -> Opening;

    /// Runs the protocol on an opened connection until it ends.
    fn run<S: SessionStream>(
        self: Arc<Self>,
        connection: Connection<S>,
        peer: SocketAddr,
        port: Self::Port,
    ) -> impl Future<Output = ()> + Send;
}

/// Serves one listener, a session per connection, until `shutdown`
/// fires; each session then ends at its next wait for a command.
pub async fn serve<T: Service>(
    service: Arc<T>,
    listener: TcpListener,
    limit: ConnectionLimit,
    port: T::Port,
    shutdown: Shutdown,
) {
    accept_loop(
        listener,
        limit,
        T::BUSY_REPLY,
        shutdown,
        move |stream, peer, shutdown| stoppable_session(service.clone(), stream, peer, port, Some(shutdown)),
    )
    .await;
}

/// Runs one session over any stream; tests use this with in-memory pipes.
pub async fn session<T: Service, S: SessionStream>(service: Arc<T>, stream: S, peer: SocketAddr, port: T::Port) {
    stoppable_session(service, stream, peer, port, None).await;
}

/// Runs one session, which ends at its next wait for a command once
/// `shutdown` (if any) fires.
async fn stoppable_session<T: Service, S: SessionStream>(
    service: Arc<T>,
    stream: S,
    peer: SocketAddr,
    port: T::Port,
    shutdown: Option<Shutdown>,
) {
    let Opening {
        span,
        service: label,
        tls,
        implicit_tls,
        timeout,
    } = service.opening(peer, port);
    metrics::CONNECTIONS.inc(label);
    let handshake = tls.is_some() && implicit_tls;
    async move {
        tracing::debug!("connected");
        let mut connection = match Connection::open(stream, tls.as_ref(), implicit_tls, timeout).await {
            Ok(connection) => connection,
            Err(e) => {
                metrics::TLS_HANDSHAKE_FAILURES.inc(label);
                tracing::info!(error = %e, "TLS handshake failed");
                return;
            }
        };
        if handshake {
            metrics::TLS_HANDSHAKES.inc(label);
        }
        connection.set_service(label);
        if let Some(shutdown) = shutdown {
            connection.stop_on(shutdown, T::STOP_REPLY);
        }
        service.run(connection, peer, port).await;
        tracing::debug!("disconnected");
    }
    .instrument(span)
    .await
}
