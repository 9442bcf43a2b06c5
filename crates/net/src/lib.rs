//! Networking shared by every postamt server: listeners with clear bind
//! errors and connection limits (in total and per client address), TLS (a configured certificate or a
//! self-signed one made on first start), and [`Connection`], the buffered
//! session stream with read/write timeouts and in-place STARTTLS.

mod connection;
mod listener;
mod network;
mod stream;
mod tls;

pub use connection::{Connection, ReadError};
pub use listener::{BindError, ConnectionLimit, ConnectionPermit, accept_loop, bind};
pub use network::{Network, NetworkError};
pub use stream::Stream;
pub use tls::{TlsError, load_or_create_tls};
pub use tokio_rustls::TlsAcceptor;
