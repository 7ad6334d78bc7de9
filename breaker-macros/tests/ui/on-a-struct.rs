use fusebox::circuit_breaker;

#[circuit_breaker]
struct Client {
    url: String,
}

fn main() {
    let client = Client { url: String::new() };
    let _ = client.url;
}
