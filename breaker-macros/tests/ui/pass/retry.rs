#![deny(warnings)]

//! The valid twin of every `retry` case: each key in range, together, on the shapes retry
//! supports (a sync fn; an `async fn` needs the `tokio` feature, which this suite builds
//! without).

use fusebox::{BreakerError, circuit_breaker};

#[derive(Clone, Debug)]
enum Error {
    Down,
    Breaker,
}

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error::Breaker
    }
}

fn is_transient(error: &Error) -> bool {
    matches!(error, Error::Down)
}

#[derive(Clone)]
struct Query {
    user_id: u64,
}

#[circuit_breaker(
    retry = 10,
    retry_backoff_ms = 1,
    retry_backoff_max_ms = 1,
    retry_jitter = 100,
    retry_budget = 1,
    retry_if = "is_transient"
)]
fn recs(query: Query, (a, b): (u64, u64), mut log: Vec<u64>, seen: &mut Vec<u64>) -> Result<Vec<u64>, Error> {
    log.push(query.user_id);
    seen.push(a + b);
    if log.is_empty() {
        return Err(Error::Down);
    }
    Ok(log)
}

struct Client {
    calls: u64,
}

impl Client {
    #[circuit_breaker(retry = 1)]
    fn fetch(&self, id: &str) -> Result<usize, Error> {
        Ok(id.len() + usize::try_from(self.calls).unwrap_or(0))
    }

    #[circuit_breaker(retry = 1, retry_backoff_ms = 5)]
    fn count(&mut self) -> Result<u64, Error> {
        self.calls += 1;
        Ok(self.calls)
    }
}

fn main() {
    let mut seen = Vec::new();
    let _ = recs(Query { user_id: 7 }, (1, 2), Vec::new(), &mut seen);
    let mut client = Client { calls: 0 };
    let _ = client.fetch("a");
    let _ = client.count();
}
