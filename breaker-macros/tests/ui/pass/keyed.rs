use fusebox::{BreakerError, circuit_breaker};

#[derive(Debug)]
struct Error;

impl From<BreakerError> for Error {
    fn from(_: BreakerError) -> Self {
        Error
    }
}

// A key by value, by reference, as a bare name, in a method, with a fallback and bounds.
#[circuit_breaker(key = "user")]
fn by_value(user: u64) -> Result<u64, Error> {
    Ok(user)
}

#[circuit_breaker(key = host, max_keys = 100, max_key_len = 253, fallback = "offline")]
fn by_reference(host: &str, path: String) -> Result<String, Error> {
    Ok(format!("{host}{path}"))
}

fn offline(host: &str, path: String) -> Result<String, Error> {
    Ok(format!("offline {host}{path}"))
}

struct Client;

impl Client {
    #[circuit_breaker(key = "tenant")]
    async fn fetch(&self, tenant: String) -> Result<String, Error> {
        Ok(tenant)
    }
}

fn main() {
    let _ = by_value(1);
    let _ = by_reference("example.com", String::from("/"));
    let _ = Client.fetch(String::from("acme"));
}
