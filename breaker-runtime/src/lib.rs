//! The runtime behind the `fusebox` crate: a lock-free circuit breaker with Hystrix's state
//! machine. Depend on `fusebox`, which re-exports everything here together with the
//! `#[circuit_breaker]` attribute; this crate is what the attribute's generated code calls.
//!
//! ```
//! use std::time::Duration;
//! use fusebox::{CircuitBreaker, Config, State};
//!
//! let breaker = CircuitBreaker::new("recommendations", Config::builder()
//!     .consecutive_failures(3)
//!     .sleep_window(Duration::from_secs(10))
//!     .build()?);
//!
//! for _ in 0..3 {
//!     let _ = breaker.call(|| Err::<Vec<&str>, _>("upstream timed out"));
//! }
//! assert_eq!(breaker.state(), State::Open);
//!
//! // Open: the call does not run, the caller gets an answer at once.
//! let movies = breaker
//!     .call(|| Ok::<_, &str>(vec!["fetched"]))
//!     .unwrap_or_else(|_| vec!["popular", "classics"]);
//! assert_eq!(movies, ["popular", "classics"]);
//! # Ok::<(), fusebox::ConfigError>(())
//! ```
//!
//! One call reads top-down through the modules: `breaker` (the public type) → `admission`
//! (a permit, or a refusal) → the operation → `outcome` (counted in the `window`, judged by the
//! trip rules) → `state` (every transition of the state word) → `listener` (who is told).
//!
//! # Features
//! - `tokio`: enforces [`Config::timeout`] on async calls with Tokio's timer.
//! - `tracing`: a `tracing` event on every state transition.
//! - `test-util`: `TestClock`, to move a breaker's time in tests without sleeping.
//! - `simulate`: `simulate::replay`, recorded traces or scenarios replayed against
//!   configurations on the real state machine and a virtual clock.
//! - `serde`: `Overrides` (configuration from TOML files, the environment or any serde loader,
//!   applied with `registry::apply`); `Config` and `Metrics` (de)serialize.
//! - `metrics`: `metrics::publish()`, every breaker's figures through the `metrics` facade.
//! - `tower`: `tower::CircuitBreakerLayer`, a breaker in front of any tower service, with
//!   classifiers for HTTP and gRPC responses.
//! - `axum`: `BreakerError` and `Failure` answer as HTTP responses (503, 504).
//! - `reqwest`: `reqwest::CircuitBreakerMiddleware`, one breaker per host for a
//!   `reqwest-middleware` client.
//! - `http`: `http::router()`, every breaker as JSON, a Server-Sent Events stream and a live
//!   dashboard page, as an axum router.
//! - `redis`: `fleet::start`, fleet mode: breakers with `fleet = true` share their counts with
//!   the service's other instances through Redis, off the call path.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod admission;
mod backoff;
mod breaker;
mod call;
mod call_event;
#[cfg(feature = "tower")]
mod classify;
mod clock;
mod config;
mod counters;
mod error;
mod extras;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod fleet;
#[cfg(feature = "redis")]
mod fleet_seam;
mod fleet_view;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod keyed;
mod latency;
mod listeners;
// Public with the `metrics` feature (the publisher); `Metrics` is there either way.
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
#[cfg(not(feature = "metrics"))]
mod metrics;
mod name;
mod outcome;
mod policy;
pub mod registry;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub mod reqwest;
#[cfg(feature = "axum")]
mod response;
mod retry;
mod shadow;
#[cfg(feature = "simulate")]
#[cfg_attr(docsrs, doc(cfg(feature = "simulate")))]
pub mod simulate;
#[cfg(feature = "tracing")]
mod span;
mod state;
mod sync;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
mod trace;
mod transition;
mod trip;
mod tripwires;
mod window;

#[cfg(all(test, loom))]
mod loom_tests;

pub use breaker::CircuitBreaker;
pub use call::CallAsync;
pub use call_event::{CallEvent, CallKind};
#[cfg(feature = "test-util")]
pub use clock::TestClock;
#[doc(hidden)]
pub use config::declaration::{DECLARATIONS, Declaration};
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use config::overrides::{ENV_PREFIX, Overrides, OverridesError, Source};
pub use config::{Config, ConfigBuilder, ConfigError, ConfigKey, KeyKind, PartialConfig, limits};
pub use counters::{Counters, Transitions};
pub use error::{BreakerError, Failure};
pub use fleet_view::{FleetState, FleetView};
pub use keyed::Keyed;
pub use latency::Latency;
pub use metrics::Metrics;
pub use name::Name;
pub use policy::{Policy, UnknownPolicy};
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use registry::{Applied, Change};
pub use registry::{BreakerHealth, Health, HealthStatus};
pub use retry::{Attempts, BUDGET_FLOOR, Retry};
pub use shadow::ShadowMetrics;
pub use state::State;
pub use trace::{TRACE_LEN, Trace, TraceEntry};
pub use transition::Transition;
