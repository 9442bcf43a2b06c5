//! The server's metrics: counters and a histogram kept as atomics, every
//! label from a small set fixed here, rendered in the Prometheus text
//! exposition format 0.0.4 for `/metrics`.
//!
//! Why fixed label sets: a label whose values come from traffic (a client
//! address, a recipient) grows without bound, in this process's memory and
//! in every scraper's. Here each metric lists its label values up front;
//! counting is a short scan of that list and an atomic add, with no lock
//! and no allocation, so the hot paths (accept, RCPT, commit) can afford
//! it. A value not in the list is a programming error: debug builds panic,
//! release builds count it under the list's last value (always "other"
//! where a list can meet a surprise).
//!
//! The metrics are statics, declared in [`registry`] in one place, so the
//! crates that count (net, smtpd, auth, queue, store) need nothing passed
//! down to them and every label set can be read at a glance.
#![forbid(unsafe_code)]

mod counter;
mod histogram;
pub mod registry;

pub use counter::Counter;
pub use histogram::Histogram;
pub use registry::*;

use std::fmt::Write;

/// Renders every metric of [`registry`] into `out`.
pub fn render(out: &mut String) {
    registry::render_all(out);
}

/// Renders a gauge whose value is worked out at scrape time (the queue's
/// size, say), with its HELP and TYPE lines.
pub fn render_gauge(out: &mut String, name: &str, help: &str, value: f64) {
    header(out, name, help, "gauge");
    let _ = writeln!(out, "{name} {}", number(value));
}

/// The `# HELP` and `# TYPE` lines of a metric family.
fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// HELP text escapes backslash and newline (format 0.0.4).
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value as the format writes floats: `+Inf`, `NaN`, or the number.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gauge_renders_with_its_header() {
        let mut out = String::new();
        render_gauge(&mut out, "x_size", "How big.\nVery.", 3.5);
        assert_eq!(out, "# HELP x_size How big.\\nVery.\n# TYPE x_size gauge\nx_size 3.5\n");
    }

    #[test]
    fn every_registered_metric_renders_once() {
        let mut out = String::new();
        render(&mut out);
        let types: Vec<&str> = out.lines().filter(|l| l.starts_with("# TYPE ")).collect();
        let mut names: Vec<&str> = types.iter().map(|l| l.split(' ').nth(2).unwrap()).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a metric name is used twice:\n{out}");
        assert!(count >= 8, "{out}");
    }
}
