//! The dashboard's stream under many viewers: `cargo bench -p benchmarks --bench stream`.
//!
//! 10,000 breakers are registered (1 % of them called all along, the others idle), the
//! read-only router is served on loopback, and 250 clients open `GET /stream` at once and read
//! for 20 s, as 250 dashboard pages left open would. It prints how many streams were served
//! and not served, and the bytes the clients received in the first second (every breaker once)
//! and in the 19 s after (what changed). `-- --path /breakers/stream` reads another path.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    sync::{
        Arc, Barrier,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use fusebox::{Config, registry};

mod harness;
#[path = "../tests/integration/tests/support/mod.rs"]
mod support;

const BREAKERS: usize = 10_000;
const CLIENTS: usize = 250;
const FOR: Duration = Duration::from_secs(20);

/// What one client got: whether it was served, and its bytes in the first second and after.
struct Viewed {
    served: bool,
    first_second: u64,
    after: u64,
}

fn main() {
    // `cargo test --benches` runs bench targets with no `--bench` flag: stay quick then.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .iter()
        .position(|arg| arg == "--path")
        .and_then(|at| args.get(at + 1))
        .map_or("/stream", String::as_str)
        .to_owned();
    let breakers: Vec<_> = (0..BREAKERS)
        .map(|i| {
            registry::get_or_register(
                format!("hosts/10.0.{}.{}", i / 256, i % 256),
                Config::default(),
            )
        })
        .collect();
    let address = support::serve(axum::Router::new().nest_service("/ops", fusebox::http::router()));
    let done = Arc::new(AtomicBool::new(false));
    let calling = {
        let (breakers, done) = (breakers.clone(), Arc::clone(&done));
        thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                for breaker in breakers.iter().step_by(100) {
                    let _ = breaker.call(|| Ok::<_, ()>(()));
                }
                thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let start = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (start, path) = (Arc::clone(&start), path.clone());
            thread::spawn(move || {
                start.wait();
                read(address, &path)
            })
        })
        .collect();
    let reads: Vec<Viewed> = clients
        .into_iter()
        .map(|client| client.join().expect("a client"))
        .collect();
    done.store(true, Ordering::Relaxed);
    calling.join().expect("the caller");

    let served = reads.iter().filter(|read| read.served).count();
    let first: u64 = reads.iter().map(|read| read.first_second).sum();
    let after: u64 = reads.iter().map(|read| read.after).sum();
    let (cpu, cores) = harness::machine();
    println!(
        "\n{BREAKERS} breakers (1 % called every 10 ms), {CLIENTS} clients reading GET {path} \
         for {} s; {cpu}, {cores} cores\n",
        FOR.as_secs()
    );
    println!(
        "| streams served | not served (503) | bytes, first second | bytes, the {} s after | per served stream per second after |",
        FOR.as_secs() - 1
    );
    println!("|---:|---:|---:|---:|---:|");
    #[allow(clippy::cast_precision_loss)]
    let per_stream = if served == 0 {
        0.0
    } else {
        after as f64 / served as f64 / (FOR.as_secs_f64() - 1.0)
    };
    println!(
        "| {served} | {} | {first} | {after} | {per_stream:.0} |",
        CLIENTS - served
    );
}

/// One viewer: opens the stream and reads it for [`FOR`].
fn read(server: SocketAddr, path: &str) -> Viewed {
    let mut stream = TcpStream::connect(server).expect("connect");
    write!(stream, "GET /ops{path} HTTP/1.1\r\nHost: {server}\r\n\r\n").expect("send");
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("a timeout");
    let started = Instant::now();
    let mut reader = BufReader::new(stream);
    // A busy server may take a while to answer: wait for the status line as long as the run.
    let mut status = String::new();
    while !status.ends_with('\n') && started.elapsed() < FOR {
        let _ = reader.read_line(&mut status);
    }
    let mut got = Viewed {
        served: status.contains(" 200 "),
        first_second: 0,
        after: 0,
    };
    if !got.served {
        return got;
    }
    let mut buffer = vec![0; 64 * 1024];
    while started.elapsed() < FOR {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read as u64,
            Err(_) => continue, // the timeout: look at the clock again
        };
        if started.elapsed() < Duration::from_secs(1) {
            got.first_second += read;
        } else {
            got.after += read;
        }
    }
    got
}
