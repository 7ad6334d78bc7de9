//! What would a configuration have done? Replays a recorded [`Trace`] (`record`), or a
//! [`Scenario`] built in code, against configurations, each on the real state machine and a
//! virtual clock, and reports for each the failed calls it would have let through, the good
//! calls it would have refused, its transitions with their times, how long it took to refuse
//! once the dependency was failing and how long it went on refusing once it recovered.
//!
//! Deterministic: the same trace and configurations give the same report. Calls are taken in
//! the order they ended; each is admitted (or refused) as of when it started, its recorded end
//! less its duration, and its outcome counted when it ended, as the live breaker did: a
//! timeout if it ran past the configuration's own `timeout_ms` (counted then), slow past its
//! own `slow_call_ms`. A call that was not timed starts and ends at once. Refused, it counts as
//! a good call or a failure refused. A breaker's
//! [shadow](crate::CircuitBreaker::set_shadow) is offered each live call the same way, so a
//! shadow and a replay of the same outcomes count the same.
//!
//! What a replay cannot know, it says rather than guesses:
//! - a call the recorded breaker refused never ran: its outcome is unknown, and it is
//!   counted as such for every configuration (`unknown`), not offered;
//! - a replay starts closed with an empty window, where the recorded breaker may have had
//!   calls counted before its trace began;
//! - `sleep_window_jitter` draws at random, so a configuration with it makes its trials at
//!   other times on each run of the live breaker (a replay draws too; its report differs
//!   between runs by those times);
//! - `max_concurrent` needs calls in flight, which a replay of ended calls does not have.
//!
//! A second of the input is **degraded** when more than half the calls that ran in it failed:
//! that is when refusing pays (a refused good call costs as much as a failure let through).
//! Times to the first refusal and from recovery to the last are measured from the first
//! degraded second's start and the last degraded second's end.
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
//!     ("quick", Config::builder().error_threshold(50).request_volume_threshold(10)
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
    shadow::{cut_short, outcome_of},
};

/// The result of a replay: the input's calls per second, and a report per configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Replay {
    /// The input, second by second from the trace's start.
    pub seconds: Vec<Second>,
    /// A report per configuration, in the order they were given.
    pub reports: Vec<Report>,
}

/// One second of the input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Second {
    /// Calls in it, refused ones included.
    pub calls: u32,
    /// Calls that ran and failed (or timed out).
    pub failures: u32,
    /// Calls the recorded breaker refused: their outcome is unknown.
    pub unknown: u32,
}

impl Second {
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
    /// Calls the recorded breaker refused (not offered: their outcome is unknown).
    pub unknown: u64,
    /// Its transitions, in order.
    pub transitions: Vec<SimulatedTransition>,
    /// From the first degraded second's start to its first refusal from then; `None` if the
    /// input has no degraded second, or it refused nothing from then.
    pub first_refusal: Option<Duration>,
    /// From the last degraded second's end to its last refusal after it (zero if it refused
    /// nothing after it); `None` if the input has no degraded second.
    pub recovery_to_last_refusal: Option<Duration>,
    /// Calls it would have refused, second by second.
    pub refused_per_second: Vec<u32>,
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
        seconds: input.seconds,
        reports,
    }
}

/// A trace made ready to replay: its calls in order, where it starts, its seconds.
struct Input<'t> {
    trace: &'t Trace,
    calls: Vec<&'t TraceEntry>,
    /// The first call's start, on the recorded breaker's clock.
    start_ms: u64,
    seconds: Vec<Second>,
    /// The first degraded second, and the second after the last.
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
            seconds: Vec::new(),
            degraded: None,
        };
        let length = input
            .calls
            .last()
            .map_or(0, |call| input.second_at(trace.clock_at(call)) + 1);
        input.seconds = vec![Second::default(); length];
        for index in 0..input.calls.len() {
            let call = input.calls[index];
            let at = input.second_at(trace.clock_at(call));
            let second = &mut input.seconds[at];
            second.calls += 1;
            match call.kind {
                CallKind::Failure | CallKind::Timeout => second.failures += 1,
                CallKind::Rejected | CallKind::Busy => second.unknown += 1,
                _ => {}
            }
        }
        let first = input.seconds.iter().position(Second::is_degraded);
        let last = input.seconds.iter().rposition(Second::is_degraded);
        input.degraded = first
            .zip(last)
            .map(|(first, last)| (first as u64 * 1000, (last as u64 + 1) * 1000));
        input
    }

    /// The second of the input `at_ms` falls in (the last one for a later moment).
    fn second_at(&self, at_ms: u64) -> usize {
        let second =
            usize::try_from(at_ms.saturating_sub(self.start_ms) / 1000).unwrap_or(usize::MAX);
        if self.seconds.is_empty() {
            second
        } else {
            second.min(self.seconds.len() - 1)
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
            transitions: Vec::new(),
            first_refusal: None,
            recovery_to_last_refusal: self.degraded.map(|_| Duration::ZERO),
            refused_per_second: vec![0; self.seconds.len()],
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
        for Event {
            end_ms,
            index,
            start_ms,
        } in events(self.trace, &self.calls, &config)
        {
            let call = self.calls[index];
            let Some(outcome) = outcome_of(call.kind) else {
                if call.kind != CallKind::Ignored {
                    report.unknown += 1;
                }
                continue;
            };
            // Its admission at its start, unless a call that ended later than it started has
            // moved the clock past that already.
            clock.advance_to(start_ms);
            let Some(ticket) = breaker.admit_offered(start_ms) else {
                self.refused(&mut report, call.kind, start_ms);
                continue;
            };
            clock.advance_to(end_ms);
            let ran_ms = call.duration.map(millis);
            breaker.end_offered(ticket, cut_short(outcome, ran_ms, config.timeout()));
        }
        report.failures_let_through = breaker.metrics().counters.failures;
        report.transitions =
            std::mem::take(&mut *transitions.lock().unwrap_or_else(PoisonError::into_inner));
        report
    }

    /// Counts in `report` a call that ended as `kind`, refused at `at_ms`.
    fn refused(&self, report: &mut Report, kind: CallKind, at_ms: u64) {
        report.refused_per_second[self.second_at(at_ms)] += 1;
        if matches!(kind, CallKind::Success | CallKind::Slow) {
            report.successes_refused += 1;
        } else {
            report.failures_refused += 1;
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

/// A call as a configuration replays it: call `index`, admitted at `start_ms`, ended at
/// `end_ms` (on the recorded breaker's clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    end_ms: u64,
    index: usize,
    start_ms: u64,
}

/// `calls` (`trace`'s) under `config`, in the order they end: a timed call started its
/// duration before its end, and ends at the configuration's `timeout_ms` if it ran past it.
fn events(trace: &Trace, calls: &[&TraceEntry], config: &Config) -> Vec<Event> {
    let timeout_ms = config.timeout().map(millis);
    let mut events: Vec<Event> = calls
        .iter()
        .enumerate()
        .map(|(index, call)| {
            let ran_ms = call.duration.map_or(0, millis);
            let start_ms = trace.clock_at(call).saturating_sub(ran_ms);
            let cut_ms = timeout_ms.map_or(ran_ms, |limit| ran_ms.min(limit));
            Event {
                end_ms: start_ms + cut_ms,
                index,
                start_ms,
            }
        })
        .collect();
    events.sort_unstable();
    events
}

impl Replay {
    /// The input's calls per second (grey), failures per second (red) and each
    /// configuration's refusals per second (a line each, in `colours`' order, cycling).
    #[must_use]
    pub fn chart(&self, title: &str) -> Chart {
        const COLOURS: [&str; 6] = [
            "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
        ];
        let per_second =
            |values: &mut dyn Iterator<Item = u32>| -> Vec<f64> { values.map(f64::from).collect() };
        let mut chart = Chart::new(title, "calls per second")
            .area(
                "calls",
                "#e6e6e6",
                per_second(&mut self.seconds.iter().map(|second| second.calls)),
            )
            .area(
                "failures",
                "#f4b6b6",
                per_second(&mut self.seconds.iter().map(|second| second.failures)),
            );
        for (report, colour) in self.reports.iter().zip(COLOURS.iter().cycle()) {
            chart = chart.line(
                &format!("{}: refused", report.name),
                colour,
                per_second(&mut report.refused_per_second.iter().copied()),
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
            "| configuration | failures let through | good calls refused | failures refused | unknown | transitions | first refusal (s) | recovery → last refusal (s) |"
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
        for report in &self.reports {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                report.name.replace('|', "\\|"),
                report.failures_let_through,
                report.successes_refused,
                report.failures_refused,
                report.unknown,
                report.transitions.len(),
                seconds(report.first_refusal),
                seconds(report.recovery_to_last_refusal),
            )?;
        }
        Ok(())
    }
}
