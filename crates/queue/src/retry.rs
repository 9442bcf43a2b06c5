//! When to try again after a temporary failure.

use std::time::Duration;

/// The gap after the `attempts`-th failed attempt: growing from a minute to
/// two hours, then every two hours (the shape Postfix's and most MTAs'
/// schedules have).
pub fn retry_delay(attempts: i64) -> Duration {
    const SCHEDULE: [u64; 5] = [60, 5 * 60, 15 * 60, 30 * 60, 60 * 60];
    let index = usize::try_from(attempts.saturating_sub(1)).unwrap_or(0);
    Duration::from_secs(SCHEDULE.get(index).copied().unwrap_or(2 * 60 * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_grow_then_level_off() {
        let gaps: Vec<u64> = (1..=7).map(|a| retry_delay(a).as_secs()).collect();
        assert_eq!(gaps, [60, 300, 900, 1800, 3600, 7200, 7200]);
        assert_eq!(retry_delay(0).as_secs(), 60);
    }
}
