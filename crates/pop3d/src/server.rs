//! Accepting POP3 connections, with or without implicit TLS.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use auth::Throttle;
use net::{Connection, ConnectionLimit, TlsAcceptor};
use store::Store;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::session::Session;
use crate::{MaildropLocks, Pop3Config};

pub struct Server {
    pub(crate) config: Pop3Config,
    pub(crate) store: Store,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) locks: MaildropLocks,
    pub(crate) throttle: Arc<Throttle>,
    sessions: AtomicU64,
}

impl Server {
    pub fn new(config: Pop3Config, store: Store, tls: Option<TlsAcceptor>, throttle: Arc<Throttle>) -> Arc<Self> {
        Arc::new(Server {
            config,
            store,
            tls,
            locks: MaildropLocks::default(),
            throttle,
            sessions: AtomicU64::new(0),
        })
    }

    /// Serves one listener; `implicit_tls` for the pop3s port (RFC 8314 §3.3).
    pub async fn serve(self: Arc<Self>, listener: TcpListener, limit: ConnectionLimit, implicit_tls: bool) {
        net::accept_loop(
            listener,
            limit,
            b"-ERR [SYS/TEMP] Too many connections\r\n",
            move |stream, peer| {
                let server = self.clone();
                async move { server.session(stream, peer, implicit_tls).await }
            },
        )
        .await;
    }

    pub async fn session<S>(self: Arc<Self>, stream: S, peer: SocketAddr, implicit_tls: bool)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let id = self.sessions.fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!("pop3", session = id, %peer);
        async move {
            let timeout = self.config.login_timeout;
            let connection = match Connection::open(stream, self.tls.as_ref(), implicit_tls, timeout).await {
                Ok(connection) => connection,
                Err(e) => {
                    tracing::info!(error = %e, "TLS handshake failed");
                    return;
                }
            };
            Session::new(connection, self.clone(), peer).run().await;
        }
        .instrument(span)
        .await
    }
}
