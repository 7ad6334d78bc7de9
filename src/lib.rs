//! Hystrix-style circuit breakers for Rust, declared by annotation and checked at compile time,
//! or made at run time.
//!
//! A circuit breaker stops an application from calling an operation that is likely to fail. It
//! stays **closed** while calls succeed and watches the failure rate; it trips **open** when
//! failures cross a threshold and then fails every call at once (or serves a fallback) instead
//! of waiting on a dead dependency; after a sleep window it goes **half-open** and lets a few
//! trial calls through; their success closes it, a failure opens it again.
//!
//! ```text
//!            failures ≥ threshold                    sleep window passed
//!  Closed ─────────────────────────▶ Open ───────────────────────────▶ HalfOpen
//!    ▲                                 ▲                                   │
//!    │                                 └───────── a trial fails ───────────┤
//!    └─────────────────── every trial succeeds ────────────────────────────┘
//! ```
//!
//! ```toml
//! [dependencies]
//! fusebox = { version = "0.1", features = ["tokio"] }  # `tokio` only for `timeout_ms`
//! ```
//!
//! The attribute finds the crate under whatever name `Cargo.toml` gives it (`breaker = {
//! package = "fusebox", … }` works as it is); only a crate that re-exports `fusebox` under
//! another path tells it where with `crate = path::to::fusebox`.
//!
//! # By annotation
//!
//! [`circuit_breaker`] gives a function a breaker of its own, configured and checked at
//! compile time, as Hystrix's `@HystrixCommand`:
//!
//! ```
//! use fusebox::{BreakerError, circuit_breaker};
//!
//! #[derive(Debug)]
//! enum RecsError { Backend, Unavailable(BreakerError) }
//!
//! impl From<BreakerError> for RecsError {
//!     fn from(error: BreakerError) -> Self { RecsError::Unavailable(error) }
//! }
//!
//! #[circuit_breaker(consecutive_failures = 2, sleep_window_ms = 10000, fallback = "popular")]
//! fn recommendations(user: u64) -> Result<Vec<&'static str>, RecsError> {
//!     if user == 0 { Err(RecsError::Backend) } else { Ok(vec!["picked for you"]) }
//! }
//!
//! fn popular(_user: u64) -> Result<Vec<&'static str>, RecsError> {
//!     Ok(vec!["popular this week"])
//! }
//!
//! assert_eq!(recommendations(1).unwrap(), ["picked for you"]);
//! // The backend fails twice: the fallback answers, and the circuit opens…
//! assert_eq!(recommendations(0).unwrap(), ["popular this week"]);
//! assert_eq!(recommendations(0).unwrap(), ["popular this week"]);
//! // …so the next caller gets the fallback at once, without calling the backend.
//! assert_eq!(recommendations(1).unwrap(), ["popular this week"]);
//! ```
//!
//! # By hand
//!
//! [`CircuitBreaker`] is the same breaker as a value, for breakers made at run time (one per
//! host, one per key). It documents the state machine and the outcome rules in full.
//!
//! ```
//! use fusebox::{CircuitBreaker, Config, Failure, State};
//!
//! let breaker = CircuitBreaker::new(format!("inventory@{}", "10.0.0.7"), Config::builder()
//!     .error_threshold(50)
//!     .request_volume_threshold(4)
//!     .build()?);
//! for _ in 0..4 {
//!     let _ = breaker.call(|| Err::<(), _>("connection refused"));
//! }
//! assert_eq!(breaker.state(), State::Open);
//! assert!(matches!(breaker.call(|| Ok::<_, &str>(())), Err(Failure::Breaker(_))));
//! # Ok::<(), fusebox::ConfigError>(())
//! ```
//!
//! # Outcomes
//!
//! Every call ends in one of these, whether it went through the attribute or the runtime API
//! ([`CircuitBreaker::call`] returns `Result<T, Failure<E>>`; an annotated function returns its
//! own `Result<T, E>`):
//!
//! | what happened | counts as | caller gets, without a fallback | fallback called |
//! |---|---|---|---|
//! | `Ok(v)` | success | `Ok(v)` | no |
//! | `Err(e)`, `failure_if` absent or true | failure | `Err(e)` | yes |
//! | `Err(e)`, `failure_if` false | success | `Err(e)` | no |
//! | circuit open, or half-open with its trial permits taken | rejection (not in the error rate) | `Err(BreakerError::Open { .. }.into())` | yes |
//! | `timeout_ms` elapsed (`async fn`, `tokio` feature) | failure and timeout | `Err(BreakerError::Timeout { .. }.into())` | yes |
//! | `max_concurrent` calls in flight | rejection (not in the error rate) | `Err(BreakerError::Busy { .. }.into())` | yes |
//! | the body panicked | failure; the panic keeps unwinding | — | no |
//! | the future was dropped before it finished | nothing; permits and slots are returned | — | no |
//! | with `retry`: a failure or timeout, attempts and budget left, `retry_if` true | this attempt as above; another is made after the wait | the last attempt's answer | once, after the last |
//! | with `retry`: a refusal after a failed attempt | the refusal, as above; no further attempt | the refusal | yes |
//! | with `retry`: the retry budget spent | [`Counters::retries_denied`] | the last error | yes |
//!
//! With `retry`, every attempt goes through the breaker (admitted, counted, classified), the
//! waits double from `retry_backoff_ms` up to `retry_backoff_max_ms` (an `async fn` waits on
//! Tokio's timer, a sync function sleeps its thread), `timeout_ms` bounds each attempt, and the
//! budget keeps the window's retries within `retry_budget` percent of its first attempts plus
//! 10; see [`Retry`] for the same in code.
//!
//! An outcome counts only in the state period its call was admitted in: a slow success
//! admitted before the circuit opened does not close it, and a late failure does not re-open
//! a circuit that has closed since.
//!
//! # Observing and operating
//!
//! [`registry::get`] and [`registry::all`] find breakers by name (every annotated function's
//! breaker is registered from the start, before its first call, under
//! `module_path!()::fn_name` unless it is given a `name`; [`registry::check`] reports two
//! functions that would share one by accident); [`CircuitBreaker::metrics`] is a snapshot of its
//! window with its [`Counters`] since creation; [`CircuitBreaker::on_transition`] and
//! [`registry::on_transition`] report every state change (and so does `tracing`, with the
//! `tracing` feature); `force_open`, `force_closed`, `release` and `reset` are the operator's
//! levers. With the `metrics` feature, `metrics::publish()` hands every breaker's figures to the
//! `metrics` facade (Prometheus and the rest); with the `http` feature, `http::router()` serves
//! them as JSON, as Server-Sent Events and as a live dashboard page, and `http::admin_router()`
//! adds the levers.
//!
//! # Configuration in production
//!
//! The attribute's values are the function's compiled defaults. With the `serde` feature,
//! `Overrides` (a TOML file, the environment, or a table of the application's own
//! configuration) change them at startup or at run time through `registry::apply`, which
//! checks everything and applies all of it or nothing; [`CircuitBreaker::reconfigure`] sets a
//! breaker's configuration from code. A live breaker keeps its state and window.
//!
//! # Many breakers
//!
//! A breaker takes about 310 bytes when idle and does not grow with the number of threads that
//! call it one after another; dropping it frees everything it holds, its name included.
//! [`Keyed`] is a family of breakers, one per key (a host, a tenant), made at each key's first
//! call, bounded in number, whose idle keys are evicted; [`registry::remove`] unlists a breaker.
//!
//! # Testing code that uses breakers
//!
//! With the `test-util` feature, a `TestClock` (see `CircuitBreaker::set_clock`) moves a breaker's
//! time without sleeping: trip it, advance past the sleep window, watch it half-open.
//!
//! # Features
//!
//! - `tokio`: `timeout_ms` for async functions (and `ConfigBuilder::timeout`), enforced with
//!   Tokio's timer. Without it, `timeout_ms` is a compile error that names the feature.
//! - `tracing`: a `tracing` event on every state transition.
//! - `test-util`: `TestClock`.
//! - `simulate`: `simulate::replay`, a recorded trace or a `Scenario` replayed against
//!   configurations on the real state machine and a virtual clock.
//! - `serde`: `Overrides` and `registry::apply`; `Config` and `Metrics` (de)serialize.
//! - `metrics`: `metrics::publish()` through the `metrics` facade; with `tokio`, also
//!   `metrics::spawn_publisher`.
//! - `http`: `http::router()` and `http::admin_router()`, axum routes with the dashboard
//!   (implies `serde` and `tokio`).
//! - `tower`: `tower::CircuitBreakerLayer` (and `per_key`), a breaker in front of any tower
//!   service, with HTTP and gRPC classifiers.
//! - `reqwest`: `reqwest::CircuitBreakerMiddleware`, one breaker per host for a
//!   `reqwest-middleware` client.
//! - `axum`: `BreakerError` and `Failure<E>` answer as axum responses (503 with `Retry-After`,
//!   503 when busy, 504 on a timeout).
//! - `redis`: fleet mode, `fleet::start`: breakers with `fleet = true` share their counts with
//!   the service's other instances through Redis, in the background, and trip together on the
//!   fleet's failures (with a quorum of failing instances); nothing is added to a call.
//!
//! Async calls need no particular executor; only timeouts need Tokio's timer.
//!
//! # Stability
//!
//! The module `__private` (hidden) is what generated code calls; it is not public API and may
//! change in any release.

#![cfg_attr(docsrs, feature(doc_cfg))]

// Generated code names the facade `::fusebox`; inside this crate's own examples and doctests
// that path must resolve too.
extern crate self as fusebox;

#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub use breaker_runtime::TestClock;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use breaker_runtime::fleet;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use breaker_runtime::http;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub use breaker_runtime::metrics;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use breaker_runtime::reqwest;
#[cfg(feature = "simulate")]
#[cfg_attr(docsrs, doc(cfg(feature = "simulate")))]
pub use breaker_runtime::simulate;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use breaker_runtime::tower;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use breaker_runtime::{Applied, Change, ENV_PREFIX, Overrides, OverridesError, Source};
pub use breaker_runtime::{
    Attempts, BUDGET_FLOOR, BreakerError, BreakerHealth, CallAsync, CallEvent, CallKind,
    CircuitBreaker, Config, ConfigBuilder, ConfigError, ConfigKey, Counters, Failure, FleetState,
    FleetView, Health, HealthStatus, KeyKind, Keyed, Latency, Metrics, Name, PartialConfig, Policy,
    Retry, ShadowMetrics, State, TRACE_LEN, Trace, TraceEntry, Transition, Transitions,
    UnknownPolicy, limits, registry,
};

/// Runs a function through a circuit breaker of its own.
///
/// ```
/// use fusebox::{BreakerError, Failure, circuit_breaker};
///
/// #[derive(Debug)]
/// enum RecsError { Backend(String), Unavailable(BreakerError) }
///
/// impl From<BreakerError> for RecsError {
///     fn from(error: BreakerError) -> Self { RecsError::Unavailable(error) }
/// }
///
/// #[circuit_breaker(error_threshold = 50, sleep_window_ms = 10000, fallback = "default_recs")]
/// fn recommendations(user: u64) -> Result<Vec<String>, RecsError> {
///     if user == 0 {
///         return Err(RecsError::Backend("recommendation service: 503".into()));
///     }
///     Ok(vec![format!("picked for {user}")])
/// }
///
/// fn default_recs(user: u64) -> Result<Vec<String>, RecsError> {
///     let _ = user;
///     Ok(vec!["popular this week".into()])
/// }
///
/// assert_eq!(recommendations(7).unwrap(), ["picked for 7"]);
/// assert_eq!(recommendations(0).unwrap(), ["popular this week"]);
/// ```
///
/// It goes on a `fn` or `async fn` returning `Result<T, E>` (or an alias named `…Result`): a
/// free function, or a method taking `&self`, `&mut self` or `self` in an inherent or trait
/// impl, generic or not. The signature, attributes, docs and visibility stay as written; the
/// body runs through a breaker registered in [`registry`] under its name at startup, before
/// any call (the linker gathers every annotated function's declaration, so `registry::all()`
/// lists it and overrides reach it from the start of `main`); a `static` inside the function
/// finds it at the first call. `return` and `?` in the body behave as before.
///
/// # Keys
///
/// Every value is checked at compile time against [`limits`], the same limits
/// [`Config::builder`] enforces; a bad one is a compile error at the value that says what is
/// allowed.
///
/// | key | default | allowed | meaning |
/// |---|---|---|---|
/// | `name` | `module_path!()::fn_name` | non-empty, no whitespace | the breaker's name; functions that give the same name share one breaker (configured by whichever is called first) |
/// | `error_threshold` | 50 | 1..=100 | trip when failures are at least this percent of the calls in the window… |
/// | `request_volume_threshold` | 20 | ≥ 1 | …and the window holds at least this many calls |
/// | `window_ms` | 10000 | 10 ms..=1 day | length of the rolling window |
/// | `window_buckets` | 10 | 1..=1000, divides `window_ms` into buckets of at least 10 ms | buckets the window is kept in |
/// | `sleep_window_ms` | 5000 | 1 ms..=1 day | how long the circuit stays open before a trial call |
/// | `half_open_max_calls` | 1 | 1..=65535 | trial calls while half-open; all must succeed to close |
/// | `consecutive_failures` | off | ≥ 1 | also trip after this many failures in a row |
/// | `timeout_ms` | off | 1 ms..=1 day | async calls only, needs the `tokio` feature: a call still running is dropped and fails |
/// | `max_concurrent` | off | ≥ 1 | bulkhead: calls beyond this many in flight are rejected at once |
/// | `slow_call_ms` | off | 10 ms..=1 day | a call taking longer is slow (timed on the breaker's coarse clock, hence at least 10 ms) |
/// | `slow_call_threshold` | 100 | 1..=100, with `slow_call_ms` | trip when slow calls are at least this percent of the calls in the window (volume reached) |
/// | `sleep_window_max_ms` | off | 1 ms..=1 day, at least `sleep_window_ms` | backoff: each re-opening after a failed trial sleeps twice as long, up to this; back to `sleep_window_ms` once closed |
/// | `sleep_window_jitter` | off | 1..=100 | lengthen each sleep window by a random share of itself, up to this percent |
/// | `half_open_max_wait_ms` | off | 1 ms..=1 day | a half-open period whose trials have not all finished after this long re-opens (their late outcomes are ignored) |
/// | `fleet` | false | `true` or `false` | with fleet mode running (`redis` feature, `fleet::start`), share the counts with the service's other instances and trip on the fleet's |
/// | `critical` | false | `true` or `false` | an open breaker makes `registry::health()` `Down` (503 on `GET /health`) rather than `Degraded` |
/// | `record_latency` | false | `true` or `false` | time each call on the fine clock: p50 and p99 in the metrics and the dashboard, `breaker_call_duration_seconds` |
/// | `trace_calls` | false | `true` or `false` | run each call in a `tracing` span with the breaker's name, the state at admission and the outcome (`tracing` feature) |
/// | `retry` | off | 1..=10 | attempts after the first: a failed or timed-out call is made again, through the breaker; a refusal is never retried |
/// | `retry_backoff_ms` | 50 | 1 ms..=1 day, with `retry` | wait before the first retry; doubled before each next one |
/// | `retry_backoff_max_ms` | off | 1 ms..=1 day, at least `retry_backoff_ms`, with `retry` | the longest wait between attempts (20 × `retry_backoff_ms` unless set) |
/// | `retry_jitter` | off | 1..=100, with `retry` | lengthen each wait between attempts by a random share of itself, up to this percent |
/// | `retry_budget` | 20 | 1..=100, with `retry` | retries within the window stay at most this percent of its first attempts, plus 10 |
/// | `policy` | "threshold" | `"threshold"` or `"adaptive"` | `"adaptive"`: no thresholds to choose; it trips within a second on a majority of failures and probes its way back (below) |
/// | `record` | false | `true` or `false` | keep the last 16,384 calls (time, outcome, duration) for `CircuitBreaker::trace`, `GET /breakers/{name}/trace` and replays |
/// | `key` | none | an argument's name, bare or as a string | one breaker per distinct value of that argument (below) |
/// | `max_keys` | 10000 | 1..=1000000, with `key` | at most this many keys have breakers of their own; the rest share one overflow breaker |
/// | `max_key_len` | 256 | 1..=65536, with `key` | a value whose `Display` is longer than this many bytes shares the overflow breaker too |
/// | `fallback` | none | a path, bare or as a string | called instead of failing (below) |
/// | `failure_if` | every `Err` fails | a path to `fn(&E) -> bool`, bare or as a string | an `Err` for which it returns false counts as a success and gets no fallback |
/// | `retry_if` | every failure | a path to `fn(&E) -> bool`, bare or as a string, with `retry` | only the errors for which it returns true are retried |
/// | `crate` | found in `Cargo.toml` | a path, bare or as a string | where this crate is, when it is re-exported by another crate |
///
/// # One breaker per key
///
/// `key = "host"` gives the function a [`Keyed`] family instead of one breaker: each distinct
/// value of the argument `host` has a breaker of its own, named `<the function's breaker
/// name>/<value>` and registered, made at that value's first call, with the same keys,
/// fallback and `failure_if` as the function. The argument's type (or, for a reference `&T`,
/// `T`) must be `Hash + Eq + Display`, and cloneable into an owned key (`ToOwned`, as `str`
/// into `String`); a compile error at the argument's type says which is missing. At most
/// `max_keys` values, each displayed in at most `max_key_len` bytes, have breakers of their
/// own; see [`Keyed`] for the bound on their memory and for eviction.
///
/// ```
/// use fusebox::{BreakerError, State, circuit_breaker, registry};
///
/// #[derive(Debug)]
/// struct Unavailable;
/// impl From<BreakerError> for Unavailable {
///     fn from(_: BreakerError) -> Self { Unavailable }
/// }
///
/// #[circuit_breaker(name = "inventory", key = "warehouse", consecutive_failures = 1)]
/// fn stock(warehouse: &str, item: u32) -> Result<u32, Unavailable> {
///     if warehouse == "flooded" { Err(Unavailable) } else { Ok(item * 10) }
/// }
///
/// assert!(stock("flooded", 1).is_err());
/// assert_eq!(stock("dry", 1).unwrap(), 10);
/// assert_eq!(registry::get("inventory/flooded").unwrap().state(), State::Open);
/// assert_eq!(registry::get("inventory/dry").unwrap().state(), State::Closed);
/// ```
///
/// # Outcomes
///
/// As [`CircuitBreaker`]'s: `Ok` succeeds; a counted `Err` fails; a panic fails and keeps
/// unwinding (no fallback); a dropped future records nothing and frees its permits. When the
/// breaker answers instead of the body (open, busy, timed out) the caller gets the fallback's
/// answer, or without a fallback `Err(BreakerError.into())`: the error type must then
/// implement `From<BreakerError>`, and the compile error says so when it does not.
///
/// # Fallback
///
/// `fallback = "f"` names a function taking the same arguments and returning the same type as
/// the annotated one (for an `async fn`, an `async fn`), optionally with one more, last,
/// parameter [`Failure<E>`] saying why it was called. For a method, `"f"` and `"Self::f"` both
/// name an associated function of the same type taking the same receiver. It is called for
/// counted failures, rejections and timeouts, never for an `Ok`, an `Err` that `failure_if`
/// let pass, or a panic.
///
/// The fallback receives the caller's arguments: references are handed on after the call at
/// no cost; other arguments are cloned before the call (a copy for `Copy` types), only when a
/// fallback is declared, so they must be `Clone`. An argument written as a pattern
/// (`(user, limit): (u64, u64)`, or axum's `Path(user): Path<u64>`) is passed to the fallback
/// whole. A fallback may also take no parameters at all: then nothing is cloned, for arguments
/// that cannot be (axum's extractors are not `Clone`). (A fallback of only a `Failure<E>`
/// parameter is the no-argument form of a function without arguments; for one with arguments,
/// one parameter would read as its first argument.)
///
/// ```
/// use fusebox::{BreakerError, circuit_breaker};
///
/// struct Path<T>(T); // an extractor, as axum's: not `Clone`
///
/// #[derive(Debug, PartialEq)]
/// struct Unavailable;
///
/// #[circuit_breaker(consecutive_failures = 1, fallback = "try_later")]
/// async fn profile(Path(user): Path<u64>) -> Result<String, Unavailable> {
///     if user == 0 { Err(Unavailable) } else { Ok(format!("user {user}")) }
/// }
///
/// async fn try_later() -> Result<String, Unavailable> {
///     Ok("try again later".to_owned())
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// assert_eq!(profile(Path(0)).await.unwrap(), "try again later");
/// # }
/// ```
///
/// ```
/// use fusebox::{BreakerError, Failure, circuit_breaker};
///
/// struct Catalog { cache: Vec<u32> }
///
/// impl Catalog {
///     #[circuit_breaker(consecutive_failures = 3, fallback = "cached")]
///     fn price(&self, item: usize) -> Result<u32, String> {
///         Err(format!("pricing service refused item {item}"))
///     }
///
///     fn cached(&self, item: usize, why: Failure<String>) -> Result<u32, String> {
///         match why {
///             Failure::Error(_) | Failure::Breaker(BreakerError::Open { .. }) => {
///                 self.cache.get(item).copied().ok_or_else(|| "not cached".to_owned())
///             }
///             Failure::Breaker(other) => Err(other.to_string()),
///         }
///     }
/// }
///
/// let catalog = Catalog { cache: vec![120, 80] };
/// assert_eq!(catalog.price(1), Ok(80));
/// ```
pub use breaker_macros::circuit_breaker;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
