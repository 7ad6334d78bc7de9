//! Open-duration backoff: how long each opening of the circuit sleeps before a trial.
//!
//! The first opening after the circuit closed sleeps `sleep_window_ms`. With
//! `sleep_window_max_ms`, each re-opening after a failed half-open period (a failed or slow
//! trial, or trials that did not finish within `half_open_max_wait_ms`) sleeps twice as long as
//! the one before, up to that maximum: `min(sleep_window_ms × 2^streak, sleep_window_max_ms)`,
//! the exponential backoff of Polly's and Resilience4j's `IntervalFunction`s, and of gobreaker's
//! and the `breaker` 2.x crate's users. Doubling reaches a maximum of an hour from 5 s in ten
//! failed trials, and a dependency that has been down for a while is probed ever more rarely.
//!
//! With `sleep_window_jitter`, each sleep window is then lengthened by a random share of itself,
//! up to that percent (drawn anew at each opening): many instances of a service that opened
//! together when their dependency failed half-open at different moments rather than all at
//! once. Jitter only ever lengthens: no sleep is shorter than `sleep_window_ms` (Resilience4j's
//! randomized interval also shortens; here the configured sleep window is a floor a user can
//! rely on). It applies after the maximum, so that instances that have all reached it still
//! spread out.

use std::hash::{BuildHasher, RandomState};

use crate::{CircuitBreaker, state::MAX_STREAK};

impl CircuitBreaker {
    /// How long an opening after `streak` failed half-open periods in a row sleeps.
    pub(crate) fn sleep_window_ms(&self, streak: u32) -> u64 {
        let sleep = backed_off(
            self.config.sleep_window_ms(),
            self.config.sleep_window_max_ms(),
            streak,
        );
        match self.config.sleep_window_jitter() {
            Some(percent) => jittered(sleep, percent, random()),
            None => sleep,
        }
    }
}

/// `first × 2^streak`, at most `longest` (and never under `first`: a maximum read while
/// the configuration was being replaced may be the old one).
pub(crate) fn backed_off(first: u64, longest: Option<u64>, streak: u32) -> u64 {
    match longest {
        Some(longest) => first
            .saturating_mul(1 << streak.min(MAX_STREAK))
            .min(longest.max(first)),
        None => first,
    }
}

/// `sleep`, lengthened by `random`'s share of `percent` percent of it.
pub(crate) fn jittered(sleep: u64, percent: u64, random: u64) -> u64 {
    let spread = sleep.saturating_mul(percent) / 100;
    sleep + random % (spread + 1)
}

/// A random number, different in every process and at every call: a hash of nothing under
/// the standard library's randomly keyed hasher (whose keys differ per thread and per call).
/// Drawn once per opening, off the call path, and once per retry.
pub(crate) fn random() -> u64 {
    RandomState::new().hash_one(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reopening_doubles_the_sleep_up_to_the_maximum() {
        let sleeps: Vec<u64> = (0..6)
            .map(|streak| backed_off(1_000, Some(10_000), streak))
            .collect();
        assert_eq!(sleeps, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        assert_eq!(backed_off(1_000, None, 5), 1_000, "no maximum, no backoff");
        assert_eq!(
            backed_off(
                crate::limits::MAX_MS,
                Some(crate::limits::MAX_MS),
                MAX_STREAK
            ),
            crate::limits::MAX_MS
        );
        assert_eq!(backed_off(1, Some(u64::MAX), MAX_STREAK), 1 << MAX_STREAK);
        assert_eq!(
            backed_off(5_000, Some(1_000), 3),
            5_000,
            "never under the first"
        );
    }

    #[test]
    fn jitter_lengthens_by_at_most_its_percent() {
        assert_eq!(jittered(1_000, 20, 0), 1_000);
        assert_eq!(jittered(1_000, 20, 200), 1_200);
        assert_eq!(jittered(1_000, 20, 201), 1_000);
        assert_eq!(jittered(1_000, 100, u64::MAX), 1_000 + u64::MAX % 1_001);
        let draws: Vec<u64> = (0..1_000).map(|_| jittered(10_000, 50, random())).collect();
        assert!(
            draws
                .iter()
                .all(|&sleep| (10_000..=15_000).contains(&sleep))
        );
        let distinct: std::collections::BTreeSet<u64> = draws.iter().copied().collect();
        assert!(
            distinct.len() > 500,
            "1000 draws over 5001 values: {} distinct",
            distinct.len()
        );
        let low = draws.iter().filter(|&&sleep| sleep < 12_500).count();
        assert!(
            (350..=650).contains(&low),
            "{low} of 1000 in the lower half"
        );
    }
}
