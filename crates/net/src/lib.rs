//! Networking shared by every postamt server and the SMTP client:
//! listeners with clear bind errors and connection limits (in total and per
//! client address), TLS as a server (a configured certificate or a
//! self-signed one made on first start, swappable while serving) and as a
//! client (opportunistic, verified against CAs for a relay or MTA-STS,
//! or authenticated by DANE TLSA records, with a reportable reason when a
//! certificate is refused), and
//! [`Connection`], the buffered stream with read/write timeouts and
//! in-place STARTTLS, and what every server's sessions share: the accept
//! loop ([`serve`]) and the end of the command loop.

#![forbid(unsafe_code)]

mod connection;
mod dane;
mod deflate;
pub mod fuzz;
mod listener;
mod live;
mod network;
mod pkix;
mod service;
mod session;
mod shutdown;
mod stream;
mod tls;
mod tls_client;
mod verify;

pub use connection::{Connection, ReadError};
pub use dane::{DANE_EE, DANE_TA, MAX_BARE_KEYS, MAX_TRUST_ANCHOR_CANDIDATES, TlsaRecord, dane_connector, usable};
pub use listener::{BindError, ConnectionLimit, ConnectionPermit, accept_loop, bind};
pub use live::Live;
pub use network::{Network, NetworkError};
pub use pkix::pkix_connector;
pub use rustls_pki_types::ServerName;
pub use service::{Opening, Service, SessionStream, serve, session};
pub use session::{Disconnect, Flow, Outcome};
pub use shutdown::{Shutdown, Stopper};
pub use stream::Stream;
pub use tls::{ACME_TLS_ALPN, ServerTls, TlsError, load_or_create_tls};
pub use tls_client::{opportunistic_connector, server_name, verifying_connector};
pub use tokio_rustls::{TlsAcceptor, TlsConnector};
pub use verify::VerifyFailure;
