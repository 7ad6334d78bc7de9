use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

struct Query {
    user_id: u64,
}

#[circuit_breaker(retry = 2)]
fn recs(query: Query) -> Result<Vec<u64>, Error> {
    Ok(vec![query.user_id])
}

fn main() {
    let _ = recs(Query { user_id: 7 });
}
