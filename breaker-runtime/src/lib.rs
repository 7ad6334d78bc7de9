//! The runtime behind the `breaker` crate: a lock-free circuit breaker with Hystrix's state
//! machine, usable directly or through the `#[circuit_breaker]` attribute.
//!
//! Most applications depend on `breaker` and use the attribute; this crate is what the
//! attribute's generated code calls, and what you use for breakers made at run time, one per
//! host or per key.
//!
//! ```
//! use breaker_runtime::{BreakerError, CircuitBreaker, Config, Failure, State};
//!
//! let breaker = CircuitBreaker::new("recommendations", Config::builder()
//!     .consecutive_failures(3)
//!     .sleep_window_ms(10_000)
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
//! # Ok::<(), breaker_runtime::ConfigError>(())
//! ```
//!
//! [`CircuitBreaker`] documents the states and outcome rules; [`Config`] the settings and their
//! defaults; [`registry`] finding breakers by name; [`Transition`] observing them.
//!
//! # Features
//! - `tokio`: enforces [`Config::timeout_ms`] on async calls with Tokio's timer.
//! - `tracing`: a `tracing` event on every state transition.
//! - `test-util`: [`TestClock`], to move a breaker's time in tests without sleeping.

mod breaker;
mod call;
mod clock;
mod config;
mod error;
mod lane;
pub mod limits;
mod metrics;
mod name;
mod permit;
pub mod registry;
mod state;
mod sync;
mod transition;
mod window;

#[cfg(all(test, loom))]
mod loom_tests;

pub use breaker::CircuitBreaker;
pub use call::CallAsync;
#[cfg(feature = "test-util")]
pub use clock::TestClock;
pub use config::{Config, ConfigBuilder, ConfigError};
pub use error::{BreakerError, Failure};
pub use metrics::Metrics;
pub use name::Name;
pub use state::State;
pub use transition::Transition;
