//! Stress: many OS threads on one breaker, through the public API only, asserting the
//! invariants of the state machine and the outcome rules (documented on `CircuitBreaker`)
//! under real contention:
//!
//! - while open (clock frozen), no call body runs at all;
//! - half-open admits at most `half_open_max_calls` trials, however many threads arrive at once,
//!   and keeps rejecting until they finish;
//! - it always leaves half-open once its trials finish: closed if they all succeeded, open if
//!   one failed or panicked;
//! - with `max_concurrent`, running bodies never exceed it;
//! - a panicking body counts as a failure, keeps unwinding, and gives its bulkhead slot back.
//!
//! Breaker time comes from a `TestClock` that only the test moves, so every phase is exact and
//! the outcome does not depend on the scheduler; threads only spin (yielding) to line up, with
//! a generous deadline so that a bug fails the test instead of hanging it. The `loom` model
//! checks in `src/loom_tests.rs` cover the same atomics exhaustively on small cases; this is
//! their counterpart at full size on real threads.
//!
//! Run: `cargo test -p breaker-runtime --test stress` (a few seconds; faster with `--release`).

use std::{
    panic::{self, AssertUnwindSafe},
    sync::{
        Arc, Barrier, Mutex, Once,
        atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
    },
    thread,
    time::{Duration, Instant},
};

use breaker_runtime::{BreakerError, CircuitBreaker, Config, Failure, State, TestClock};

/// More threads than the machine has cores, so that calls are preempted in the middle.
const THREADS: usize = 8;
const SLEEP_WINDOW_MS: u64 = 1_000;

/// Waits, yielding, until `done()`. Wall-clock time only bounds the wait: a breaker bug that
/// keeps a thread blocked fails the test with `what` instead of hanging CI.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::yield_now();
    }
}

/// Sets its flag when dropped, so that calls blocked on the flag finish even when the test
/// fails (unwinds) before releasing them, and the failure is reported at once.
struct ReleaseOnDrop<'a>(&'a AtomicBool);

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// The payload of the panics the test provokes.
struct ProvokedPanic;

/// Keeps provoked panics from printing a message each (there are hundreds); every other
/// panic, a failed assertion included, still goes to the default hook.
fn quiet_provoked_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<ProvokedPanic>() {
                previous(info);
            }
        }));
    });
}

fn is_rejected_as(result: &Result<(), Failure<&str>>, expected: State) -> bool {
    matches!(result, Err(Failure::Breaker(BreakerError::Open { state, .. })) if *state == expected)
}

/// How a round's trials end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    AllSucceed,
    OneFails,
    OnePanics,
}

/// Shared by one round's trial calls.
#[derive(Default)]
struct Trials {
    /// Bodies that started: the breaker admitted them.
    admitted: AtomicUsize,
    /// Callers turned away.
    rejected: AtomicUsize,
    running: AtomicUsize,
    most_running: AtomicUsize,
    /// Set by the test once it has checked the held trials; until then they block.
    release: AtomicBool,
}

impl Trials {
    /// A trial call's body: holds its permit until released, so that every other caller
    /// arrives while all the trials are in flight.
    fn body(&self, ending: Ending) -> Result<(), &'static str> {
        let index = self.admitted.fetch_add(1, SeqCst);
        let running = self.running.fetch_add(1, SeqCst) + 1;
        self.most_running.fetch_max(running, SeqCst);
        wait_until("the test releases the trials", || self.release.load(SeqCst));
        self.running.fetch_sub(1, SeqCst);
        match (index, ending) {
            (0, Ending::OneFails) => Err("trial failed"),
            (0, Ending::OnePanics) => panic::panic_any(ProvokedPanic),
            _ => Ok(()),
        }
    }
}

/// While the breaker is open and the clock frozen inside its sleep window, threads hammer it:
/// every call must be rejected as open, and no body may run. The bodies check a flag the test
/// raised after it saw the breaker open, so a body run by mistake is counted.
fn assert_open_runs_nothing(breaker: &CircuitBreaker) {
    const CALLS: usize = 200;
    assert_eq!(breaker.state(), State::Open);
    let open = AtomicBool::new(true);
    let ran_while_open = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..CALLS {
                    let result = breaker.call(|| {
                        if open.load(SeqCst) {
                            ran_while_open.fetch_add(1, SeqCst);
                        }
                        Ok(())
                    });
                    assert!(is_rejected_as(&result, State::Open), "{result:?}");
                }
            });
        }
    });
    open.store(false, SeqCst);
    assert_eq!(ran_while_open.load(SeqCst), 0, "a call ran while open");
    assert_eq!(breaker.state(), State::Open);
}

/// With the sleep window just passed, every thread calls at once. The trial bodies block until
/// the test has seen that exactly `max_trials` were admitted, every other caller was turned
/// away as half-open, and late callers still are; then they end as `ending` says.
fn race_for_trials(breaker: &CircuitBreaker, max_trials: usize, ending: Ending) -> Trials {
    let trials = Trials::default();
    let start = Barrier::new(THREADS);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                start.wait();
                let result =
                    panic::catch_unwind(AssertUnwindSafe(|| breaker.call(|| trials.body(ending))));
                match result {
                    Ok(Err(Failure::Breaker(BreakerError::Open { state, .. }))) => {
                        // Never by `Open`: the sleep window has passed, so the first caller
                        // half-opens it, and no trial ends before everyone has tried.
                        assert_eq!(state, State::HalfOpen);
                        trials.rejected.fetch_add(1, SeqCst);
                    }
                    Ok(Ok(()) | Err(Failure::Error(_))) => {}
                    Ok(Err(other)) => panic!("unexpected {other:?}"),
                    Err(payload) => assert!(payload.is::<ProvokedPanic>()),
                }
            });
        }

        let release = ReleaseOnDrop(&trials.release);
        wait_until("every thread has tried", || {
            trials.admitted.load(SeqCst) + trials.rejected.load(SeqCst) == THREADS
        });
        // The trials are still running: exactly the permitted number got in...
        assert_eq!(trials.admitted.load(SeqCst), max_trials);
        assert_eq!(breaker.state(), State::HalfOpen);
        // ...and nobody else does until they finish.
        for _ in 0..100 {
            let late = breaker.call(|| {
                trials.admitted.fetch_add(1, SeqCst);
                Ok(())
            });
            assert!(is_rejected_as(&late, State::HalfOpen), "{late:?}");
        }
        assert_eq!(trials.admitted.load(SeqCst), max_trials);
        drop(release);
    });
    trials
}

#[test]
fn open_runs_nothing_and_half_open_admits_at_most_its_trials() {
    const MAX_TRIALS: usize = 3;
    const ROUNDS: usize = 200;
    quiet_provoked_panics();

    let breaker = CircuitBreaker::new(
        "stress-half-open",
        Config::builder()
            .consecutive_failures(1)
            .sleep_window(Duration::from_millis(SLEEP_WINDOW_MS))
            .half_open_max_calls(MAX_TRIALS as u64)
            .build()
            .expect("valid config"),
    );
    let clock = TestClock::new();
    assert!(breaker.set_clock(&clock));
    let transitions = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&transitions);
    breaker.on_transition(move |t| log.lock().unwrap().push((t.from, t.to)));
    let sleep_window = Duration::from_millis(SLEEP_WINDOW_MS);
    let mut reopened = 0;

    for round in 0..ROUNDS {
        assert_eq!(breaker.state(), State::Closed);
        let _ = breaker.call(|| Err::<(), _>("down"));
        assert_open_runs_nothing(&breaker);

        clock.advance(sleep_window);
        let ending = [Ending::AllSucceed, Ending::OneFails, Ending::OnePanics][round % 3];
        let trials = race_for_trials(&breaker, MAX_TRIALS, ending);
        assert!(trials.most_running.load(SeqCst) <= MAX_TRIALS);
        assert_eq!(trials.running.load(SeqCst), 0);

        // The trials are over, so it has left half-open: closed if all of them succeeded,
        // open if one failed or panicked (and then a new sleep window and trials close it).
        if ending == Ending::AllSucceed {
            assert_eq!(breaker.state(), State::Closed, "round {round}");
        } else {
            assert_eq!(breaker.state(), State::Open, "round {round}");
            reopened += 1;
            clock.advance(sleep_window);
            for _ in 0..MAX_TRIALS {
                assert!(breaker.call(|| Ok::<_, &str>(())).is_ok());
            }
            assert_eq!(breaker.state(), State::Closed, "round {round}");
        }
    }

    // Each transition was reported once, however many threads raced to make it.
    let log = transitions.lock().unwrap();
    let count = |from, to| log.iter().filter(|&&t| t == (from, to)).count();
    assert_eq!(count(State::Closed, State::Open), ROUNDS);
    assert_eq!(count(State::Open, State::HalfOpen), ROUNDS + reopened);
    assert_eq!(count(State::HalfOpen, State::Open), reopened);
    assert_eq!(count(State::HalfOpen, State::Closed), ROUNDS);
    assert_eq!(log.len(), 3 * ROUNDS + 2 * reopened);
}

/// What calls came to.
#[derive(Default)]
struct Tally {
    succeeded: u64,
    failed: u64,
    panicked: u64,
    busy: u64,
}

impl Tally {
    fn plus(self, other: &Tally) -> Tally {
        Tally {
            succeeded: self.succeeded + other.succeeded,
            failed: self.failed + other.failed,
            panicked: self.panicked + other.panicked,
            busy: self.busy + other.busy,
        }
    }
}

/// Counts the bodies running at once, and the most ever seen.
#[derive(Default)]
struct Gauge {
    running: AtomicUsize,
    most: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let now = self.running.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
    }

    fn leave(&self) {
        self.running.fetch_sub(1, SeqCst);
    }
}

/// `calls` calls on this thread: every tenth body panics, every tenth (another) fails, the
/// rest succeed; bodies linger a moment so that callers pile up on the bulkhead.
fn hammer(breaker: &CircuitBreaker, gauge: &Gauge, calls: usize) -> Tally {
    let mut tally = Tally::default();
    for i in 0..calls {
        let body = || {
            gauge.enter();
            for _ in 0..i % 3 {
                thread::yield_now();
            }
            gauge.leave();
            match i % 10 {
                0 => panic::panic_any(ProvokedPanic),
                1 => Err("backend error"),
                _ => Ok(()),
            }
        };
        match panic::catch_unwind(AssertUnwindSafe(|| breaker.call(body))) {
            Ok(Ok(())) => tally.succeeded += 1,
            Ok(Err(Failure::Error(_))) => tally.failed += 1,
            Ok(Err(Failure::Breaker(BreakerError::Busy { .. }))) => tally.busy += 1,
            Ok(Err(other)) => panic!("unexpected {other:?}"),
            Err(payload) => {
                // The panic went on unwinding out of `call`, untouched.
                assert!(payload.is::<ProvokedPanic>());
                tally.panicked += 1;
            }
        }
    }
    tally
}

/// Holds `slots` calls in flight at once (all must be admitted), and checks that one more is
/// turned away as busy: no slot was lost, and none was added.
fn assert_exactly_slots_free(breaker: &CircuitBreaker, slots: usize) {
    let gauge = Gauge::default();
    let release = AtomicBool::new(false);
    thread::scope(|s| {
        for _ in 0..slots {
            s.spawn(|| {
                let held = breaker.call(|| {
                    gauge.enter();
                    wait_until("the test releases the held calls", || release.load(SeqCst));
                    gauge.leave();
                    Ok::<_, &str>(())
                });
                assert_eq!(held, Ok(()));
            });
        }
        let release = ReleaseOnDrop(&release);
        wait_until("every slot is held", || gauge.running.load(SeqCst) == slots);
        let extra = breaker.call(|| Ok::<_, &str>(()));
        assert!(
            matches!(extra, Err(Failure::Breaker(BreakerError::Busy { .. }))),
            "{extra:?}"
        );
        drop(release);
    });
}

#[test]
fn bulkhead_caps_running_bodies_and_panics_give_their_slot_back() {
    const SLOTS: usize = 3;
    const CALLS: usize = 10_000;
    quiet_provoked_panics();

    // Never trips: the bulkhead is under test here, not the error rate.
    let breaker = CircuitBreaker::new(
        "stress-bulkhead",
        Config::builder()
            .max_concurrent(SLOTS as u64)
            .request_volume_threshold(u64::from(u32::MAX))
            .build()
            .expect("valid config"),
    );
    let clock = TestClock::new(); // frozen: every outcome stays in the window
    assert!(breaker.set_clock(&clock));

    let gauge = Gauge::default();
    let tally = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| s.spawn(|| hammer(&breaker, &gauge, CALLS)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold(Tally::default(), |sum, tally| sum.plus(&tally))
    });

    let most = gauge.most.load(SeqCst);
    assert!(
        most <= SLOTS,
        "{most} bodies ran at once with {SLOTS} slots"
    );
    let Tally {
        succeeded,
        failed,
        panicked,
        busy,
    } = tally;
    assert_eq!(
        succeeded + failed + panicked + busy,
        (THREADS * CALLS) as u64
    );
    assert!(panicked > 0, "no body panicked: panics went untested");
    // A panic is a failure; a busy rejection is not a call.
    let metrics = breaker.metrics();
    assert_eq!(metrics.successes, succeeded);
    assert_eq!(metrics.failures, failed + panicked);
    assert_eq!(metrics.rejections, busy);
    assert_eq!(breaker.state(), State::Closed);

    // Every slot came back, the panicked calls' included.
    assert_exactly_slots_free(&breaker, SLOTS);
    assert_eq!(breaker.call(|| Ok::<_, &str>(())), Ok(()));
}
