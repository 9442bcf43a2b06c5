//! CPU work of a command that grows with what the account holds (LIST's
//! matching over every mailbox) runs on tokio's blocking pool, not on the
//! async workers that every other session and service shares (issue 12,
//! attack 3: one LIST held a worker and delayed others' greetings). At
//! most `heavy_tasks` such jobs run at once, and a job stops when its
//! session ends: it checks a flag the session sets on its way out.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use net::ReadError;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::session::{Disconnect, Session};

/// Set once the session that asked for the work is gone; long loops check
/// it between steps and give up.
#[derive(Clone, Default)]
pub(crate) struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Sets the flag when dropped: when the command's future ends, however.
struct SetOnDrop(Cancel);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// Runs `work` on the blocking pool and waits for it, watching the
    /// connection meanwhile: if the client goes away, the work is told to
    /// stop and the session ends.
    pub(crate) async fn heavy<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&Cancel) -> T + Send + 'static,
    ) -> Result<T, Disconnect> {
        // The semaphore is never closed.
        let server = self.server.clone();
        let _permit = server.heavy.acquire().await.map_err(|_| Disconnect)?;
        let cancel = Cancel::default();
        let _stop = SetOnDrop(cancel.clone());
        let mut task = tokio::task::spawn_blocking(move || work(&cancel));
        // With nothing left to write, a read is safe to cancel (see
        // Connection::fill), so it can race the work.
        self.conn.flush().await.map_err(|_| Disconnect)?;
        let done = tokio::select! {
            done = &mut task => done,
            read = self.conn.fill() => match read {
                // More input (a pipelined command) waits in the buffer:
                // reading no further, wait for the work.
                Ok(_) => task.await,
                // A client that has sent all it will send (a half-close,
                // as `nc -N` and scripts do) still reads its answers.
                Err(ReadError::Closed) => task.await,
                Err(e) => return Err(self.read_failed(e).await),
            },
        };
        match done {
            Ok(answer) => Ok(answer),
            // A panic in the work is the command's, as if it had run here.
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // The runtime is shutting down.
            Err(_) => Err(Disconnect),
        }
    }
}
