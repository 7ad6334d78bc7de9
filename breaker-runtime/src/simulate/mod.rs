//! What would a configuration have done? Replays a recorded [`Trace`] (`record`), or a
//! [`Scenario`] built in code, against configurations, each on the real state machine and a
//! virtual clock, and reports for each the failed calls it would have let through, the good
//! calls it would have refused, its transitions with their times, how long it took to refuse
//! once the dependency was failing and how long it went on refusing once it recovered.
//!
//! Deterministic: the same trace and configurations give the same report (unless a
//! configuration has `sleep_window_jitter`, which draws at random). Calls are taken in order of
//! time: each is admitted (or refused) when it started, its recorded end less its duration, and
//! its outcome counted when it ended, as the live breaker did: a timeout if it ran past the
//! configuration's own `timeout_ms` (counted then), slow past its own `slow_call_ms`. A call
//! that was not timed starts and ends at once. Calls in flight count against
//! `max_concurrent`. Refused, a call counts as a good call or a failure refused. A breaker's
//! [shadow](crate::CircuitBreaker::set_shadow) counts the same outcomes the same way, but for
//! calls that arrive while a long trial runs (see its documentation). Times are the recorded
//! breaker's clock's (the coarse monotonic clock: a few milliseconds).
//!
//! What a replay cannot know, it says rather than guesses:
//! - a call the recorded breaker refused never ran: its outcome is unknown, and it is
//!   counted as such for every configuration (`unknown`); each is asked only whether it would
//!   have refused it too (`unknown_refused`, in its refusals over time);
//! - a replay starts closed with an empty window, where the recorded breaker may have had
//!   calls counted before its trace began;
//!
//! The input is cut into periods of a second (of 100 ms in a trace shorter than 30 seconds;
//! longer in a trace of more than a day, cut into 86,400 periods at most).
//! A period is **degraded** when more than half the calls that ran in it failed: that is when
//! refusing pays (a refused good call costs as much as a failure let through). Times to the
//! first refusal and from recovery to the last are measured from the first degraded period's
//! start and the last degraded period's end.
//!
//! ```
//! use std::time::Duration;
//! use fusebox::{Config, simulate::{self, Scenario}};
//!
//! // A healthy minute, a minute of hard outage, a healthy minute; 50 calls a second.
//! let scenario = Scenario::new()
//!     .phase(Duration::from_secs(60), 50, 1)
//!     .phase(Duration::from_secs(60), 50, 100)
//!     .phase(Duration::from_secs(60), 50, 1);
//! let replay = simulate::replay(&scenario.trace(), &[
//!     ("hystrix", Config::default()),
//!     ("quick", Config::builder().window(Duration::from_secs(1)).request_volume_threshold(10)
//!         .sleep_window(Duration::from_secs(1)).build()?),
//! ]);
//! let (hystrix, quick) = (&replay.reports[0], &replay.reports[1]);
//! assert!(quick.failures_let_through < hystrix.failures_let_through);
//! assert!(quick.first_refusal.unwrap() <= Duration::from_secs(1));
//! println!("{replay}"); // the table
//! # Ok::<(), fusebox::ConfigError>(())
//! ```

mod chart;
mod read;
mod scenario;

use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

pub use chart::Chart;
pub use read::ReadError;
pub use scenario::Scenario;

use crate::{
    CallKind, CircuitBreaker, Config, State, TestClock, Trace, TraceEntry,
    clock::Clock,
    config::millis,
    outcome::Ticket,
    shadow::{Offered, cut_short, outcome_of},
};

/// The result of a replay: the input's calls period by period, and a report per
/// configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Replay {
    /// How long a period is: a second (100 ms for a trace shorter than 30 seconds, longer for
    /// one of more than a day).
    pub period: Duration,
    /// The input, period by period from the trace's start.
    pub periods: Vec<Period>,
    /// A report per configuration, in the order they were given.
    pub reports: Vec<Report>,
}

/// One period of the input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Period {
    /// Calls in it, refused ones included.
    pub calls: u32,
    /// Calls that ran and failed (or timed out).
    pub failures: u32,
    /// Calls the recorded breaker refused: their outcome is unknown.
    pub unknown: u32,
}

impl Period {
    /// Whether more than half the calls that ran failed.
    #[must_use]
    pub const fn is_degraded(&self) -> bool {
        let ran = self.calls - self.unknown;
        ran > 0 && self.failures * 2 > ran
    }
}

/// What one configuration would have done with the input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The configuration's name, as given.
    pub name: String,
    /// The configuration.
    pub config: Config,
    /// Calls it would have let through that failed (or timed out by its `timeout_ms`).
    pub failures_let_through: u64,
    /// Calls it would have refused that succeeded.
    pub successes_refused: u64,
    /// Calls it would have refused that failed.
    pub failures_refused: u64,
    /// Calls the recorded breaker refused: their outcome is unknown.
    pub unknown: u64,
    /// Of those, the calls it would have refused too. (The others it would have run, to an
    /// outcome nobody knows: they are counted nowhere else.)
    pub unknown_refused: u64,
    /// Its transitions, in order.
    pub transitions: Vec<SimulatedTransition>,
    /// From the first degraded period's start to its first refusal from then; `None` if the
    /// input has no degraded period, or it refused nothing from then.
    pub first_refusal: Option<Duration>,
    /// From the last degraded period's end to its last refusal after it (zero if it refused
    /// nothing after it); `None` if the input has no degraded period.
    pub recovery_to_last_refusal: Option<Duration>,
    /// Calls it would have refused, period by period.
    pub refused_per_period: Vec<u32>,
}

impl Report {
    /// Failures let through and good calls refused: what the configuration costs, each kind
    /// of mistake counted alike.
    #[must_use]
    pub const fn mistakes(&self) -> u64 {
        self.failures_let_through + self.successes_refused
    }
}

/// A transition a configuration made in a replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimulatedTransition {
    /// When, since the trace's start.
    pub at: Duration,
    /// The state it left.
    pub from: State,
    /// The state it entered.
    pub to: State,
}

/// Replays `trace` against each configuration of `configs` (a name and a configuration).
#[must_use]
pub fn replay<N: AsRef<str>>(trace: &Trace, configs: &[(N, Config)]) -> Replay {
    let input = Input::of(trace);
    let reports = configs
        .iter()
        .map(|(name, config)| input.run(name.as_ref(), *config))
        .collect();
    Replay {
        period: Duration::from_millis(input.period_ms),
        periods: input.periods,
        reports,
    }
}

/// A trace made ready to replay: its calls in order, where it starts, its periods.
struct Input<'t> {
    trace: &'t Trace,
    calls: Vec<&'t TraceEntry>,
    /// The first call's start, on the recorded breaker's clock.
    start_ms: u64,
    period_ms: u64,
    periods: Vec<Period>,
    /// The first degraded period's start, and the last's end, since `start_ms`.
    degraded: Option<(u64, u64)>,
}

impl<'t> Input<'t> {
    fn of(trace: &'t Trace) -> Input<'t> {
        let mut calls: Vec<_> = trace.calls.iter().collect();
        // Stable: calls recorded in the same millisecond keep their order.
        calls.sort_by_key(|call| call.at_ms);
        // From the first call kept's start (a ring that wrapped began before it).
        let start_ms = calls
            .iter()
            .map(|call| {
                trace
                    .clock_at(call)
                    .saturating_sub(call.duration.map_or(0, millis))
            })
            .min()
            .unwrap_or(trace.clock_ms);
        let mut input = Input {
            trace,
            calls,
            start_ms,
            period_ms: 1_000,
            periods: Vec::new(),
            degraded: None,
        };
        let length = input
            .calls
            .last()
            .map_or(0, |call| trace.clock_at(call).saturating_sub(start_ms));
        input.period_ms = period_ms(length);
        let length = usize::try_from(length / input.period_ms + 1).unwrap_or(usize::MAX);
        input.periods = vec![Period::default(); length];
        for index in 0..input.calls.len() {
            let call = input.calls[index];
            let at = input.period_at(trace.clock_at(call));
            let period = &mut input.periods[at];
            period.calls += 1;
            match call.kind {
                CallKind::Failure | CallKind::Timeout => period.failures += 1,
                CallKind::Rejected | CallKind::Busy => period.unknown += 1,
                _ => {}
            }
        }
        let first = input.periods.iter().position(Period::is_degraded);
        let last = input.periods.iter().rposition(Period::is_degraded);
        input.degraded = first.zip(last).map(|(first, last)| {
            let period_ms = input.period_ms;
            (
                (first as u64).saturating_mul(period_ms),
                (last as u64 + 1).saturating_mul(period_ms),
            )
        });
        input
    }

    /// The period of the input `at_ms` falls in (the last one for a later moment).
    fn period_at(&self, at_ms: u64) -> usize {
        let period = usize::try_from(at_ms.saturating_sub(self.start_ms) / self.period_ms)
            .unwrap_or(usize::MAX);
        if self.periods.is_empty() {
            period
        } else {
            period.min(self.periods.len() - 1)
        }
    }

    /// What `config` would have done with the calls.
    fn run(&self, name: &str, config: Config) -> Report {
        let mut report = Report {
            name: name.to_owned(),
            config,
            failures_let_through: 0,
            successes_refused: 0,
            failures_refused: 0,
            unknown: 0,
            unknown_refused: 0,
            transitions: Vec::new(),
            first_refusal: None,
            recovery_to_last_refusal: self.degraded.map(|_| Duration::ZERO),
            refused_per_period: vec![0; self.periods.len()],
        };
        let clock = TestClock::starting_at(self.start_ms);
        let on_clock = Clock::default();
        on_clock.set(&clock);
        let breaker = CircuitBreaker::silent(self.trace.breaker.clone(), config, on_clock);
        let transitions = Arc::new(Mutex::new(Vec::new()));
        let (heard, told, start_ms) = (Arc::clone(&transitions), clock.clone(), self.start_ms);
        breaker.on_transition(move |transition| {
            heard
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(SimulatedTransition {
                    at: Duration::from_millis(told.now_ms().saturating_sub(start_ms)),
                    from: transition.from,
                    to: transition.to,
                });
        });
        // The tickets of the calls running.
        let mut running = vec![None; self.calls.len()];
        let mut in_flight = 0_u64;
        for Event { at_ms, step, index } in events(self.trace, &self.calls, &config) {
            clock.advance_to(at_ms);
            let call = self.calls[index];
            // `max_concurrent` calls in flight: busy, as admission's bulkhead says.
            let busy = config
                .max_concurrent()
                .is_some_and(|limit| in_flight >= limit);
            match step {
                Step::Asked if busy && call.kind != CallKind::Ignored => {
                    report.unknown += 1;
                    self.refused(&mut report, call.kind, at_ms);
                }
                Step::Asked => match breaker.offer_refused(call.kind) {
                    Offered::RefusedUnknown => {
                        report.unknown += 1;
                        self.refused(&mut report, call.kind, at_ms);
                    }
                    Offered::Unknown => report.unknown += 1,
                    _ => {}
                },
                Step::Start | Step::Whole => {
                    running[index] = if busy {
                        None
                    } else {
                        breaker.admit_offered(at_ms)
                    };
                    if running[index].is_none() {
                        self.refused(&mut report, call.kind, at_ms);
                    } else if step == Step::Whole {
                        ended(&breaker, running[index].take(), call, &mut report);
                    } else {
                        in_flight += 1;
                    }
                }
                Step::End => {
                    if running[index].is_some() {
                        in_flight -= 1;
                    }
                    ended(&breaker, running[index].take(), call, &mut report);
                }
            }
        }
        report.transitions =
            std::mem::take(&mut *transitions.lock().unwrap_or_else(PoisonError::into_inner));
        report
    }

    /// Counts in `report` a call that ended as `kind`, refused at `at_ms`.
    fn refused(&self, report: &mut Report, kind: CallKind, at_ms: u64) {
        report.refused_per_period[self.period_at(at_ms)] += 1;
        match kind {
            CallKind::Success | CallKind::Slow => report.successes_refused += 1,
            CallKind::Failure | CallKind::Timeout => report.failures_refused += 1,
            _ => report.unknown_refused += 1,
        }
        let Some((began_ms, ended_ms)) = self.degraded else {
            return;
        };
        let offset_ms = at_ms.saturating_sub(self.start_ms);
        if offset_ms >= began_ms && report.first_refusal.is_none() {
            report.first_refusal = Some(Duration::from_millis(offset_ms - began_ms));
        }
        if offset_ms >= ended_ms {
            report.recovery_to_last_refusal = Some(Duration::from_millis(offset_ms - ended_ms));
        }
    }
}

/// A trace shorter than this is cut into periods of 100 ms rather than seconds.
const SHORT_MS: u64 = 30_000;

/// The most periods a trace is cut into: a day's seconds. A longer trace (a breaker called
/// now and then, recorded over months) has longer periods, so that a replay's memory stays
/// bounded whatever the trace's times say.
const MOST_PERIODS: u64 = 86_400;

/// How long a period is in a trace that spans `span_ms`.
const fn period_ms(span_ms: u64) -> u64 {
    if span_ms < SHORT_MS {
        100
    } else {
        let seconds = span_ms.div_ceil(MOST_PERIODS * 1_000);
        if seconds > 1 {
            seconds.saturating_mul(1_000)
        } else {
            1_000
        }
    }
}

/// Counts the outcome of `call`, admitted with `ticket` (if it was), ending now.
fn ended(breaker: &CircuitBreaker, ticket: Option<Ticket>, call: &TraceEntry, report: &mut Report) {
    let (Some(ticket), Some(outcome)) = (ticket, outcome_of(call.kind)) else {
        return;
    };
    let outcome = cut_short(outcome, call.duration.map(millis), report.config.timeout());
    breaker.end_offered(ticket, outcome);
    if outcome.is_failure() {
        report.failures_let_through += 1;
    }
}

/// A step of a call in a replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// A call that ran ends: at a moment, before calls start, as one that ended before the
    /// next began.
    End,
    /// A call that ran and was not timed (or took under a millisecond): it starts and ends at
    /// once.
    Whole,
    /// A call that ran starts: admitted or refused.
    Start,
    /// A call that did not run (refused when recorded, or ignored): asked at its moment, after
    /// the calls that started then (one of which the recorded breaker had admitted before it
    /// refused this one: a trial, say).
    Asked,
}

/// Step `step` of call `index`, at `at_ms` on the recorded breaker's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    at_ms: u64,
    step: Step,
    index: usize,
}

/// The steps of `calls` (`trace`'s) under `config`, in order of time: a call that ran starts
/// its duration before its end (at once, if it was not timed), and ends at the
/// configuration's `timeout_ms` if it ran past it.
fn events(trace: &Trace, calls: &[&TraceEntry], config: &Config) -> Vec<Event> {
    let timeout_ms = config.timeout().map(millis);
    let mut events = Vec::with_capacity(calls.len() * 2);
    for (index, call) in calls.iter().enumerate() {
        let end_ms = trace.clock_at(call);
        if outcome_of(call.kind).is_none() {
            events.push(Event {
                at_ms: end_ms,
                step: Step::Asked,
                index,
            });
            continue;
        }
        let ran_ms = call.duration.map_or(0, millis);
        let start_ms = end_ms.saturating_sub(ran_ms);
        let cut_ms = timeout_ms.map_or(ran_ms, |limit| ran_ms.min(limit));
        if cut_ms == 0 {
            events.push(Event {
                at_ms: start_ms,
                step: Step::Whole,
                index,
            });
            continue;
        }
        events.push(Event {
            at_ms: start_ms,
            step: Step::Start,
            index,
        });
        events.push(Event {
            at_ms: start_ms + cut_ms,
            step: Step::End,
            index,
        });
    }
    events.sort_unstable();
    events
}

impl Replay {
    /// The input's calls per period (grey), its failures (pink) and each configuration's
    /// refusals (a line each), drawn against time.
    #[must_use]
    pub fn chart(&self, title: &str) -> Chart {
        const COLOURS: [&str; 6] = [
            "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
        ];
        let figures =
            |values: &mut dyn Iterator<Item = u32>| -> Vec<f64> { values.map(f64::from).collect() };
        let unit = match self.period.as_millis() {
            1_000 => "calls per second".to_owned(),
            millis if millis < 1_000 => format!("calls per {millis} ms"),
            millis => format!("calls per {} s", millis / 1_000),
        };
        let mut chart = Chart::new(title, &unit)
            .period(self.period)
            .area(
                "calls",
                "#e6e6e6",
                figures(&mut self.periods.iter().map(|period| period.calls)),
            )
            .area(
                "failures",
                "#f4b6b6",
                figures(&mut self.periods.iter().map(|period| period.failures)),
            );
        for (report, colour) in self.reports.iter().zip(COLOURS.iter().cycle()) {
            chart = chart.line(
                &format!("{}: refused", report.name),
                colour,
                figures(&mut report.refused_per_period.iter().copied()),
            );
        }
        chart
    }
}

impl fmt::Display for Replay {
    /// A table: a row per configuration.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = |time: Option<Duration>| {
            time.map_or_else(
                || "—".to_owned(),
                |time| format!("{:.2}", time.as_secs_f64()),
            )
        };
        writeln!(
            f,
            "| configuration | failures let through | good calls refused | failures refused | refused when recorded: refused / run | transitions | first refusal (s) | recovery → last refusal (s) |"
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
        for report in &self.reports {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} / {} | {} | {} | {} |",
                report.name.replace('|', "\\|"),
                report.failures_let_through,
                report.successes_refused,
                report.failures_refused,
                report.unknown_refused,
                report.unknown - report.unknown_refused,
                report.transitions.len(),
                seconds(report.first_refusal),
                seconds(report.recovery_to_last_refusal),
            )?;
        }
        Ok(())
    }
}
