//! Throughput and latency percentiles.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Barrier;

/// Latencies of one kind of operation.
#[derive(Default)]
pub struct Samples {
    pub name: String,
    pub latencies: Vec<Duration>,
}

impl Samples {
    pub fn new(name: &str) -> Samples {
        Samples {
            name: name.to_string(),
            latencies: Vec::new(),
        }
    }

    /// The latency below which `fraction` of the operations fell.
    pub fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index]
    }
}

/// A stretch of work all sessions do together, timed on the wall clock
/// from the moment the last session is ready to the moment the last one is
/// done, so that rates leave out what comes before (logins, say). Sessions
/// call [`Phase::begin`] and [`Phase::end`] around it, each as often (once
/// per round); the times add up.
pub struct Phase {
    barrier: Barrier,
    /// When the current stretch began, and the time of those before.
    clock: Mutex<(Option<Instant>, Duration)>,
}

impl Phase {
    pub fn new(sessions: usize) -> Phase {
        Phase {
            barrier: Barrier::new(sessions),
            clock: Mutex::new((None, Duration::ZERO)),
        }
    }

    pub async fn begin(&self) {
        if self.barrier.wait().await.is_leader() {
            self.clock().0 = Some(Instant::now());
        }
    }

    pub async fn end(&self) {
        if self.barrier.wait().await.is_leader() {
            let mut clock = self.clock();
            if let Some(began) = clock.0.take() {
                clock.1 += began.elapsed();
            }
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.clock().1
    }

    /// The clock; only the barrier's leader touches it, so a poisoned lock
    /// (a panic elsewhere) still holds good times.
    fn clock(&self) -> std::sync::MutexGuard<'_, (Option<Instant>, Duration)> {
        self.clock.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Prints one line per kind of operation and a total.
pub fn print(unit: &str, elapsed: Duration, samples: &mut [Samples]) {
    let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
    let mut total = 0;
    for sample in samples.iter_mut() {
        sample.latencies.sort_unstable();
        let count = sample.latencies.len();
        total += count;
        println!(
            "{:<14} {:>8} {unit}  {:>10.1} {unit}/s  p50 {:>8.2} ms  p99 {:>8.2} ms",
            sample.name,
            count,
            count as f64 / seconds,
            Samples::percentile(&sample.latencies, 0.50).as_secs_f64() * 1000.0,
            Samples::percentile(&sample.latencies, 0.99).as_secs_f64() * 1000.0,
        );
    }
    println!(
        "{:<14} {total:>8} {unit}  {:>10.1} {unit}/s  in {seconds:.2} s",
        "total",
        total as f64 / seconds
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(Samples::percentile(&sorted, 0.5), Duration::from_millis(50));
        assert_eq!(Samples::percentile(&sorted, 0.99), Duration::from_millis(99));
        assert_eq!(Samples::percentile(&[], 0.5), Duration::ZERO);
    }
}
