//! Call latency, for breakers with `record_latency`: each call that ran is timed on the fine
//! monotonic clock (`Instant`'s, to the microsecond) and counted in a histogram per outcome
//! (successful, failed, timed out), from which the breaker's [`Metrics::latency`] reads
//! quantiles and the `metrics` publisher exports `breaker_call_duration_seconds`.
//!
//! The histogram has log-linear buckets: four per power of two from 4 µs, exact below, up to
//! 2³² µs (71 minutes, the longest call a ticket can time): a quantile is within 12.5 % of the
//! true value. Its counts are atomic adds, nothing is allocated per call, and it is made at the
//! first timed call: [`Latency::BYTES`] per breaker that records latency (twice that with the
//! `metrics` feature, which keeps what it exported), none for the others.
//!
//! [`Metrics::latency`]: crate::Metrics::latency

use std::time::Duration;

use crate::{outcome::Outcome, sync::AtomicU64, sync::Ordering};

/// Buckets per outcome: 4 exact (0–3 µs), then 4 per power of two up to 2³² µs.
const BUCKETS: usize = 124;
/// The outcomes timed: successful, failed, timed out.
const OUTCOMES: usize = 3;

/// The histogram's counts, and with the `metrics` feature what the publisher exported of them.
pub(crate) struct Histogram {
    counts: [[AtomicU64; BUCKETS]; OUTCOMES],
    #[cfg(feature = "metrics")]
    exported: [[AtomicU64; BUCKETS]; OUTCOMES],
}

/// The outcomes' label, as `breaker_calls_total`'s `kind`.
#[cfg(feature = "metrics")]
const KINDS: [&str; OUTCOMES] = ["successful", "failed", "timeout"];

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            #[cfg(feature = "metrics")]
            exported: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
        }
    }
}

const fn outcome_index(outcome: Outcome) -> usize {
    match outcome {
        Outcome::Success => 0,
        Outcome::Failure => 1,
        Outcome::Timeout => 2,
    }
}

/// The bucket of a duration of `micros`.
// Below 2^32, and buckets below 124: the casts keep every bit.
#[allow(clippy::cast_possible_truncation)]
const fn bucket(micros: u64) -> usize {
    let micros = if micros >= 1 << 32 {
        (1 << 32) - 1
    } else {
        micros
    };
    if micros < 4 {
        return micros as usize;
    }
    let exponent = micros.ilog2(); // 2..=31
    let sub = (micros >> (exponent - 2)) & 3;
    ((exponent - 1) * 4) as usize + sub as usize
}

/// The lowest duration in `bucket`, and the width of it, in µs.
#[allow(clippy::cast_possible_truncation)]
const fn bounds(bucket: usize) -> (u64, u64) {
    if bucket < 4 {
        return (bucket as u64, 1);
    }
    let exponent = (bucket / 4 + 1) as u32;
    let sub = (bucket % 4) as u64;
    let width = 1 << (exponent - 2);
    ((4 + sub) * width, width)
}

/// A duration standing for `bucket`: its middle, in µs.
fn middle(bucket: usize) -> f64 {
    let (low, width) = bounds(bucket);
    #[allow(clippy::cast_precision_loss)]
    let middle = low as f64 + (width as f64 - 1.0) / 2.0;
    middle
}

impl Histogram {
    /// Counts a call that ran `micros` to `outcome`.
    pub(crate) fn record(&self, outcome: Outcome, micros: u64) {
        self.counts[outcome_index(outcome)][bucket(micros)].fetch_add(1, Ordering::Relaxed);
    }

    /// The quantiles over every call timed so far, whatever its outcome.
    pub(crate) fn summary(&self) -> Latency {
        let mut merged = [0_u64; BUCKETS];
        for counts in &self.counts {
            for (total, count) in merged.iter_mut().zip(counts) {
                *total += count.load(Ordering::Relaxed);
            }
        }
        let calls: u64 = merged.iter().sum();
        let quantile = |share: u64| {
            // The first bucket by which `share` per mille of the calls are counted.
            let rank = (calls * share).div_ceil(1000).max(1);
            let mut seen = 0;
            for (index, count) in merged.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    return Duration::from_micros(middle(index).round() as u64);
                }
            }
            Duration::ZERO
        };
        Latency {
            calls,
            p50: quantile(500),
            p99: quantile(990),
        }
    }

    /// What was counted since the last export, per outcome's label: (the middle of a bucket
    /// in seconds, how many), for the publisher to record as samples.
    #[cfg(feature = "metrics")]
    pub(crate) fn export(&self, mut each: impl FnMut(&'static str, f64, u64)) {
        for (outcome, (counts, exported)) in self.counts.iter().zip(&self.exported).enumerate() {
            for (index, (count, done)) in counts.iter().zip(exported).enumerate() {
                let now = count.load(Ordering::Relaxed);
                let before = done.swap(now, Ordering::Relaxed);
                if now > before {
                    each(KINDS[outcome], middle(index) / 1e6, now - before);
                }
            }
        }
    }
}

/// How long a breaker's calls take ([`Metrics::latency`](crate::Metrics::latency)), over every
/// call timed since the breaker was created (with `record_latency`), whatever its outcome.
/// Quantiles are within 12.5 % of the true value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Latency {
    /// Calls timed.
    pub calls: u64,
    /// Half the calls took at most this long (0 with no calls).
    #[cfg_attr(feature = "serde", serde(rename = "p50_us", with = "whole_micros"))]
    pub p50: Duration,
    /// 99 in 100 calls took at most this long (0 with no calls).
    #[cfg_attr(feature = "serde", serde(rename = "p99_us", with = "whole_micros"))]
    pub p99: Duration,
}

impl Latency {
    /// The bytes of one breaker's histogram without the `metrics` feature.
    pub const BYTES: usize = BUCKETS * OUTCOMES * 8;
}

#[cfg(feature = "serde")]
mod whole_micros {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        duration: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_micros)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_within_an_eighth_of_their_values() {
        let mut previous = 0;
        for micros in 0..100_000_u64 {
            let index = bucket(micros);
            assert!(index == previous || index == previous + 1, "{micros} µs");
            let (low, width) = bounds(index);
            assert!(
                (low..low + width).contains(&micros),
                "{micros} µs in {index}"
            );
            assert!(width * 4 <= low.max(4), "{micros} µs: width {width}");
            previous = index;
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket((1 << 32) - 1), BUCKETS - 1);
    }

    #[test]
    fn quantiles_come_from_every_outcome() {
        let histogram = Histogram::default();
        assert_eq!(histogram.summary(), Latency::default());
        for _ in 0..98 {
            histogram.record(Outcome::Success, 1_000);
        }
        histogram.record(Outcome::Failure, 80_000);
        histogram.record(Outcome::Timeout, 500_000);
        let summary = histogram.summary();
        assert_eq!(summary.calls, 100);
        let near = |value: Duration, micros: f64| {
            #[allow(clippy::cast_precision_loss)]
            let got = value.as_micros() as f64;
            (got - micros).abs() <= micros / 8.0
        };
        assert!(near(summary.p50, 1_000.0), "{summary:?}");
        assert!(near(summary.p99, 80_000.0), "{summary:?}");
    }
}
