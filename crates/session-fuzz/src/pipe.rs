//! The in-memory connection between the harness and a session, and how
//! the harness knows the session is idle without sleeping.
//!
//! The session's end ([`ServerEnd`]) is a real `AsyncRead + AsyncWrite`
//! stream, as a socket would be; the harness's end ([`Pipe`]) puts client
//! bytes in and takes server bytes out directly. A session is *idle* when
//! its last poll ended waiting to read with nothing left to read, or when
//! it has closed the connection (or dropped it). The session task is
//! wrapped in [`Tracked`], which clears the flag before every poll, so a
//! flag that is set means the session is parked on the read and nothing
//! else woke it since.
//!
//! Work the session waits for elsewhere keeps it from being idle only if
//! it does not read meanwhile. Store writes go to the store's writer
//! thread and the session does not read while it waits, so that case is
//! simple. But IMAP's heavy commands (LIST's matching) run on tokio's
//! blocking pool while the session reads too (to notice a client that
//! leaves), so it looks idle while the work goes on; and a read polled in
//! a `select!` whose other branch then wins (that same wait, once the
//! work is done) leaves the flag set though nothing reads any more. So
//! once the session looks idle the driver (`driver::settle`) queues an
//! empty task on the runtime's one blocking thread, behind whatever the
//! session started there, waits for it, lets the session take the wakes
//! that work left, then wakes it for nothing: a session that really waits
//! for input is polled once, reads again and writes nothing. Anything
//! else (it did not read, or it wrote: a heavy command flushes what came
//! before it) means it was not idle yet, and the wait starts again.
//!
//! What stays timing-dependent is the change bus: a session in IDLE or
//! with NOTIFY set waits for input and for changes announced from the
//! writer thread, which may come after the harness has moved on. The
//! checkers do not depend on that timing (see `transcript`).
//!
//! The server's output buffer is bounded like a socket's: a session that
//! writes more than [`OUTPUT_BUFFER`] without reading waits until the
//! harness takes it, which counts as idle too.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What the session may write before the harness takes it.
pub const OUTPUT_BUFFER: usize = 64 * 1024;

#[derive(Default)]
struct Shared {
    input: Vec<u8>,
    read: usize,
    input_closed: bool,
    output: Vec<u8>,
    /// The session's last poll ended in a read with nothing to read.
    waiting_to_read: bool,
    /// The session's last write found the output buffer full.
    waiting_to_write: bool,
    /// The session shut its side down or dropped the stream.
    closed: bool,
    /// How often the session was polled (see [`Pipe::polls`]).
    polls: u64,
    /// Bytes the session has written in all.
    written: u64,
    reader: Option<Waker>,
    writer: Option<Waker>,
    harness: Option<Waker>,
}

impl Shared {
    fn idle(&self) -> bool {
        self.closed || self.waiting_to_write || (self.waiting_to_read && self.read == self.input.len())
    }

    fn wake_harness(&mut self) {
        if let Some(waker) = self.harness.take() {
            waker.wake();
        }
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic while holding the lock is a panic of the session, which the
    // harness reports anyway: the state itself stays usable.
    shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The harness's end of the connection.
#[derive(Clone)]
pub struct Pipe(Arc<Mutex<Shared>>);

/// The session's end of the connection.
pub struct ServerEnd(Arc<Mutex<Shared>>);

/// A new connection: the harness's end and the session's.
pub fn pipe() -> (Pipe, ServerEnd) {
    let shared = Arc::new(Mutex::new(Shared::default()));
    (Pipe(shared.clone()), ServerEnd(shared))
}

impl Pipe {
    /// Writes client bytes, waking the session if it waits for them.
    pub fn send(&self, bytes: &[u8]) {
        let mut shared = lock(&self.0);
        shared.input.extend_from_slice(bytes);
        // Stale until the session's next poll, which this wake brings.
        shared.waiting_to_read = false;
        if let Some(waker) = shared.reader.take() {
            waker.wake();
        }
    }

    /// The client closes its side: the session reads the end of input.
    pub fn close(&self) {
        let mut shared = lock(&self.0);
        shared.input_closed = true;
        shared.waiting_to_read = false;
        if let Some(waker) = shared.reader.take() {
            waker.wake();
        }
    }

    /// Takes what the session wrote, making room for more; true if the
    /// session was waiting for that room (and so is not idle yet).
    pub fn take_output(&self) -> (Vec<u8>, bool) {
        let mut shared = lock(&self.0);
        let was_full = shared.waiting_to_write;
        if was_full {
            shared.waiting_to_write = false;
            if let Some(waker) = shared.writer.take() {
                waker.wake();
            }
        }
        (std::mem::take(&mut shared.output), was_full)
    }

    /// How often the session has been polled: unchanged across a wait, it
    /// did nothing meanwhile.
    pub fn polls(&self) -> u64 {
        lock(&self.0).polls
    }

    /// Wakes the session's task for nothing, so that it is polled once
    /// more (see `driver::settle`); false if it had no read waiting.
    pub fn poke(&self) -> bool {
        let waker = lock(&self.0).reader.take();
        waker.map(Waker::wake).is_some()
    }

    /// Bytes the session has written in all.
    pub fn written(&self) -> u64 {
        lock(&self.0).written
    }

    /// Whether the session is idle because it waits to read (not because
    /// it closed or waits for room to write).
    pub fn reading(&self) -> bool {
        let shared = lock(&self.0);
        shared.idle() && !shared.closed && !shared.waiting_to_write
    }

    /// Whether the session is idle now (see the module's comment).
    pub fn is_idle(&self) -> bool {
        lock(&self.0).idle()
    }

    /// Whether the session closed the connection.
    pub fn closed(&self) -> bool {
        lock(&self.0).closed
    }

    /// Resolves once the session is idle (see the module's comment).
    pub fn idle(&self) -> Idle {
        Idle(self.0.clone())
    }
}

/// The future of [`Pipe::idle`].
pub struct Idle(Arc<Mutex<Shared>>);

impl Future for Idle {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut shared = lock(&self.0);
        if shared.idle() {
            return Poll::Ready(());
        }
        shared.harness = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl AsyncRead for ServerEnd {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let mut shared = lock(&self.0);
        let available = shared.input.len() - shared.read;
        if available > 0 {
            let n = available.min(buf.remaining());
            let start = shared.read;
            buf.put_slice(&shared.input[start..start + n]);
            shared.read += n;
            if shared.read == shared.input.len() {
                shared.input.clear();
                shared.read = 0;
            }
            return Poll::Ready(Ok(()));
        }
        if shared.input_closed {
            return Poll::Ready(Ok(()));
        }
        shared.reader = Some(cx.waker().clone());
        shared.waiting_to_read = true;
        shared.wake_harness();
        Poll::Pending
    }
}

impl AsyncWrite for ServerEnd {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut shared = lock(&self.0);
        if shared.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = OUTPUT_BUFFER.saturating_sub(shared.output.len());
        if room == 0 {
            shared.writer = Some(cx.waker().clone());
            shared.waiting_to_write = true;
            shared.wake_harness();
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        shared.output.extend_from_slice(&buf[..n]);
        shared.written += n as u64;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut shared = lock(&self.0);
        shared.closed = true;
        shared.wake_harness();
        Poll::Ready(Ok(()))
    }
}

impl Drop for ServerEnd {
    fn drop(&mut self) {
        let mut shared = lock(&self.0);
        shared.closed = true;
        shared.wake_harness();
    }
}

/// A session's future that clears the read-wait flag before each poll
/// (see the module's comment).
pub struct Tracked {
    session: Pin<Box<dyn Future<Output = ()> + Send>>,
    pipe: Pipe,
}

impl Tracked {
    pub fn new(pipe: &Pipe, session: impl Future<Output = ()> + Send + 'static) -> Tracked {
        Tracked {
            session: Box::pin(session),
            pipe: pipe.clone(),
        }
    }
}

impl Future for Tracked {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        {
            let mut shared = lock(&self.pipe.0);
            shared.waiting_to_read = false;
            shared.polls += 1;
        }
        self.session.as_mut().poll(cx)
    }
}
