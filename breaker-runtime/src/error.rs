//! What a caller gets back when the breaker, not the operation, decided the outcome.

use std::{fmt, time::Duration};

use crate::{Name, State};

/// Why the breaker answered a call itself instead of (or after) running it.
///
/// An annotated function without a fallback returns these as its own error type, which is why
/// that type must implement `From<BreakerError>`.
///
/// ```
/// use fusebox::{BreakerError, CircuitBreaker, Config, Failure};
///
/// let breaker = CircuitBreaker::new("ledger", Config::default());
/// breaker.force_open();
/// match breaker.call(|| Ok::<_, std::io::Error>(42)) {
///     Err(Failure::Breaker(error @ BreakerError::Open { .. })) => {
///         assert_eq!(error.name(), "ledger");
///         assert_eq!(error.to_string(), "circuit breaker `ledger` is forced open");
///     }
///     other => panic!("expected a rejection, got {other:?}"),
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BreakerError {
    /// The circuit is open (or half-open with every trial permit taken): the call did not run.
    #[error("circuit breaker `{name}` is {}", Rejection(*.state, *.retry_in))]
    #[non_exhaustive]
    Open {
        /// The breaker's name.
        name: Name,
        /// The state that rejected the call: `Open`, `HalfOpen` (every trial permit taken) or
        /// `ForcedOpen`.
        state: State,
        /// How long until a trial call will be let through; `None` when that is not known in
        /// advance (half-open and waiting on its trials, or forced open by an operator).
        retry_in: Option<Duration>,
    },
    /// The call ran longer than the breaker's `timeout_ms` and was dropped.
    #[error("circuit breaker `{name}` timed the call out after {} ms", .after.as_millis())]
    #[non_exhaustive]
    Timeout {
        /// The breaker's name.
        name: Name,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// `max_concurrent` calls were already in flight: the call did not run.
    #[error("circuit breaker `{name}` is busy: {max_concurrent} calls already in flight")]
    #[non_exhaustive]
    Busy {
        /// The breaker's name.
        name: Name,
        /// The bulkhead's size.
        max_concurrent: u64,
    },
}

impl BreakerError {
    /// The name of the breaker that produced this error.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            BreakerError::Open { name, .. }
            | BreakerError::Timeout { name, .. }
            | BreakerError::Busy { name, .. } => name.as_str(),
        }
    }
}

/// Formats the end of an `Open` message: which state rejected, and when to try again.
struct Rejection(State, Option<Duration>);

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection(State::HalfOpen, _) => f.write_str("half-open and its trial calls are taken"),
            Rejection(State::ForcedOpen, _) => f.write_str("forced open"),
            Rejection(_, Some(wait)) => {
                write!(f, "open; next trial call in {} ms", wait.as_millis())
            }
            Rejection(_, None) => f.write_str("open"),
        }
    }
}

/// The error of a call made through a breaker: the breaker's own answer, or the operation's.
///
/// A fallback may take one as its last parameter to learn why it was called.
///
/// ```
/// use fusebox::{CircuitBreaker, Config, Failure};
///
/// let breaker = CircuitBreaker::new("search", Config::default());
/// let failed: Result<(), Failure<&str>> = breaker.call(|| Err("index offline"));
/// assert!(matches!(failed, Err(Failure::Error("index offline"))));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure<E> {
    /// The breaker rejected or timed out the call.
    Breaker(BreakerError),
    /// The operation ran and returned this error.
    Error(E),
}

impl<E> Failure<E> {
    /// The breaker's error, if it was the breaker that answered.
    #[must_use]
    pub fn breaker_error(&self) -> Option<&BreakerError> {
        match self {
            Failure::Breaker(error) => Some(error),
            Failure::Error(_) => None,
        }
    }

    /// Collapses both kinds into the operation's own error type.
    ///
    /// ```
    /// use fusebox::{BreakerError, Failure};
    ///
    /// #[derive(Debug)]
    /// enum FetchError { Unavailable(BreakerError), Http(u16) }
    /// impl From<BreakerError> for FetchError {
    ///     fn from(error: BreakerError) -> Self { FetchError::Unavailable(error) }
    /// }
    ///
    /// let failure: Failure<FetchError> = Failure::Error(FetchError::Http(503));
    /// assert!(matches!(failure.into_error(), FetchError::Http(503)));
    /// ```
    pub fn into_error(self) -> E
    where
        E: From<BreakerError>,
    {
        match self {
            Failure::Breaker(error) => error.into(),
            Failure::Error(error) => error,
        }
    }
}

impl<E> From<BreakerError> for Failure<E> {
    fn from(error: BreakerError) -> Self {
        Failure::Breaker(error)
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Breaker(error) => fmt::Display::fmt(error, f),
            Failure::Error(error) => fmt::Display::fmt(error, f),
        }
    }
}

/// Transparent, as thiserror's `#[error(transparent)]`: a `Failure` displays as the error it
/// holds and has that error's source, so an error chain prints each message once.
///
/// ```
/// use std::error::Error;
/// use fusebox::{CircuitBreaker, Config, Failure};
///
/// #[derive(Debug)]
/// struct Lookup(std::io::Error);
///
/// impl std::fmt::Display for Lookup {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("price lookup failed")
///     }
/// }
///
/// impl Error for Lookup {
///     fn source(&self) -> Option<&(dyn Error + 'static)> {
///         Some(&self.0)
///     }
/// }
///
/// let breaker = CircuitBreaker::new("prices", Config::default());
/// let failure = breaker
///     .call(|| Err::<(), _>(Lookup(std::io::Error::other("connection reset"))))
///     .unwrap_err();
/// assert_eq!(failure.to_string(), "price lookup failed");
/// assert_eq!(failure.source().unwrap().to_string(), "connection reset");
/// ```
impl<E: std::error::Error + 'static> std::error::Error for Failure<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failure::Breaker(error) => error.source(),
            Failure::Error(error) => error.source(),
        }
    }
}
