//! An application that depends on the facade under another name (`breaker = { package =
//! "fusebox", … }`): the attribute finds it through the application's `Cargo.toml`, with no
//! `crate = …` on any function.

use breaker::{BreakerError, circuit_breaker};

/// The application's error.
#[derive(Debug, PartialEq, Eq)]
pub enum AppError {
    /// The backend failed.
    Backend,
    /// The breaker answered.
    Unavailable(BreakerError),
}

impl From<BreakerError> for AppError {
    fn from(error: BreakerError) -> Self {
        AppError::Unavailable(error)
    }
}

/// A sync function without a fallback: a rejection becomes `AppError::Unavailable`.
///
/// # Errors
/// `AppError::Backend` for user 0, and a rejection once the breaker is open.
#[circuit_breaker(consecutive_failures = 1)]
pub fn profile(user: u64) -> Result<u64, AppError> {
    if user == 0 {
        Err(AppError::Backend)
    } else {
        Ok(user)
    }
}

/// An async function with a fallback.
///
/// # Errors
/// Never: the fallback answers for every failure.
#[circuit_breaker(consecutive_failures = 1, fallback = "no_history")]
pub async fn history(user: u64) -> Result<Vec<u64>, AppError> {
    if user == 0 {
        Err(AppError::Backend)
    } else {
        Ok(vec![user])
    }
}

async fn no_history(_user: u64) -> Result<Vec<u64>, AppError> {
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use std::{
        pin::pin,
        task::{Context, Poll, Waker},
    };

    use breaker::{State, registry};

    use super::*;

    fn ready<F: Future>(future: F) -> F::Output {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("the operation never waits"),
        }
    }

    #[test]
    fn the_attribute_finds_the_renamed_facade() {
        assert_eq!(profile(7), Ok(7));
        assert_eq!(profile(0), Err(AppError::Backend));
        assert!(matches!(
            profile(7),
            Err(AppError::Unavailable(BreakerError::Open { .. }))
        ));
        let breaker = registry::get("renamed_dependency::profile").expect("registered");
        assert_eq!(breaker.state(), State::Open);
    }

    #[test]
    fn an_async_fallback_answers_through_the_renamed_facade() {
        assert_eq!(ready(history(3)), Ok(vec![3]));
        assert_eq!(
            ready(history(0)),
            Ok(vec![]),
            "the fallback, after a failure"
        );
        assert_eq!(ready(history(3)), Ok(vec![]), "the fallback, while open");
    }
}
