//! The time source: milliseconds from a monotonic clock, read at most once per call.
//!
//! On Linux the breaker reads `CLOCK_MONOTONIC_COARSE`, which the vDSO serves from the kernel's
//! last timer tick in about 5 ns, against 33 to 43 ns for `Instant::now()` (`CLOCK_MONOTONIC`)
//! on the machine this crate is benchmarked on (a loop of readings, one run). Its resolution is
//! the tick (1 to 10 ms, 4 ms on most kernels): fine for rolling-window buckets of 10 ms and
//! more and for sleep windows, which is what a circuit breaker measures. Elsewhere it falls
//! back to `Instant`.
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
    // SAFETY: `READ` is `clock_gettime` or the vDSO's own entry point behind it, which take the
    // same arguments; either only writes the `timespec` it is given, a valid, owned local.
    // `CLOCK_MONOTONIC_COARSE` exists on every Linux since 2.6.32; should the call fail anyway,
    // it returns non-zero and we fall back to the portable clock.
    let failed = unsafe { (*vdso::READ)(libc::CLOCK_MONOTONIC_COARSE, &raw mut now) } != 0;
    if failed {
        return portable_now_ms();
    }
    millis(&now)
}

/// A monotonic clock's reading in milliseconds.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
fn millis(reading: &libc::timespec) -> u64 {
    // A monotonic clock's fields are never negative, so the casts are exact.
    #[allow(clippy::cast_sign_loss)]
    let (secs, nanos) = (reading.tv_sec as u64, reading.tv_nsec as u64);
    secs * 1000 + nanos / 1_000_000
}

/// The vDSO's `clock_gettime`, called directly.
///
/// libc's `clock_gettime` is a wrapper that looks the vDSO's entry point up and calls it; going
/// straight to the entry point saves that hop, about 1.5 ns of the 6 to 9 ns a coarse reading
/// costs through libc on the machine this crate is benchmarked on, on every call. The entry
/// point is looked up once, through glibc's dynamic loader, by the name the kernel documents in
/// vdso(7); where it cannot be found, libc's own function is used.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
mod vdso {
    use std::sync::LazyLock;

    pub(super) type ClockGettime =
        unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int;

    pub(super) static READ: LazyLock<ClockGettime> =
        LazyLock::new(|| entry_point().unwrap_or(libc::clock_gettime));

    /// Where the vDSO is in glibc's link map under its kernel name, and the binary is dynamic
    /// (a static binary has no link map to look it up in).
    #[cfg(all(
        target_os = "linux",
        target_env = "gnu",
        not(target_feature = "crt-static"),
        any(target_arch = "x86_64", target_arch = "aarch64"),
    ))]
    pub(super) fn entry_point() -> Option<ClockGettime> {
        #[cfg(target_arch = "x86_64")]
        const SYMBOL: &std::ffi::CStr = c"__vdso_clock_gettime";
        #[cfg(target_arch = "aarch64")]
        const SYMBOL: &std::ffi::CStr = c"__kernel_clock_gettime";

        // SAFETY: `dlopen` with `RTLD_NOLOAD` loads nothing: it returns the vDSO's handle if the
        // dynamic loader has it in its link map under the name the kernel gives it, or null.
        let vdso = unsafe {
            libc::dlopen(
                c"linux-vdso.so.1".as_ptr(),
                libc::RTLD_LAZY | libc::RTLD_NOLOAD,
            )
        };
        if vdso.is_null() {
            return None;
        }
        // SAFETY: a valid handle and a NUL-terminated name; the vDSO stays mapped for the
        // process's life, so the handle need not be closed.
        let address = unsafe { libc::dlsym(vdso, SYMBOL.as_ptr()) };
        if address.is_null() {
            return None;
        }
        // SAFETY: the kernel's vDSO exports this symbol as a function with `clock_gettime`'s
        // C signature (vdso(7)), and it stays mapped for the process's life.
        Some(unsafe { std::mem::transmute::<*mut libc::c_void, ClockGettime>(address) })
    }

    /// Elsewhere (musl, Android, static binaries, other architectures) libc's function it is.
    #[cfg(not(all(
        target_os = "linux",
        target_env = "gnu",
        not(target_feature = "crt-static"),
        any(target_arch = "x86_64", target_arch = "aarch64"),
    )))]
    pub(super) fn entry_point() -> Option<ClockGettime> {
        None
    }
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

#[cfg(all(test, not(loom), any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;

    /// The direct vDSO call is what makes a reading cheap; where glibc has the vDSO in its link
    /// map it must be found, or the fast path would silently fall back to the wrapper.
    #[test]
    #[cfg(all(
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    fn the_vdso_entry_point_is_found() {
        assert!(vdso::entry_point().is_some());
    }

    #[test]
    #[allow(unsafe_code)]
    fn reads_the_same_clock_as_libc() {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: writes only the given, owned `timespec`.
        let failed = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &raw mut now) };
        assert_eq!(failed, 0);
        let libc_ms = millis(&now);
        let ours = system_now_ms();
        // Read a moment apart on the same clock: a tick or two apart at most, never backwards.
        assert!(ours >= libc_ms, "{ours} < {libc_ms}");
        assert!(ours - libc_ms < 1_000, "{ours} vs {libc_ms}");
    }
}
