use fusebox::circuit_breaker;

#[derive(Debug)]
struct Error;

#[circuit_breaker]
fn fetch() -> Result<u32, Error> {
    Ok(1)
}

fn main() {
    let _ = fetch();
}
