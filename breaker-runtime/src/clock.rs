//! The time source: milliseconds from a monotonic clock, read at most once per call.
//!
//! On Linux the breaker reads `CLOCK_MONOTONIC_COARSE`, which the vDSO serves from the kernel's
//! last timer tick in about 3 ns, against about 21 ns for `Instant::now()` (`CLOCK_MONOTONIC`) on
//! the machines this crate is benchmarked on. Its resolution is the tick (1 to 10 ms, 4 ms on
//! most kernels): fine for rolling-window buckets of 10 ms and more and for sleep windows, which
//! is what a circuit breaker measures. Elsewhere it falls back to `Instant`.
//!
//! With the `test-util` feature, [`TestClock`] replaces the system clock for one breaker, so
//! tests move time forward without sleeping.

/// Milliseconds on the system's monotonic clock.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
#[inline]
pub(crate) fn system_now_ms() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` only writes the `timespec` it is given, which is a valid, owned
    // local. `CLOCK_MONOTONIC_COARSE` exists on every Linux since 2.6.32; should the call fail
    // anyway, it returns non-zero and we fall back to the portable clock.
    let failed = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &raw mut now) } != 0;
    if failed {
        return portable_now_ms();
    }
    // A monotonic clock's fields are never negative, so the casts are exact.
    #[allow(clippy::cast_sign_loss)]
    let (secs, nanos) = (now.tv_sec as u64, now.tv_nsec as u64);
    secs * 1000 + nanos / 1_000_000
}

/// Milliseconds on the system's monotonic clock.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn system_now_ms() -> u64 {
    portable_now_ms()
}

/// Milliseconds since the first reading, from `Instant`. Starts at one day rather than zero so
/// that the arithmetic on "a moment ago" never has to look before the origin.
fn portable_now_ms() -> u64 {
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
/// use breaker_runtime::{CircuitBreaker, Config, State, TestClock};
///
/// let breaker = CircuitBreaker::new("payments", Config::builder()
///     .consecutive_failures(1)
///     .sleep_window_ms(5_000)
///     .build()?);
/// let clock = TestClock::new();
/// breaker.set_clock(&clock);
///
/// let _ = breaker.call(|| Err::<(), _>("down"));
/// assert_eq!(breaker.state(), State::Open);
/// clock.advance(Duration::from_secs(5));
/// assert!(breaker.call(|| Ok::<_, &str>(())).is_ok()); // the trial call closes it
/// assert_eq!(breaker.state(), State::Closed);
/// # Ok::<(), breaker_runtime::ConfigError>(())
/// ```
#[cfg(feature = "test-util")]
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
