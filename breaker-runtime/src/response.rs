//! The breaker's refusals as HTTP answers (the `axum` feature): a handler or a
//! `HandleErrorLayer` returns them as they are.
//!
//! | error | status | headers |
//! |---|---|---|
//! | [`BreakerError::Open`] | 503 Service Unavailable | `Retry-After`: the seconds until the next trial call, rounded up (none when that is not known: forced open, or half-open and waiting on its trials) |
//! | [`BreakerError::Busy`] | 503 Service Unavailable | — |
//! | [`BreakerError::Timeout`] | 504 Gateway Timeout | — |
//!
//! The body is the error's message as plain text. A [`Failure<E>`] answers as its breaker error,
//! or as `E` does when `E: IntoResponse`.
//!
//! ```
//! use axum::response::IntoResponse;
//! use fusebox::{CircuitBreaker, Config, Failure};
//!
//! let breaker = CircuitBreaker::new("docs::payments", Config::builder().consecutive_failures(1).build()?);
//! let _ = breaker.call(|| Err::<(), _>("declined"));
//! let refused = breaker.call(|| Ok::<_, &str>(())).unwrap_err();
//! let response = refused.into_response();
//! assert_eq!(response.status(), 503);
//! assert_eq!(response.headers()["retry-after"], "5"); // the default 5 s sleep window
//! # Ok::<(), fusebox::ConfigError>(())
//! ```

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{BreakerError, Failure};

impl IntoResponse for BreakerError {
    fn into_response(self) -> Response {
        let status = match &self {
            BreakerError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            BreakerError::Open { .. } | BreakerError::Busy { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        let retry_after = match &self {
            BreakerError::Open {
                retry_in: Some(wait),
                ..
            } => Some(wait.as_millis().div_ceil(1000).max(1)),
            _ => None,
        };
        let mut response = (status, self.to_string()).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(u64::try_from(seconds).unwrap_or(u64::MAX)),
            );
        }
        response
    }
}

impl<E: IntoResponse> IntoResponse for Failure<E> {
    fn into_response(self) -> Response {
        match self {
            Failure::Breaker(error) => error.into_response(),
            Failure::Error(error) => error.into_response(),
        }
    }
}
