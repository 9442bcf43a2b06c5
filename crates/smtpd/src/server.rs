//! Accepting connections and starting sessions.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use net::{Connection, ConnectionLimit, Stream, TlsAcceptor};
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::SmtpConfig;
use crate::backend::Backend;
use crate::session::Session;

/// One SMTP service: its settings, the backend and TLS for STARTTLS.
pub struct Server<B> {
    pub(crate) config: SmtpConfig,
    pub(crate) backend: Arc<B>,
    pub(crate) tls: Option<TlsAcceptor>,
    sessions: AtomicU64,
}

impl<B: Backend> Server<B> {
    pub fn new(config: SmtpConfig, backend: Arc<B>, tls: Option<TlsAcceptor>) -> Arc<Self> {
        Arc::new(Server {
            config,
            backend,
            tls,
            sessions: AtomicU64::new(0),
        })
    }

    /// Serves one listener until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, limit: ConnectionLimit) {
        net::accept_loop(
            listener,
            limit,
            b"421 4.3.2 Too many connections, try again later\r\n",
            move |stream, peer| {
                let server = self.clone();
                async move { server.session(stream, peer).await }
            },
        )
        .await;
    }

    /// Runs one session over any stream; tests use this with in-memory pipes.
    pub async fn session<S>(self: Arc<Self>, stream: S, peer: SocketAddr)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let id = self.sessions.fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!("smtp", session = id, %peer);
        async move {
            tracing::debug!("connected");
            let connection = Connection::new(Stream::Plain(stream), self.config.timeout);
            Session::new(connection, self.clone(), peer).run().await;
            tracing::debug!("disconnected");
        }
        .instrument(span)
        .await
    }
}
