#![deny(warnings)]

use std::{
    pin::pin,
    task::{Context, Poll, Waker},
};

use fusebox::{Failure, circuit_breaker, registry};

#[derive(Debug, PartialEq)]
struct Error;

#[derive(Clone)]
struct Client {
    cache: Vec<u64>,
}

impl Client {
    // A bare name is a method of the same type...
    #[circuit_breaker(name = "pass::bare", fallback = "cached")]
    fn bare(&self, user_id: u64) -> Result<Vec<u64>, Error> {
        Ok(vec![user_id])
    }

    // ...and `Self::name` says so explicitly.
    #[circuit_breaker(name = "pass::qualified", fallback = "Self::cached")]
    fn qualified(&self, user_id: u64) -> Result<Vec<u64>, Error> {
        Ok(vec![user_id])
    }

    #[circuit_breaker(name = "pass::by_mut", fallback = "reset")]
    fn by_mut(&mut self, user_id: u64) -> Result<Vec<u64>, Error> {
        self.cache.push(user_id);
        Ok(self.cache.clone())
    }

    #[circuit_breaker(name = "pass::by_value", fallback = "into_cache")]
    fn by_value(self) -> Result<Vec<u64>, Error> {
        Ok(Vec::new())
    }

    #[circuit_breaker(name = "pass::by_ref_async", fallback = "cached_async")]
    async fn by_ref_async(&self, user_id: u64) -> Result<Vec<u64>, Error> {
        Ok(vec![user_id])
    }

    fn cached(&self, _user_id: u64) -> Result<Vec<u64>, Error> {
        Ok(self.cache.clone())
    }

    fn reset(&mut self, _user_id: u64, _failure: Failure<Error>) -> Result<Vec<u64>, Error> {
        self.cache.clear();
        Ok(Vec::new())
    }

    fn into_cache(self) -> Result<Vec<u64>, Error> {
        Ok(self.cache)
    }

    async fn cached_async(&self, _user_id: u64) -> Result<Vec<u64>, Error> {
        Ok(self.cache.clone())
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

fn main() {
    let mut client = Client { cache: vec![7] };
    assert_eq!(client.bare(1), Ok(vec![1]));
    assert_eq!(client.qualified(1), Ok(vec![1]));
    assert_eq!(client.by_mut(1), Ok(vec![7, 1]));
    assert_eq!(client.clone().by_value(), Ok(Vec::new()));
    assert_eq!(block_on(client.by_ref_async(1)), Ok(vec![1]));

    for name in [
        "pass::bare",
        "pass::qualified",
        "pass::by_mut",
        "pass::by_value",
        "pass::by_ref_async",
    ] {
        registry::get(name).unwrap().force_open();
    }
    assert_eq!(client.bare(1), Ok(vec![7, 1]));
    assert_eq!(client.qualified(1), Ok(vec![7, 1]));
    assert_eq!(block_on(client.by_ref_async(1)), Ok(vec![7, 1]));
    assert_eq!(client.clone().by_value(), Ok(vec![7, 1]));
    assert_eq!(client.by_mut(2), Ok(Vec::new()));
    assert!(client.cache.is_empty());
}
