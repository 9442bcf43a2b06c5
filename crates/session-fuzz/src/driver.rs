//! Runs one session over the in-memory pipe: writes each chunk, waits
//! until the session is idle, records what it said, checks the invariants
//! after every step, and at the end closes the client's side and waits
//! for the session to end.
//!
//! Everything runs on a current-thread runtime on the calling thread (the
//! fuzzer's), so one exec is one thread's work and the memory count of
//! `alloc` sees the session. No sleeps: the only timer is a generous one
//! that turns a session that never gets idle (a hang) into a panic.

use std::future::Future;
use std::time::Duration;

use tokio::runtime::Runtime;

use crate::pipe::{Pipe, ServerEnd, Tracked, pipe};
use crate::transcript::{Step, Transcript, Violation};

/// A session that is neither idle nor done after this long hangs.
const HANG: Duration = Duration::from_secs(30);
/// Once the server has said this much, the rest of the input is dropped:
/// an exec stays cheap even if every chunk asks for whole mailboxes.
const MAX_OUTPUT: usize = 4 * 1024 * 1024;

/// A runtime for the sessions of the calling thread.
pub fn runtime() -> Runtime {
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => panic!("no tokio runtime: {e}"),
    }
}

/// What a run gives the final check.
pub struct Run {
    pub transcript: Transcript,
    /// The most heap the thread held at once during the session (see
    /// `alloc`).
    pub peak: usize,
}

/// Runs the session `start` makes on the pipe's server end with the given
/// chunks; `check` is called after every step (with the transcript so
/// far) and returns the first violation. Panics of the session are
/// re-raised here, so the fuzzer sees them as crashes.
pub fn drive<F>(
    runtime: &Runtime,
    chunks: &[Vec<u8>],
    start: impl FnOnce(ServerEnd) -> F,
    mut check: impl FnMut(&Transcript) -> Result<(), Violation>,
) -> Result<Run, Violation>
where
    F: Future<Output = ()> + Send + 'static,
{
    crate::alloc::reset();
    let transcript = runtime.block_on(async {
        let (pipe, server) = pipe();
        let session = tokio::spawn(Tracked::new(&pipe, start(server)));
        let mut transcript = Transcript::default();
        step(&pipe, &mut transcript, Vec::new()).await;
        check(&transcript)?;
        for chunk in chunks {
            if pipe.closed() || transcript.size() > MAX_OUTPUT {
                break;
            }
            pipe.send(chunk);
            step(&pipe, &mut transcript, chunk.clone()).await;
            check(&transcript)?;
        }
        pipe.close();
        step(&pipe, &mut transcript, Vec::new()).await;
        match tokio::time::timeout(HANG, session).await {
            Err(_) => panic!("the session did not end after it closed the connection"),
            Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Ok(_) => {}
        }
        transcript.finished = true;
        Ok(transcript)
    })?;
    Ok(Run {
        transcript,
        peak: crate::alloc::peak(),
    })
}

/// Waits until the session is idle, taking its output meanwhile.
async fn step(pipe: &Pipe, transcript: &mut Transcript, sent: Vec<u8>) {
    let mut received = Vec::new();
    loop {
        if tokio::time::timeout(HANG, pipe.idle()).await.is_err() {
            panic!(
                "the session hangs: not idle {HANG:?} after step {} ({:?})",
                transcript.steps.len(),
                String::from_utf8_lossy(&sent)
            );
        }
        let (output, was_full) = pipe.take_output();
        received.extend_from_slice(&output);
        if !was_full {
            break;
        }
    }
    transcript.steps.push(Step { sent, received });
}
