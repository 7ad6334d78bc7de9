//! The policies a breaker decides by: `threshold`, the rules its keys set, and `adaptive`,
//! which needs none of them.

use std::{fmt, str::FromStr};

/// How a breaker decides to refuse calls: the `policy` key.
///
/// - **`Threshold`** (the default): the breaker trips on the rules its keys set
///   (`error_threshold` over `request_volume_threshold` calls in a `window_ms` window, and the
///   others), sleeps `sleep_window_ms`, and half-opens, as Hystrix does.
/// - **`Adaptive`**: no threshold, volume or sleep window to choose. It trips when more than 60 %
///   of the calls in the last second failed (five calls at least), probes with one trial after
///   100 ms, and doubles that wait with each failed trial up to a second; a trial that succeeds
///   closes it. It ignores `error_threshold`, `request_volume_threshold`, `window_ms`,
///   `window_buckets`, `sleep_window_ms`, `sleep_window_max_ms` and `half_open_max_calls`, and
///   sets them to those values, which is what [`Config`](crate::Config)'s getters and the
///   dashboard show; the other keys (`consecutive_failures`, slow calls, the bulkhead, timeouts,
///   retries) apply as they do to the threshold policy.
///
///   It judges on at least five calls in its one-second window: a breaker called less than five
///   times a second never trips on it (`consecutive_failures` still applies, and is the key to
///   add for a rarely called dependency).
///
/// Why this controller: `cargo bench -p benchmarks --bench behaviour --features test-clock`
/// runs a backend through outages, spikes, oscillation, a gradual rise and healthy noise at 100
/// calls a second, and counts failed calls let through plus good calls refused. Refusing a call is worth it only
/// while more than half the calls fail (a refused good call costs as much as a failed one let
/// through), so controllers that shed a share growing with the error rate (Semian's
/// proportional controller, SRE's client-side throttling) lose where fewer than half fail, or
/// react slowly; shedding everything but a trial while a majority fail, judged over one
/// second, lets through 0.72 × what Hystrix's defaults let through over every scenario (an
/// oracle that knows each phase's error rate: 0.60 ×), acts on a total outage in 0.6 s
/// (Hystrix's defaults: 4.9 s), is never worse than no breaker, and refuses nothing in
/// healthy noise at 5 %. Its call path is the threshold policy's: the same state machine
/// with other values.
///
/// ```
/// use fusebox::{CircuitBreaker, Config, Policy};
///
/// let config = Config::builder().policy(Policy::Adaptive).build()?;
/// assert_eq!(config.error_threshold(), 61);
/// assert_eq!(config.window(), std::time::Duration::from_secs(1));
/// assert_eq!("adaptive".parse::<Policy>(), Ok(Policy::Adaptive));
/// # Ok::<(), fusebox::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
#[repr(u8)]
pub enum Policy {
    /// Trip on the keys' thresholds, as Hystrix.
    #[default]
    Threshold = 0,
    /// Trip within a second on a majority of failures, probe back with trials that back off.
    Adaptive = 1,
}

impl Policy {
    /// Every policy, by its number.
    pub const ALL: [Policy; 2] = [Policy::Threshold, Policy::Adaptive];

    /// Every policy's name, by its number: what the `policy` key takes.
    pub const NAMES: [&'static str; Policy::ALL.len()] = {
        let mut names = [""; Policy::ALL.len()];
        let mut i = 0;
        while i < names.len() {
            names[i] = Policy::ALL[i].as_str();
            i += 1;
        }
        names
    };

    /// Its name, as the `policy` key takes it: `threshold`, `adaptive`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Policy::Threshold => "threshold",
            Policy::Adaptive => "adaptive",
        }
    }

    /// The policy numbered `number` (the key's stored value); the threshold policy for a
    /// number that names none.
    #[must_use]
    pub(crate) const fn from_number(number: u64) -> Policy {
        match number {
            1 => Policy::Adaptive,
            _ => Policy::Threshold,
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no policy's; it says which names are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPolicy(String);

impl fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = Policy::NAMES
            .iter()
            .map(|name| format!("\"{name}\""))
            .collect();
        write!(
            f,
            "`{}` is no policy: policy is {}",
            self.0,
            names.join(" or ")
        )
    }
}

impl std::error::Error for UnknownPolicy {}

impl FromStr for Policy {
    type Err = UnknownPolicy;

    fn from_str(name: &str) -> Result<Policy, UnknownPolicy> {
        Policy::ALL
            .into_iter()
            .find(|policy| policy.as_str() == name.trim())
            .ok_or_else(|| UnknownPolicy(name.to_owned()))
    }
}
