//! Accepting connections and starting sessions in one of the three roles.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use auth::Throttle;
use net::{Connection, ConnectionLimit, TlsAcceptor};
use tokio::net::TcpListener;

use crate::SmtpConfig;
use crate::backend::Backend;
use crate::client_memory::{ClientMemory, Remembered, Standing, client_key};
use crate::rate_limit::RateLimit;
use crate::session::Session;

/// The service a listener provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Port 25: mail from the internet for hosted domains (the MX).
    Mx,
    /// Port 587: users submit mail after STARTTLS and AUTH (RFC 6409).
    Submission,
    /// Port 465: submission over implicit TLS (RFC 8314 §3.3).
    Submissions,
}

impl Role {
    pub(crate) fn requires_auth(self) -> bool {
        self != Role::Mx
    }

    fn name(self) -> &'static str {
        match self {
            Role::Mx => "smtp",
            Role::Submission => "submission",
            Role::Submissions => "submissions",
        }
    }
}

/// The SMTP service: settings, backend, TLS and the shared login throttle.
pub struct Server<B> {
    /// Replaced by a reload; each session takes the current one at its
    /// start (see `net::Live`).
    pub(crate) config: net::Live<SmtpConfig>,
    pub(crate) backend: Arc<B>,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) throttle: Arc<Throttle>,
    /// The pregreet verdicts of client addresses.
    pub(crate) clients: ClientMemory,
    pub(crate) rates: Rates,
    sessions: AtomicU64,
}

impl<B: Backend> Server<B> {
    /// Counts `n` events of `key` toward `rate`: in the store shared by
    /// the cluster when the backend counts there, else on this node.
    /// False (nothing counted) when they do not fit.
    pub(crate) async fn rate_allows<K>(&self, rate: &RateLimit<K>, name: &str, key: &K, n: u64) -> bool
    where
        K: std::hash::Hash + Eq + Clone + std::fmt::Display,
    {
        if rate.limit() == 0 {
            return true;
        }
        let shared = format!("{name}:{key}");
        let allowed = match self
            .backend
            .count_shared_rate(&shared, n, rate.limit(), rate.window())
            .await
        {
            Some(allowed) => allowed,
            None => rate.allow(key, n, std::time::Instant::now()),
        };
        if !allowed {
            // Every caller refuses when over a rate: counted once, here.
            metrics::SMTP_REFUSED.inc("rate_limit");
        }
        allowed
    }

    /// Counts a message `user` sends to `recipients` addresses other than
    /// through submission (a Sieve redirect) toward the same hourly
    /// limits as their submissions; false when it does not fit.
    pub async fn count_user_message(&self, user: &str, recipients: u64) -> bool {
        let user = user.to_string();
        self.rate_allows(&self.rates.user_messages, "user_messages", &user, 1)
            .await
            && self
                .rate_allows(&self.rates.user_recipients, "user_recipients", &user, recipients)
                .await
    }

    pub fn new(config: SmtpConfig, backend: Arc<B>, tls: Option<TlsAcceptor>, throttle: Arc<Throttle>) -> Arc<Self> {
        Arc::new(Server {
            clients: ClientMemory::new(config.pregreet_memory),
            rates: Rates::new(&config.limits),
            config: net::Live::new(config),
            backend,
            tls,
            throttle,
            sessions: AtomicU64::new(0),
        })
    }

    /// Takes back the client verdicts of an earlier run (from the store),
    /// so known senders do not wait again after a restart.
    pub fn recall_clients(&self, verdicts: impl IntoIterator<Item = Remembered>) {
        let now = unix_now();
        for verdict in verdicts {
            self.clients.remember(verdict, now);
        }
    }

    /// Remembers how a client did, here and (through the backend, without
    /// waiting for it) beyond a restart.
    pub(crate) fn remember_client(&self, client: std::net::IpAddr, standing: Standing) {
        let ttl = match standing {
            Standing::Passed => self.config.get().pregreet_pass_ttl,
            Standing::Failed => self.config.get().pregreet_fail_ttl,
        };
        let now = unix_now();
        let remembered = Remembered {
            client: client_key(client),
            standing,
            until: now.saturating_add(ttl.as_secs() as i64),
        };
        self.clients.remember(remembered, now);
        let backend = self.backend.clone();
        tokio::spawn(async move { backend.remember_client(remembered).await });
    }

    /// Serves one listener until `shutdown` fires.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        limit: ConnectionLimit,
        role: Role,
        shutdown: net::Shutdown,
    ) {
        net::serve(self, listener, limit, role, shutdown).await;
    }
}

impl<B: Backend> net::Service for Server<B> {
    type Port = Role;

    const BUSY_REPLY: &'static [u8] = b"421 4.3.2 Too many connections, try again later\r\n";
    /// RFC 5321 §3.8: a server that must stop answers 421 and closes.
    const STOP_REPLY: &'static [u8] = b"421 4.3.2 Service shutting down\r\n";

    fn opening(&self, peer: SocketAddr, role: Role) -> net::Opening {
        let id = self.sessions.fetch_add(1, Ordering::Relaxed);
        net::Opening {
            span: tracing::info_span!("smtp", service = role.name(), session = id, %peer),
            service: role.name(),
            tls: self.tls.clone(),
            implicit_tls: role == Role::Submissions,
            timeout: self.config.get().timeout,
        }
    }

    async fn run<S: net::SessionStream>(self: Arc<Self>, connection: Connection<S>, peer: SocketAddr, role: Role) {
        Session::new(connection, self, peer, role).run().await;
    }
}

/// The counters of the rate limits, for every session of this node.
pub(crate) struct Rates {
    pub user_messages: RateLimit<String>,
    pub user_recipients: RateLimit<String>,
    pub client_connections: RateLimit<std::net::IpAddr>,
    pub client_messages: RateLimit<std::net::IpAddr>,
}

impl Rates {
    fn new(limits: &crate::RateLimits) -> Rates {
        const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);
        const MINUTE: std::time::Duration = std::time::Duration::from_secs(60);
        Rates {
            user_messages: RateLimit::new(limits.user_messages_per_hour, HOUR),
            user_recipients: RateLimit::new(limits.user_recipients_per_hour, HOUR),
            client_connections: RateLimit::new(limits.client_connections_per_minute, MINUTE),
            client_messages: RateLimit::new(limits.client_messages_per_minute, MINUTE),
        }
    }

    fn set_limits(&self, limits: &crate::RateLimits) {
        self.user_messages.set_limit(limits.user_messages_per_hour);
        self.user_recipients.set_limit(limits.user_recipients_per_hour);
        self.client_connections.set_limit(limits.client_connections_per_minute);
        self.client_messages.set_limit(limits.client_messages_per_minute);
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl<B> Server<B> {
    /// The settings sessions starting now get.
    pub fn config(&self) -> std::sync::Arc<SmtpConfig> {
        self.config.get()
    }

    /// Replaces the settings for the sessions that start from now on (a
    /// reload); sessions under way keep theirs.
    /// The rate limits change for every session at once (their counts
    /// stay); the pregreet memory keeps the size it started with.
    pub fn set_config(&self, config: SmtpConfig) {
        self.rates.set_limits(&config.limits);
        self.config.set(config);
    }
}
