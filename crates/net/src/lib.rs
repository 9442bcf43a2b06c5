//! Networking shared by every postamt server and the SMTP client:
//! listeners with clear bind errors and connection limits (in total and per
//! client address), TLS as a server (a configured certificate or a
//! self-signed one made on first start, swappable while serving) and as a
//! client, and
//! [`Connection`], the buffered stream with read/write timeouts and
//! in-place STARTTLS, and what every server's sessions share: the accept
//! loop ([`serve`]) and the end of the command loop.

#![forbid(unsafe_code)]

mod connection;
mod deflate;
mod listener;
mod live;
mod network;
mod service;
mod session;
mod shutdown;
mod stream;
mod tls;
mod tls_client;

pub use connection::{Connection, ReadError};
pub use listener::{BindError, ConnectionLimit, ConnectionPermit, accept_loop, bind};
pub use live::Live;
pub use network::{Network, NetworkError};
pub use rustls_pki_types::ServerName;
pub use service::{Opening, Service, SessionStream, serve, session};
pub use session::{Disconnect, Flow, Outcome};
pub use shutdown::{Shutdown, Stopper};
pub use stream::Stream;
pub use tls::{ACME_TLS_ALPN, ServerTls, TlsError, load_or_create_tls};
pub use tls_client::{opportunistic_connector, server_name, verifying_connector};
pub use tokio_rustls::{TlsAcceptor, TlsConnector};
