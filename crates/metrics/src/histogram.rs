//! A histogram with fixed bucket bounds, for durations.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Observations counted per bucket (not cumulative: each falls in one),
/// made cumulative when rendered, as the format wants `le` buckets.
pub struct Histogram<const N: usize> {
    name: &'static str,
    help: &'static str,
    /// Upper bounds in seconds, increasing; `+Inf` is implied.
    bounds: [f64; N],
    buckets: [AtomicU64; N],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    pub const fn new(name: &'static str, help: &'static str, bounds: [f64; N]) -> Self {
        Histogram {
            name,
            help,
            bounds,
            buckets: [const { AtomicU64::new(0) }; N],
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        if let Some(i) = self.bounds.iter().position(|bound| seconds <= *bound) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros.fetch_add(
            u64::try_from(duration.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// How many observations were made.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub(crate) fn render(&self, out: &mut String) {
        crate::header(out, self.name, self.help, "histogram");
        let mut cumulative = 0;
        for (bound, bucket) in self.bounds.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{}_bucket{{le=\"{}\"}} {cumulative}",
                self.name,
                crate::number(*bound)
            );
        }
        // Read after the buckets: an observation made meanwhile may be in
        // the count and not yet in its bucket, never the other way round
        // for the totals shown, so +Inf is at least every bucket below it.
        let count = self.count.load(Ordering::Relaxed).max(cumulative);
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{}_bucket{{le=\"+Inf\"}} {count}", self.name);
        let _ = writeln!(out, "{}_sum {}", self.name, crate::number(sum));
        let _ = writeln!(out, "{}_count {count}", self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_when_rendered() {
        let histogram = Histogram::new("h_seconds", "Test.", [0.001, 0.01]);
        histogram.observe(Duration::from_micros(500));
        histogram.observe(Duration::from_millis(5));
        histogram.observe(Duration::from_secs(1));
        let mut out = String::new();
        histogram.render(&mut out);
        assert_eq!(
            out,
            "# HELP h_seconds Test.\n# TYPE h_seconds histogram\nh_seconds_bucket{le=\"0.001\"} 1\n\
             h_seconds_bucket{le=\"0.01\"} 2\nh_seconds_bucket{le=\"+Inf\"} 3\nh_seconds_sum 1.0055\nh_seconds_count 3\n"
        );
    }
}
