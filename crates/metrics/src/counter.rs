//! A counter family with one label whose values are fixed at compile time
//! (or no label at all).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonic counter per value of one label. With `label` empty it is a
/// single unlabelled counter (`N` = 1).
pub struct Counter<const N: usize> {
    name: &'static str,
    help: &'static str,
    label: &'static str,
    values: [&'static str; N],
    counts: [AtomicU64; N],
}

impl<const N: usize> Counter<N> {
    /// A counter family; `name` ends in `_total` by the format's convention.
    pub const fn new(name: &'static str, help: &'static str, label: &'static str, values: [&'static str; N]) -> Self {
        Counter {
            name,
            help,
            label,
            values,
            counts: [const { AtomicU64::new(0) }; N],
        }
    }

    /// Adds one under `value`, which must be one of the family's values.
    pub fn inc(&self, value: &str) {
        self.add(value, 1);
    }

    /// Adds `n` under `value`.
    pub fn add(&self, value: &str, n: u64) {
        let index = match self.values.iter().position(|v| *v == value) {
            Some(index) => index,
            None => {
                debug_assert!(false, "{}: no label value {value:?}", self.name);
                N - 1
            }
        };
        self.counts[index].fetch_add(n, Ordering::Relaxed);
    }

    /// The count under `value` (0 for a value not in the family).
    pub fn get(&self, value: &str) -> u64 {
        self.values
            .iter()
            .position(|v| *v == value)
            .map_or(0, |i| self.counts[i].load(Ordering::Relaxed))
    }

    pub(crate) fn render(&self, out: &mut String) {
        crate::header(out, self.name, self.help, "counter");
        for (value, count) in self.values.iter().zip(&self.counts) {
            let count = count.load(Ordering::Relaxed);
            if self.label.is_empty() {
                let _ = writeln!(out, "{} {count}", self.name);
            } else {
                // Label values are our own constants: nothing to escape.
                let _ = writeln!(out, "{}{{{}=\"{value}\"}} {count}", self.name, self.label);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TEST: Counter<2> = Counter::new("t_total", "Test.", "kind", ["a", "other"]);
    static PLAIN: Counter<1> = Counter::new("p_total", "Plain.", "", [""]);

    #[test]
    fn counts_per_label_value_and_renders_each() {
        TEST.inc("a");
        TEST.add("a", 2);
        PLAIN.inc("");
        assert_eq!(TEST.get("a"), 3);
        let mut out = String::new();
        TEST.render(&mut out);
        PLAIN.render(&mut out);
        assert_eq!(
            out,
            "# HELP t_total Test.\n# TYPE t_total counter\nt_total{kind=\"a\"} 3\nt_total{kind=\"other\"} 0\n\
             # HELP p_total Plain.\n# TYPE p_total counter\np_total 1\n"
        );
    }
}
