//! Support for the code `#[circuit_breaker]` generates. Not public API: anything here may
//! change in any release. Generated code names these by absolute path
//! (`::breaker::__private::…`), never through a `use` in the user's scope.

use std::sync::OnceLock;

pub use breaker_runtime::{
    BreakerError, CircuitBreaker, Config, ConfigBuilder, ConfigError, Failure,
};

/// The breaker of one annotated function: a `static` inside the function's body, so it works
/// in impls, traits and generic functions alike, and all instantiations of a generic function
/// share it. It is registered under its name at the first call; functions that give the same
/// name share one breaker (whose configuration is that of the first one called).
pub struct StaticBreaker {
    name: &'static str,
    config: Config,
    breaker: OnceLock<&'static CircuitBreaker>,
}

impl StaticBreaker {
    /// A breaker to be registered as `name` at first use.
    #[must_use]
    pub const fn new(name: &'static str, config: Config) -> Self {
        StaticBreaker {
            name,
            config,
            breaker: OnceLock::new(),
        }
    }

    /// The registered breaker: after the first call, one atomic load.
    #[inline]
    pub fn get(&'static self) -> &'static CircuitBreaker {
        self.breaker
            .get_or_init(|| breaker_runtime::registry::get_or_register(self.name, self.config))
    }
}

/// The configuration of a `static` breaker. The attribute has already checked every value
/// against the same limits at compile time, so the error arm cannot be reached; were it
/// reached, it would fail the build (this runs in a `static` initializer), not a call.
#[must_use]
pub const fn validated(config: Result<Config, ConfigError>) -> Config {
    match config {
        Ok(config) => config,
        Err(_) => panic!("#[circuit_breaker] accepted a configuration the runtime refuses"),
    }
}

/// `timeout_ms`, set only when the `tokio` feature can enforce it. Without that feature the
/// attribute also emits `require_tokio!()`, whose error says so; this stays quiet so that it is
/// the only error.
pub const fn with_timeout(config: ConfigBuilder, millis: u64) -> ConfigBuilder {
    #[cfg(feature = "tokio")]
    {
        config.timeout_ms(millis)
    }
    #[cfg(not(feature = "tokio"))]
    {
        let _ = millis;
        config
    }
}

/// Fails the build, naming the missing feature, when `timeout_ms` is used without `tokio`.
#[cfg(feature = "tokio")]
#[macro_export]
#[doc(hidden)]
macro_rules! __breaker_require_tokio {
    () => {};
}

/// Fails the build, naming the missing feature, when `timeout_ms` is used without `tokio`.
#[cfg(not(feature = "tokio"))]
#[macro_export]
#[doc(hidden)]
macro_rules! __breaker_require_tokio {
    () => {
        ::core::compile_error!(
            "timeout_ms needs the `tokio` feature of `breaker`: breaker = { version = \"0.1\", features = [\"tokio\"] }"
        );
    };
}

pub use crate::__breaker_require_tokio as require_tokio;

/// An error type that a rejected call can be returned as: what a function without a fallback
/// needs of its error type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold a `breaker::BreakerError`",
    label = "the error type of a #[circuit_breaker] function without a fallback",
    note = "implement `From<breaker::BreakerError>` for `{Self}`, or declare a `fallback`"
)]
pub trait HoldsBreakerError {
    /// `error.into()`.
    fn from_breaker_error(error: BreakerError) -> Self;
}

impl<E: From<BreakerError>> HoldsBreakerError for E {
    fn from_breaker_error(error: BreakerError) -> Self {
        error.into()
    }
}

/// An argument the fallback receives as well as the body: cloned before the call, which for a
/// `Copy` type is a copy.
#[diagnostic::on_unimplemented(
    message = "`{Self}` must be `Clone` to be passed to the fallback as well",
    label = "the fallback receives this argument too",
    note = "arguments that are not references are cloned for the fallback before the call; pass a reference, or implement `Clone`"
)]
pub trait FallbackArg: Sized {
    /// A copy for the fallback.
    #[must_use]
    fn fallback_copy(&self) -> Self;
}

impl<T: Clone> FallbackArg for T {
    #[inline]
    fn fallback_copy(&self) -> Self {
        self.clone()
    }
}

/// The fallback takes exactly the function's inputs.
pub struct Plain;

/// The fallback takes the function's inputs and a last `Failure<E>`.
pub struct WithFailure;

/// A function that can stand in for the annotated one: the same inputs, optionally followed by
/// a `Failure<E>`, and the same output (for an `async fn`, a future of it).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be this function's fallback",
    label = "the fallback named here",
    note = "a fallback takes the same arguments as the function (the same receiver for a method), optionally followed by a `breaker::Failure<E>`, and returns the same type; an `async fn` needs an `async fn` fallback"
)]
pub trait Fallback<Inputs, E, Form> {
    /// What the fallback returns.
    type Output;
    /// Calls the fallback.
    fn call_fallback(self, inputs: Inputs, failure: Failure<E>) -> Self::Output;
}

macro_rules! fallback_for_arity {
    ($($input:ident)*) => {
        impl<F, R, E, $($input,)*> Fallback<($($input,)*), E, Plain> for F
        where
            F: FnOnce($($input),*) -> R,
        {
            type Output = R;
            #[inline]
            #[allow(non_snake_case)]
            fn call_fallback(self, ($($input,)*): ($($input,)*), _: Failure<E>) -> R {
                self($($input),*)
            }
        }

        impl<F, R, E, $($input,)*> Fallback<($($input,)*), E, WithFailure> for F
        where
            F: FnOnce($($input,)* Failure<E>) -> R,
        {
            type Output = R;
            #[inline]
            #[allow(non_snake_case)]
            fn call_fallback(self, ($($input,)*): ($($input,)*), failure: Failure<E>) -> R {
                self($($input,)* failure)
            }
        }
    };
}

fallback_for_arity!();
fallback_for_arity!(A1);
fallback_for_arity!(A1 A2);
fallback_for_arity!(A1 A2 A3);
fallback_for_arity!(A1 A2 A3 A4);
fallback_for_arity!(A1 A2 A3 A4 A5);
fallback_for_arity!(A1 A2 A3 A4 A5 A6);
fallback_for_arity!(A1 A2 A3 A4 A5 A6 A7);
fallback_for_arity!(A1 A2 A3 A4 A5 A6 A7 A8);
fallback_for_arity!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
fallback_for_arity!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
fallback_for_arity!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
fallback_for_arity!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);
