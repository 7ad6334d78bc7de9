use fusebox::circuit_breaker;

#[circuit_breaker]
fn ping() {}

fn main() {
    ping();
}
