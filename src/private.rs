//! Support for the code `#[circuit_breaker]` generates. Not public API: anything here may
//! change in any release. Generated code names these by absolute path
//! (`::fusebox::__private::…`), never through a `use` in the user's scope.
//!
//! Everything that does not depend on the annotated function lives here, once, so that each
//! function's expansion is only what is its own: its breaker, its fallback and its arguments.

use std::{
    fmt::Display,
    hash::Hash,
    marker::PhantomData,
    sync::{Arc, OnceLock},
    time::Duration,
};

use breaker_runtime::{
    Attempts, BreakerError, CircuitBreaker, ConfigKey, Failure, Keyed, PartialConfig,
};

pub use breaker_runtime::{DECLARATIONS, Declaration, registry::Site};
/// The linker's collection, for generated code's `#[linkme(crate = …)]`.
pub use linkme;

/// The breaker of one annotated function: a `static` inside the function's body, so it works
/// in impls, traits and generic functions alike, and all instantiations of a generic function
/// share it. Its `Declaration`, a `static` beside it in `DECLARATIONS`, is how the registry
/// made the breaker at startup; the first call finds it there by name.
pub struct StaticBreaker {
    declaration: &'static Declaration,
    breaker: OnceLock<Arc<CircuitBreaker>>,
}

impl StaticBreaker {
    /// The breaker `declaration` declares.
    #[must_use]
    pub const fn new(declaration: &'static Declaration) -> Self {
        StaticBreaker {
            declaration,
            breaker: OnceLock::new(),
        }
    }

    /// The registered breaker: after the first call, one atomic load.
    #[inline]
    pub fn get(&'static self) -> &'static CircuitBreaker {
        self.breaker
            .get_or_init(|| breaker_runtime::registry::declared(self.declaration))
    }
}

/// The breakers of one annotated function with `key = "arg"`: a [`Keyed`] family, one breaker
/// per distinct value of the argument, each named `<the function's breaker name>/<key>`. Made
/// at the first call.
pub struct StaticKeyed<K> {
    declaration: &'static Declaration,
    max_keys: u64,
    max_key_len: u64,
    family: OnceLock<Keyed<K>>,
}

impl<K> StaticKeyed<K> {
    /// The family `declaration` declares, keeping at most `max_keys` keys of at most
    /// `max_key_len` bytes.
    #[must_use]
    pub const fn new(declaration: &'static Declaration, max_keys: u64, max_key_len: u64) -> Self {
        StaticKeyed {
            declaration,
            max_keys,
            max_key_len,
            family: OnceLock::new(),
        }
    }
}

impl<K> StaticKeyed<K>
where
    K: Hash + Eq + Clone + Display + Send + Sync + 'static,
{
    /// The family: after the first call, one atomic load.
    #[inline]
    pub fn get(&'static self) -> &'static Keyed<K> {
        self.family.get_or_init(|| {
            Keyed::declared(self.declaration)
                .max_keys(usize::try_from(self.max_keys).unwrap_or(usize::MAX))
                .max_key_len(usize::try_from(self.max_key_len).unwrap_or(usize::MAX))
        })
    }
}

/// The attribute's keys, as the attribute spells them (durations in `_ms`): the layer of its
/// literals, which overrides go over.
#[derive(Clone, Copy)]
pub struct Settings {
    literals: PartialConfig,
    /// The name the attribute gave, if any (otherwise the function's path).
    name: Option<&'static str>,
    keyed: bool,
}

#[allow(missing_docs, clippy::new_without_default)]
impl Settings {
    #[must_use]
    pub const fn new() -> Self {
        Settings {
            literals: PartialConfig::new(),
            name: None,
            keyed: false,
        }
    }

    /// `key = value`, the key by its name (a flag: 1 for `true`). `timeout_ms` is set only
    /// when the `tokio` feature can enforce it: without it the attribute also emits
    /// `require_tokio!()`, whose error says so, and this stays quiet so that it is the only
    /// error. A name the runtime does not know (an attribute of another version) fails the
    /// build, in the static this runs in.
    #[must_use]
    pub const fn set(mut self, key: &str, value: u64) -> Self {
        let Some(key) = ConfigKey::from_name(key) else {
            panic!("#[circuit_breaker] wrote a key this version of fusebox does not know");
        };
        if matches!(key, ConfigKey::TimeoutMs) && !cfg!(feature = "tokio") {
            return self;
        }
        self.literals = self.literals.with(key, value);
        self
    }

    /// `name = "…"`: the breaker's name, rather than the function's path.
    #[must_use]
    pub const fn named(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    /// `key = "…"`: a family of breakers, one per value of an argument.
    #[must_use]
    pub const fn keyed(mut self) -> Self {
        self.keyed = true;
        self
    }

    /// The declaration of the breaker of `function` (its path), whose attribute is at `file`
    /// and `line`, with these settings.
    #[must_use]
    pub const fn declare(
        self,
        file: &'static str,
        line: u32,
        function: &'static str,
    ) -> Declaration {
        let (name, named) = match self.name {
            Some(name) => (name, true),
            None => (function, false),
        };
        let site = Site {
            file,
            line,
            function,
        };
        Declaration::new(name, named, self.literals, self.keyed, site)
    }
}

/// An `async fn`'s body, as a future whose output is the function's return type `R`: given
/// to the breaker as it is, the body's `?` and `return` then convert to `R` as they would in
/// the function itself.
#[inline]
pub fn typed<R, F: Future<Output = R>>(body: F) -> F {
    body
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
            "timeout_ms needs the `tokio` feature of `fusebox`: fusebox = { version = \"0.1\", features = [\"tokio\"] }"
        );
    };
}

pub use crate::__breaker_require_tokio as require_tokio;

/// Fails the build, naming the missing feature, when `trace_calls` is used without `tracing`.
#[cfg(feature = "tracing")]
#[macro_export]
#[doc(hidden)]
macro_rules! __breaker_require_tracing {
    () => {};
}

/// Fails the build, naming the missing feature, when `trace_calls` is used without `tracing`.
#[cfg(not(feature = "tracing"))]
#[macro_export]
#[doc(hidden)]
macro_rules! __breaker_require_tracing {
    () => {
        ::core::compile_error!(
            "trace_calls needs the `tracing` feature of `fusebox`: fusebox = { version = \"0.1\", features = [\"tracing\"] }"
        );
    };
}

pub use crate::__breaker_require_tracing as require_tracing;

/// Fails the build, naming the missing feature, when an `async fn` has `retry` without
/// `tokio` (its attempts wait on Tokio's timer).
#[cfg(feature = "tokio")]
#[macro_export]
#[doc(hidden)]
macro_rules! __breaker_require_tokio_for_retry {
    () => {};
}

/// Fails the build, naming the missing feature, when an `async fn` has `retry` without
/// `tokio` (its attempts wait on Tokio's timer).
#[cfg(not(feature = "tokio"))]
#[macro_export]
#[doc(hidden)]
macro_rules! __breaker_require_tokio_for_retry {
    () => {
        ::core::compile_error!(
            "retry on an `async fn` needs the `tokio` feature of `fusebox`, whose timer waits between attempts: fusebox = { version = \"0.1\", features = [\"tokio\"] }"
        );
    };
}

pub use crate::__breaker_require_tokio_for_retry as require_tokio_for_retry;

/// The attempts of one call of a function with `retry` returning `R`, as its breaker's keys
/// in force say. The error type comes from `R`, so that a `retry_if` of another is reported
/// at its path.
#[inline]
pub fn attempts<R: IsResult>(breaker: &CircuitBreaker) -> Attempts<'_, R::Error> {
    Attempts::in_force(breaker)
}

/// Waits before a sync function's next attempt: the thread sleeps.
#[inline]
pub fn pause(wait: Duration) {
    std::thread::sleep(wait);
}

/// Waits before an `async fn`'s next attempt, on Tokio's timer.
#[cfg(feature = "tokio")]
pub async fn pause_async(wait: Duration) {
    Attempts::<()>::pause_async(wait).await;
}

/// Without `tokio` the attribute has emitted `require_tokio_for_retry!()`, whose error stops
/// the build: this only keeps that error the only one.
#[cfg(not(feature = "tokio"))]
pub fn pause_async(_: Duration) -> std::future::Ready<()> {
    std::future::ready(())
}

/// An argument a function with `retry` hands to each attempt: a clone of it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` must be `Clone` to be retried",
    label = "each attempt of the body receives its own copy of this argument",
    note = "arguments that are not references are cloned for each attempt with `retry`; pass a reference, or implement `Clone`"
)]
pub trait AttemptCopy: Sized {
    /// The copy.
    #[must_use]
    fn attempt_copy(&self) -> Self;
}

#[diagnostic::do_not_recommend]
impl<T: Clone> AttemptCopy for T {
    #[inline]
    fn attempt_copy(&self) -> T {
        self.clone()
    }
}

/// An attempt's copy of `input`.
#[inline]
pub fn attempt_copy<T: AttemptCopy>(input: &T) -> T {
    input.attempt_copy()
}

/// An error type that a rejected call can be returned as: what a function without a fallback
/// needs of its error type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold a `fusebox::BreakerError`",
    label = "the error type of a #[circuit_breaker] function without a fallback",
    note = "implement `From<fusebox::BreakerError>` for `{Self}`, or declare a `fallback`"
)]
pub trait HoldsBreakerError: Sized {
    /// `error.into()`.
    fn from_breaker_error(error: BreakerError) -> Self;

    /// What a function without a fallback returns: the body's answer, or the rejection as its
    /// own error. (A trait function rather than a generic one, so that an error type that
    /// cannot hold a rejection is reported with this trait's message alone.)
    #[inline]
    fn or_rejection<T>(result: Result<T, Failure<Self>>) -> Result<T, Self> {
        match result {
            Ok(value) => Ok(value),
            Err(Failure::Error(error)) => Err(error),
            Err(Failure::Breaker(error)) => Err(Self::from_breaker_error(error)),
        }
    }
}

impl<E: From<BreakerError>> HoldsBreakerError for E {
    #[inline]
    fn from_breaker_error(error: BreakerError) -> Self {
        error.into()
    }
}

/// `failure_if` with a fallback: remembers whether the predicate let the error pass (then
/// the error goes back to the caller as it is, without the fallback).
#[inline]
pub fn track(failed: bool, passed: &mut bool) -> bool {
    *passed = !failed;
    failed
}

/// What a fallback takes of the function's inputs, found from its signature: the inputs
/// (cloned before the call, so they must be `Clone`), or nothing (a fallback without
/// parameters, for arguments that cannot be cloned, such as axum's extractors).
#[diagnostic::on_unimplemented(
    message = "`{T}` must be `Clone` to be passed to the fallback as well",
    label = "the fallback receives this argument too",
    note = "arguments that are not references are cloned for the fallback before the call; pass a reference, implement `Clone`, or give the fallback no parameters"
)]
pub trait Takes<T> {
    /// What is kept of an input for the fallback.
    type Copy;
    /// Keeps it.
    fn copy(input: &T) -> Self::Copy;
}

/// The fallback takes the inputs.
pub struct TakesInputs;

/// The fallback takes none of them.
pub struct TakesNothing;

// Not recommended, so that an argument that is not `Clone` is reported with this trait's
// message, at the argument, rather than as a missing `Clone`.
#[diagnostic::do_not_recommend]
impl<T: Clone> Takes<T> for TakesInputs {
    type Copy = T;
    #[inline]
    fn copy(input: &T) -> T {
        input.clone()
    }
}

impl<T> Takes<T> for TakesNothing {
    type Copy = ();
    #[inline]
    fn copy(_: &T) {}
}

/// An input kept for `fallback`, as its signature asks: a clone, or nothing.
#[inline]
pub fn copy_input<P, M: Takes<T>, T>(_: &Fallback<P, M>, input: &T) -> M::Copy {
    M::copy(input)
}

/// The declared fallback, as a function pointer of the one signature it may have. Building it
/// is the check: the fallback coerces to `expected`'s pointer type, or the compiler shows both
/// signatures, expected and found, at the fallback's name.
pub struct Fallback<P, M = TakesInputs> {
    /// The pointer type and what the fallback takes of the inputs, from [`expect`] or
    /// [`expect_async`].
    pub expected: PhantomData<(P, M)>,
    /// The fallback.
    pub fallback: P,
}

/// What [`expect`] finds of a fallback with parameters `P`: its pointer type and what it takes.
pub type Expectation<P, I, E, O> = PhantomData<(
    <P as Expected<I, E, O>>::Pointer,
    <P as Expected<I, E, O>>::Takes,
)>;

/// A function's parameters (`Params`, a tuple) and output: implemented by every function of
/// up to 13 parameters, so that a fallback's arity can be found before its types are checked.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a function, so it cannot be a fallback",
    label = "the fallback named here"
)]
pub trait Signature<Params> {
    /// What the function returns.
    type Output;
}

/// The pointer type a fallback with parameters `Self` must coerce to, for a function whose
/// inputs are `Inputs` (a tuple of references to them, which names their types without moving
/// them), error `E` and output `Output`: the inputs alone, or followed by a `Failure<E>`.
pub trait Expected<Inputs, E, Output> {
    /// `fn(inputs…) -> Output`, `fn(inputs…, Failure<E>) -> Output`, or `fn() -> Output`.
    type Pointer;
    /// [`TakesInputs`], or [`TakesNothing`] for a fallback without parameters.
    type Takes;
}

/// A fallback, called with the function's inputs and why it was called.
pub trait Call<Inputs, E> {
    /// What the fallback returns.
    type Output;
    /// Calls it.
    fn call(self, inputs: Inputs, failure: Failure<E>) -> Self::Output;
}

/// A `Result` type (`Result<T, E>` or an alias of one), so that a function's error type can be
/// read off its return type.
pub trait IsResult {
    /// `E`.
    type Error;
}

impl<T, E> IsResult for Result<T, E> {
    type Error = E;
}

/// The pointer type a sync function's `fallback` must have.
#[inline]
#[must_use]
pub fn expect<R, F, P, I>(_: &F, _: I) -> Expectation<P, I, R::Error, R>
where
    F: Signature<P>,
    R: IsResult,
    P: Expected<I, R::Error, R>,
{
    PhantomData
}

/// The pointer type an `async fn`'s `fallback` must have: the output is the fallback's own
/// future, whose output [`or_fallback_async`] checks.
#[inline]
#[must_use]
pub fn expect_async<R, F, P, I>(_: &F, _: I) -> Expectation<P, I, R::Error, F::Output>
where
    F: Signature<P>,
    R: IsResult,
    P: Expected<I, R::Error, F::Output>,
{
    PhantomData
}

/// What a sync function with a fallback returns: the body's answer, or the fallback's. With
/// `failure_if`, an error it let pass (`passed`) goes back as it is.
#[inline]
pub fn or_fallback<T, E, P, M, I>(
    breaker: &CircuitBreaker,
    result: Result<T, Failure<E>>,
    passed: bool,
    fallback: Fallback<P, M>,
    inputs: I,
) -> Result<T, E>
where
    P: Call<I, E, Output = Result<T, E>>,
{
    match or_fallback_async(breaker, result, passed, fallback, inputs) {
        Answer::Ready(answer) | Answer::Fallback(answer) => answer,
    }
}

/// An `async fn`'s fallback returns a future of the function's output.
#[diagnostic::on_unimplemented(
    message = "the fallback of an `async fn` must be an `async fn` with the same return type",
    label = "this fallback returns `{Self}`"
)]
pub trait AsyncFallback<Output> {
    /// The fallback's future.
    type Future: Future<Output = Output>;
    /// `IntoFuture::into_future`.
    fn into_fallback_future(self) -> Self::Future;
}

// Not recommended, so that a fallback that is no future is reported with this trait's message
// rather than `IntoFuture`'s.
#[diagnostic::do_not_recommend]
impl<F: IntoFuture> AsyncFallback<F::Output> for F {
    type Future = F::IntoFuture;
    #[inline]
    fn into_fallback_future(self) -> Self::Future {
        self.into_future()
    }
}

/// The body's answer, or the fallback's, called with the inputs if it is needed: for a sync
/// function that is the answer ([`or_fallback`]); for an `async fn` the fallback's future,
/// which [`settle`] awaits. Two steps, so that the future the
/// function awaits has no trait bounds over the inputs' lifetimes, which would make the
/// annotated `async fn`'s future fail a `Send` check (as `tokio::spawn` makes).
#[inline]
pub fn or_fallback_async<T, E, P, M, I>(
    breaker: &CircuitBreaker,
    result: Result<T, Failure<E>>,
    passed: bool,
    fallback: Fallback<P, M>,
    inputs: I,
) -> Answer<Result<T, E>, P::Output>
where
    P: Call<I, E>,
{
    match result {
        Ok(value) => Answer::Ready(Ok(value)),
        Err(Failure::Error(error)) if passed => Answer::Ready(Err(error)),
        Err(failure) => {
            breaker.fallback_served();
            Answer::Fallback(fallback.fallback.call(inputs, failure))
        }
    }
}

/// The answer of an `async fn` with a fallback, before it is awaited.
pub enum Answer<O, F> {
    /// The body's answer.
    Ready(O),
    /// What the fallback returned: for an `async fn` fallback, its future.
    Fallback(F),
}

/// Awaits an [`Answer`]; the check that the fallback is `async` with the function's output.
/// Its future is opaque, so that a fallback failing that check is reported once.
#[inline]
pub async fn settle<O, F: AsyncFallback<O>>(answer: Answer<O, F>) -> O {
    match answer {
        Answer::Ready(output) => output,
        Answer::Fallback(fallback) => fallback.into_fallback_future().await,
    }
}

/// `Signature` for functions of as many parameters as given.
macro_rules! signature {
    ($($param:ident)*) => {
        impl<F, R, $($param,)*> Signature<($($param,)*)> for F
        where
            F: FnOnce($($param),*) -> R,
        {
            type Output = R;
        }
    };
}

signature!();
signature!(P1);
signature!(P1 P2);
signature!(P1 P2 P3);
signature!(P1 P2 P3 P4);
signature!(P1 P2 P3 P4 P5);
signature!(P1 P2 P3 P4 P5 P6);
signature!(P1 P2 P3 P4 P5 P6 P7);
signature!(P1 P2 P3 P4 P5 P6 P7 P8);
signature!(P1 P2 P3 P4 P5 P6 P7 P8 P9);
signature!(P1 P2 P3 P4 P5 P6 P7 P8 P9 P10);
signature!(P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11);
signature!(P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12);
signature!(P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);

/// `Expected` for `n` inputs and fallbacks of every arity from 0 to 13: one of `n + 1`
/// parameters takes the inputs and a `Failure<E>`; any other is held to the inputs alone, so
/// that a fallback of the wrong arity is shown beside the plain signature, in one error.
macro_rules! expected {
    ([$($input:ident)*] $($param:ident)*) => {
        expected!(@none [$($input)*]);
        expected!(@prefix [$($input)*] [] $($param)*);
    };
    // No parameters: for a function without inputs, the plain rule's `fn() -> O`; for one with
    // inputs, a fallback that takes none of them.
    (@none []) => {};
    (@none [$($input:ident)+]) => {
        impl<E, O, $($input,)*> Expected<($(&$input,)*), E, O> for () {
            type Pointer = fn() -> O;
            type Takes = TakesNothing;
        }
    };
    // Every prefix of the parameter names, from none to all.
    (@prefix [$($input:ident)*] [$($taken:ident)*]) => {
        expected!(@one [$($input)*] [$($taken)*] [$($input)*] [$($taken)*]);
    };
    // The empty prefix is `@none`'s when there are inputs.
    (@prefix [$($input:ident)+] [] $next:ident $($rest:ident)*) => {
        expected!(@prefix [$($input)*] [$next] $($rest)*);
    };
    (@prefix [$($input:ident)*] [$($taken:ident)*] $next:ident $($rest:ident)*) => {
        expected!(@one [$($input)*] [$($taken)*] [$($input)*] [$($taken)*]);
        expected!(@prefix [$($input)*] [$($taken)* $next] $($rest)*);
    };
    // Lengths compared by dropping one of each: one parameter left over takes the failure.
    (@one [$($input:ident)*] [$($param:ident)*] [] [$last:ident]) => {
        impl<E, O, $($input,)* $($param,)*> Expected<($(&$input,)*), E, O>
            for ($($param,)*)
        {
            type Pointer = fn($($input,)* Failure<E>) -> O;
            type Takes = TakesInputs;
        }
    };
    (@one [$($input:ident)*] [$($param:ident)*] [$i:ident $($is:ident)*] [$p:ident $($ps:ident)*]) => {
        expected!(@one [$($input)*] [$($param)*] [$($is)*] [$($ps)*]);
    };
    (@one [$($input:ident)*] [$($param:ident)*] [$($is:ident)*] [$($ps:ident)*]) => {
        impl<E, O, $($input,)* $($param,)*> Expected<($(&$input,)*), E, O>
            for ($($param,)*)
        {
            type Pointer = fn($($input),*) -> O;
            type Takes = TakesInputs;
        }
    };
}

expected!([] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);
expected!([A1] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);
expected!([A1 A2] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);
expected!([A1 A2 A3] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);
expected!([A1 A2 A3 A4] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);
expected!([A1 A2 A3 A4 A5] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);
expected!([A1 A2 A3 A4 A5 A6] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);
expected!([A1 A2 A3 A4 A5 A6 A7] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);
expected!([A1 A2 A3 A4 A5 A6 A7 A8] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);
expected!([A1 A2 A3 A4 A5 A6 A7 A8 A9] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);
expected!([A1 A2 A3 A4 A5 A6 A7 A8 A9 A10] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);
expected!([A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);
expected!([A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12] P1 P2 P3 P4 P5 P6 P7 P8 P9 P10 P11 P12 P13);

/// `Call` for a fallback without parameters, given `n ≥ 1` inputs (kept as nothing) to ignore;
/// for no inputs, `fn() -> O` is the plain case of `fallback_for_arity`.
macro_rules! fallback_taking_nothing {
    () => {};
    ($($input:ident)+) => {
        impl<E, O, $($input,)*> Call<($($input,)*), E> for fn() -> O {
            type Output = O;
            #[inline]
            fn call(self, _: ($($input,)*), _: Failure<E>) -> O {
                self()
            }
        }
    };
}

/// `Call` for fallbacks of `n` inputs (up to 12): without and with a last `Failure<E>`, and
/// without parameters.
macro_rules! fallback_for_arity {
    ($($input:ident)*) => {
        impl<E, O, $($input,)*> Call<($($input,)*), E> for fn($($input),*) -> O {
            type Output = O;
            #[inline]
            #[allow(non_snake_case)]
            fn call(self, ($($input,)*): ($($input,)*), _: Failure<E>) -> O {
                self($($input),*)
            }
        }

        impl<E, O, $($input,)*> Call<($($input,)*), E> for fn($($input,)* Failure<E>) -> O {
            type Output = O;
            #[inline]
            #[allow(non_snake_case)]
            fn call(self, ($($input,)*): ($($input,)*), failure: Failure<E>) -> O {
                self($($input,)* failure)
            }
        }

        fallback_taking_nothing!($($input)*);
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
