//! Accepting POP3 connections, with or without implicit TLS.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use auth::Throttle;
use net::{Connection, ConnectionLimit, TlsAcceptor};
use store::Store;
use tokio::net::TcpListener;

use crate::session::Session;
use crate::{MaildropLocks, Pop3Config};

pub struct Server {
    /// Replaced by a reload; each session takes the current one at its
    /// start (see `net::Live`).
    pub(crate) config: net::Live<Pop3Config>,
    pub(crate) store: Store,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) locks: MaildropLocks,
    pub(crate) throttle: Arc<Throttle>,
    sessions: AtomicU64,
}

impl Server {
    pub fn new(config: Pop3Config, store: Store, tls: Option<TlsAcceptor>, throttle: Arc<Throttle>) -> Arc<Self> {
        Arc::new(Server {
            config: net::Live::new(config),
            locks: MaildropLocks::new(store.clone()),
            store,
            tls,
            throttle,
            sessions: AtomicU64::new(0),
        })
    }

    /// Serves one listener; `implicit_tls` for the pop3s port (RFC 8314 §3.3).
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        limit: ConnectionLimit,
        implicit_tls: bool,
        shutdown: net::Shutdown,
    ) {
        net::serve(self, listener, limit, implicit_tls, shutdown).await;
    }
}

impl net::Service for Server {
    /// Whether the port is pop3s (RFC 8314 §3.3).
    type Port = bool;

    const BUSY_REPLY: &'static [u8] = b"-ERR [SYS/TEMP] Too many connections\r\n";
    /// RFC 2449 §8.1.2: SYS/TEMP, a passing problem; try again later.
    const STOP_REPLY: &'static [u8] = b"-ERR [SYS/TEMP] Server shutting down\r\n";

    fn opening(&self, peer: SocketAddr, implicit_tls: bool) -> net::Opening {
        let id = self.sessions.fetch_add(1, Ordering::Relaxed);
        net::Opening {
            span: tracing::info_span!("pop3", session = id, %peer),
            service: if implicit_tls { "pop3s" } else { "pop3" },
            tls: self.tls.clone(),
            implicit_tls,
            timeout: self.config.get().login_timeout,
        }
    }

    async fn run<S: net::SessionStream>(self: Arc<Self>, connection: Connection<S>, peer: SocketAddr, _: bool) {
        Session::new(connection, self, peer).run().await;
    }
}

impl Server {
    /// The settings sessions starting now get.
    pub fn config(&self) -> std::sync::Arc<Pop3Config> {
        self.config.get()
    }

    /// Replaces the settings for the sessions that start from now on (a
    /// reload); sessions under way keep theirs.
    pub fn set_config(&self, config: Pop3Config) {
        self.config.set(config);
    }
}
