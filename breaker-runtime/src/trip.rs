//! The trip rules: how a finished call's outcome is recorded, and judged.
//!
//! A success while closed is counted in the window and, only while the window holds enough
//! failures (or slow calls) to trip on, checked against the rates. A failure is counted, then
//! the rules applied: the error rate over the window with its volume threshold (Hystrix's
//! rule), the slow-call rate with the same volume threshold when `slow_call_ms` is set
//! (Resilience4j's rule), and failures in a row (pybreaker's `fail_max`). A check of the rates
//! first reads the window's [`Bounds`] (a few loads, whatever the number of buckets): when they
//! rule a trip out, as they do for a dependency failing under the threshold, it stops there;
//! otherwise it sums the buckets and decides on the exact counts. A slow call, success or
//! failure, is counted and judged as a failure is. A trial's outcome decides the half-open
//! period: a failed or slow trial re-opens it. Outcomes from an earlier period are ignored.

use crate::{
    CircuitBreaker, Config, State,
    outcome::{Outcome, Ticket},
    state::Snapshot,
    sync::{COUNTED, Ordering, counted_before_reading},
    tripwires::FIRST_CALL,
    window::{Bounds, Totals},
};

impl CircuitBreaker {
    /// Counts a finished call's outcome and makes the transition it calls for, if any.
    #[inline]
    pub(crate) fn record(&self, ticket: Ticket, outcome: Outcome) {
        let now = self.clock.now_ms();
        let word = self.state.load();
        if word.generation() != ticket.generation() {
            // Admitted in an earlier period: it has no say in this one.
            self.outcome_of_an_earlier_period(ticket, outcome, now);
            return;
        }
        // Only a call whose start was kept (slow calls are counted, or latency) can be slow.
        let slow = ticket
            .elapsed_ms(now)
            .is_some_and(|elapsed| self.timed(ticket, elapsed, outcome));
        // The path nearly every call takes, kept small enough to inline into the caller. A
        // call that listeners hear of goes the rare way, which reports it.
        if outcome == Outcome::Success && !ticket.is_trial_or_listened() && !slow {
            self.window.record(now, outcome);
            if word.state() == State::Closed {
                self.closed_success(word, now);
            }
            return; // forced closed: counted, never trips
        }
        self.record_rare(ticket, outcome, slow, word, now);
    }

    /// A call admitted in a period that has ended since: counted nowhere, but timed and
    /// heard of as any call.
    #[cold]
    #[inline(never)]
    fn outcome_of_an_earlier_period(&self, ticket: Ticket, outcome: Outcome, now: u64) {
        if let Some(elapsed) = ticket.elapsed_ms(now) {
            self.timed(ticket, elapsed, outcome);
        }
        if ticket.is_listened() {
            self.ran(ticket, outcome);
        }
    }

    /// A timed call's end: its latency counted (`record_latency`: its start is on the fine
    /// clock, and `elapsed_ms` means nothing), and whether it was slow: longer than
    /// `slow_call_ms`.
    #[cold]
    fn timed(&self, ticket: Ticket, elapsed_ms: u64, outcome: Outcome) -> bool {
        let elapsed_ms = if ticket.is_fine() {
            let micros = ticket.elapsed_us(self.clock.now_us());
            self.extras.made().latency().record(outcome, micros);
            micros / 1000
        } else {
            elapsed_ms
        };
        self.is_slow(elapsed_ms)
    }

    /// Whether a call that ran `elapsed_ms` is slow: longer than `slow_call_ms`.
    pub(crate) fn is_slow(&self, elapsed_ms: u64) -> bool {
        self.config
            .slow_call_ms()
            .is_some_and(|limit| elapsed_ms > limit)
    }

    /// Failures, timeouts, slow calls and trial outcomes, and the calls listeners hear of.
    #[inline(never)]
    fn record_rare(&self, ticket: Ticket, outcome: Outcome, slow: bool, word: Snapshot, now: u64) {
        if outcome == Outcome::Success && !slow && !ticket.is_trial() {
            // The common path's success, for a call that listeners hear of.
            self.window.record(now, outcome);
            if word.state() == State::Closed {
                self.closed_success(word, now);
            }
            self.ran(ticket, outcome);
            return;
        }
        self.first_call(now);
        let bucket_start = if slow {
            self.window.record_slow(now, outcome)
        } else {
            self.window.record(now, outcome)
        };
        // A failure or a slow call is followed by a look at the window, whatever the state: the
        // rates decide a trip in Closed, and what was counted while forced closed or half-open
        // is still in the window after `release`.
        let rates = (outcome.is_failure() || slow).then(|| self.note_failure(bucket_start, now));
        if ticket.is_trial() {
            let moved = self.state.transition_after_trial(
                word,
                outcome.is_failure() || slow,
                self.config.half_open_max_calls(),
                now,
                |streak| self.sleep_window_ms(streak),
                || self.empty_window(),
            );
            self.report(moved);
        } else if word.state() == State::Closed
            && let Some(rates) = rates
        {
            if outcome.is_failure() {
                self.closed_failure(word, rates.as_ref(), now);
            } else {
                // A slow success: a success for the failures in a row, slow for the rates.
                self.tripwires.restart();
                if let Some(totals) = rates {
                    self.trip_on_rates(word, &totals, now);
                }
            }
        }
        // Forced closed: counted above, never trips.
        if ticket.is_listened() {
            self.ran(ticket, outcome);
        }
    }

    /// After a failure counted into the bucket at `bucket_start`: if the window now holds
    /// enough failures that successes alone could trip it (failures × 100 ≥ threshold ×
    /// volume), successes must check the rate until this failure ages out. A success can only
    /// trip the breaker when that holds, and the failures in the window at any later moment
    /// are a subset of those counted here, so below it successes need not look.
    ///
    /// Returns the window to judge this failure on, `None` when the rates cannot trip the
    /// breaker: read after the expiry moved, so that a success counted at the same moment,
    /// which read the expiry before it moved and so did not check the rate, is in it (see
    /// [`COUNTED`]). Either that success saw the expiry and checked the rate itself, or this
    /// reading sees its count.
    fn note_failure(&self, bucket_start: u64, now: u64) -> Option<Totals> {
        // The held counts are at least the window's: below the bar by them, below it surely.
        let (failures, slow) = if let Some(bounds) = self.window.bounds() {
            (bounds.failures_at_most, bounds.slow_at_most)
        } else {
            let totals = self.window.totals(now);
            (totals.failures, totals.slow)
        };
        if !self.enough_failures_to_trip(failures, slow) {
            return None; // too few failures to trip, whatever the successes
        }
        self.check_rate_until(self.window.expiry_of(bucket_start));
        counted_before_reading();
        self.rates_to_judge(now)
    }

    /// Whether `failures` (or `slow` calls) are enough that successes alone could trip the
    /// breaker: failures × 100 ≥ threshold × volume, or slow calls × 100 ≥ slow-call
    /// threshold × volume.
    fn enough_failures_to_trip(&self, failures: u64, slow: u64) -> bool {
        let volume = self.config.request_volume_threshold();
        failures * 100 >= self.config.error_threshold() * volume
            || (slow > 0
                && self.config.slow_call_ms().is_some()
                && slow * 100 >= self.config.slow_call_threshold() * volume)
    }

    /// The window's counts to judge the rates on at `now`, or `None` when its bounds prove
    /// that the rates cannot trip the breaker: then no bucket is read.
    fn rates_to_judge(&self, now: u64) -> Option<Totals> {
        if let Some(bounds) = self.window.bounds()
            && !self.rates_may_trip(&bounds)
        {
            return None;
        }
        Some(self.window.totals(now))
    }

    /// Whether a window within `bounds` may be one the rates trip on; `false` proves it is
    /// not. A trip on errors needs failures × 100 ≥ threshold × calls, where the calls (the
    /// failures and the successes) are at least the volume: that is failures × (100 −
    /// threshold) ≥ threshold × successes, and failures × 100 ≥ threshold × volume. More
    /// failures and fewer successes only bring a trip closer, so the most failures and fewest
    /// successes the window may hold decide whether one is possible. Slow calls likewise, with
    /// the calls at least the successes.
    fn rates_may_trip(&self, bounds: &Bounds) -> bool {
        let volume = self.config.request_volume_threshold();
        let threshold = self.config.error_threshold();
        let failures = bounds.failures_at_most;
        let errors = failures * 100 >= threshold * volume
            && failures * (100 - threshold) >= threshold * bounds.successes_at_least;
        let slow = bounds.slow_at_most;
        let slow_threshold = self.config.slow_call_threshold();
        let too_slow = slow > 0
            && self.config.slow_call_ms().is_some()
            && slow * 100 >= slow_threshold * volume.max(bounds.successes_at_least);
        errors || too_slow
    }

    /// Makes successes check the error rate until `expiry`.
    fn check_rate_until(&self, expiry: u64) {
        let failure_expiry = &self.tripwires.failure_expiry;
        // Only write the shared line when the value moves; successes read it on every call.
        if failure_expiry.load(COUNTED) < expiry {
            failure_expiry.fetch_max(expiry, COUNTED);
        }
    }

    /// After the configuration changed from `before` to the one in force: a new
    /// `consecutive_failures` counts failures in a row afresh, and if the failures already in
    /// the window are now enough to trip on, successes check the rate until the newest of
    /// them can have aged out (otherwise lowered thresholds would wait for the next failure).
    pub(crate) fn config_changed(&self, before: &Config, now: u64) {
        if before.consecutive_failures() != self.config.consecutive_failures() {
            self.tripwires.restart();
        }
        // An open circuit sleeps by the new rules from now on, counted from when it opened.
        let after = self.config.load();
        if (
            before.sleep_window_ms(),
            before.sleep_window_max_ms(),
            before.sleep_window_jitter(),
        ) != (
            after.sleep_window_ms(),
            after.sleep_window_max_ms(),
            after.sleep_window_jitter(),
        ) {
            self.state
                .transition_to_new_sleep(now, |streak| self.sleep_window_ms(streak));
        }
        let totals = self.window.totals(now);
        if self.enough_failures_to_trip(totals.failures, totals.slow) {
            self.check_rate_until(self.window.expiry_of(now));
        }
    }

    /// A failure while closed, with the window to judge the rates on (`None`: they cannot
    /// trip).
    fn closed_failure(&self, word: Snapshot, rates: Option<&Totals>, now: u64) {
        if let Some(limit) = self.config.consecutive_failures()
            && self.tripwires.consecutive.fetch_add(1, Ordering::Relaxed) + 1 >= limit
        {
            self.trip(word, now);
            return;
        }
        if let Some(totals) = rates {
            self.trip_on_rates(word, totals, now);
        }
    }

    #[inline]
    fn closed_success(&self, word: Snapshot, now: u64) {
        if self.config.consecutive_failures().is_some()
            && self.tripwires.consecutive.load(Ordering::Relaxed) != 0
        {
            self.tripwires.restart();
        }
        // The error rate is only worth computing when the window holds enough failures to trip
        // on: a success then may bring it up to the volume threshold, or old successes may have
        // aged out under it. Otherwise it cannot trip.
        if now < self.tripwires.failure_expiry.load(COUNTED) {
            self.check_error_rate(word, now);
        }
    }

    #[cold]
    #[inline(never)]
    fn check_error_rate(&self, word: Snapshot, now: u64) {
        self.first_call(now);
        if let Some(totals) = self.rates_to_judge(now) {
            self.trip_on_rates(word, &totals, now);
        }
    }

    /// Hystrix's rule: at least `request_volume_threshold` calls in the window, and at least
    /// `error_threshold` percent of them failed; and Resilience4j's: as many calls, and at
    /// least `slow_call_threshold` percent of them slow.
    fn trip_on_rates(&self, word: Snapshot, totals: &Totals, now: u64) {
        let calls = totals.calls();
        if calls < self.config.request_volume_threshold() {
            return;
        }
        let too_slow = totals.slow > 0
            && self.config.slow_call_ms().is_some()
            && totals.slow * 100 >= self.config.slow_call_threshold() * calls;
        if too_slow || totals.failures * 100 >= self.config.error_threshold() * calls {
            self.trip(word, now);
        }
    }

    /// Closed → Open, if the breaker is still in the period `word` describes: the first
    /// opening since the circuit closed, for the first sleep window.
    fn trip(&self, word: Snapshot, now: u64) {
        let moved = self
            .state
            .transition_to_open(word, now, self.sleep_window_ms(0));
        self.report(moved);
    }

    /// What a breaker says once, at its first call: with `fleet = true` in a process that runs
    /// no fleet, that it decides alone (a `tracing` warning). Then its failure expiry is an
    /// expiry again.
    fn first_call(&self, now: u64) {
        let expiry = &self.tripwires.failure_expiry;
        if expiry.load(Ordering::Relaxed) != FIRST_CALL
            || expiry
                .compare_exchange(FIRST_CALL, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        #[cfg(feature = "tracing")]
        if self.fleet_view(now, 0).is_some_and(|view| !view.started) {
            tracing::warn!(
                breaker = %self.name(),
                "fleet = true, but this process runs no fleet (fusebox::fleet::start was not \
                 called{}): the breaker decides alone",
                if cfg!(feature = "redis") { "" } else { ", and the `redis` feature is off" }
            );
        }
        let _ = now;
    }

    /// Empties the window and the tripwires: a new closed period starts from nothing.
    pub(crate) fn empty_window(&self) {
        self.window.clear();
        self.tripwires.restart();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::Duration;

    use crate::{CircuitBreaker, Config, State, TestClock, window::tests::WALKS};

    /// Walks over the window's buckets that `calls` makes on this thread.
    fn walks(calls: impl FnOnce()) -> u64 {
        let before = WALKS.with(std::cell::Cell::get);
        calls();
        WALKS.with(std::cell::Cell::get) - before
    }

    /// A breaker whose dependency fails 45 % of calls, under its 50 % threshold, called every
    /// 3 ms for `calls` calls.
    fn degraded(clock: &TestClock, breaker: &CircuitBreaker, calls: u64) {
        for i in 0..calls {
            let fails = i % 20 < 18 && i.is_multiple_of(2); // 9 in 20
            let _ = breaker.call(|| if fails { Err(()) } else { Ok(()) });
            clock.advance(Duration::from_millis(3));
        }
    }

    #[test]
    fn a_breaker_failing_under_its_threshold_reads_no_bucket_whatever_their_number() {
        for buckets in [10, 1_000] {
            let breaker = CircuitBreaker::new(
                format!("outcome-unit-degraded-{buckets}"),
                Config::builder()
                    .window(Duration::from_secs(10))
                    .window_buckets(buckets)
                    .build()
                    .unwrap(),
            );
            let clock = TestClock::new();
            assert!(breaker.set_clock(&clock));
            // The window fills past the volume threshold, then the calls go on for more than
            // a turn of the window: every failure, and every success while enough failures
            // are in the window to trip on, looks at the rates.
            degraded(&clock, &breaker, 100);
            let walked = walks(|| degraded(&clock, &breaker, 5_000));
            assert_eq!(breaker.state(), State::Closed, "45 % is under 50 %");
            assert_eq!(
                walked, 0,
                "{buckets} buckets: the bounds ruled every trip out"
            );
        }
    }

    #[test]
    fn a_trip_the_bounds_cannot_rule_out_is_judged_on_the_buckets() {
        let breaker = CircuitBreaker::new(
            "outcome-unit-tripping",
            Config::builder()
                .window(Duration::from_secs(10))
                .window_buckets(1_000)
                .request_volume_threshold(20)
                .build()
                .unwrap(),
        );
        let clock = TestClock::new();
        assert!(breaker.set_clock(&clock));
        for _ in 0..11 {
            let _ = breaker.call(|| Ok::<_, ()>(()));
            clock.advance(Duration::from_millis(15));
        }
        // Nine failures: under the volume, nothing to judge. The tenth makes 10 of 21.
        let walked = walks(|| {
            for _ in 0..9 {
                let _ = breaker.call(|| Err::<(), _>(()));
            }
        });
        assert_eq!((walked, breaker.state()), (0, State::Closed));
        let _ = breaker.call(|| Err::<(), _>(()));
        assert_eq!(breaker.state(), State::Closed, "10 of 21 is under 50 %");
        let _ = breaker.call(|| Err::<(), _>(()));
        assert_eq!(breaker.state(), State::Open, "11 of 22 is 50 %");
    }
}
