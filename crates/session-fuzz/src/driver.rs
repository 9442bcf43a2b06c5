//! Runs one session over the in-memory pipe: writes each chunk, waits
//! until the session is idle, records what it said, checks the invariants
//! after every step, and at the end closes the client's side and waits
//! for the session to end.
//!
//! Everything runs on a current-thread runtime on the calling thread (the
//! fuzzer's), so one exec is one thread's work and the memory count of
//! `alloc` sees the session. No sleeps: the only timer is a generous one
//! that turns a session that never gets idle (a hang) into a panic.

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

use tokio::runtime::Runtime;

use crate::alloc::uncounted;
use crate::pipe::{Pipe, ServerEnd, Tracked, pipe};
use crate::transcript::{Step, Transcript, Violation};

/// A session that is neither idle nor done after this long hangs.
const HANG: Duration = Duration::from_secs(30);
/// Once the server has said this much, the session is stopped and the
/// rest of the input dropped: an exec stays cheap (in time and in the
/// harness's memory) even if every command asks for whole mailboxes.
const MAX_OUTPUT: usize = 4 * 1024 * 1024;

/// A runtime for the sessions of the calling thread, with one blocking
/// thread (see `pipe` on why).
pub fn runtime() -> Runtime {
    let built = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(1)
        .build();
    match built {
        Ok(runtime) => runtime,
        Err(e) => panic!("no tokio runtime: {e}"),
    }
}

thread_local! {
    static INJECTION: RefCell<Option<(usize, Vec<u8>)>> = const { RefCell::new(None) };
}

thread_local! {
    static LAST_PEAK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The peak heap of the last run on this thread (see `alloc`), to see how
/// far below its bound a session stays.
pub fn last_peak() -> usize {
    LAST_PEAK.get()
}

/// A test hook: the next run on this thread receives `bytes` as if the
/// server had sent them at the end of step `step`, so a test can see a
/// check fire inside a real run (a second tagged reply, a reply after the
/// goodbye).
pub fn inject(step: usize, bytes: &[u8]) {
    INJECTION.set(Some((step, bytes.to_vec())));
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
    let injected = INJECTION.with_borrow(Option::is_some);
    let result = drive_inner(runtime, chunks, start, &mut check);
    if injected {
        INJECTION.set(None);
    }
    let transcript = result?;
    let peak = crate::alloc::peak();
    LAST_PEAK.set(peak);
    Ok(Run { transcript, peak })
}

fn drive_inner<F>(
    runtime: &Runtime,
    chunks: &[Vec<u8>],
    start: impl FnOnce(ServerEnd) -> F,
    check: &mut impl FnMut(&Transcript) -> Result<(), Violation>,
) -> Result<Transcript, Violation>
where
    F: Future<Output = ()> + Send + 'static,
{
    runtime.block_on(async {
        let (pipe, server) = pipe();
        let session = tokio::spawn(Tracked::new(&pipe, start(server)));
        let mut transcript = Transcript::default();
        let checked = talk(&pipe, &mut transcript, chunks, check).await;
        // Whatever the checks said, the session ends before the next run
        // (a violation must not leave it waiting on the runtime).
        pipe.close();
        let complete = matches!(checked, Ok(true)) && step(&pipe, &mut transcript, Vec::new()).await;
        if !complete {
            // A violation, or too much output to keep: the rest of the
            // session is not wanted, and the transcript stays unfinished
            // (so the final checks ask nothing of what is missing).
            session.abort();
        }
        match tokio::time::timeout(HANG, session).await {
            Err(_) => panic!("the session did not end after it closed the connection"),
            Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Ok(_) => {}
        }
        checked?;
        transcript.finished = complete;
        Ok(transcript)
    })
}

/// The greeting, then each chunk, each followed by the checks; false if
/// the session said more than [`MAX_OUTPUT`] (and the rest is dropped).
async fn talk(
    pipe: &Pipe,
    transcript: &mut Transcript,
    chunks: &[Vec<u8>],
    check: &mut impl FnMut(&Transcript) -> Result<(), Violation>,
) -> Result<bool, Violation> {
    let mut complete = step(pipe, transcript, Vec::new()).await;
    uncounted(|| check(transcript))?;
    for chunk in chunks {
        if pipe.closed() || !complete {
            break;
        }
        pipe.send(chunk);
        complete = step(pipe, transcript, uncounted(|| chunk.clone())).await;
        uncounted(|| check(transcript))?;
    }
    Ok(complete)
}

/// Waits until the session is idle, taking its output meanwhile; false
/// if the transcript grew beyond [`MAX_OUTPUT`], where it stops.
async fn step(pipe: &Pipe, transcript: &mut Transcript, sent: Vec<u8>) -> bool {
    let mut received = Vec::new();
    let room = MAX_OUTPUT.saturating_sub(transcript.size() + sent.len());
    let complete = loop {
        if tokio::time::timeout(HANG, settle(pipe)).await.is_err() {
            panic!(
                "the session hangs: not idle {HANG:?} after step {} ({:?})",
                transcript.steps.len(),
                String::from_utf8_lossy(&sent)
            );
        }
        let (output, was_full) = pipe.take_output();
        uncounted(|| received.extend_from_slice(&output));
        if received.len() > room {
            break false;
        }
        if !was_full {
            break true;
        }
    };
    let now = transcript.steps.len();
    if let Some((_, bytes)) = INJECTION.with_borrow_mut(|i| i.take_if(|(at, _)| *at == now)) {
        received.extend_from_slice(&bytes);
    }
    uncounted(|| transcript.steps.push(Step { sent, received }));
    complete
}

/// Waits until the session is idle, its blocking work done too, and a
/// poll for nothing finds it reading again without having written (see
/// `pipe`): an empty task on the runtime's one blocking thread runs after
/// every task queued before it; the `yield_now` after it lets the session
/// take the wakes those tasks left before the poll for nothing.
async fn settle(pipe: &Pipe) {
    loop {
        pipe.idle().await;
        if !pipe.reading() {
            return;
        }
        if tokio::task::spawn_blocking(|| ()).await.is_err() {
            return;
        }
        tokio::task::yield_now().await;
        let (polls, written) = (pipe.polls(), pipe.written());
        if !pipe.poke() {
            continue;
        }
        while pipe.polls() == polls && !pipe.closed() {
            tokio::task::yield_now().await;
        }
        if pipe.reading() && pipe.polls() == polls + 1 && pipe.written() == written {
            return;
        }
    }
}
