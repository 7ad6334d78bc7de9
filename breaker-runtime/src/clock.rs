//! The time source: milliseconds from a monotonic clock, read at most once per call.
//!
//! On Linux and Android the breaker reads `CLOCK_MONOTONIC_COARSE`, which the vDSO serves from
//! the kernel's last timer tick without entering the kernel, several times faster than
//! `Instant::now()` (`CLOCK_MONOTONIC`). It is read through rustix, which calls the vDSO
//! directly and safely, on glibc, musl and static binaries alike. Its resolution is the tick
//! (1 to 10 ms, 4 ms on most kernels), which is why a rolling window's buckets are at least
//! [`MIN_BUCKET_MS`](crate::limits::MIN_BUCKET_MS) wide; sleep windows are longer still.
//! Elsewhere the clock is `Instant`.
//!
//! With the `test-util` feature, [`TestClock`] replaces the system clock for one breaker, so
//! tests move time forward without sleeping.

/// A breaker's clock: the system's, unless a test gave it a [`TestClock`].
#[derive(Debug, Default)]
pub(crate) struct Clock {
    #[cfg(feature = "test-util")]
    test: once_cell::race::OnceBox<TestClock>,
}

impl Clock {
    /// The one clock reading a call makes.
    #[inline]
    #[cfg_attr(not(feature = "test-util"), allow(clippy::unused_self))]
    pub(crate) fn now_ms(&self) -> u64 {
        #[cfg(feature = "test-util")]
        if let Some(clock) = self.test.get() {
            return test_clock_now(clock);
        }
        system_now_ms()
    }

    /// Microseconds on the fine monotonic clock (`Instant`'s), for timing calls; a test
    /// clock's milliseconds in microseconds.
    #[cfg_attr(not(feature = "test-util"), allow(clippy::unused_self))]
    pub(crate) fn now_us(&self) -> u64 {
        static ORIGIN: std::sync::LazyLock<std::time::Instant> =
            std::sync::LazyLock::new(std::time::Instant::now);
        #[cfg(feature = "test-util")]
        if let Some(clock) = self.test.get() {
            return test_clock_now(clock) * 1000;
        }
        // Seconds and microseconds apart: `as_micros` divides a 128-bit number, which costs
        // more than reading the clock.
        let elapsed = ORIGIN.elapsed();
        elapsed.as_secs() * 1_000_000 + u64::from(elapsed.subsec_micros())
    }

    /// A clock reading what this one reads: the same test clock, if it has one.
    #[cfg_attr(not(feature = "test-util"), allow(clippy::unused_self))]
    pub(crate) fn shared(&self) -> Clock {
        let clock = Clock::default();
        #[cfg(feature = "test-util")]
        if let Some(test) = self.test.get() {
            clock.set(test);
        }
        clock
    }

    /// The test clock this clock reads, if one was set.
    #[cfg(feature = "test-util")]
    pub(crate) fn test_clock(&self) -> Option<&TestClock> {
        self.test.get()
    }

    /// Reads `clock` from now on; `false` (and nothing changes) if a test clock was set before.
    #[cfg(feature = "test-util")]
    pub(crate) fn set(&self, clock: &TestClock) -> bool {
        self.test.set(Box::new(clock.clone())).is_ok()
    }
}

/// Kept out of line, so that a build with `test-util` keeps the system clock's path as short as
/// a build without it.
#[cfg(feature = "test-util")]
#[cold]
#[inline(never)]
fn test_clock_now(clock: &TestClock) -> u64 {
    clock.now_ms()
}

/// Milliseconds on the system's coarse monotonic clock.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
pub(crate) fn system_now_ms() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    // A monotonic clock's fields are never negative.
    let (secs, nanos) = (
        u64::try_from(now.tv_sec).unwrap_or(0),
        u64::try_from(now.tv_nsec).unwrap_or(0),
    );
    secs * 1000 + nanos / 1_000_000
}

/// Milliseconds since the first reading, from `Instant`. Starts at one day rather than zero so
/// that the arithmetic on "a moment ago" never has to look before the origin.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn system_now_ms() -> u64 {
    static ORIGIN: std::sync::LazyLock<std::time::Instant> =
        std::sync::LazyLock::new(std::time::Instant::now);
    let elapsed = u64::try_from(ORIGIN.elapsed().as_millis()).unwrap_or(u64::MAX / 2);
    86_400_000 + elapsed
}

/// A clock that only moves when told to: give it to a breaker with
/// [`CircuitBreaker::set_clock`](crate::CircuitBreaker::set_clock) and drive the sleep window
/// and the rolling window from the test.
///
/// Clones share one time. A new clock starts at the system clock's current reading, so it can
/// replace the system clock of a breaker that has already run.
///
/// ```
/// use std::time::Duration;
/// use fusebox::{CircuitBreaker, Config, State, TestClock};
///
/// let breaker = CircuitBreaker::new("payments", Config::builder()
///     .consecutive_failures(1)
///     .sleep_window(Duration::from_millis(5_000))
///     .build()?);
/// let clock = TestClock::new();
/// breaker.set_clock(&clock);
///
/// let _ = breaker.call(|| Err::<(), _>("down"));
/// assert_eq!(breaker.state(), State::Open);
/// clock.advance(Duration::from_secs(5));
/// assert!(breaker.call(|| Ok::<_, &str>(())).is_ok()); // the trial call closes it
/// assert_eq!(breaker.state(), State::Closed);
/// # Ok::<(), fusebox::ConfigError>(())
/// ```
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
#[derive(Clone, Debug)]
pub struct TestClock {
    now_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

#[cfg(feature = "test-util")]
impl TestClock {
    /// A clock standing at the system clock's current time.
    #[must_use]
    pub fn new() -> Self {
        Self {
            now_ms: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(system_now_ms())),
        }
    }

    /// A clock standing at `now_ms`: a replay's, on the recorded breaker's time.
    #[cfg(feature = "simulate")]
    pub(crate) fn starting_at(now_ms: u64) -> Self {
        Self {
            now_ms: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(now_ms)),
        }
    }

    /// Moves the clock forward to `now_ms`, if it is behind it.
    #[cfg(feature = "simulate")]
    pub(crate) fn advance_to(&self, now_ms: u64) {
        self.now_ms
            .fetch_max(now_ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// Moves the clock forward (at millisecond resolution; sub-millisecond parts are dropped).
    pub fn advance(&self, by: std::time::Duration) {
        let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX / 4);
        self.now_ms
            .fetch_add(millis, std::sync::atomic::Ordering::SeqCst);
    }

    /// The clock's reading in milliseconds.
    #[must_use]
    pub fn now_ms(&self) -> u64 {
        self.now_ms.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(feature = "test-util")]
impl Default for TestClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The coarse clock trails the fine one by less than a tick (at most 10 ms): the reading is
    /// the same clock's milliseconds, converted right.
    #[test]
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn reads_the_monotonic_clock_in_milliseconds() {
        use rustix::time::{ClockId, clock_gettime};
        let fine_ms = || {
            let fine = clock_gettime(ClockId::Monotonic);
            u64::try_from(fine.tv_sec).unwrap() * 1000
                + u64::try_from(fine.tv_nsec).unwrap() / 1_000_000
        };
        let before = fine_ms();
        let coarse = system_now_ms();
        let after = fine_ms();
        // Never ahead of the fine clock read after it, never more than a tick behind the one
        // read before it (a preemption in between only widens the first bound).
        assert!(coarse <= after, "{coarse} ms coarse, {after} ms fine after");
        assert!(
            coarse + 20 >= before,
            "{coarse} ms coarse, {before} ms fine before"
        );
    }
}
