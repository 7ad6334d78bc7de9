//! How each policy behaves, not how fast:
//! `cargo bench -p benchmarks --bench behaviour --features test-clock` (the test clock is a
//! feature of its own, so that the other benchmarks measure fusebox as applications build it).
//!
//! A backend is called 100 times a second through each policy, on the breaker's test clock
//! (no real time passes, and every run prints the same figures). Each scenario is a series of
//! phases of an error rate, after Shopify's Semian experiment suite (error spikes of 20, 60 and
//! 100 %, a gradual increase, oscillating errors, an error rate near the threshold, one of many
//! endpoints failing, a slow dependency timing out), plus a five-minute hard outage and five
//! minutes of healthy noise at 5 %. The outcome of every call is drawn once per scenario, so
//! every policy faces the same backend: a refused call is known to have been good or bad.
//!
//! The policies: no breaker; fusebox's threshold policy with Hystrix's defaults (50 % over at
//! least 20 calls in a 10 s window, 5 s sleep window) and with the design card's
//! (`error_threshold = 50, sleep_window_ms = 10000`), and `policy = "adaptive"`, each the real
//! `CircuitBreaker`; the candidate controllers the adaptive policy was chosen from, simulated
//! here: Google SRE's client-side throttling (reject with probability `(requests − K ×
//! accepts) / (requests + 1)` over a window), a proportional controller in the manner of
//! Semian's (shed the error rate's excess over an estimate of the healthy one), a linear one
//! (`2 × rate − 1`), controllers that shed all but a share of probes above an error rate, and
//! the threshold state machine at other speeds; and an oracle that knows each phase's error
//! rate and sheds every call while more than half fail, the bound for a policy that only sees
//! outcomes.
//!
//! For each scenario and policy: failed calls let through while the backend was degraded (its
//! error rate above the scenario's healthy base), good calls refused (at any time), seconds
//! from the start of the degradation to the first refusal, and from the end of the last
//! degraded phase to the last refusal. The sum of the first two is the score: a refused good
//! call costs as much as a failed one let through. Charts of the backend's error rate against
//! each policy's refusals, per second, are written to `docs/behaviour/<scenario>.svg`.

// A simulation of counts, seconds and percents, moved between integers and `f64` far below
// where a cast would lose anything.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::{fmt::Write as _, time::Duration};

use fusebox::{CircuitBreaker, Config, Failure, TestClock, simulate::Chart};

/// Calls per second.
const RATE: u64 = 100;
/// Milliseconds between calls.
const STEP_MS: u64 = 1_000 / RATE;

/// One phase of a scenario: how long, and what share of calls fail.
#[derive(Clone, Copy)]
struct Phase {
    seconds: u64,
    failing_percent: u64,
}

const fn phase(seconds: u64, failing_percent: u64) -> Phase {
    Phase {
        seconds,
        failing_percent,
    }
}

/// How a scenario's calls fail: at random with the phase's rate, or every tenth call (one
/// endpoint of ten failing outright, the calls spread over the endpoints in turn).
#[derive(Clone, Copy, PartialEq)]
enum Draw {
    Random,
    OneEndpointOfTen,
}

struct Scenario {
    name: &'static str,
    /// The error rate of a healthy backend: above it, the backend is degraded.
    base_percent: u64,
    phases: Vec<Phase>,
    draw: Draw,
}

fn scenarios() -> Vec<Scenario> {
    let healthy = 1;
    let spike = |name, percent| Scenario {
        name,
        base_percent: healthy,
        phases: vec![phase(60, healthy), phase(60, percent), phase(60, healthy)],
        draw: Draw::Random,
    };
    let mut gradual = vec![phase(60, healthy)];
    gradual.extend((1..=10).map(|step| phase(10, step * 10)));
    gradual.extend([phase(20, 100), phase(60, healthy)]);
    let mut oscillating = vec![phase(60, healthy)];
    for _ in 0..12 {
        oscillating.extend([phase(5, 90), phase(5, healthy)]);
    }
    oscillating.push(phase(60, healthy));
    let mut slow = vec![phase(60, healthy)];
    // Latency climbs past the timeout: a growing share of calls time out, then all but a few.
    slow.extend((1..=8).map(|step| phase(5, step * 10)));
    slow.extend([phase(60, 85), phase(60, healthy)]);
    vec![
        spike("spike 20 %", 20),
        spike("spike 60 %", 60),
        spike("spike 100 %", 100),
        Scenario {
            name: "gradual increase",
            base_percent: healthy,
            phases: gradual,
            draw: Draw::Random,
        },
        Scenario {
            name: "oscillating",
            base_percent: healthy,
            phases: oscillating,
            draw: Draw::Random,
        },
        spike("near threshold (45 %)", 45),
        Scenario {
            name: "one endpoint of ten",
            base_percent: healthy,
            phases: vec![phase(60, healthy), phase(120, 10), phase(60, healthy)],
            draw: Draw::OneEndpointOfTen,
        },
        Scenario {
            name: "slow dependency",
            base_percent: healthy,
            phases: slow,
            draw: Draw::Random,
        },
        spike("hard outage (5 min)", 100).with_middle(300),
        Scenario {
            name: "healthy noise 5 %",
            base_percent: 5,
            phases: vec![phase(300, 5)],
            draw: Draw::Random,
        },
    ]
}

impl Scenario {
    /// The spike's middle phase lasting `seconds`.
    fn with_middle(mut self, seconds: u64) -> Scenario {
        self.phases[1].seconds = seconds;
        self
    }

    /// Every call's outcome (true: success) and whether the backend was degraded then.
    fn calls(&self, seed: u64) -> Vec<(bool, bool)> {
        let mut random = SplitMix(seed);
        let mut calls = Vec::new();
        for phase in &self.phases {
            let degraded = phase.failing_percent > self.base_percent;
            for _ in 0..phase.seconds * RATE {
                let i = calls.len() as u64;
                let fails = match self.draw {
                    Draw::OneEndpointOfTen if degraded => i.is_multiple_of(10),
                    _ => random.next() % 100 < phase.failing_percent,
                };
                calls.push((!fails, degraded));
            }
        }
        calls
    }

    /// The backend's error rate in each second, in percent.
    fn rate_per_second(&self) -> Vec<f64> {
        self.phases
            .iter()
            .flat_map(|phase| {
                std::iter::repeat_n(phase.failing_percent as f64, phase.seconds as usize)
            })
            .collect()
    }
}

/// A small deterministic generator (SplitMix64): the same draws on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A policy under test: a call at `now_ms` that would end in `success` if it ran; whether the
/// policy let it run (and then it saw the outcome).
trait Contestant {
    fn call(&mut self, now_ms: u64, success: bool) -> bool;
}

/// A policy that decides before a call and learns its outcome after.
trait Controller {
    fn admit(&mut self, now_ms: u64) -> bool;
    fn record(&mut self, now_ms: u64, success: bool);
}

impl<C: Controller> Contestant for C {
    fn call(&mut self, now_ms: u64, success: bool) -> bool {
        let admitted = self.admit(now_ms);
        if admitted {
            self.record(now_ms, success);
        }
        admitted
    }
}

struct NoBreaker;

impl Controller for NoBreaker {
    fn admit(&mut self, _: u64) -> bool {
        true
    }
    fn record(&mut self, _: u64, _: bool) {}
}

/// fusebox's `CircuitBreaker` (either policy), on a test clock moved to each call's time.
struct RealBreaker {
    breaker: CircuitBreaker,
    clock: TestClock,
    at_ms: u64,
}

impl RealBreaker {
    fn new(config: Config) -> RealBreaker {
        let breaker = CircuitBreaker::new("behaviour", config);
        let clock = TestClock::new();
        assert!(breaker.set_clock(&clock));
        // A test clock starts at the system's time: aligned to a minute, the window's buckets
        // fall at the same calls on every run.
        clock.advance(Duration::from_millis(60_000 - clock.now_ms() % 60_000));
        RealBreaker {
            breaker,
            clock,
            at_ms: START_MS,
        }
    }
}

impl Contestant for RealBreaker {
    fn call(&mut self, now_ms: u64, success: bool) -> bool {
        self.clock
            .advance(Duration::from_millis(now_ms - self.at_ms));
        self.at_ms = now_ms;
        let result = self.breaker.call(|| if success { Ok(()) } else { Err(()) });
        !matches!(result, Err(Failure::Breaker(_)))
    }
}

/// Two counts over a rolling window of `buckets` buckets of `bucket_ms`.
struct Rolling {
    bucket_ms: u64,
    buckets: Vec<(u64, f64, f64)>,
}

impl Rolling {
    fn new(window_ms: u64, buckets: usize) -> Rolling {
        Rolling {
            bucket_ms: window_ms / buckets as u64,
            buckets: vec![(u64::MAX, 0.0, 0.0); buckets],
        }
    }

    fn add(&mut self, now_ms: u64, a: f64, b: f64) {
        let period = now_ms / self.bucket_ms;
        let len = self.buckets.len() as u64;
        let bucket = &mut self.buckets[(period % len) as usize];
        if bucket.0 != period {
            *bucket = (period, 0.0, 0.0);
        }
        bucket.1 += a;
        bucket.2 += b;
    }

    fn totals(&self, now_ms: u64) -> (f64, f64) {
        let period = now_ms / self.bucket_ms;
        let len = self.buckets.len() as u64;
        self.buckets
            .iter()
            .filter(|(at, ..)| *at != u64::MAX && period - *at < len)
            .fold((0.0, 0.0), |(a, b), (_, x, y)| (a + x, b + y))
    }
}

/// Google SRE's client-side adaptive throttling: reject with probability
/// `max(0, (requests − k × accepts) / (requests + 1))` over the last `seconds`.
struct Throttle {
    k: f64,
    window: Rolling,
    random: SplitMix,
}

impl Throttle {
    fn new(k: f64, seconds: u64) -> Throttle {
        Throttle {
            k,
            window: Rolling::new(seconds * 1_000, 10),
            random: SplitMix(7),
        }
    }
}

impl Controller for Throttle {
    fn admit(&mut self, now_ms: u64) -> bool {
        let (requests, accepts) = self.window.totals(now_ms);
        let reject = ((requests - self.k * accepts) / (requests + 1.0)).max(0.0);
        let admitted = self.random.unit() >= reject;
        if !admitted {
            self.window.add(now_ms, 1.0, 0.0);
        }
        admitted
    }

    fn record(&mut self, now_ms: u64, success: bool) {
        self.window
            .add(now_ms, 1.0, if success { 1.0 } else { 0.0 });
    }
}

/// The shed share a controller wants from the error rate of the calls it admitted over its
/// window.
#[derive(Clone, Copy)]
enum Rule {
    /// Semian's proportional target: shed the error rate's excess over the healthy rate
    /// (estimated as a slow average while nothing is shed, at most 10 %).
    Excess,
    /// `2 × rate − 1`: shed a share that grows from nothing at 50 % errors to all at 100 %.
    Linear,
    /// All but the probes while more than this share of the calls fail, nothing otherwise.
    Above(f64),
}

/// A candidate controller (simulated) over the admitted calls' outcomes: its shed share, recomputed at
/// every call from a short rolling window, is what `rule` wants, never above `1 − probes`, so
/// that a share of calls keeps probing the backend while it sheds everything else; with fewer
/// than `volume` outcomes in the window it keeps its share.
struct Shedder {
    rule: Rule,
    probes: f64,
    /// Probes halve with each second of shedding everything, down to this.
    floor: f64,
    shedding_since: Option<u64>,
    volume: f64,
    window: Rolling,
    healthy: f64,
    shed: f64,
    random: SplitMix,
}

impl Shedder {
    fn new(rule: Rule, window_ms: u64, probes: f64) -> Shedder {
        Shedder {
            rule,
            probes,
            floor: probes,
            shedding_since: None,
            volume: 5.0,
            window: Rolling::new(window_ms, 10),
            healthy: 0.0,
            shed: 0.0,
            random: SplitMix(11),
        }
    }
}

impl Shedder {
    /// Probes that halve each second from `probes` down to `floor` while everything else is
    /// shed (judged on as few as two outcomes then, since probes are few).
    fn decaying(mut self, floor: f64) -> Shedder {
        self.floor = floor;
        self
    }
}

impl Controller for Shedder {
    fn admit(&mut self, now_ms: u64) -> bool {
        let (calls, failures) = self.window.totals(now_ms);
        let all_shed = self.shed >= 1.0 - self.probes;
        let volume = if all_shed && self.floor < self.probes {
            2.0
        } else {
            self.volume
        };
        if calls >= volume {
            let rate = failures / calls;
            let wanted = match self.rule {
                Rule::Excess => {
                    if self.shed == 0.0 {
                        self.healthy = (0.999 * self.healthy + 0.001 * rate).min(0.1);
                    }
                    rate - self.healthy
                }
                Rule::Linear => 2.0 * rate - 1.0,
                Rule::Above(trip) => {
                    if rate > trip {
                        1.0
                    } else {
                        0.0
                    }
                }
            };
            self.shed = wanted.clamp(0.0, 1.0 - self.probes);
        }
        if self.shed < 1.0 - self.probes {
            self.shedding_since = None;
            return self.shed == 0.0 || self.random.unit() >= self.shed;
        }
        let since = *self.shedding_since.get_or_insert(now_ms);
        let halvings = ((now_ms - since) / 1_000).min(30) as i32;
        let probes = (self.probes / 2f64.powi(halvings)).max(self.floor);
        self.random.unit() < probes
    }

    fn record(&mut self, now_ms: u64, success: bool) {
        self.window
            .add(now_ms, 1.0, if success { 0.0 } else { 1.0 });
    }
}

/// The bound no policy that sees only outcomes can beat: it knows each phase's error rate, and
/// sheds every call while more than half fail.
struct Oracle {
    rates: Vec<f64>,
}

impl Contestant for Oracle {
    fn call(&mut self, now_ms: u64, _: bool) -> bool {
        let second = ((now_ms - START_MS) / 1_000) as usize;
        self.rates.get(second).is_none_or(|rate| *rate <= 50.0)
    }
}

/// When the simulation's clock starts, in milliseconds.
const START_MS: u64 = 1_000_000;

/// What one policy did in one scenario.
#[derive(Default)]
struct Report {
    failed_let_through: u64,
    good_refused: u64,
    first_refusal_s: Option<f64>,
    recovery_to_last_refusal_s: Option<f64>,
    /// Refused share of each second's calls, in percent.
    refused_per_second: Vec<f64>,
}

impl Report {
    fn score(&self) -> u64 {
        self.failed_let_through + self.good_refused
    }
}

fn run(calls: &[(bool, bool)], policy: &mut dyn Contestant) -> Report {
    let mut report = Report::default();
    let degraded_from = calls.iter().position(|&(_, degraded)| degraded);
    let recovered_at = calls
        .iter()
        .rposition(|&(_, degraded)| degraded)
        .map(|i| i + 1);
    let mut refused_this_second: u32 = 0;
    let mut last_refusal = None;
    for (i, &(success, degraded)) in calls.iter().enumerate() {
        let now_ms = START_MS + i as u64 * STEP_MS;
        if policy.call(now_ms, success) {
            if !success && degraded {
                report.failed_let_through += 1;
            }
        } else {
            refused_this_second += 1;
            if success {
                report.good_refused += 1;
            }
            last_refusal = Some(i);
            if let Some(from) = degraded_from
                && report.first_refusal_s.is_none()
                && i >= from
            {
                report.first_refusal_s = Some((i - from) as f64 / RATE as f64);
            }
        }
        if ((i + 1) as u64).is_multiple_of(RATE) {
            report
                .refused_per_second
                .push(f64::from(refused_this_second) * 100.0 / RATE as f64);
            refused_this_second = 0;
        }
    }
    if let (Some(recovered), Some(last)) = (recovered_at, last_refusal) {
        report.recovery_to_last_refusal_s = Some(if last >= recovered {
            (last + 1 - recovered) as f64 / RATE as f64
        } else {
            0.0
        });
    }
    report
}

/// The threshold policy tuned fast: a short window of ten buckets, a trip above a share of
/// failures over at least 5 calls, and a short sleep window that doubles with each failed trial.
fn fast(window_ms: u64, percent: u64, sleep_ms: u64, longest_ms: u64) -> RealBreaker {
    RealBreaker::new(
        Config::builder()
            .window(Duration::from_millis(window_ms))
            .window_buckets(10)
            .error_threshold(percent)
            .request_volume_threshold(5)
            .sleep_window(Duration::from_millis(sleep_ms))
            .sleep_window_max(Duration::from_millis(longest_ms))
            .build()
            .expect("the fast threshold's keys"),
    )
}

/// A policy's name, and how to make it afresh for a scenario.
struct Contender {
    name: &'static str,
    make: fn() -> Box<dyn Contestant>,
    /// Its line's colour on the charts; empty for a candidate left off them (they would be
    /// unreadable with every line).
    colour: &'static str,
}

/// Every contender: the policies (no breaker first, Hystrix's defaults second: the ratios are
/// to it), then the candidate controllers.
fn contenders() -> Vec<Contender> {
    let mut contenders = policies();
    contenders.extend(candidates());
    contenders
}

/// No breaker, and fusebox's policies.
fn policies() -> Vec<Contender> {
    vec![
        Contender {
            name: "no breaker",
            make: || Box::new(NoBreaker),
            colour: "#999999",
        },
        Contender {
            name: "Hystrix defaults",
            make: || Box::new(RealBreaker::new(Config::default())),
            colour: "#d62728",
        },
        Contender {
            name: "design card",
            make: || {
                Box::new(RealBreaker::new(
                    Config::builder()
                        .error_threshold(50)
                        .sleep_window(Duration::from_secs(10))
                        .build()
                        .expect("the design card's keys"),
                ))
            },
            colour: "#ff7f0e",
        },
        Contender {
            name: "adaptive",
            make: || {
                Box::new(RealBreaker::new(
                    Config::builder()
                        .policy(fusebox::Policy::Adaptive)
                        .build()
                        .expect("the adaptive policy"),
                ))
            },
            colour: "#2ca02c",
        },
    ]
}

/// The controllers the adaptive policy was chosen from.
fn candidates() -> Vec<Contender> {
    vec![
        Contender {
            name: "SRE throttle K=2, 2 s",
            make: || Box::new(Throttle::new(2.0, 2)),
            colour: "#1f77b4",
        },
        Contender {
            name: "SRE throttle K=2, 10 s",
            make: || Box::new(Throttle::new(2.0, 10)),
            colour: "",
        },
        Contender {
            name: "SRE throttle K=1.5, 2 s",
            make: || Box::new(Throttle::new(1.5, 2)),
            colour: "",
        },
        Contender {
            name: "excess over healthy, 1 s",
            make: || Box::new(Shedder::new(Rule::Excess, 1_000, 0.05)),
            colour: "",
        },
        Contender {
            name: "linear 2f − 1, 1 s",
            make: || Box::new(Shedder::new(Rule::Linear, 1_000, 0.05)),
            colour: "",
        },
        Contender {
            name: "above 50 %, 1 s, 5 % probes",
            make: || Box::new(Shedder::new(Rule::Above(0.5), 1_000, 0.05)),
            colour: "",
        },
        Contender {
            name: "above 55 %, 1 s, 5 % probes",
            make: || Box::new(Shedder::new(Rule::Above(0.55), 1_000, 0.05)),
            colour: "",
        },
        Contender {
            name: "above 60 %, 1 s, 5 % probes",
            make: || Box::new(Shedder::new(Rule::Above(0.6), 1_000, 0.05)),
            colour: "",
        },
        Contender {
            name: "fast threshold: 1 s, > 55 %, trials 100 ms → 1 s",
            make: || Box::new(fast(1_000, 56, 100, 1_000)),
            colour: "",
        },
        Contender {
            name: "fast threshold: 2 s, > 55 %, trials 100 ms → 1 s",
            make: || Box::new(fast(2_000, 56, 100, 1_000)),
            colour: "",
        },
        Contender {
            name: "fast threshold: 1 s, > 60 %, trials 50 ms → 2 s",
            make: || Box::new(fast(1_000, 61, 50, 2_000)),
            colour: "",
        },
        Contender {
            name: "fast threshold: 500 ms, > 60 %, trials 100 ms → 1 s",
            make: || Box::new(fast(500, 61, 100, 1_000)),
            colour: "",
        },
        Contender {
            name: "above 60 %, 1 s, probes 5 % → 1 %",
            make: || Box::new(Shedder::new(Rule::Above(0.6), 1_000, 0.05).decaying(0.01)),
            colour: "",
        },
        Contender {
            name: "above 60 %, 1 s, probes 10 % → 2 %",
            make: || Box::new(Shedder::new(Rule::Above(0.6), 1_000, 0.1).decaying(0.02)),
            colour: "",
        },
    ]
}

fn main() {
    // `cargo test --benches` runs bench targets with no `--bench` flag: nothing to do then.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let scenarios = scenarios();
    let contenders = contenders();
    let mut totals = vec![0u64; contenders.len()];
    let mut worse_than_none = vec![Vec::new(); contenders.len()];
    let mut oracle_total = 0;
    let mut table = String::new();
    for (s, scenario) in scenarios.iter().enumerate() {
        let calls = scenario.calls(s as u64 + 1);
        let mut reports: Vec<Report> = contenders
            .iter()
            .map(|contender| {
                let mut policy = (contender.make)();
                run(&calls, policy.as_mut())
            })
            .collect();
        let oracle = run(
            &calls,
            &mut Oracle {
                rates: scenario.rate_per_second(),
            },
        );
        oracle_total += oracle.score();
        reports.push(oracle);
        let _ = writeln!(table, "\n{}\n", scenario.name);
        let _ = writeln!(
            table,
            "| policy | failed let through | good refused | sum | first refusal (s) | recovery → last refusal (s) |"
        );
        let _ = writeln!(table, "|---|---:|---:|---:|---:|---:|");
        for (c, (contender, report)) in contenders.iter().zip(&reports).enumerate() {
            totals[c] += report.score();
            if report.score() > reports[0].score() {
                worse_than_none[c].push(scenario.name);
            }
            let seconds =
                |value: Option<f64>| value.map_or("—".to_owned(), |s| format!("{s:.2}"));
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {} | {} |",
                contender.name,
                report.failed_let_through,
                report.good_refused,
                report.score(),
                seconds(report.first_refusal_s),
                seconds(report.recovery_to_last_refusal_s),
            );
        }
        let oracle = &reports[contenders.len()];
        let _ = writeln!(
            table,
            "| (oracle: sheds all while > 50 % fail) | {} | {} | {} | | |",
            oracle.failed_let_through,
            oracle.good_refused,
            oracle.score()
        );
        write_chart(scenario, &contenders, &reports);
    }
    println!("{table}");
    println!("\nover every scenario (sum of failed calls let through and good calls refused):\n");
    println!("| policy | total | ÷ Hystrix defaults | worse than no breaker in |");
    println!("|---|---:|---:|---|");
    for (c, contender) in contenders.iter().enumerate() {
        println!(
            "| {} | {} | {:.2} | {} |",
            contender.name,
            totals[c],
            totals[c] as f64 / totals[1] as f64,
            if worse_than_none[c].is_empty() {
                "—".to_owned()
            } else {
                worse_than_none[c].join(", ")
            }
        );
    }
    println!(
        "| (oracle: sheds all while > 50 % fail) | {oracle_total} | {:.2} | |",
        oracle_total as f64 / totals[1] as f64
    );
    println!("\ncharts: docs/behaviour/*.svg");
}

/// The scenario's chart: the backend's error rate per second (grey area) and each policy's
/// refused share per second (a line each), 0 to 100 %.
fn write_chart(scenario: &Scenario, contenders: &[Contender], reports: &[Report]) {
    let mut chart = Chart::new(
        &format!(
            "{}: backend error rate (grey) and refusals per second",
            scenario.name
        ),
        "% of calls",
    )
    .area("backend error rate", "#e6e6e6", scenario.rate_per_second());
    let charted = contenders
        .iter()
        .zip(reports)
        .skip(1)
        .filter(|(contender, _)| !contender.colour.is_empty());
    for (contender, report) in charted {
        chart = chart.line(
            contender.name,
            contender.colour,
            report.refused_per_second.clone(),
        );
    }
    let svg = chart.svg();
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/behaviour");
    std::fs::create_dir_all(directory).expect("docs/behaviour");
    let file: String = scenario
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    std::fs::write(format!("{directory}/{file}.svg"), svg).expect("write the chart");
}
