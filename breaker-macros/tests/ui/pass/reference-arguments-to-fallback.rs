#![deny(warnings)]

use std::{
    pin::pin,
    task::{Context, Poll, Waker},
};

use fusebox::{circuit_breaker, registry};

#[derive(Debug, PartialEq)]
struct Error;

// Neither argument is `Clone`: references reach the fallback as they are.
struct Catalog {
    titles: Vec<String>,
}

struct Log {
    lines: Vec<String>,
}

#[circuit_breaker(name = "pass::lookup", fallback = "lookup_offline")]
fn lookup(catalog: &Catalog, log: &mut Log, title: &str) -> Result<bool, Error> {
    log.lines.push(format!("online {title}"));
    Ok(catalog.titles.iter().any(|t| t == title))
}

fn lookup_offline(_catalog: &Catalog, log: &mut Log, title: &str) -> Result<bool, Error> {
    log.lines.push(format!("offline {title}"));
    Ok(false)
}

#[circuit_breaker(name = "pass::lookup_async", fallback = "lookup_offline_async")]
async fn lookup_async(catalog: &Catalog, log: &mut Log, title: &str) -> Result<bool, Error> {
    log.lines.push(format!("online {title}"));
    Ok(catalog.titles.iter().any(|t| t == title))
}

async fn lookup_offline_async(
    _catalog: &Catalog,
    log: &mut Log,
    title: &str,
) -> Result<bool, Error> {
    log.lines.push(format!("offline {title}"));
    Ok(false)
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
    let catalog = Catalog {
        titles: vec!["Heat".to_owned()],
    };
    let mut log = Log { lines: Vec::new() };
    assert_eq!(lookup(&catalog, &mut log, "Heat"), Ok(true));
    assert_eq!(block_on(lookup_async(&catalog, &mut log, "Heat")), Ok(true));
    registry::get("pass::lookup").unwrap().force_open();
    registry::get("pass::lookup_async").unwrap().force_open();
    assert_eq!(lookup(&catalog, &mut log, "Heat"), Ok(false));
    assert_eq!(
        block_on(lookup_async(&catalog, &mut log, "Heat")),
        Ok(false)
    );
    assert_eq!(
        log.lines,
        ["online Heat", "online Heat", "offline Heat", "offline Heat"]
    );
}
