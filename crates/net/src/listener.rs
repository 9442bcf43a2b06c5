//! Listening sockets and the limit on concurrent connections.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::Shutdown;

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

/// Caps the connections served at once, in total and per client address;
/// a connection over either cap is answered with a short refusal and
/// closed, so one address cannot take every slot.
#[derive(Clone, Debug)]
pub struct ConnectionLimit {
    inner: Arc<LimitInner>,
}

#[derive(Debug)]
struct LimitInner {
    total: Arc<Semaphore>,
    per_address: usize,
    by_address: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; dropping it frees its slots.
#[derive(Debug)]
pub struct ConnectionPermit {
    _total: OwnedSemaphorePermit,
    limit: Arc<LimitInner>,
    address: IpAddr,
}

impl ConnectionLimit {
    pub fn new(max_total: usize, max_per_address: usize) -> Self {
        ConnectionLimit {
            inner: Arc::new(LimitInner {
                total: Arc::new(Semaphore::new(max_total)),
                per_address: max_per_address,
                by_address: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Slots for one connection from `address`, or `None` when either cap
    /// is reached.
    pub fn try_acquire(&self, address: IpAddr) -> Option<ConnectionPermit> {
        let total = self.inner.total.clone().try_acquire_owned().ok()?;
        let mut counts = self.inner.by_address.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(address).or_insert(0);
        if *count >= self.inner.per_address {
            return None;
        }
        *count += 1;
        Some(ConnectionPermit {
            _total: total,
            limit: self.inner.clone(),
            address,
        })
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut counts = self.limit.by_address.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// Accepts connections, each in its own task, until `shutdown` fires: then
/// the listener is dropped, so new connections are refused at once, and
/// each session gets a clone of `shutdown` to end at its next command. A
/// connection over the limit gets `busy_reply` and is closed at once, so a
/// flood cannot make the server hold unbounded state.
pub async fn accept_loop<F, Fut>(
    listener: TcpListener,
    limit: ConnectionLimit,
    busy_reply: &'static [u8],
    mut shutdown: Shutdown,
    handler: F,
) where
    F: Fn(tokio::net::TcpStream, SocketAddr, Shutdown) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use tokio::io::AsyncWriteExt;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.requested() => return,
        };
        let (mut stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait, then go on.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match limit.try_acquire(peer.ip()) {
            Some(permit) => {
                let session = handler(stream, peer, shutdown.clone());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address_and_in_total() {
        let limit = ConnectionLimit::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = limit.try_acquire(a).unwrap();
        let _second = limit.try_acquire(a).unwrap();
        assert!(limit.try_acquire(a).is_none(), "per-address cap");
        let _third = limit.try_acquire(b).unwrap();
        assert!(limit.try_acquire(b).is_none(), "total cap");
        drop(first);
        assert!(limit.try_acquire(a).is_some());
    }
}
