//! Model checks of the state word, the window head and the counting, run with `--cfg loom`.
//!
//! `loom` runs each model under every interleaving of its threads (bounded by
//! `LOOM_MAX_PREEMPTIONS`) and every value a relaxed load may legally return, so a property
//! asserted here holds for the runtime's atomics, not just for the schedules a stress test
//! happens to hit. What is checked:
//!
//! - half-open admission: never more trial permits out than `half_open_max_calls`, exactly one
//!   caller makes the open → half-open transition, and permits given back can be taken again;
//! - trial outcomes racing (a success against a failure or a cancelled trial): the period ends
//!   the state machine's contract asks for (see `CircuitBreaker`), never half-open with no trial
//!   admissible, and outcomes from an earlier period (generation) change nothing;
//! - a closed → open trip racing with successes and with other failures: one transition,
//!   reported once, and never missed by both racing checks (the store-buffering shape, which
//!   the counts' sequentially consistent order rules out; see the test on it);
//! - the bounds the trip rules read instead of the buckets, after a rotation that two racing
//!   failures make: they never rule out a trip the window's counts make;
//! - `half_open_max_wait_ms`: a trial finishing just as a caller finds the period has waited
//!   too long ends the period once (closed by the trial, or re-opened by the caller, whose
//!   win makes the trial's outcome stale), and a caller that sees a half-open period before
//!   its start is stored never takes it for one that has waited too long;
//! - the window's head: concurrent rotation loses no outcome, and `clear` racing with a
//!   rotation leaves the head unlocked;
//! - the counting: threads adding to one window at once lose no count, whether they add to the
//!   shared bucket, find the collision and make the contention cells, or collide on a cell and
//!   move apart; a rotation empties the reused bucket in every cell without losing counts still
//!   in the window;
//! - the retry budget: first attempts and retries counted at once into one slot, one of them
//!   starting it afresh for a new period, lose no count and keep no stale one.
//!
//! Run (a separate target directory, so as not to rebuild everyone's `target/`):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p breaker-runtime --lib --release --target-dir target/loom loom_
//! ```
//!
//! Each model keeps to two or three threads and a one-bucket window where the breaker is
//! involved: every store is a scheduling point, and emptying ten buckets would multiply the
//! interleavings without exercising anything new.
//!
//! The test's own bookkeeping (transition log, counters) uses std types on purpose: loom runs
//! all of a model's threads on one OS thread, one step at a time, so they are exact, and
//! keeping them out of the model keeps the number of interleavings down.

use std::{
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use loom::{sync::Arc, thread};

use crate::{
    CircuitBreaker, Config, ConfigBuilder, State, TestClock, Transition,
    admission::Permit,
    outcome::{Outcome, Ticket},
    window::Window,
};

const SLEEP_WINDOW_MS: u64 = 1_000;

/// A breaker on a test clock, with the transitions it reported and the trial permits the
/// model's threads hold right now.
struct Rig {
    breaker: CircuitBreaker,
    clock: TestClock,
    transitions: std::sync::Arc<Mutex<Vec<(State, State)>>>,
    held: AtomicUsize,
}

impl Rig {
    /// Must be called inside `loom::model`: the breaker's atomics belong to one execution.
    #[allow(clippy::large_types_passed_by_value)] // as the builder's methods take it
    fn new(config: ConfigBuilder) -> Arc<Rig> {
        // One bucket: the half-open → closed path empties the window, one store per counter.
        Rig::with_buckets(config, 1)
    }

    /// A rig whose one-second window has `buckets` buckets.
    #[allow(clippy::large_types_passed_by_value)] // as the builder's methods take it
    fn with_buckets(config: ConfigBuilder, buckets: u64) -> Arc<Rig> {
        let config = config
            .window(Duration::from_secs(1))
            .window_buckets(buckets)
            .sleep_window(Duration::from_millis(SLEEP_WINDOW_MS))
            .build()
            .expect("valid config");
        let breaker = CircuitBreaker::new("loom", config);
        let clock = TestClock::new();
        assert!(breaker.set_clock(&clock));
        let transitions = std::sync::Arc::new(Mutex::new(Vec::new()));
        let log = std::sync::Arc::clone(&transitions);
        // Added before any thread is spawned: the listener list's `RwLock` is not modelled.
        breaker.on_transition(move |t: &Transition| log.lock().unwrap().push((t.from, t.to)));
        Arc::new(Rig {
            breaker,
            clock,
            transitions,
            held: AtomicUsize::new(0),
        })
    }

    /// A breaker that one failure tripped (generation 1: each transition adds one, see
    /// `state.rs`) and whose sleep window has passed: the next admission half-opens it
    /// (generation 2). The log starts empty.
    fn open_and_due(half_open_max_calls: u64) -> Arc<Rig> {
        let rig = Rig::new(
            Config::builder()
                .consecutive_failures(1)
                .half_open_max_calls(half_open_max_calls),
        );
        rig.trip_and_wait();
        rig
    }

    fn trip_and_wait(&self) {
        let _ = self.breaker.call(|| Err::<(), _>("down"));
        assert_eq!(self.breaker.state(), State::Open);
        self.clock.advance(Duration::from_millis(SLEEP_WINDOW_MS));
        self.transitions.lock().unwrap().clear();
    }

    fn count(&self, from: State, to: State) -> usize {
        let log = self.transitions.lock().unwrap();
        log.iter().filter(|&&t| t == (from, to)).count()
    }

    fn log(&self) -> Vec<(State, State)> {
        self.transitions.lock().unwrap().clone()
    }

    fn succeed(&self) -> bool {
        self.breaker.call(|| Ok::<_, ()>(())).is_ok()
    }

    fn fail(&self) {
        let _ = self.breaker.call(|| Err::<(), _>(()));
    }
}

/// Runs `body` on a new loom thread with its own handle on the rig.
fn spawn(rig: &Arc<Rig>, body: impl FnOnce(&Rig) + Send + 'static) -> thread::JoinHandle<()> {
    let rig = Arc::clone(rig);
    thread::spawn(move || body(&rig))
}

fn join_all(handles: Vec<thread::JoinHandle<()>>) {
    for handle in handles {
        handle.join().unwrap();
    }
}

/// Whoever is admitted holds a trial permit while the others try, then cancels it (drops it
/// without an outcome), so the breaker stays half-open and every permit seen is a trial one.
fn half_open_admits_at_most(max: u64, threads: usize) {
    let max_seen = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&max_seen);
    loom::model(move || {
        let rig = Rig::open_and_due(max);
        let handles = (0..threads)
            .map(|_| {
                let seen = std::sync::Arc::clone(&seen);
                spawn(&rig, move |rig| {
                    if let Ok(permit) = rig.breaker.admit() {
                        let held = rig.held.fetch_add(1, Ordering::SeqCst) + 1;
                        assert!(held as u64 <= max, "{held} trial permits out, max {max}");
                        seen.fetch_max(held, Ordering::Relaxed);
                        // Hold it across a scheduling point: the counter is outside the
                        // model, so without one no other thread could run while it is held.
                        thread::yield_now();
                        rig.held.fetch_sub(1, Ordering::SeqCst);
                        drop(permit);
                    }
                })
            })
            .collect();
        join_all(handles);

        assert_eq!(rig.log(), [(State::Open, State::HalfOpen)]);
        assert_eq!(rig.breaker.state(), State::HalfOpen);
        // Every cancelled trial gave its permit back: all of them can be taken again, no more.
        let permits: Vec<_> = (0..max)
            .map(|_| rig.breaker.admit().expect("a returned trial permit"))
            .collect();
        assert!(
            rig.breaker.admit().is_err(),
            "more than {max} trial permits"
        );
        drop(permits);
    });
    // The model did reach the contended case it is about (with fewer threads than permits
    // it could not, so compare with the smaller).
    let reached = max_seen.load(Ordering::Relaxed) as u64;
    assert_eq!(
        reached,
        max.min(threads as u64),
        "the model never held every permit at once"
    );
}

#[test]
fn loom_half_open_one_permit_three_callers() {
    half_open_admits_at_most(1, 3);
}

#[test]
fn loom_half_open_two_permits_three_callers() {
    half_open_admits_at_most(2, 3);
}

/// Two callers count a first attempt and a retry into a slot at once, a third starts the same
/// slot afresh for the next round of periods: no count is lost, none of the old period's kept.
#[test]
fn loom_retry_budget_counts_racing_attempts_and_a_slot_started_afresh() {
    use crate::retry::RetryBudget;

    loom::model(|| {
        const WINDOW_MS: u64 = 10_000;
        let budget = Arc::new(RetryBudget::default());
        budget.first_attempt(0, WINDOW_MS);
        let racers: Vec<_> = [(0, false), (0, true), (WINDOW_MS, false)]
            .into_iter()
            .map(|(now, retry)| {
                let budget = Arc::clone(&budget);
                thread::spawn(move || {
                    if retry {
                        assert!(budget.try_retry(now, WINDOW_MS, 20), "within the floor");
                    } else {
                        budget.first_attempt(now, WINDOW_MS);
                    }
                })
            })
            .collect();
        for racer in racers {
            racer.join().unwrap();
        }
        // A window later, slot 0 holds the new period's first attempt alone.
        assert_eq!(budget.totals(WINDOW_MS, WINDOW_MS), (1, 0));
    });
}

/// A half-open breaker is stuck if no trial is running and none can be admitted: nothing
/// would ever move it again. Checks that it is not: if half-open, a trial permit is free.
fn assert_not_stuck(rig: &Rig) {
    if rig.breaker.state() == State::HalfOpen {
        let permit = rig.breaker.admit();
        assert!(permit.is_ok(), "half-open with no trial admissible");
    }
}

#[test]
fn loom_trial_success_racing_a_failed_trial_reopens() {
    loom::model(|| {
        // Two permits: both trials are admitted, and the success alone cannot close it.
        let rig = Rig::open_and_due(2);
        let handles = vec![
            spawn(&rig, |rig| {
                rig.succeed();
            }),
            spawn(&rig, Rig::fail),
        ];
        join_all(handles);

        // One failed trial reopens, whichever outcome lands first: a success applied after
        // the failure belongs to the half-open period that ended and is dropped.
        assert_eq!(rig.breaker.state(), State::Open);
        assert_eq!(rig.count(State::Open, State::HalfOpen), 1);
        assert_eq!(rig.count(State::HalfOpen, State::Open), 1);
        assert_eq!(rig.log().len(), 2, "{:?}", rig.log());
    });
}

#[test]
fn loom_trial_success_racing_a_cancelled_trial_one_permit() {
    loom::model(|| {
        let rig = Rig::open_and_due(1);
        let handles = vec![
            spawn(&rig, |rig| {
                rig.succeed();
            }),
            // A cancelled call: admitted, then dropped without an outcome (a future dropped
            // half-way). It may have been admitted as the trial, or after the circuit closed.
            spawn(&rig, |rig| drop(rig.breaker.admit())),
        ];
        join_all(handles);

        let state = rig.breaker.state();
        assert!(matches!(state, State::Closed | State::HalfOpen), "{state}");
        assert_not_stuck(&rig);
        assert_eq!(rig.count(State::Open, State::HalfOpen), 1);
        assert_eq!(
            rig.count(State::HalfOpen, State::Closed),
            usize::from(state == State::Closed)
        );
    });
}

#[test]
fn loom_trial_success_racing_a_cancelled_trial_two_permits() {
    loom::model(|| {
        let rig = Rig::open_and_due(2);
        let handles = vec![
            spawn(&rig, |rig| {
                assert!(rig.succeed(), "two permits: both calls are trials");
            }),
            spawn(&rig, |rig| {
                drop(rig.breaker.admit().expect("a trial permit"));
            }),
        ];
        join_all(handles);

        // One success of the two needed, and the cancelled trial's permit given back: still
        // half-open, and exactly one more successful trial closes it.
        assert_eq!(rig.breaker.state(), State::HalfOpen);
        assert_eq!(rig.log(), [(State::Open, State::HalfOpen)]);
        assert!(rig.succeed());
        assert_eq!(rig.breaker.state(), State::Closed);
    });
}

#[test]
fn loom_stale_trial_success_does_not_count_in_the_next_half_open_period() {
    loom::model(|| {
        let rig = Rig::open_and_due(2);
        // A slow trial of the first half-open period (generation 2)...
        std::mem::forget(rig.breaker.admit().expect("first trial"));
        let slow = Ticket::trial(2);
        // ...whose sibling trial fails: open again (generation 3), then due again.
        rig.fail();
        assert_eq!(rig.breaker.state(), State::Open);
        rig.clock.advance(Duration::from_millis(SLEEP_WINDOW_MS));
        rig.transitions.lock().unwrap().clear();

        let handles = vec![
            // The slow trial succeeds at last. (Its permit is rebuilt on this thread from its
            // ticket: loom has no scoped threads to move the borrowing permit into.)
            spawn(&rig, move |rig| {
                Permit::new(&rig.breaker, slow, false).finish(Outcome::Success);
            }),
            // A trial of the new half-open period (generation 4) succeeds.
            spawn(&rig, |rig| assert!(rig.succeed())),
        ];
        join_all(handles);

        // Counted in the new period, the slow success would have made the two needed.
        assert_eq!(rig.breaker.state(), State::HalfOpen);
        assert_eq!(rig.log(), [(State::Open, State::HalfOpen)]);
        assert!(rig.succeed());
        assert_eq!(rig.breaker.state(), State::Closed);
    });
}

/// A half-open period (one trial permit, generation 2) whose trial has run for its whole
/// `half_open_max_wait_ms`.
fn half_open_waited_out() -> (Arc<Rig>, Ticket) {
    let rig = Rig::new(
        Config::builder()
            .consecutive_failures(1)
            .half_open_max_wait(Duration::from_millis(100)),
    );
    rig.trip_and_wait();
    std::mem::forget(rig.breaker.admit().expect("the trial"));
    rig.clock.advance(Duration::from_millis(100));
    rig.transitions.lock().unwrap().clear();
    (rig, Ticket::trial(2))
}

#[test]
fn loom_trial_finishing_as_the_half_open_wait_runs_out_ends_the_period_once() {
    loom::model(|| {
        let (rig, trial) = half_open_waited_out();
        let handles = vec![
            spawn(&rig, move |rig| {
                Permit::new(&rig.breaker, trial, false).finish(Outcome::Success);
            }),
            // A caller that, if it comes first, finds every trial taken for too long.
            spawn(&rig, |rig| {
                rig.succeed();
            }),
        ];
        join_all(handles);

        let log = rig.log();
        match rig.breaker.state() {
            // The trial landed first and closed it; the caller then ran while closed.
            State::Closed => assert_eq!(log, [(State::HalfOpen, State::Closed)]),
            // The caller re-opened it first; the trial's success was from the ended period.
            State::Open => {
                assert_eq!(log, [(State::HalfOpen, State::Open)]);
                assert_eq!(
                    rig.breaker.metrics().successes,
                    0,
                    "the stale success counted"
                );
            }
            other => panic!("ended {other:?}, log {log:?}"),
        }
    });
}

#[test]
fn loom_a_half_open_period_whose_start_is_not_stored_yet_is_not_waited_out() {
    loom::model(|| {
        // The wait (500 ms) is shorter than the sleep window (1000 ms) that has just passed:
        // read with the opening's start, the new half-open period would look waited out.
        let rig = Rig::new(
            Config::builder()
                .consecutive_failures(1)
                .half_open_max_wait(Duration::from_millis(500)),
        );
        rig.trip_and_wait();
        let handles = (0..2)
            .map(|_| {
                spawn(&rig, |rig| {
                    // One of the two half-opens the circuit and holds the trial; the other is
                    // refused, as half-open, never as a period that waited too long.
                    if let Ok(permit) = rig.breaker.admit() {
                        thread::yield_now();
                        std::mem::forget(permit);
                    }
                })
            })
            .collect();
        join_all(handles);

        assert_eq!(rig.log(), [(State::Open, State::HalfOpen)]);
        assert_eq!(rig.breaker.state(), State::HalfOpen);
    });
}

#[test]
fn loom_stale_failure_does_not_reopen_a_recovered_circuit() {
    loom::model(|| {
        let rig = Rig::new(Config::builder().consecutive_failures(1));
        // A slow call admitted while closed (generation 0), still running when it trips.
        std::mem::forget(rig.breaker.admit().expect("closed"));
        let slow = Ticket::normal(0);
        rig.trip_and_wait();

        let handles = vec![
            spawn(&rig, move |rig| {
                Permit::new(&rig.breaker, slow, false).finish(Outcome::Failure);
            }),
            // The trial succeeds: closed again (generation 3).
            spawn(&rig, |rig| assert!(rig.succeed())),
        ];
        join_all(handles);

        // With one failure enough to trip, the slow failure would reopen it if it counted.
        assert_eq!(rig.breaker.state(), State::Closed);
        assert_eq!(
            rig.log(),
            [
                (State::Open, State::HalfOpen),
                (State::HalfOpen, State::Closed)
            ]
        );
    });
}

#[test]
fn loom_busy_trial_gives_back_its_permit() {
    loom::model(|| {
        // A trial call that finds the bulkhead full is rejected as busy, and must not keep the
        // trial permit it took on the way.
        let rig = Rig::new(
            Config::builder()
                .consecutive_failures(1)
                .half_open_max_calls(2)
                .max_concurrent(1),
        );
        rig.trip_and_wait();
        let handles = (0..2)
            .map(|_| spawn(&rig, |rig| drop(rig.breaker.admit())))
            .collect();
        join_all(handles);

        assert_eq!(rig.breaker.state(), State::HalfOpen);
        // Both trial permits and the bulkhead slot are free again.
        let first = rig.breaker.admit().expect("trial permit and slot returned");
        drop(first);
        assert!(rig.succeed() && rig.succeed());
        assert_eq!(rig.breaker.state(), State::Closed);
    });
}

#[test]
fn loom_error_rate_trips_once_when_two_failures_race() {
    loom::model(|| {
        // Two calls at 50 %: after one success, either failure alone reaches the threshold,
        // so both may try to trip in the same period. One compare-and-swap wins; one report.
        let rig = Rig::new(
            Config::builder()
                .request_volume_threshold(2)
                .error_threshold(50),
        );
        assert!(rig.succeed());
        let handles = vec![spawn(&rig, Rig::fail), spawn(&rig, Rig::fail)];
        join_all(handles);

        assert_eq!(rig.breaker.state(), State::Open);
        assert_eq!(rig.log(), [(State::Closed, State::Open)]);
    });
}

#[test]
fn loom_error_rate_trip_racing_a_success() {
    loom::model(|| {
        // One failure in two calls is 50 %: it trips unless the racing success is counted
        // before the failure's check (one in three is under 50 %), or after the trip (then it
        // belongs to the closed period and is dropped). Either way, state and report agree.
        let rig = Rig::new(
            Config::builder()
                .request_volume_threshold(2)
                .error_threshold(50),
        );
        assert!(rig.succeed());
        let handles = vec![
            spawn(&rig, Rig::fail),
            spawn(&rig, |rig| {
                rig.succeed();
            }),
        ];
        join_all(handles);

        assert_trip_reported_once_if_open(&rig);
    });
}

/// The end state and the report agree: open with exactly one Closed → Open, or closed with no
/// transition at all.
fn assert_trip_reported_once_if_open(rig: &Rig) {
    match rig.breaker.state() {
        State::Open => assert_eq!(rig.log(), [(State::Closed, State::Open)]),
        State::Closed => assert_eq!(rig.log(), []),
        other => panic!("ended {other}"),
    }
}

#[test]
fn loom_consecutive_failures_racing_a_success() {
    loom::model(|| {
        // Two failures in a row trip it, and the success in between (if it lands between)
        // breaks the run. Either way the state and the report must agree: open with one
        // Closed → Open, or closed with none.
        let rig = Rig::new(Config::builder().consecutive_failures(2));
        // Moves the window's head to the clock's period, so the threads below race on the
        // state word and the counters rather than on the first rotation (modelled apart).
        assert!(rig.succeed());
        let handles = vec![
            spawn(&rig, Rig::fail),
            spawn(&rig, Rig::fail),
            spawn(&rig, |rig| {
                rig.succeed();
            }),
        ];
        join_all(handles);

        assert_trip_reported_once_if_open(&rig);
    });
}

#[test]
fn loom_error_rate_trip_is_made_when_a_failure_and_a_success_race() {
    loom::model(|| {
        // Three calls at 50 %: a failure is in the window, then a failure and a success race.
        // Run one after the other, the second check sees two failures in three calls and
        // trips. Run at once, each thread adds its count and then reads the other's (the
        // store-buffering shape), where weaker orderings let both readings miss the other's
        // add and neither check trip. The counts' sequentially consistent order (`COUNTED`),
        // with the failure reading the window again after it moved `failure_expiry`, leaves
        // every execution with at least one check that sees both: the breaker opens, once.
        let rig = Rig::new(
            Config::builder()
                .request_volume_threshold(3)
                .error_threshold(50),
        );
        rig.fail();
        let handles = vec![
            spawn(&rig, Rig::fail),
            spawn(&rig, |rig| {
                rig.succeed();
            }),
        ];
        join_all(handles);

        assert_eq!(rig.breaker.state(), State::Open);
        assert_eq!(rig.log(), [(State::Closed, State::Open)]);
    });
}

#[test]
fn loom_bounds_after_a_rotation_racing_two_failures_rule_out_no_trip() {
    loom::model(|| {
        // Two buckets of 500 ms. Three successes in the first; one in the second, which moves
        // the head and puts the three in the bounds' closed successes. Then two failures at
        // once in the third period: whichever moves the head empties the first bucket and its
        // three successes leave the bounds; the window holds 1 success and 2 failures, 67 %,
        // and trips. Bounds that kept the three (four successes against two failures) would
        // rule the trip out.
        let rig = Rig::with_buckets(
            Config::builder()
                .request_volume_threshold(2)
                .error_threshold(50),
            2,
        );
        for _ in 0..3 {
            assert!(rig.succeed());
        }
        rig.clock.advance(Duration::from_millis(500));
        assert!(rig.succeed());
        rig.clock.advance(Duration::from_millis(500));
        let handles = vec![spawn(&rig, Rig::fail), spawn(&rig, Rig::fail)];
        join_all(handles);

        assert_eq!(rig.breaker.state(), State::Open);
        assert_eq!(rig.log(), [(State::Closed, State::Open)]);
    });
}

/// Two buckets of 50 ms; the head starts at the period [0, 50).
fn window() -> Arc<Window> {
    Arc::new(Window::new(100, 2))
}

/// Runs `body` on `window` on one thread per input, at once, and waits for them all.
fn race<T: Send + 'static>(window: &Arc<Window>, inputs: Vec<T>, body: fn(&Window, T)) {
    let handles = inputs
        .into_iter()
        .map(|input| {
            let window = Arc::clone(window);
            thread::spawn(move || body(&window, input))
        })
        .collect();
    join_all(handles);
}

#[test]
fn loom_window_concurrent_rotation_loses_nothing() {
    loom::model(|| {
        let window = window();
        window.record(10, Outcome::Failure);
        // Both readings fall in the next period [50, 100): both threads race to rotate the
        // head, one wins and empties the bucket being reused, the other waits for it.
        race(
            &window,
            vec![Outcome::Success, Outcome::Failure],
            |window, outcome| {
                assert_eq!(window.record(60, outcome), 50);
            },
        );
        let totals = window.totals(60);
        assert_eq!((totals.successes, totals.failures), (1, 2));
    });
}

#[test]
fn loom_window_rotation_by_one_and_by_a_whole_window_loses_nothing() {
    loom::model(|| {
        let window = window();
        window.record(10, Outcome::Failure); // ages out by 110
        // One thread moves the head one period on, the other two: whichever goes first, the
        // outcome at 60 is still inside the window at 110 and must be counted.
        race(&window, vec![60, 110], |window, now| {
            window.record(now, Outcome::Success);
        });
        let totals = window.totals(110);
        assert_eq!((totals.successes, totals.failures), (2, 0));
    });
}

/// `clear` and a reading at `now` that must move the head both take the head's lock.
///
/// Two threads only: with a third (`clear` and two rotations), two threads waiting on the lock
/// multiply the schedules to explore past any budget (not done after five minutes with a
/// limit of 20 000 branches), while covering no step the pairs below do not.
fn clear_racing_rotation(now: u64) {
    loom::model(move || {
        let window = window();
        window.record(10, Outcome::Failure);
        let clearing = {
            let window = Arc::clone(&window);
            thread::spawn(move || window.clear())
        };
        let recording = {
            let window = Arc::clone(&window);
            thread::spawn(move || {
                window.record(now, Outcome::Success);
            })
        };
        clearing.join().unwrap();
        recording.join().unwrap();

        // A head left locked would make `totals` and `record` wait forever, which loom
        // reports as a model that exceeds its branch limit. The failure recorded before the
        // race is always cleared; the success survives unless the clear came after it.
        let totals = window.totals(now);
        assert_eq!(totals.failures, 0);
        assert!(totals.successes <= 1);
        window.record(now, Outcome::Success);
        assert_eq!(window.totals(now).successes, totals.successes + 1);
    });
}

#[test]
fn loom_window_clear_racing_rotation_by_one_period_unlocks_the_head() {
    clear_racing_rotation(60);
}

#[test]
fn loom_window_clear_racing_rotation_by_a_whole_window_unlocks_the_head() {
    clear_racing_rotation(110);
}

/// Two threads adding successes and rejections to one window at once, each call watched for
/// contention (under loom every add is): whether or not they collide, and whichever of them
/// finds the collision and makes the cells, every count lands exactly once, in the shared
/// bucket or in a cell.
#[test]
fn loom_counts_racing_into_a_window_and_its_cells_lose_nothing() {
    loom::model(|| {
        let window = window();
        race(&window, vec![(); 2], |window, ()| {
            window.record(10, Outcome::Success);
            window.record_rejection(10);
        });
        let totals = window.totals(10);
        assert_eq!((totals.successes, totals.rejections), (2, 2));
    });
}

/// Once a window has cells, two threads adding to them (both start on the same cell, so they
/// collide and one moves to the other cell) lose nothing, and a reading adds up every cell.
#[test]
fn loom_threads_colliding_on_a_cell_move_apart_and_lose_nothing() {
    loom::model(|| {
        let window = window();
        window.contended();
        race(&window, vec![(); 2], |window, ()| {
            window.record(10, Outcome::Success);
            window.record(10, Outcome::Success);
        });
        assert_eq!(window.totals(10).successes, 4);
    });
}

/// A thread counting into a cell while another moves the head on (and empties the reused
/// bucket in every cell): the count made for the old period is either still in the window or
/// moved with its period, never lost from a period that is still in the window, and the count
/// made in the new period is there.
#[test]
fn loom_rotation_empties_cells_without_losing_counts_in_the_window() {
    loom::model(|| {
        let window = window();
        window.contended();
        race(&window, vec![10, 60], |window, now| {
            window.record(now, Outcome::Success);
        });
        // [0, 50) and [50, 100) are both inside a 100 ms window at 60.
        assert_eq!(window.totals(60).successes, 2);
    });
}

/// A reading of the counts since creation while another thread's call moves the head on and
/// empties the bucket it reuses: the count moving from the bucket to the folded totals is
/// seen exactly once (never twice, never missed), so the counts never go down.
#[test]
fn loom_counts_since_creation_are_read_whole_while_a_bucket_is_emptied() {
    loom::model(|| {
        let window = window();
        window.record(10, Outcome::Failure);
        window.record(60, Outcome::Success);
        let mover = {
            let window = Arc::clone(&window);
            // Two periods on: the head reuses the slot holding the failure.
            thread::spawn(move || window.record(110, Outcome::Success))
        };
        let seen = window.since_creation();
        assert!(
            seen.failures == 1 && (1..=2).contains(&seen.successes),
            "{seen:?}"
        );
        mover.join().unwrap();
        let after = window.since_creation();
        assert_eq!((after.failures, after.successes), (1, 2));
    });
}
