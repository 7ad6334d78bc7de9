//! Retry that knows the breaker: a [`Retry`] policy (attempts, waits, budget, which errors),
//! the [`Attempts`] of one call under it, and the breaker's retry budget.
//!
//! Retry sits outside the breaker: every attempt is admitted, counted and classified by it, so
//! an outage trips the circuit as fast with retries as without, and the first refusal ends the
//! attempts (no attempt is made into an open circuit). What stops a retry storm while the
//! circuit is still closed is the budget: the retries made within the breaker's rolling window
//! stay at most `retry_budget` percent of the window's first attempts, plus a floor of
//! [`BUDGET_FLOOR`] per window, as Finagle's and tower's retry budgets do.

use std::time::Duration;

use crate::{
    BreakerError, CircuitBreaker, Config, ConfigError, Failure,
    backoff::{backed_off, jittered},
    breaker::every_error,
    limits,
    sync::{AtomicU64, Ordering},
};

/// Retries the budget allows in every window whatever the first attempts: a breaker that is
/// called rarely can still retry.
pub const BUDGET_FLOOR: u64 = 10;

/// How a call is retried: how many attempts after the first, how long to wait before each,
/// how many retries the breaker's budget allows, and which errors are worth another attempt.
///
/// A `Retry` is a plain value (a few numbers and a function pointer), copied into each call;
/// nothing is allocated per call. Make it from a configuration's keys ([`Retry::of`]), from
/// the configuration a breaker runs with ([`Retry::in_force`], which follows overrides), or
/// with [`Retry::new`] and the defaults, and give it to
/// [`CircuitBreaker::call_with_retry`] or
/// `call_async_with_retry` (the `tokio` feature).
///
/// The rules, the same as the `#[circuit_breaker]` attribute's `retry` keys:
///
/// - every attempt goes through the breaker: admitted, counted and classified by it;
/// - a failure, or a timeout (`timeout_ms` bounds each attempt), is retried, if `retry_if`
///   says so of the error (every error unless set);
/// - a refusal (open, half-open with its trials taken, busy) ends the attempts at once, and
///   the refusal is the answer;
/// - the wait before retry *n* is `retry_backoff_ms` doubled *n − 1* times, at most
///   `retry_backoff_max_ms`, each lengthened by a random share of up to `retry_jitter`
///   percent; an async call waits on Tokio's timer, a sync one sleeps its thread;
/// - a retry the budget refuses is not made, and the last error is the answer;
/// - [`Counters::retries`](crate::Counters::retries) counts the retries made and
///   [`Counters::retries_denied`](crate::Counters::retries_denied) those the budget refused.
///
/// ```
/// use std::{cell::Cell, time::Duration};
/// use fusebox::{CircuitBreaker, Config, Retry};
///
/// let config = Config::builder()
///     .retry(2)
///     .retry_backoff(Duration::from_millis(1))
///     .build()?;
/// let breaker = CircuitBreaker::new("flaky-doc", config);
/// let retry = Retry::of(&breaker.config()).expect("the configuration sets `retry`");
///
/// let attempts = Cell::new(0);
/// let answer = breaker.call_with_retry(&retry, || {
///     attempts.set(attempts.get() + 1);
///     if attempts.get() < 3 { Err("connection reset") } else { Ok("served") }
/// });
/// assert_eq!(answer.unwrap(), "served");
/// assert_eq!(breaker.metrics().counters.retries, 2);
/// # Ok::<(), fusebox::ConfigError>(())
/// ```
pub struct Retry<E> {
    attempts: u8,
    jitter: u8,
    budget: u8,
    backoff_ms: u32,
    backoff_max_ms: u32,
    is_retried: fn(&E) -> bool,
}

impl<E> Clone for Retry<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Retry<E> {}

impl<E> std::fmt::Debug for Retry<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retry")
            .field("attempts", &self.attempts)
            .field("backoff_ms", &self.backoff_ms)
            .field("backoff_max_ms", &self.backoff_max_ms)
            .field("jitter", &self.jitter)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

/// The retry policy a configuration's keys make: a `Config`'s, or the live configuration's
/// (whose readers have the same names), `None` without `retry`.
macro_rules! retry_keys {
    ($config:expr) => {
        Some(Retry::from_keys(
            $config.retry()?,
            $config.retry_backoff_ms(),
            $config.retry_backoff_max_ms(),
            $config.retry_jitter(),
            $config.retry_budget(),
        ))
    };
}

impl<E> Retry<E> {
    /// `attempts` after the first (1..=10), with every other key's default: 50 ms before the
    /// first retry, doubled before each next one up to a second, no jitter, a budget of 20 %.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] for a number of attempts outside 1..=10.
    ///
    /// ```
    /// use fusebox::Retry;
    ///
    /// let retry = Retry::<std::io::Error>::new(3)?;
    /// assert_eq!(retry.attempts(), 3);
    /// assert_eq!(
    ///     Retry::<std::io::Error>::new(11).unwrap_err().to_string(),
    ///     "retry must be between 1 and 10, got 11"
    /// );
    /// # Ok::<(), fusebox::ConfigError>(())
    /// ```
    pub fn new(attempts: u64) -> Result<Retry<E>, ConfigError> {
        let config = Config::builder().retry(attempts).build()?;
        Ok(Retry::of(&config).unwrap_or_else(|| unreachable!("retry was set")))
    }

    /// The retry policy `config`'s keys make (`retry`, `retry_backoff_ms`,
    /// `retry_backoff_max_ms`, `retry_jitter`, `retry_budget`), or `None` if it does not set
    /// `retry`. Every error is retried unless [`retry_if`](Self::retry_if) says otherwise.
    #[must_use]
    pub fn of(config: &Config) -> Option<Retry<E>> {
        retry_keys!(config)
    }

    /// The retry policy of the configuration `breaker` runs with now (its code's, or the
    /// overrides' in force), or `None` if it does not set `retry`. Reads five keys, with no
    /// allocation: the `#[circuit_breaker]` attribute reads it at every call, so overrides
    /// change a function's retries from its next call.
    #[must_use]
    pub fn in_force(breaker: &CircuitBreaker) -> Option<Retry<E>> {
        retry_keys!(breaker.config)
    }

    /// From checked keys; a value outside its limit (read while overrides were being put in
    /// force, say) is brought within it.
    #[allow(clippy::cast_possible_truncation)] // each clamped to its limit, which fits
    fn from_keys(
        attempts: u64,
        backoff_ms: u64,
        backoff_max_ms: Option<u64>,
        jitter: Option<u64>,
        budget: u64,
    ) -> Retry<E> {
        let clamp = |value: u64, limit: limits::Limit| value.clamp(limit.min, limit.max);
        let backoff_ms = clamp(backoff_ms, limits::RETRY_BACKOFF_MS);
        let backoff_max_ms = backoff_max_ms
            .unwrap_or(backoff_ms.saturating_mul(20))
            .clamp(backoff_ms, limits::MAX_MS);
        Retry {
            attempts: clamp(attempts, limits::RETRY) as u8,
            jitter: jitter.map_or(0, |percent| clamp(percent, limits::RETRY_JITTER)) as u8,
            budget: clamp(budget, limits::RETRY_BUDGET) as u8,
            backoff_ms: backoff_ms as u32,
            backoff_max_ms: backoff_max_ms as u32,
            is_retried: every_error::<E>,
        }
    }

    /// Retries only the errors `retry_if` returns true for (a timeout is always retried, a
    /// refusal never). An error the breaker does not count as a failure (a `call_with`
    /// predicate's, or the attribute's `failure_if`) is not retried either.
    ///
    /// ```
    /// use std::io::{Error, ErrorKind};
    /// use fusebox::Retry;
    ///
    /// let retry = Retry::new(2)?.retry_if(|error: &Error| error.kind() == ErrorKind::TimedOut);
    /// # let _ = retry;
    /// # Ok::<(), fusebox::ConfigError>(())
    /// ```
    #[must_use]
    pub fn retry_if(mut self, retry_if: fn(&E) -> bool) -> Retry<E> {
        self.is_retried = retry_if;
        self
    }

    /// Attempts after the first.
    #[must_use]
    pub fn attempts(&self) -> u64 {
        u64::from(self.attempts)
    }

    /// The wait before retry `n` (from 1), without jitter: the first wait doubled `n − 1`
    /// times, at most the longest.
    ///
    /// ```
    /// use std::time::Duration;
    /// use fusebox::{Config, Retry};
    ///
    /// let config = Config::builder().retry(5).retry_backoff(Duration::from_millis(100)).build()?;
    /// let retry = Retry::<()>::of(&config).unwrap();
    /// let waits: Vec<u128> = (1..=6).map(|n| retry.wait_before(n).as_millis()).collect();
    /// assert_eq!(waits, [100, 200, 400, 800, 1600, 2000]); // at most 20 × the first
    /// # Ok::<(), fusebox::ConfigError>(())
    /// ```
    #[must_use]
    pub fn wait_before(&self, n: u64) -> Duration {
        Duration::from_millis(self.wait_ms(n))
    }

    /// [`wait_before`](Self::wait_before), in milliseconds.
    fn wait_ms(&self, n: u64) -> u64 {
        let doublings = u32::try_from(n.saturating_sub(1)).unwrap_or(u32::MAX);
        backed_off(
            u64::from(self.backoff_ms),
            Some(u64::from(self.backoff_max_ms)),
            doublings,
        )
    }
}

/// One call's attempts under a [`Retry`]: made when the call starts (which counts its first
/// attempt in the budget), and asked after each attempt whether to make another.
///
/// The building block of [`CircuitBreaker::call_with_retry`], for code that drives its own
/// attempts (the `#[circuit_breaker]` attribute's functions do):
///
/// ```
/// use fusebox::{Attempts, CircuitBreaker, Config, Retry};
///
/// let breaker = CircuitBreaker::new("loop-doc", Config::default());
/// let mut attempts = Attempts::new(&breaker, Retry::new(2)?);
/// let mut made = 0;
/// let answer = loop {
///     made += 1;
///     let result = breaker.call(|| if made < 2 { Err("reset") } else { Ok(made) });
///     match attempts.after(&result, |_| true) {
///         Some(wait) => std::thread::sleep(wait),
///         None => break result,
///     }
/// };
/// assert_eq!(answer.unwrap(), 2);
/// # Ok::<(), fusebox::ConfigError>(())
/// ```
pub struct Attempts<'b, E> {
    breaker: &'b CircuitBreaker,
    retry: Retry<E>,
    /// Retries made so far.
    retries: u8,
}

impl<E> std::fmt::Debug for Attempts<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempts")
            .field("breaker", &self.breaker.name())
            .field("retry", &self.retry)
            .field("retries", &self.retries)
            .finish()
    }
}

impl<'b, E> Attempts<'b, E> {
    /// A call's attempts through `breaker` under `retry`: its first attempt counts in the
    /// breaker's retry budget.
    pub fn new(breaker: &'b CircuitBreaker, retry: Retry<E>) -> Self {
        breaker.first_attempt();
        Attempts {
            breaker,
            retry,
            retries: 0,
        }
    }

    /// A call's attempts through `breaker` under the retry policy its configuration in force
    /// gives ([`Retry::in_force`]); with no `retry` in force (a breaker reconfigured without
    /// it), a single attempt.
    pub fn in_force(breaker: &'b CircuitBreaker) -> Self {
        Attempts::new(
            breaker,
            Retry::in_force(breaker).unwrap_or(Retry {
                attempts: 0,
                jitter: 0,
                budget: 0,
                backoff_ms: 0,
                backoff_max_ms: 0,
                is_retried: every_error::<E>,
            }),
        )
    }

    /// Retries only the errors `retry_if` returns true for, as [`Retry::retry_if`].
    #[must_use]
    pub fn retry_if(mut self, retry_if: fn(&E) -> bool) -> Self {
        self.retry = self.retry.retry_if(retry_if);
        self
    }

    /// After an attempt that ended in `result`: how long to wait before the next attempt, or
    /// `None` if there is none (it succeeded, it was refused, its error is not retried, the
    /// attempts are spent, or the budget refused the retry). `is_failure` says whether the
    /// breaker counted an error as a failure (as `call_with`'s predicate): one it did not is
    /// an answer, not retried.
    pub fn after<T>(
        &mut self,
        result: &Result<T, Failure<E>>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Option<Duration> {
        let retryable = match result {
            Ok(_) => false,
            Err(Failure::Error(error)) => is_failure(error) && (self.retry.is_retried)(error),
            Err(Failure::Breaker(error)) => is_retried(error),
        };
        if !retryable {
            return None;
        }
        let wait = self.breaker.next_retry(&self.retry, self.retries)?;
        self.retries += 1;
        Some(wait)
    }
}

/// Whether an attempt the breaker ended is retried: a timeout is (it is a failure), a refusal
/// (open, busy) never is.
pub(crate) const fn is_retried(error: &BreakerError) -> bool {
    matches!(error, BreakerError::Timeout { .. })
}

impl CircuitBreaker {
    /// Counts a retrying call's first attempt in the retry budget.
    pub(crate) fn first_attempt(&self) {
        self.extras
            .made()
            .retry_budget()
            .first_attempt(self.clock.now_ms(), self.config.window_ms());
    }

    /// Whether a call that made `retries` retries under `retry` and just failed makes another
    /// (attempts and budget left), and after how long; counted in the tallies either way.
    pub(crate) fn next_retry<E>(&self, retry: &Retry<E>, retries: u8) -> Option<Duration> {
        if retries >= retry.attempts {
            return None;
        }
        let parts = self.extras.made();
        let allowed = parts.retry_budget().try_retry(
            self.clock.now_ms(),
            self.config.window_ms(),
            u64::from(retry.budget),
        );
        if !allowed {
            parts.tallies.retry_denied();
            return None;
        }
        parts.tallies.retry();
        let wait = retry.wait_ms(u64::from(retries) + 1);
        Some(Duration::from_millis(match retry.jitter {
            0 => wait,
            percent => jittered(wait, u64::from(percent), crate::backoff::random()),
        }))
    }
}

impl<E> Attempts<'_, E> {
    /// Waits `wait` on Tokio's timer: between an annotated `async fn`'s attempts. Not public
    /// API.
    #[doc(hidden)]
    #[cfg(feature = "tokio")]
    pub async fn pause_async(wait: Duration) {
        tokio::time::sleep(wait).await;
    }
}

impl CircuitBreaker {
    /// Runs `operation` through the breaker, and again after each failure, as `retry` says
    /// (see [`Retry`] for the rules): every attempt is a call of this breaker, a refusal ends
    /// them, the budget bounds them, and the thread sleeps between them. Every `Err` counts as
    /// a failure; `retry`'s [`retry_if`](Retry::retry_if) picks the ones retried.
    ///
    /// # Errors
    /// The last attempt's: [`Failure::Error`] with the operation's error, or
    /// [`Failure::Breaker`] with the refusal (or timeout) that ended the attempts.
    #[inline]
    pub fn call_with_retry<T, E>(
        &self,
        retry: &Retry<E>,
        mut operation: impl FnMut() -> Result<T, E>,
    ) -> Result<T, Failure<E>> {
        let mut attempts = Attempts::new(self, *retry);
        loop {
            let result = self.call(&mut operation);
            match attempts.after(&result, every_error) {
                Some(wait) => std::thread::sleep(wait),
                None => return result,
            }
        }
    }

    /// [`call_with_retry`](Self::call_with_retry) for async operations: `operation` makes
    /// each attempt's future, bounded by `timeout_ms` if set, and the waits are Tokio's
    /// (`tokio::time::sleep`, so a paused test clock skips them).
    ///
    /// # Errors
    /// As [`call_with_retry`](Self::call_with_retry).
    ///
    /// ```
    /// use fusebox::{CircuitBreaker, Config, Retry};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), fusebox::ConfigError> {
    /// let breaker = CircuitBreaker::new("reviews-retry-doc", Config::default());
    /// let mut attempt = 0;
    /// let reviews = breaker
    ///     .call_async_with_retry(&Retry::new(1)?, || {
    ///         attempt += 1;
    ///         let attempt = attempt;
    ///         async move { if attempt == 1 { Err("reset") } else { Ok(vec!["great"]) } }
    ///     })
    ///     .await;
    /// assert_eq!(reviews.unwrap(), ["great"]);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn call_async_with_retry<T, E, F, Fut>(
        &self,
        retry: &Retry<E>,
        mut operation: F,
    ) -> Result<T, Failure<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut attempts = Attempts::new(self, *retry);
        loop {
            let result = self.call_async(operation()).await;
            match attempts.after(&result, every_error) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return result,
            }
        }
    }
}

/// The slots of the budget's rolling window: a tenth of the breaker's window each.
const SLOT_COUNT: usize = 10;
const SLOTS: u64 = SLOT_COUNT as u64;
/// A slot's word: its period (the low 24 bits of `now / slot length`), then the first attempts
/// and the retries counted in it, 20 bits each, saturating.
const COUNT_BITS: u32 = 20;
const COUNT_MAX: u64 = (1 << COUNT_BITS) - 1;
const PERIOD_SHIFT: u32 = 2 * COUNT_BITS;
const PERIOD_MASK: u64 = (1 << (64 - PERIOD_SHIFT)) - 1;

/// A breaker's retry budget: the first attempts and retries of its retrying calls over the
/// breaker's rolling window, in ten slots, each one atomic word (a period and two counts),
/// updated with a compare-and-swap. Made at the breaker's first retrying call.
///
/// Two callers deciding at the same instant may both take the last retry the budget allows:
/// it may be exceeded by the number of callers racing, never by more.
#[derive(Default)]
pub(crate) struct RetryBudget {
    slots: [AtomicU64; SLOT_COUNT],
}

impl RetryBudget {
    /// Counts a first attempt at `now`.
    pub(crate) fn first_attempt(&self, now: u64, window_ms: u64) {
        self.add(now, window_ms, 1 << COUNT_BITS);
    }

    /// Counts a retry at `now` if the window's retries stay within `percent` of its first
    /// attempts plus the floor; whether it did.
    pub(crate) fn try_retry(&self, now: u64, window_ms: u64, percent: u64) -> bool {
        let (firsts, retries) = self.totals(now, window_ms);
        if retries >= firsts * percent / 100 + BUDGET_FLOOR {
            return false;
        }
        self.add(now, window_ms, 1);
        true
    }

    /// The first attempts and retries counted in the window that ends at `now`.
    pub(crate) fn totals(&self, now: u64, window_ms: u64) -> (u64, u64) {
        let period = period_of(now, window_ms);
        self.slots
            .iter()
            .map(|slot| slot.load(Ordering::Relaxed))
            .filter(|word| period.wrapping_sub(word >> PERIOD_SHIFT) & PERIOD_MASK < SLOTS)
            .fold((0, 0), |(firsts, retries), word| {
                (
                    firsts + (word >> COUNT_BITS & COUNT_MAX),
                    retries + (word & COUNT_MAX),
                )
            })
    }

    /// Adds `count` (a first attempt, `1 << COUNT_BITS`, or a retry, 1) to the slot of `now`,
    /// starting it afresh if it holds an older period. A caller that read the clock before
    /// another started the slot for a newer period (a window later) counts nothing: its period
    /// is out of the window, and starting the slot afresh for it would wipe the newer counts.
    fn add(&self, now: u64, window_ms: u64, count: u64) {
        let period = period_of(now, window_ms);
        let slot = &self.slots[usize::try_from(period % SLOTS).unwrap_or(0)];
        let _ = slot.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |word| {
            let held = word >> PERIOD_SHIFT;
            let counts = if held == period {
                word & ((1 << PERIOD_SHIFT) - 1)
            } else if word != 0 && is_newer(held, period) {
                return None;
            } else {
                0
            };
            let (firsts, retries) = (counts >> COUNT_BITS, counts & COUNT_MAX);
            let (firsts, retries) = if count == 1 {
                (firsts, (retries + 1).min(COUNT_MAX))
            } else {
                ((firsts + 1).min(COUNT_MAX), retries)
            };
            Some(period << PERIOD_SHIFT | firsts << COUNT_BITS | retries)
        });
    }
}

/// Whether period `held` comes after `period`, in 24 bits that wrap: less than half the
/// range ahead.
fn is_newer(held: u64, period: u64) -> bool {
    let ahead = held.wrapping_sub(period) & PERIOD_MASK;
    ahead != 0 && ahead < PERIOD_MASK / 2
}

/// The slot period `now` falls in, in 24 bits: periods ten to a window.
fn period_of(now: u64, window_ms: u64) -> u64 {
    (now / (window_ms / SLOTS).max(1)) & PERIOD_MASK
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_a_share_of_first_attempts_plus_a_floor_per_window() {
        let budget = RetryBudget::default();
        let window = 10_000;
        for _ in 0..100 {
            budget.first_attempt(0, window);
        }
        let allowed = (0..100).filter(|_| budget.try_retry(0, window, 20)).count();
        assert_eq!(allowed, 20 + 10);
        // A window later the counts have aged out: only the floor is left.
        let allowed = (0..100)
            .filter(|_| budget.try_retry(window, window, 20))
            .count();
        assert_eq!(allowed, 10);
        // Half a window later the floor's retries are still counted.
        assert!(!budget.try_retry(window + window / 2, window, 20));
    }

    #[test]
    fn a_caller_with_an_older_reading_of_the_clock_keeps_a_newer_period() {
        let budget = RetryBudget::default();
        budget.first_attempt(10_000, 10_000);
        // Read the clock a window ago, counted now: the slot stays the newer period's.
        budget.first_attempt(0, 10_000);
        assert!(budget.try_retry(0, 10_000, 20));
        assert_eq!(budget.totals(10_000, 10_000), (1, 0));
    }

    #[test]
    fn counts_saturate_rather_than_spill_into_the_period() {
        let budget = RetryBudget::default();
        for _ in 0..COUNT_MAX + 5 {
            budget.add(0, 1_000, 1);
        }
        assert_eq!(budget.totals(0, 1_000), (0, COUNT_MAX));
        assert_eq!(budget.totals(5_000, 1_000), (0, 0));
    }

    #[test]
    fn waits_double_up_to_the_longest_and_jitter_only_lengthens() {
        let config = Config::builder()
            .retry(4)
            .retry_backoff(Duration::from_millis(10))
            .retry_backoff_max(Duration::from_millis(35))
            .build()
            .unwrap();
        let retry = Retry::<()>::of(&config).unwrap();
        let waits: Vec<u128> = (1..=4).map(|n| retry.wait_before(n).as_millis()).collect();
        assert_eq!(waits, [10, 20, 35, 35]);
        assert!(Retry::<()>::of(&Config::default()).is_none());
    }
}
