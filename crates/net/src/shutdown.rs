//! Stopping a server gracefully, written once for every protocol: the
//! [`Stopper`] says stop; every accept loop and every session holds a
//! [`Shutdown`] that hears it. Accept loops return at once, dropping (so
//! closing) their listeners; a session ends only where it loses nothing,
//! while it waits for a client's next command (see
//! [`crate::Connection::read_command`]), so an SMTP transaction in its data
//! finishes and gets its reply. The stopper learns that every listener and
//! session is gone when the last [`Shutdown`] is dropped.

use tokio::sync::watch;

/// The side that stops the servers and waits for them to finish.
#[derive(Debug)]
pub struct Stopper {
    sender: watch::Sender<bool>,
}

/// What a listener or a session watches to learn that the server stops.
/// Holding one keeps [`Stopper::drained`] waiting.
#[derive(Debug, Clone)]
pub struct Shutdown {
    receiver: watch::Receiver<bool>,
}

impl Stopper {
    pub fn new() -> (Stopper, Shutdown) {
        let (sender, receiver) = watch::channel(false);
        (Stopper { sender }, Shutdown { receiver })
    }

    /// Tells every listener and session to stop.
    pub fn stop(&self) {
        self.sender.send_replace(true);
    }

    /// Waits until every [`Shutdown`] handed out is dropped: all
    /// listeners closed, all sessions ended.
    pub async fn drained(&self) {
        self.sender.closed().await;
    }

    /// How many listeners and sessions still run.
    pub fn running(&self) -> usize {
        self.sender.receiver_count()
    }
}

impl Shutdown {
    /// One that never fires, for servers run without a stopper (tests).
    pub fn never() -> Shutdown {
        let (_, receiver) = watch::channel(false);
        Shutdown { receiver }
    }

    /// Completes once the stop was asked for (at once if it already was);
    /// never, if the stopper is gone without asking.
    pub async fn requested(&mut self) {
        if self.receiver.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    pub fn is_requested(&self) -> bool {
        *self.receiver.borrow()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_stop_is_heard_by_every_clone_and_drained_when_all_are_dropped() {
        let (stopper, shutdown) = Stopper::new();
        let mut session = shutdown.clone();
        drop(shutdown);
        let waiter = tokio::spawn(async move {
            session.requested().await;
            // The session finishes its work, then lets go.
        });
        stopper.stop();
        tokio::time::timeout(Duration::from_secs(5), stopper.drained())
            .await
            .expect("drained once the session is done");
        waiter.await.unwrap();
        assert_eq!(stopper.running(), 0);
    }

    #[tokio::test]
    async fn never_never_fires() {
        let mut never = Shutdown::never();
        let fired = tokio::time::timeout(Duration::from_millis(50), never.requested()).await;
        assert!(fired.is_err());
        assert!(!never.is_requested());
    }
}
