//! Fleet mode against a real `redis-server` of the test's own: several instances, each a fleet
//! client of its own with its own breaker of the same name, as separate processes would be.
//! Real servers take real time: the bounds are generous, and what is asserted is what
//! happened, not how fast.

mod redis_server;

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use fusebox::{
    CircuitBreaker, Config, FleetState, FleetView, State, circuit_breaker,
    fleet::{self, Fleet, FleetError, FleetOptions},
    registry,
};
use redis_server::{RedisServer, cluster::RedisCluster};
use tokio::{io::AsyncReadExt, io::AsyncWriteExt, net::TcpListener};

/// A 10 s window of 200 ms buckets: a sync about every 200 ms, and nothing ages out of the
/// window while a test on a slow machine waits for it.
fn config(sleep_ms: u64) -> Config {
    Config::builder()
        .window(Duration::from_secs(10))
        .window_buckets(50)
        .request_volume_threshold(20)
        .error_threshold(50)
        .sleep_window(Duration::from_millis(sleep_ms))
        .fleet(true)
        .build()
        .unwrap()
}

struct Instance {
    fleet: Fleet,
    breaker: Arc<CircuitBreaker>,
}

/// The tests' options: short timeouts and back-off.
fn options(id: &str) -> FleetOptions {
    FleetOptions::new()
        .instance(id)
        .timeout(Duration::from_millis(200))
        .max_backoff(Duration::from_millis(400))
}

impl Instance {
    fn new(url: &str, id: &str, name: &str, config: Config) -> Instance {
        Instance::with(url, options(id), name, config)
    }

    fn with(url: &str, options: FleetOptions, name: &str, config: Config) -> Instance {
        let fleet = Fleet::connect(url, options).unwrap();
        let breaker = Arc::new(CircuitBreaker::new(name.to_owned(), config));
        fleet.join(Arc::clone(&breaker)).unwrap();
        Instance { fleet, breaker }
    }

    fn view(&self) -> FleetView {
        self.breaker.metrics().fleet.expect("joined a fleet")
    }

    fn fail(&self, times: usize) {
        for _ in 0..times {
            let _ = self.breaker.call(|| Err::<(), _>("backend down"));
        }
    }

    fn succeed(&self, times: usize) {
        for _ in 0..times {
            let _ = self.breaker.call(|| Ok::<_, ()>(()));
        }
    }

    /// Every outcome since joining is synced, pending or expired.
    fn accounted(&self) -> u64 {
        let view = self.view();
        view.synced + view.pending + view.expired
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.fleet.stop();
    }
}

fn instances(url: &str, name: &str, count: usize, config: Config) -> Vec<Instance> {
    (0..count)
        .map(|i| Instance::new(url, &format!("instance-{i}"), name, config))
        .collect()
}

/// Waits (polling every 5 ms) until `done` holds, for at most `limit`; how long it took.
async fn eventually(limit: Duration, what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

async fn synced_once(fleet: &[Instance]) {
    eventually(Duration::from_secs(10), "every instance synced", || {
        fleet.iter().all(|i| i.view().since_sync.is_some())
    })
    .await;
}

/// Every instance fails 8 calls, under its own volume threshold; the fleet trips.
async fn trip(fleet: &[Instance]) {
    synced_once(fleet).await;
    for instance in fleet {
        instance.fail(8);
    }
    eventually(Duration::from_secs(5), "the fleet open", || {
        fleet.iter().all(|i| i.breaker.state() == State::Open)
    })
    .await;
}

/// Runs `test` on a two-thread Tokio runtime of its own.
fn on_runtime<F: Future<Output = ()>>(test: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test);
}

fn with_server<F: Future<Output = ()>>(test: impl FnOnce(RedisServer) -> F) {
    let Some(server) = RedisServer::start() else {
        eprintln!(
            "SKIPPED: redis-server is not installed (Debian: apt-get install redis-server); \
             the fleet tests need a real server"
        );
        return;
    };
    on_runtime(test(server));
}

#[test]
fn five_instances_each_below_their_volume_trip_together_within_one_sync_period() {
    with_server(|server| async move {
        let mut times = Vec::new();
        for round in 0..5 {
            let fleet = instances(
                &server.url(),
                &format!("catalog-{round}"),
                5,
                config(60_000),
            );
            synced_once(&fleet).await;
            // 6 failures each: 30 in the fleet, over its volume of 20; 6 in each window, under.
            for instance in &fleet {
                instance.fail(6);
                assert_eq!(
                    instance.breaker.state(),
                    State::Closed,
                    "alone, too few calls"
                );
            }
            let took = eventually(Duration::from_secs(5), "every instance open", || {
                fleet.iter().all(|i| i.breaker.state() == State::Open)
            })
            .await;
            times.push(took);
            for instance in &fleet {
                let view = instance.view();
                assert_eq!(view.state, FleetState::Open);
                assert!(!view.stale);
                assert_eq!(instance.breaker.metrics().failures, 6, "each saw its own 6");
                assert_eq!(instance.accounted(), 6);
            }
            eventually(
                Duration::from_secs(5),
                "the fleet's window in every view",
                || {
                    fleet
                        .iter()
                        .all(|i| i.view().failures == 30 && i.view().instances == 5)
                },
            )
            .await;
        }
        times.sort();
        eprintln!(
            "threshold crossed → every instance open: {times:?}, median {:?}",
            times[2]
        );
        assert!(
            times[2] < Duration::from_secs(1),
            "a sync period is 200 ms: the median was {:?}",
            times[2]
        );
    });
}

#[test]
fn one_bad_instance_trips_only_its_own_breaker() {
    with_server(|server| async move {
        let fleet = instances(&server.url(), "search", 5, config(60_000));
        synced_once(&fleet).await;
        fleet[0].fail(20);
        assert_eq!(
            fleet[0].breaker.state(),
            State::Open,
            "its own breaker trips"
        );
        for healthy in &fleet[1..] {
            healthy.succeed(5);
        }
        // The fleet's window holds 40 calls, 20 failed (50 %), but one instance is failing.
        eventually(
            Duration::from_secs(5),
            "the fleet saw every instance",
            || {
                fleet
                    .iter()
                    .all(|i| i.view().calls == 40 && i.view().failing_instances == 1)
            },
        )
        .await;
        tokio::time::sleep(Duration::from_millis(600)).await; // three more syncs
        for healthy in &fleet[1..] {
            assert_eq!(healthy.breaker.state(), State::Closed);
            assert_eq!(healthy.view().state, FleetState::Closed);
        }
        // A second failing instance is not a quorum of five either (50 %: three).
        fleet[1].fail(25);
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(
            fleet[2..]
                .iter()
                .all(|i| i.breaker.state() == State::Closed)
        );
        assert_eq!(fleet[2].view().failing_instances, 2);
        // A third is.
        fleet[2].fail(25);
        eventually(Duration::from_secs(5), "the healthy ones held open", || {
            fleet[3..].iter().all(|i| i.breaker.state() == State::Open)
        })
        .await;
    });
}

#[test]
fn an_instance_that_stops_syncing_is_inactive_after_a_window_and_forgotten_after_three() {
    with_server(|server| async move {
        // A 600 ms window of 100 ms buckets: a sync every 100 ms or so.
        let short = Config::builder()
            .window(Duration::from_millis(600))
            .window_buckets(6)
            .fleet(true)
            .build()
            .unwrap();
        let fleet = instances(&server.url(), "gone", 3, short);
        synced_once(&fleet).await;
        eventually(Duration::from_secs(5), "three active instances", || {
            fleet.iter().all(|i| i.view().instances == 3)
        })
        .await;
        let members = |key: &str| -> Vec<String> {
            let out = server
                .cli(&["ZRANGE", &format!("fusebox:v2:{{gone}}:{key}"), "0", "-1"])
                .unwrap_or_default();
            out.lines().map(str::to_owned).collect()
        };
        assert_eq!(members("seen").len(), 3);
        // One instance's process goes away: it stops syncing.
        fleet[2].fleet.stop();
        eventually(Duration::from_secs(5), "two active instances", || {
            fleet[..2].iter().all(|i| i.view().instances == 2)
        })
        .await;
        // Three windows after its last sync, it is forgotten, batch number and all.
        eventually(Duration::from_secs(10), "instance-2 forgotten", || {
            !members("seen").contains(&"instance-2".to_owned())
        })
        .await;
        let seqs = server
            .cli(&["HEXISTS", "fusebox:v2:{gone}:seqs", "instance-2"])
            .unwrap();
        assert_eq!(seqs.trim(), "0", "its last batch's number goes with it");
        assert_eq!(members("seen").len(), 2);
    });
}

#[test]
fn an_abandoned_closed_breakers_keys_expire_within_three_windows_or_a_minute() {
    with_server(|server| async move {
        // A long backoff (a day) no longer keeps a closed breaker's keys: a family's evicted
        // keys go within a minute, not within two days.
        let backoff = Config::builder()
            .window(Duration::from_secs(10))
            .sleep_window(Duration::from_secs(5))
            .sleep_window_max(Duration::from_secs(86_400))
            .fleet(true)
            .build()
            .unwrap();
        let fleet = instances(&server.url(), "churn", 1, backoff);
        synced_once(&fleet).await;
        for part in ["meta", "seen", "seqs"] {
            let ttl = server
                .cli(&["PTTL", &format!("fusebox:v2:{{churn}}:{part}")])
                .unwrap();
            let ttl: i64 = ttl.trim().parse().unwrap();
            assert!((1..=60_000).contains(&ttl), "{part}: PTTL {ttl} ms");
        }
    });
}

#[test]
fn the_fleet_half_opens_on_leases_and_closes_after_two_instances_succeed() {
    with_server(|server| async move {
        let fleet = instances(&server.url(), "pricing", 3, config(800));
        trip(&fleet).await;
        // The backend is back: every instance keeps calling, and is refused while held.
        eventually(Duration::from_secs(10), "the fleet closed", || {
            for instance in &fleet {
                instance.succeed(1);
            }
            fleet
                .iter()
                .all(|i| i.breaker.state() == State::Closed && i.view().state == FleetState::Closed)
        })
        .await;
        let trials = |i: &Instance| {
            i.breaker
                .metrics()
                .counters
                .transitions
                .count(State::Open, State::HalfOpen)
        };
        // Two leases: two instances ran trials, the third was closed by the fleet.
        let trialled: Vec<u64> = fleet.iter().map(trials).collect();
        assert_eq!(
            trialled.iter().filter(|&&n| n > 0).count(),
            2,
            "{trialled:?}"
        );
        for instance in &fleet {
            assert_eq!(
                instance
                    .breaker
                    .metrics()
                    .counters
                    .transitions
                    .count(State::HalfOpen, State::Open),
                0,
                "no trial failed"
            );
        }
    });
}

#[test]
fn a_failed_fleet_trial_opens_the_fleet_again() {
    with_server(|server| async move {
        let fleet = instances(&server.url(), "payments", 3, config(600));
        trip(&fleet).await;
        let mut seen_half_open = false;
        // The backend is still down: the first trial fails and the fleet opens again.
        eventually(Duration::from_secs(10), "a trial failed", || {
            for instance in &fleet {
                instance.fail(1);
            }
            seen_half_open |= fleet.iter().any(|i| i.view().state == FleetState::HalfOpen);
            seen_half_open && fleet.iter().all(|i| i.view().state == FleetState::Open)
        })
        .await;
        assert!(fleet.iter().all(|i| i.breaker.state() == State::Open));
        assert!(fleet.iter().all(|i| {
            i.breaker
                .metrics()
                .counters
                .transitions
                .count(State::HalfOpen, State::Closed)
                == 0
        }));
    });
}

/// The call path answers, at once, whatever the store does.
fn calls_answer(fleet: &[Instance]) {
    for instance in fleet {
        let start = Instant::now();
        instance.succeed(100);
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "100 calls took {:?}: a call waited on the store",
            start.elapsed()
        );
    }
}

/// A window long enough that nothing ages out during a fault.
fn long_window() -> Config {
    Config::builder()
        .window(Duration::from_secs(60))
        .window_buckets(300)
        .fleet(true)
        .build()
        .unwrap()
}

async fn until_stale(fleet: &[Instance]) {
    eventually(Duration::from_secs(10), "the fleet view stale", || {
        fleet.iter().all(|i| i.view().stale)
    })
    .await;
}

async fn until_fresh_and_sent(fleet: &[Instance]) {
    eventually(
        Duration::from_secs(15),
        "synced again, nothing pending",
        || {
            fleet
                .iter()
                .all(|i| !i.view().stale && i.view().pending == 0)
        },
    )
    .await;
}

/// Every outcome made is in the fleet's window once: none lost, none counted twice.
async fn fleet_counts(fleet: &[Instance], calls: u64) {
    // One more round of syncs, so that every instance's answer saw the others' last batch.
    tokio::time::sleep(Duration::from_millis(500)).await;
    eventually(
        Duration::from_secs(5),
        "the fleet counts every call once",
        || fleet.iter().all(|i| i.view().calls == calls),
    )
    .await;
}

#[test]
fn kill_9_and_restart_empty_the_store_is_seeded_again() {
    with_server(|mut server| async move {
        let fleet = instances(&server.url(), "inventory", 3, long_window());
        synced_once(&fleet).await;
        calls_answer(&fleet);
        fleet_counts(&fleet, 300).await;
        server.kill();
        calls_answer(&fleet);
        until_stale(&fleet).await;
        assert!(fleet.iter().all(|i| i.view().sync_errors > 0));
        assert!(
            fleet.iter().all(|i| i.view().pending == 100),
            "the calls made while down wait"
        );
        server.restart();
        until_fresh_and_sent(&fleet).await;
        assert!(
            fleet.iter().all(|i| i.view().reseeds >= 1),
            "the lost data was noticed"
        );
        // The new store holds every instance's window again, each call once.
        fleet_counts(&fleet, 600).await;
        assert!(
            fleet
                .iter()
                .all(|i| i.accounted() == 200 && i.view().synced == 200)
        );
    });
}

#[test]
fn sigstop_and_sigcont_count_each_batch_once() {
    with_server(|server| async move {
        let fleet = instances(&server.url(), "shipping", 3, long_window());
        synced_once(&fleet).await;
        server.signal("STOP");
        calls_answer(&fleet);
        until_stale(&fleet).await;
        // Batches were sent to the stopped server and timed out; they are sent again.
        calls_answer(&fleet);
        server.signal("CONT");
        until_fresh_and_sent(&fleet).await;
        fleet_counts(&fleet, 600).await;
        assert!(
            fleet
                .iter()
                .all(|i| i.view().sync_errors > 0 && i.accounted() == 200)
        );
    });
}

#[test]
fn client_pause_turns_the_view_stale_until_it_ends() {
    with_server(|server| async move {
        let fleet = instances(&server.url(), "reviews", 3, long_window());
        synced_once(&fleet).await;
        server.cli(&["CLIENT", "PAUSE", "2000", "ALL"]).unwrap();
        calls_answer(&fleet);
        until_stale(&fleet).await;
        until_fresh_and_sent(&fleet).await;
        fleet_counts(&fleet, 300).await;
        assert!(
            fleet
                .iter()
                .all(|i| i.view().reseeds == 0 && i.accounted() == 100)
        );
    });
}

#[test]
fn flushall_is_detected_and_the_store_seeded_again() {
    with_server(|server| async move {
        let fleet = instances(&server.url(), "ratings", 3, long_window());
        synced_once(&fleet).await;
        calls_answer(&fleet);
        fleet_counts(&fleet, 300).await;
        server.cli(&["FLUSHALL"]).unwrap();
        calls_answer(&fleet);
        eventually(Duration::from_secs(5), "every instance re-seeded", || {
            fleet.iter().all(|i| i.view().reseeds == 1)
        })
        .await;
        until_fresh_and_sent(&fleet).await;
        fleet_counts(&fleet, 600).await;
        assert!(
            fleet
                .iter()
                .all(|i| i.accounted() == 200 && i.view().expired == 0)
        );
    });
}

/// Fixed ids are the normal case (a pod's name): a restarted instance numbers its batches from
/// 1 again, under the id its earlier life used, and the store counts them from its first.
#[test]
fn an_instance_restarted_under_its_id_has_every_outcome_counted() {
    with_server(|server| async move {
        let first = [Instance::new(
            &server.url(),
            "pod-a",
            "orders",
            long_window(),
        )];
        synced_once(&first).await;
        first[0].succeed(10);
        eventually(
            Duration::from_secs(5),
            "the first life's calls synced",
            || {
                let view = first[0].view();
                view.synced == 10 && view.calls == 10
            },
        )
        .await;
        // Some more syncs: the first life's sequence number runs ahead of the second's.
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(first); // its fleet stopped, its breaker dropped
        let second = [Instance::new(
            &server.url(),
            "pod-a",
            "orders",
            long_window(),
        )];
        second[0].succeed(25);
        eventually(
            Duration::from_secs(10),
            "the second life's calls answered",
            || {
                let view = second[0].view();
                view.pending == 0 && view.synced + view.expired == 25
            },
        )
        .await;
        // The answer that acknowledged the last batch summed the fleet's window after it.
        let view = second[0].view();
        assert_eq!(
            (view.calls, view.synced, view.expired),
            (35, 25, 0),
            "the window holds both lives' calls, and `synced` what the store added: {view:?}"
        );
        assert_eq!(view.instances, 1, "one instance, by its id");
    });
}

/// A server that reads the protocol's commands and answers each with `answer(command,
/// scripts)`: the command's name, and how many scripts (EVAL, EVALSHA) it has received, this
/// one included. Its URL, and that count.
async fn fake_server(
    answer: impl Fn(&str, u64) -> Vec<u8> + Send + Sync + 'static,
) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let scripts = Arc::new(AtomicU64::new(0));
    let answer = Arc::new(answer);
    let counted = Arc::clone(&scripts);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let (answer, scripts) = (Arc::clone(&answer), Arc::clone(&counted));
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0; 4096];
                while let Ok(read) = stream.read(&mut chunk).await {
                    if read == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..read]);
                    while let Some((command, used)) = parse_command(&buffer) {
                        buffer.drain(..used);
                        let ran = if is_script(&command) {
                            scripts.fetch_add(1, Ordering::Relaxed) + 1
                        } else {
                            scripts.load(Ordering::Relaxed)
                        };
                        if stream.write_all(&answer(&command, ran)).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (format!("redis://{address}"), scripts)
}

fn is_script(command: &str) -> bool {
    command.eq_ignore_ascii_case("EVALSHA") || command.eq_ignore_ascii_case("EVAL")
}

/// A server that answers every script with a wrong shape (`wrong`), or answers anything with
/// bytes that are not the protocol at all.
async fn garbage_server(wrong: bool) -> String {
    let (url, _) = fake_server(move |command, _| {
        let answer: &[u8] = if !wrong {
            b"\x00\xffnot the protocol\r\n"
        } else if is_script(command) {
            b"*3\r\n:1\r\n$3\r\nbad\r\n:-5\r\n"
        } else {
            b"+OK\r\n"
        };
        answer.to_vec()
    })
    .await;
    url
}

/// The sync script's answer from a store of epoch `epoch` that did `applied` with the batch
/// (1 counted, 2 lost its data), its fleet closed and empty, one instance active.
fn script_answer(epoch: &str, applied: u8) -> Vec<u8> {
    let numbers: String = [0, 0, 1, 0, 0, 0, 0, 0]
        .map(|number| format!(":{number}\r\n"))
        .concat();
    format!(
        "*10\r\n${}\r\n{epoch}\r\n:{applied}\r\n{numbers}",
        epoch.len()
    )
    .into_bytes()
}

/// The first complete command in `buffer` (an array of bulk strings): its name and length.
fn parse_command(buffer: &[u8]) -> Option<(String, usize)> {
    let text = std::str::from_utf8(buffer).ok()?;
    let mut at = 0;
    let line = |at: &mut usize| -> Option<&str> {
        let end = text[*at..].find("\r\n")? + *at;
        let line = &text[*at..end];
        *at = end + 2;
        Some(line)
    };
    let count: usize = line(&mut at)?.strip_prefix('*')?.parse().ok()?;
    let mut name = None;
    for _ in 0..count {
        let len: usize = line(&mut at)?.strip_prefix('$')?.parse().ok()?;
        let item = text.get(at..at + len)?;
        name.get_or_insert_with(|| item.to_owned());
        at += len + 2;
        if at > text.len() {
            return None;
        }
    }
    Some((name?, at))
}

#[test]
fn a_server_answering_garbage_is_counted_and_ignored() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for wrong in [true, false] {
            let url = garbage_server(wrong).await;
            let instance = Instance::new(&url, "a", "garbage", long_window());
            let fleet = [instance];
            calls_answer(&fleet);
            eventually(Duration::from_secs(10), "bad answers counted", || {
                let view = fleet[0].view();
                if wrong {
                    view.bad_replies >= 2
                } else {
                    view.sync_errors >= 2
                }
            })
            .await;
            let view = fleet[0].view();
            assert!(view.stale && view.since_sync.is_none(), "{view:?}");
            assert_eq!(view.state, FleetState::Closed, "nothing taken from garbage");
            assert_eq!(fleet[0].breaker.state(), State::Closed);
            // What the breaker saw waits to be sent: nothing is lost.
            assert_eq!(
                (view.pending, view.synced, view.expired),
                (100, 0, 0),
                "{view:?}"
            );
        }
    });
}

/// A store that loses the fleet's data at every answer (a proxy over servers that do not share
/// it, a flapping failover, the keys evicted): the member seeds it again at once the first
/// time, then backs off as from a failed sync, and the view says the fleet is not synced.
#[test]
fn a_store_that_loses_its_data_at_every_answer_is_not_hammered() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let losing = Arc::new(AtomicBool::new(false));
        let (url, scripts) = fake_server({
            let losing = Arc::clone(&losing);
            move |command, ran| {
                if !is_script(command) {
                    b"+OK\r\n".to_vec()
                } else if losing.load(Ordering::Relaxed) {
                    // A new epoch at every answer: each one a store that lost its data.
                    script_answer(&format!("lost-{ran}"), 2)
                } else {
                    script_answer("steady", 1)
                }
            }
        })
        .await;
        let fleet = [Instance::new(&url, "a", "forgetful", long_window())];
        eventually(
            Duration::from_secs(10),
            "synced with a steady store",
            || !fleet[0].view().stale,
        )
        .await;
        losing.store(true, Ordering::Relaxed);
        let before = scripts.load(Ordering::Relaxed);
        calls_answer(&fleet);
        // Ten sync periods of 200 ms.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let ran = scripts.load(Ordering::Relaxed) - before;
        let view = fleet[0].view();
        eprintln!("scripts in 2 s against a store lost at every answer: {ran}; {view:?}");
        assert!(
            ran <= 30,
            "{ran} scripts in 2 s: a store lost again right after a re-seed is backed off from"
        );
        assert!(
            view.stale,
            "nothing is counted: the view is stale, {view:?}"
        );
        assert!(view.reseeds >= 2, "every loss found is counted: {view:?}");
        assert_eq!(
            (view.pending, view.synced, view.expired),
            (100, 0, 0),
            "every call made waits: {view:?}"
        );
        assert_eq!(fleet[0].breaker.state(), State::Closed);
        // The store keeps its data again: the sync resumes by itself and the calls drain.
        losing.store(false, Ordering::Relaxed);
        eventually(
            Duration::from_secs(5),
            "synced again, nothing pending",
            || {
                let view = fleet[0].view();
                !view.stale && view.pending == 0 && view.synced == 100
            },
        )
        .await;
    });
}

#[test]
fn bad_options_and_urls_say_what_is_allowed() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(
        Fleet::connect("redis://127.0.0.1", FleetOptions::new()).unwrap_err(),
        FleetError::NoRuntime
    );
    let _entered = runtime.enter();
    let error = Fleet::connect("http://127.0.0.1", FleetOptions::new()).unwrap_err();
    assert!(matches!(error, FleetError::Url { .. }), "{error}");
    assert!(error.to_string().contains("redis://"), "{error}");
    let error = Fleet::connect("redis://127.0.0.1", FleetOptions::new().quorum(0)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "fleet option quorum must be between 1 and 100, got 0"
    );
    let error =
        Fleet::connect("redis://127.0.0.1", FleetOptions::new().instance("a{b}")).unwrap_err();
    assert!(error.to_string().contains("must not contain"), "{error}");
    let fleet = Fleet::connect("redis://127.0.0.1:1", FleetOptions::new()).unwrap();
    let breaker = Arc::new(CircuitBreaker::new("twice", Config::default()));
    fleet.join(Arc::clone(&breaker)).unwrap();
    assert_eq!(
        fleet.join(breaker).unwrap_err(),
        FleetError::AlreadyJoined("twice".to_owned())
    );
    fleet.stop();
    let after = Arc::new(CircuitBreaker::new("after stop", Config::default()));
    assert_eq!(
        fleet.join(Arc::clone(&after)).unwrap_err(),
        FleetError::Stopped
    );
    assert!(
        after.metrics().fleet.is_none(),
        "not tied to a stopped fleet"
    );
}

// A minute's window (its bucket stays in the store for the test), synced every 200 ms.
#[circuit_breaker(
    name = "fleet::annotated",
    window_ms = 60000,
    window_buckets = 300,
    fleet = true
)]
fn annotated() -> Result<(), Down> {
    Err(Down)
}

#[derive(Debug)]
struct Down;

impl From<fusebox::BreakerError> for Down {
    fn from(_: fusebox::BreakerError) -> Self {
        Down
    }
}

/// Whether `breaker` joined a fleet and synced: a breaker with `fleet = true` has a view
/// before it joins too, which says it has not synced.
fn joined(breaker: &CircuitBreaker) -> bool {
    breaker
        .metrics()
        .fleet
        .is_some_and(|view| view.started && view.since_sync.is_some())
}

#[test]
fn start_syncs_every_registered_breaker_with_fleet_on() {
    with_server(|server| async move {
        let plain = registry::get_or_register("fleet::plain", Config::default());
        // The handle is not kept, as `fleet::start(…)?;` does not keep it: fleet mode runs on.
        drop(fleet::start(&server.url(), FleetOptions::new().instance("registry")).unwrap());
        assert_eq!(
            fleet::start(&server.url(), FleetOptions::new()).unwrap_err(),
            FleetError::AlreadyStarted
        );
        let breaker = registry::get("fleet::annotated").expect("declared by the attribute");
        eventually(
            Duration::from_secs(5),
            "the annotated breaker synced",
            || {
                breaker
                    .metrics()
                    .fleet
                    .is_some_and(|view| view.since_sync.is_some())
            },
        )
        .await;
        let _ = annotated();
        eventually(Duration::from_secs(5), "its outcome synced", || {
            breaker
                .metrics()
                .fleet
                .is_some_and(|view| view.synced == 1 && view.calls == 1)
        })
        .await;
        // Registered later, with the key on: joined at the next look at the registry.
        let later = registry::get_or_register("fleet::later", config(60_000));
        eventually(Duration::from_secs(5), "a later breaker joined", || {
            joined(&later)
        })
        .await;
        assert!(plain.metrics().fleet.is_none(), "fleet is off by default");
        // Each key of a family with the key on is a fleet breaker of its own.
        let hosts: fusebox::Keyed<String> = fusebox::Keyed::new("fleet::hosts", long_window());
        let _ = hosts.call("10.0.0.1", || Ok::<_, ()>(()));
        let host = hosts.get("10.0.0.1").expect("made at its first call");
        eventually(Duration::from_secs(5), "a family's key joined", || {
            joined(&host)
        })
        .await;
        let _ = hosts.call("10.0.0.1", || Ok::<_, ()>(()));
        eventually(
            Duration::from_secs(5),
            "its call after joining synced",
            || host.metrics().fleet.is_some_and(|view| view.synced == 1),
        )
        .await;
        // Removed from the registry (as an evicted key is): its sync ends with it.
        registry::remove("fleet::later");
        assert!(
            hosts.remove("10.0.0.1").is_some(),
            "a key gone from its family"
        );
        eventually(Duration::from_secs(5), "a removed breaker unsynced", || {
            [&later, &host]
                .iter()
                .all(|breaker| breaker.metrics().fleet.is_some_and(|view| view.stale))
        })
        .await;
        // The key made again joins again, numbering its batches from 1 under the same instance
        // id: the store counts them from its first.
        let _ = hosts.call("10.0.0.1", || Ok::<_, ()>(()));
        let again = hosts.get("10.0.0.1").expect("made again at its call");
        eventually(Duration::from_secs(5), "the key made again joined", || {
            joined(&again)
        })
        .await;
        let _ = hosts.call("10.0.0.1", || Ok::<_, ()>(()));
        eventually(Duration::from_secs(5), "its call answered", || {
            again
                .metrics()
                .fleet
                .is_some_and(|view| view.pending == 0 && view.synced == 1)
        })
        .await;
        let view = again.metrics().fleet.expect("joined");
        assert_eq!(
            view.calls, 2,
            "the window holds the key's call after each join: {view:?}"
        );
        // The keys: versioned, under the breaker's name as the hash tag.
        let seen = server.cli(&["ZSCORE", "fusebox:v2:{fleet::annotated}:seen", "registry"]);
        assert!(seen.is_some_and(|at| at.trim().parse::<u64>().is_ok()));
        let keys = server
            .cli(&["KEYS", "fusebox:v2:{fleet::annotated}:*"])
            .unwrap();
        for part in ["meta", "buckets", "seen", "seqs"] {
            assert!(
                keys.contains(&format!("{{fleet::annotated}}:{part}")),
                "{keys}"
            );
        }
    });
}

#[test]
fn a_trip_reaches_every_instance_in_a_round_trip_not_a_sync_period() {
    with_server(|server| async move {
        // Buckets of 6 s: a sync period of about 6 s, 1.5 s when the fleet is failing at its
        // threshold. The trip's announcement opens every instance long before either.
        let slow = Config::builder()
            .window(Duration::from_secs(60))
            .window_buckets(10)
            .request_volume_threshold(20)
            .error_threshold(50)
            .sleep_window(Duration::from_secs(30))
            .fleet(true)
            .build()
            .unwrap();
        let fleet = instances(&server.url(), "announced", 5, slow);
        synced_once(&fleet).await;
        let opened: Arc<std::sync::Mutex<Vec<Instant>>> = Arc::default();
        for instance in &fleet {
            let opened = Arc::clone(&opened);
            instance.breaker.on_transition(move |transition| {
                if transition.to == State::Open {
                    opened.lock().unwrap().push(Instant::now());
                }
            });
        }
        // 6 failures each: 30 in the fleet, over its volume of 20; 6 in each window, under.
        for instance in &fleet {
            instance.fail(6);
        }
        eventually(Duration::from_secs(10), "every instance open", || {
            fleet.iter().all(|i| i.breaker.state() == State::Open)
        })
        .await;
        let opened = opened.lock().unwrap().clone();
        let spread = *opened.iter().max().unwrap() - *opened.iter().min().unwrap();
        eprintln!("first instance open → every instance open: {spread:?}");
        assert_eq!(opened.len(), 5, "each opened once");
        assert!(
            spread < Duration::from_secs(1),
            "the trip took {spread:?} to reach every instance: it is announced, not left to \
             the next sync (1.5 s to 6 s)"
        );
        for instance in &fleet {
            assert_eq!(instance.view().state, FleetState::Open);
        }
    });
}

#[test]
fn a_store_that_refuses_the_announcements_leaves_the_trip_to_the_syncs() {
    with_server(|server| async move {
        // No channel for anyone: the script's announcement and every subscription are refused.
        server
            .cli(&["ACL", "SETUSER", "default", "resetchannels"])
            .unwrap();
        let fleet = instances(&server.url(), "unannounced", 5, config(60_000));
        trip(&fleet).await;
        for instance in &fleet {
            let view = instance.view();
            assert_eq!(
                (view.sync_errors, view.bad_replies),
                (0, 0),
                "a refused announcement fails no sync: {view:?}"
            );
            assert_eq!(view.state, FleetState::Open);
        }
    });
}

#[test]
fn a_quiet_breaker_syncs_every_half_window_and_a_period_after_a_failure() {
    with_server(|server| async move {
        // A 2 s window of 200 ms buckets: a period of 200 ms, a quiet sync every second.
        let quiet = Config::builder()
            .window(Duration::from_secs(2))
            .window_buckets(10)
            .fleet(true)
            .build()
            .unwrap();
        let fleet = instances(&server.url(), "quiet", 1, quiet);
        synced_once(&fleet).await;
        let before = server.scripts().0;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let idle = server.scripts().0 - before;
        eprintln!("scripts in 3 s of a quiet breaker: {idle}");
        assert!(
            (1..=6).contains(&idle),
            "{idle} syncs in 3 s: a quiet breaker syncs about once a second, not every 200 ms"
        );
        // A failure is news: it reaches the fleet within about a period, not a second.
        fleet[0].fail(1);
        let took = eventually(Duration::from_secs(5), "the failure synced", || {
            fleet[0].view().failures == 1
        })
        .await;
        eprintln!("a failure reached the fleet after {took:?}");
        assert_eq!(fleet[0].accounted(), 1);
        assert!(!fleet[0].view().stale, "quiet is not stale");
    });
}

fn tls_options(
    id: &str,
    authority: &[u8],
    certificates: &redis_server::tls::Certificates,
) -> FleetOptions {
    options(id)
        .timeout(Duration::from_millis(500))
        .tls_root_certificates(authority)
        .tls_client_identity(
            certificates.client_certificate.clone(),
            certificates.client_key.clone(),
        )
}

#[test]
fn over_tls_the_fleet_syncs_and_trips() {
    let Some((server, certificates)) = redis_server::tls::start() else {
        return;
    };
    on_runtime(async move {
        let url = server.url();
        assert!(url.starts_with("rediss://"), "{url}");
        let fleet: Vec<Instance> = (0..3)
            .map(|i| {
                let id = format!("tls-{i}");
                let options = tls_options(&id, &certificates.authority, &certificates);
                Instance::with(&url, options, "encrypted", config(60_000))
            })
            .collect();
        trip(&fleet).await;
        for instance in &fleet {
            let view = instance.view();
            assert_eq!(view.sync_errors, 0, "{:?}", instance.fleet.last_fault());
            assert_eq!(view.state, FleetState::Open);
            assert_eq!(instance.accounted(), 8);
        }
    });
}

#[test]
fn a_certificate_the_client_refuses_is_a_counted_fault_that_says_so() {
    let Some((server, certificates)) = redis_server::tls::start() else {
        return;
    };
    on_runtime(async move {
        // Trusting an authority that did not sign the server's certificate.
        let options = tls_options("doubtful", &certificates.other_authority, &certificates);
        let fleet = [Instance::with(
            &server.url(),
            options,
            "refused",
            config(60_000),
        )];
        calls_answer(&fleet);
        eventually(Duration::from_secs(10), "failed syncs counted", || {
            fleet[0].view().sync_errors >= 2
        })
        .await;
        let fault = fleet[0].fleet.last_fault().expect("a fault noted");
        eprintln!("{fault}");
        assert!(
            fault.contains("certificate") && fault.contains("UnknownIssuer"),
            "the fault says the certificate was refused, and why: {fault}"
        );
        let view = fleet[0].view();
        assert!(view.stale, "{view:?}");
        assert_eq!(
            (view.pending, view.synced),
            (100, 0),
            "every call waits: {view:?}"
        );
        assert_eq!(fleet[0].breaker.state(), State::Closed);
    });
}

#[test]
fn tls_options_that_are_not_pem_are_refused_at_connect() {
    on_runtime(async {
        let bad =
            |options: FleetOptions| Fleet::connect("rediss://127.0.0.1:6380", options).unwrap_err();
        let error = bad(FleetOptions::new().tls_root_certificates("not a certificate"));
        assert!(
            matches!(
                error,
                FleetError::Option {
                    option: "tls_root_certificates",
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("PEM certificates"), "{error}");
        let error = bad(FleetOptions::new().tls_client_identity("", "no key"));
        assert!(
            matches!(
                error,
                FleetError::Option {
                    option: "tls_client_identity",
                    ..
                }
            ),
            "{error}"
        );
    });
}

fn cluster_options(id: &str) -> FleetOptions {
    options(id)
        .timeout(Duration::from_millis(500))
        .cluster(true)
}

#[test]
fn on_a_cluster_each_breaker_syncs_with_the_node_that_holds_it_and_trips() {
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    // Two breakers whose keys live on different nodes.
    let first = "orders";
    let (_, first_node) = cluster.owner(first);
    // A third of the names land on each node: one of a hundred is on another.
    let second = (0..100)
        .map(|n| format!("stock-{n}"))
        .find(|name| cluster.owner(name).1 != first_node)
        .unwrap();
    on_runtime(async move {
        for name in [first, second.as_str()] {
            let fleet: Vec<Instance> = (0..3)
                .map(|i| {
                    let id = format!("cluster-{i}");
                    Instance::with(&cluster.url(), cluster_options(&id), name, config(60_000))
                })
                .collect();
            trip(&fleet).await;
            for instance in &fleet {
                let view = instance.view();
                assert_eq!(view.sync_errors, 0, "{:?}", instance.fleet.last_fault());
                assert_eq!(instance.accounted(), 8);
            }
            fleet_counts(&fleet, 24).await;
        }
        let (_, node) = cluster.owner(&second);
        let keys = cluster.nodes[node]
            .cli(&["KEYS", &format!("fusebox:v2:{{{second}}}:*")])
            .unwrap();
        assert!(
            keys.contains(":meta"),
            "the keys live on the slot's node: {keys}"
        );
    });
}

#[test]
fn a_slot_moved_mid_sync_loses_no_outcome_and_counts_none_twice() {
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    let cluster = Arc::new(cluster);
    on_runtime(async move {
        let fleet: Vec<Instance> = (0..3)
            .map(|i| {
                let id = format!("moving-{i}");
                Instance::with(
                    &cluster.url(),
                    cluster_options(&id),
                    "moving",
                    long_window(),
                )
            })
            .collect();
        synced_once(&fleet).await;
        calls_answer(&fleet);
        fleet_counts(&fleet, 300).await;
        // The slot moves to another node while every instance keeps calling and syncing.
        let (slot, from) = cluster.owner("moving");
        let to = (from + 1) % 3;
        let moving = {
            let cluster = Arc::clone(&cluster);
            tokio::task::spawn_blocking(move || cluster.move_slot(slot, from, to))
        };
        for _ in 0..10 {
            calls_answer(&fleet);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        moving.await.unwrap();
        assert_eq!(cluster.owner("moving").1, to);
        fleet_counts(&fleet, 3_300).await;
        until_fresh_and_sent(&fleet).await;
        for instance in &fleet {
            let view = instance.view();
            eprintln!("{view:?}, last fault: {:?}", instance.fleet.last_fault());
            assert_eq!(
                (view.synced, view.pending, view.expired),
                (1_100, 0, 0),
                "every call synced once: {view:?}"
            );
        }
    });
}
