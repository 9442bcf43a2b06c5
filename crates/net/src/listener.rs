//! Listening sockets and the limit on concurrent connections.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A listener that could not be opened, described so that the
/// administrator knows which setting to change.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot listen for {service} on {address}: {reason}; change or empty `{service} = [...]` in the [listen] section of the config"
)]
pub struct BindError {
    pub service: String,
    pub address: SocketAddr,
    pub reason: String,
}

/// Opens a listener for each address of a service.
pub async fn bind(service: &str, addresses: &[SocketAddr]) -> Result<Vec<TcpListener>, BindError> {
    let mut listeners = Vec::new();
    for &address in addresses {
        let listener = TcpListener::bind(address).await.map_err(|e| BindError {
            service: service.to_string(),
            address,
            reason: match e.kind() {
                std::io::ErrorKind::PermissionDenied => {
                    format!("{e} (ports below 1024 need root or CAP_NET_BIND_SERVICE)")
                }
                std::io::ErrorKind::AddrInUse => format!("{e} (another program is listening there)"),
                _ => e.to_string(),
            },
        })?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// Caps the connections served at once across all listeners; a connection
/// over the cap is answered with a short refusal and closed.
#[derive(Clone, Debug)]
pub struct ConnectionLimit {
    permits: Arc<Semaphore>,
}

impl ConnectionLimit {
    pub fn new(max: usize) -> Self {
        ConnectionLimit {
            permits: Arc::new(Semaphore::new(max)),
        }
    }

    /// A slot for one connection, released when dropped; `None` when full.
    pub fn try_acquire(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }
}

/// Accepts connections forever, each in its own task. A connection over the
/// limit gets `busy_reply` and is closed at once, so a flood cannot make the
/// server hold unbounded state.
pub async fn accept_loop<F, Fut>(listener: TcpListener, limit: ConnectionLimit, busy_reply: &'static [u8], handler: F)
where
    F: Fn(tokio::net::TcpStream, SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use tokio::io::AsyncWriteExt;
    loop {
        let (mut stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait, then go on.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match limit.try_acquire() {
            Some(permit) => {
                let session = handler(stream, peer);
                tokio::spawn(async move {
                    session.await;
                    drop(permit);
                });
            }
            None => {
                tracing::warn!(%peer, "connection limit reached, refusing");
                tokio::spawn(async move {
                    let _ = stream.write_all(busy_reply).await;
                });
            }
        }
    }
}
