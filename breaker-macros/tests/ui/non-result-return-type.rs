use fusebox::circuit_breaker;

#[circuit_breaker]
fn fetch() -> Option<u32> {
    Some(1)
}

fn main() {
    let _ = fetch();
}
