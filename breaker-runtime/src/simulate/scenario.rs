//! Scenarios: traffic built in code, phase by phase, to replay as a recorded trace is.

use std::time::Duration;

use crate::{CallKind, Config, Trace, TraceEntry};

/// Traffic built in code: phases of a rate, an error rate and a latency, each call's outcome
/// drawn from a seeded generator (the same scenario gives the same calls).
///
/// ```
/// use std::time::Duration;
/// use fusebox::simulate::Scenario;
///
/// let trace = Scenario::new()
///     .phase(Duration::from_secs(10), 20, 0)
///     .phase(Duration::from_secs(5), 20, 100)
///     .latency(Duration::from_millis(300))
///     .trace();
/// assert_eq!(trace.calls.len(), 300);
/// assert!(trace.calls[..200].iter().all(|call| call.duration.is_none()));
/// assert!(trace.calls[200..].iter().all(|call| call.duration == Some(Duration::from_millis(300))));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    seed: u64,
    phases: Vec<Phase>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Phase {
    length: Duration,
    calls_per_second: u32,
    error_percent: u8,
    latency: Option<Duration>,
}

/// Where a scenario's time starts: a day, as the breaker's own clock does elsewhere, so that
/// nothing looks before the origin; a whole number of minutes, so that windows' buckets start
/// with the scenario.
const ORIGIN_MS: u64 = 86_400_000;

impl Default for Scenario {
    fn default() -> Self {
        Scenario::new()
    }
}

impl Scenario {
    /// A scenario with no phase yet.
    #[must_use]
    pub const fn new() -> Scenario {
        Scenario {
            seed: 0x5eed,
            phases: Vec::new(),
        }
    }

    /// Draws the outcomes from `seed`: another seed, other calls fail.
    #[must_use]
    pub const fn seed(mut self, seed: u64) -> Scenario {
        self.seed = seed;
        self
    }

    /// A phase of `length` with `calls_per_second` calls evenly spread, of which
    /// `error_percent` % fail (at most 100).
    #[must_use]
    pub fn phase(mut self, length: Duration, calls_per_second: u32, error_percent: u8) -> Scenario {
        self.phases.push(Phase {
            length,
            calls_per_second,
            error_percent: error_percent.min(100),
            latency: None,
        });
        self
    }

    /// The last phase's calls each take `latency` (succeeding or failing); without it, a
    /// phase's calls are not timed.
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Scenario {
        if let Some(phase) = self.phases.last_mut() {
            phase.latency = Some(latency);
        }
        self
    }

    /// The scenario's calls, as a trace of a breaker named `scenario` with the default
    /// configuration.
    #[must_use]
    pub fn trace(&self) -> Trace {
        let mut random = SplitMix64(self.seed);
        let mut calls = Vec::new();
        let mut start_ms = ORIGIN_MS;
        for phase in &self.phases {
            let length_ms = u64::try_from(phase.length.as_millis()).unwrap_or(u64::MAX);
            let count = length_ms * u64::from(phase.calls_per_second) / 1000;
            for index in 0..count {
                let failed = random.next() % 100 < u64::from(phase.error_percent);
                calls.push(TraceEntry {
                    at_ms: start_ms + index * 1000 / u64::from(phase.calls_per_second),
                    kind: if failed {
                        CallKind::Failure
                    } else {
                        CallKind::Success
                    },
                    duration: phase.latency,
                });
            }
            start_ms += length_ms;
        }
        Trace {
            breaker: "scenario".to_owned(),
            began_at_ms: ORIGIN_MS,
            clock_ms: ORIGIN_MS,
            config: Config::default(),
            calls,
        }
    }
}

/// Vigna's `SplitMix64`: small, fast, and the same numbers everywhere.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
