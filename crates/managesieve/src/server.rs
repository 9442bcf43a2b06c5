//! Accepting ManageSieve connections (RFC 5804 §1.8: port 4190). There is
//! no implicit-TLS port for ManageSieve: TLS begins with STARTTLS.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use auth::Throttle;
use net::{Connection, ConnectionLimit, TlsAcceptor};
use store::Store;
use tokio::net::TcpListener;

use crate::ManageSieveConfig;
use crate::session::Session;

pub struct Server {
    /// Replaced by a reload; each session takes the current one at its
    /// start (see `net::Live`).
    pub(crate) config: net::Live<ManageSieveConfig>,
    pub(crate) store: Store,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) throttle: Arc<Throttle>,
    sessions: AtomicU64,
}

impl Server {
    pub fn new(
        config: ManageSieveConfig,
        store: Store,
        tls: Option<TlsAcceptor>,
        throttle: Arc<Throttle>,
    ) -> Arc<Self> {
        Arc::new(Server {
            config: net::Live::new(config),
            store,
            tls,
            throttle,
            sessions: AtomicU64::new(0),
        })
    }

    /// Serves one listener until `shutdown`.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, limit: ConnectionLimit, shutdown: net::Shutdown) {
        net::serve(self, listener, limit, (), shutdown).await;
    }

    /// The settings sessions starting now get.
    pub fn config(&self) -> Arc<ManageSieveConfig> {
        self.config.get()
    }

    /// Replaces the settings for the sessions that start from now on (a
    /// reload); sessions under way keep theirs.
    pub fn set_config(&self, config: ManageSieveConfig) {
        self.config.set(config);
    }
}

impl net::Service for Server {
    type Port = ();

    /// RFC 5804 §1.3 TRYLATER: a passing condition.
    const BUSY_REPLY: &'static [u8] = b"BYE (TRYLATER) \"Too many connections\"\r\n";
    const STOP_REPLY: &'static [u8] = b"BYE (TRYLATER) \"Server shutting down\"\r\n";

    fn opening(&self, peer: SocketAddr, (): ()) -> net::Opening {
        let id = self.sessions.fetch_add(1, Ordering::Relaxed);
        net::Opening {
            span: tracing::info_span!("managesieve", session = id, %peer),
            service: "managesieve",
            tls: self.tls.clone(),
            implicit_tls: false,
            timeout: self.config.get().login_timeout,
        }
    }

    async fn run<S: net::SessionStream>(self: Arc<Self>, connection: Connection<S>, peer: SocketAddr, (): ()) {
        Session::new(connection, self, peer).run().await;
    }
}
