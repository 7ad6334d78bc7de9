//! Fleet mode for the comparison: a `redis-server` of the benchmark's own (on a unix socket in
//! a temporary directory), and a fleet client on a Tokio runtime of its own thread, both
//! running from the start, so that the tables with and without fleet mode differ only in
//! whether the measured breakers joined it (and their syncs run while they are measured).

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicBool, Ordering},
};

use fusebox::{
    CircuitBreaker,
    fleet::{Fleet, FleetOptions},
};

use crate::redis_server::RedisServer;

static FLEET: OnceLock<Fleet> = OnceLock::new();
static JOINING: AtomicBool = AtomicBool::new(false);

/// From now on, [`member`] and [`join`] put breakers in fleet mode.
pub fn joining() {
    JOINING.store(true, Ordering::Relaxed);
}

/// `breaker`, in fleet mode once [`joining`].
pub fn member(breaker: CircuitBreaker) -> Arc<CircuitBreaker> {
    let breaker = Arc::new(breaker);
    join(&breaker);
    breaker
}

/// Joins `breaker` to the fleet, once [`joining`].
pub fn join(breaker: &Arc<CircuitBreaker>) {
    if let Some(fleet) = FLEET.get().filter(|_| JOINING.load(Ordering::Relaxed)) {
        fleet
            .join(Arc::clone(breaker))
            .expect("a breaker joins once");
    }
}

/// Starts the server and the fleet client; `None` (said) without `redis-server`.
pub fn start() -> Option<Server> {
    let Some(redis) = RedisServer::start() else {
        println!("\nfleet mode not measured: redis-server is not installed");
        return None;
    };
    let url = redis.url();
    let (sender, fleet) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        runtime.block_on(async move {
            let fleet = Fleet::connect(&url, FleetOptions::new().instance("bench"));
            sender.send(fleet).expect("the benchmark waits for it");
            std::future::pending::<()>().await;
        });
    });
    let fleet = fleet.recv().expect("a fleet client").expect("a valid URL");
    assert!(FLEET.set(fleet).is_ok(), "started once");
    Some(Server { _redis: redis })
}

/// The server, and the fleet's syncs, until dropped.
pub struct Server {
    _redis: RedisServer,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(fleet) = FLEET.get() {
            fleet.stop();
        }
    }
}
