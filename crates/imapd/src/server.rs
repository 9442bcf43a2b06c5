//! Accepting IMAP connections, with or without implicit TLS.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use auth::Throttle;
use net::{Connection, ConnectionLimit, TlsAcceptor};
use store::{AccountId, Store};
use tokio::net::TcpListener;

use crate::ImapConfig;
use crate::session::Session;

pub struct Server {
    /// Replaced by a reload; each session takes the current one at its
    /// start (see `net::Live`).
    pub(crate) config: net::Live<ImapConfig>,
    pub(crate) store: Store,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) throttle: Arc<Throttle>,
    /// Logged-in sessions per account.
    users: Arc<Mutex<HashMap<AccountId, usize>>>,
    sessions: AtomicU64,
    /// Places for heavy work on the blocking pool (see `heavy.rs`).
    pub(crate) heavy: tokio::sync::Semaphore,
}

/// A logged-in session's place in the per-account count; freed on drop.
pub(crate) struct UserSlot {
    users: Arc<Mutex<HashMap<AccountId, usize>>>,
    account: AccountId,
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = users.get_mut(&self.account) {
            *count -= 1;
            if *count == 0 {
                users.remove(&self.account);
            }
        }
    }
}

impl Server {
    pub fn new(config: ImapConfig, store: Store, tls: Option<TlsAcceptor>, throttle: Arc<Throttle>) -> Arc<Self> {
        Arc::new(Server {
            heavy: tokio::sync::Semaphore::new(config.heavy_tasks.max(1)),
            config: net::Live::new(config),
            store,
            tls,
            throttle,
            users: Arc::new(Mutex::new(HashMap::new())),
            sessions: AtomicU64::new(0),
        })
    }

    /// A place for one more session of `account`, if it has room.
    pub(crate) fn user_slot(&self, account: AccountId) -> Option<UserSlot> {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        let count = users.entry(account).or_insert(0);
        if *count >= self.config.get().max_sessions_per_user {
            return None;
        }
        *count += 1;
        Some(UserSlot {
            users: self.users.clone(),
            account,
        })
    }

    /// Serves one listener; `implicit_tls` for the imaps port.
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
    /// Whether the port is imaps (RFC 8314 §3.3).
    type Port = bool;

    const BUSY_REPLY: &'static [u8] = b"* BYE Too many connections, try again later\r\n";
    /// RFC 9051 §7.1.5: BYE, then the server closes the connection.
    const STOP_REPLY: &'static [u8] = b"* BYE Server shutting down\r\n";

    fn opening(&self, peer: SocketAddr, implicit_tls: bool) -> net::Opening {
        let id = self.sessions.fetch_add(1, Ordering::Relaxed);
        net::Opening {
            span: tracing::info_span!("imap", session = id, %peer),
            service: if implicit_tls { "imaps" } else { "imap" },
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
    pub fn config(&self) -> std::sync::Arc<ImapConfig> {
        self.config.get()
    }

    /// Replaces the settings for the sessions that start from now on (a
    /// reload); sessions under way keep theirs.
    pub fn set_config(&self, config: ImapConfig) {
        self.config.set(config);
    }
}
