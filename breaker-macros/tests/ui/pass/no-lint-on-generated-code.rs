#![deny(warnings, clippy::all, clippy::pedantic)]
//! Generated code trips no lint: one-line bodies, arguments written as patterns, fallbacks
//! with and without parameters, sync and async.

use std::{
    pin::pin,
    task::{Context, Poll, Waker},
};

use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug, PartialEq, Eq)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

/// An extractor as axum's: matched by a pattern, not `Clone`.
struct Path<T>(T);

#[circuit_breaker]
fn sync_plain(id: u32) -> Result<u32, Error> { Ok(id) }

#[circuit_breaker]
fn sync_pattern(Path(id): Path<u32>) -> Result<u32, Error> { Ok(id) }

#[circuit_breaker(fallback = "sync_nothing")]
fn sync_pattern_no_parameters(Path(id): Path<u32>) -> Result<u32, Error> { Ok(id) }

#[circuit_breaker(fallback = "sync_same")]
fn sync_tuple((a, b): (u32, u32)) -> Result<u32, Error> { Ok(a + b) }

#[circuit_breaker(fallback = "sync_nothing")]
fn sync_no_arguments() -> Result<u32, Error> { Ok(1) }

#[circuit_breaker]
async fn async_plain(id: u32) -> Result<u32, Error> { Ok(id) }

#[circuit_breaker]
async fn async_pattern(Path(id): Path<u32>) -> Result<u32, Error> { Ok(id) }

#[circuit_breaker(fallback = "async_nothing")]
async fn async_pattern_no_parameters(Path(id): Path<u32>) -> Result<u32, Error> { Ok(id) }

#[circuit_breaker(fallback = "async_same")]
async fn async_tuple((a, b): (u32, u32)) -> Result<u32, Error> { Ok(a + b) }

#[circuit_breaker(fallback = "async_nothing")]
async fn async_no_arguments() -> Result<u32, Error> { Ok(1) }

#[allow(clippy::unnecessary_wraps)]
fn sync_nothing() -> Result<u32, Error> { Ok(0) }

#[allow(clippy::unnecessary_wraps)]
fn sync_same(pair: (u32, u32)) -> Result<u32, Error> { Ok(pair.0) }

#[allow(clippy::unused_async)]
async fn async_nothing() -> Result<u32, Error> { Ok(0) }

#[allow(clippy::unused_async)]
async fn async_same(pair: (u32, u32)) -> Result<u32, Error> { Ok(pair.0) }

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            return output;
        }
    }
}

fn main() {
    assert_eq!(sync_plain(1), Ok(1));
    assert_eq!(sync_pattern(Path(2)), Ok(2));
    assert_eq!(sync_pattern_no_parameters(Path(3)), Ok(3));
    assert_eq!(sync_tuple((1, 3)), Ok(4));
    assert_eq!(sync_no_arguments(), Ok(1));
    assert_eq!(block_on(async_plain(1)), Ok(1));
    assert_eq!(block_on(async_pattern(Path(2))), Ok(2));
    assert_eq!(block_on(async_pattern_no_parameters(Path(3))), Ok(3));
    assert_eq!(block_on(async_tuple((1, 3))), Ok(4));
    assert_eq!(block_on(async_no_arguments()), Ok(1));
}
