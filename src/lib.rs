//! Hystrix-style circuit breakers for Rust.
//!
//! A circuit breaker stops an application from calling an operation that is likely to fail. It
//! stays **closed** while calls succeed and watches the failure rate; it trips **open** when
//! failures cross a threshold and then fails every call at once instead of waiting on a dead
//! dependency; after a sleep window it goes **half-open** and lets a few trial calls through;
//! their success closes it, a failure opens it again.
//!
//! ```
//! use breaker::{CircuitBreaker, Config, State};
//!
//! let breaker = CircuitBreaker::new("recommendations", Config::builder()
//!     .error_threshold(50)
//!     .sleep_window_ms(10_000)
//!     .build()?);
//! let movies = breaker.call(|| Ok::<_, std::io::Error>(vec!["Heat"]));
//! assert_eq!(movies.unwrap(), ["Heat"]);
//! assert_eq!(breaker.state(), State::Closed);
//! # Ok::<(), breaker::ConfigError>(())
//! ```
//!
//! See [`CircuitBreaker`] for the state machine and the outcome rules.

#[cfg(feature = "test-util")]
pub use breaker_runtime::TestClock;
pub use breaker_runtime::{
    BreakerError, CircuitBreaker, Config, ConfigBuilder, ConfigError, Failure, Metrics, Name,
    State, Transition, limits, registry,
};

pub use breaker_macros::circuit_breaker;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
