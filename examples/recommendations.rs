//! The story circuit breakers exist for, over real HTTP on loopback.
//!
//! A recommendation service runs in-process on 127.0.0.1. It goes through four phases: healthy,
//! hanging (it accepts requests and never answers), failing fast (503 at once), and healthy
//! again. Forty concurrent users call it through `recommendations`, a client function guarded
//! by `#[circuit_breaker]` with a timeout and a fallback. The example prints the breaker's
//! transitions as they happen, what the users got in each phase, and then runs the same users
//! against the same hanging service without a breaker, to compare how long callers were
//! blocked.
//!
//! While it runs it serves the breakers' dashboard (`fusebox::http::admin_router`) on loopback
//! and prints its address on a line that starts with `dashboard:`. Open it to watch the breaker
//! trip and recover.
//!
//! Run it with `cargo run --example recommendations`; it takes about 4 seconds. With
//! `-- --watch` it keeps going, the service cycling through its phases every few seconds, until
//! stopped with Ctrl-C. With `-- --record trace.jsonl` the breaker records its calls (`record`,
//! turned on through the overrides, as an operator would) and the example writes its trace to
//! that file at the end, to replay with the `what_if` example.

use std::{
    convert::Infallible,
    fmt,
    net::SocketAddr,
    sync::{
        Arc, Mutex, OnceLock, PoisonError,
        atomic::{AtomicU8, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use fusebox::{BreakerError, Failure, circuit_breaker, registry};
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Request, Response, StatusCode, body::Incoming, client, server, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// In `--watch` mode, how long each phase lasts: long enough to see it on the dashboard.
const WATCHED_PHASE: Duration = Duration::from_secs(6);
/// Concurrent users.
const USERS: u64 = 40;
/// How long each phase of the service lasts.
const PHASE: Duration = Duration::from_millis(800);
/// How long a user waits between two requests.
const THINK: Duration = Duration::from_millis(20);
/// Without a breaker, how long a caller waits on a hanging service before giving up: the
/// story's 30 seconds, scaled down so the example finishes.
const UNGUARDED_TIMEOUT: Duration = PHASE;

// ---------------------------------------------------------------------------------------------
// The recommendation service.

/// What the service does now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Healthy,
    Hanging,
    FailingFast,
    Recovered,
}

impl Phase {
    const ALL: [Phase; 4] = [
        Phase::Healthy,
        Phase::Hanging,
        Phase::FailingFast,
        Phase::Recovered,
    ];

    fn now() -> Phase {
        Phase::ALL[usize::from(SERVICE_PHASE.load(Ordering::Relaxed))]
    }

    fn enter(self) {
        let index = Phase::ALL
            .iter()
            .position(|phase| *phase == self)
            .unwrap_or(0);
        SERVICE_PHASE.store(u8::try_from(index).unwrap_or(0), Ordering::Relaxed);
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Healthy => "healthy",
            Phase::Hanging => "hanging (accepts, never answers)",
            Phase::FailingFast => "failing fast (503)",
            Phase::Recovered => "healthy again",
        })
    }
}

static SERVICE_PHASE: AtomicU8 = AtomicU8::new(0);

/// Serves `GET /recommendations/{user}` according to the phase.
async fn recommendation_service(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let service = service_fn(|_request: Request<Incoming>| async {
                match Phase::now() {
                    Phase::Healthy | Phase::Recovered => {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        let body = Full::new(Bytes::from_static(b"Heat,Ronin,Thief,Collateral"));
                        Ok::<_, Infallible>(Response::new(body))
                    }
                    Phase::Hanging => std::future::pending().await,
                    Phase::FailingFast => {
                        let mut response = Response::new(Full::new(Bytes::new()));
                        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                        Ok(response)
                    }
                }
            });
            // A connection the client gave up on ends with an error: nothing to report.
            let _ = server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

// ---------------------------------------------------------------------------------------------
// The client, guarded by a breaker.

#[derive(Debug)]
enum RecsError {
    Status(StatusCode),
    Http(String),
    Unavailable(BreakerError),
}

impl fmt::Display for RecsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecsError::Status(status) => write!(f, "recommendation service answered {status}"),
            RecsError::Http(error) => write!(f, "recommendation service unreachable: {error}"),
            RecsError::Unavailable(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for RecsError {}

impl From<BreakerError> for RecsError {
    fn from(error: BreakerError) -> Self {
        RecsError::Unavailable(error)
    }
}

/// Where a user's recommendations came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Source {
    /// The service answered.
    Personal,
    /// The fallback, because the call failed.
    FallbackAfterFailure,
    /// The fallback, because the call timed out.
    FallbackAfterTimeout,
    /// The fallback, because the breaker was open: the service was not called at all.
    ShortCircuited,
    /// No answer: only callers without a breaker end here.
    Failed,
}

struct Recommendations {
    movies: Vec<String>,
    source: Source,
}

/// Hystrix's `getRecommendations`, annotated as it would be there.
#[circuit_breaker(
    name = "recommendations",
    error_threshold = 50,
    request_volume_threshold = 10,
    consecutive_failures = 5,
    window_ms = 2000,
    window_buckets = 10,
    sleep_window_ms = 500,
    timeout_ms = 200,
    fallback = "default_recommendations"
)]
async fn recommendations(service: SocketAddr, user: u64) -> Result<Recommendations, RecsError> {
    let movies = fetch(service, user).await?;
    Ok(Recommendations {
        movies,
        source: Source::Personal,
    })
}

/// Hystrix's `getDefaultRecommendations`: what everyone gets when the service cannot answer.
async fn default_recommendations(
    _service: SocketAddr,
    _user: u64,
    why: Failure<RecsError>,
) -> Result<Recommendations, RecsError> {
    let source = match why {
        Failure::Breaker(BreakerError::Timeout { .. }) => Source::FallbackAfterTimeout,
        Failure::Breaker(_) => Source::ShortCircuited,
        Failure::Error(_) => Source::FallbackAfterFailure,
    };
    Ok(Recommendations {
        movies: vec!["The Godfather".into(), "Casablanca".into()],
        source,
    })
}

/// One HTTP request on a connection of its own, no breaker.
async fn fetch(service: SocketAddr, user: u64) -> Result<Vec<String>, RecsError> {
    let http = |error: hyper::Error| RecsError::Http(error.to_string());
    let stream = TcpStream::connect(service)
        .await
        .map_err(|error| RecsError::Http(error.to_string()))?;
    let (mut sender, connection) = client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(http)?;
    tokio::spawn(connection);
    let request = Request::get(format!("/recommendations/{user}"))
        .header("host", service.to_string())
        .body(Empty::<Bytes>::new())
        .map_err(|error| RecsError::Http(error.to_string()))?;
    let response = sender.send_request(request).await.map_err(http)?;
    if !response.status().is_success() {
        return Err(RecsError::Status(response.status()));
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(http)?
        .to_bytes();
    Ok(String::from_utf8_lossy(&body)
        .split(',')
        .map(str::to_owned)
        .collect())
}

// ---------------------------------------------------------------------------------------------
// The users, and what they saw.

/// One call as a user saw it.
#[derive(Clone, Copy)]
struct Call {
    phase: Phase,
    source: Source,
    latency: Duration,
}

#[derive(Default)]
struct Log(Mutex<Vec<Call>>);

impl Log {
    fn push(&self, call: Call) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(call);
    }

    fn calls(&self) -> Vec<Call> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Seconds since the example started, for the timeline.
fn elapsed() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// `USERS` users calling `call` until `until`, each recording what it got.
async fn users<F, Fut>(until: Instant, log: Arc<Log>, call: F)
where
    F: Fn(u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Source> + Send,
{
    let tasks: Vec<_> = (0..USERS)
        .map(|user| {
            let (log, call) = (Arc::clone(&log), call.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    let phase = Phase::now();
                    let started = Instant::now();
                    let source = call(user).await;
                    log.push(Call {
                        phase,
                        source,
                        latency: started.elapsed(),
                    });
                    tokio::time::sleep(THINK).await;
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}

fn percentile(latencies: &mut [Duration], percent: usize) -> Duration {
    if latencies.is_empty() {
        return Duration::ZERO;
    }
    latencies.sort_unstable();
    latencies[(latencies.len() * percent / 100).min(latencies.len() - 1)]
}

fn count(calls: &[&Call], source: Source) -> usize {
    calls.iter().filter(|call| call.source == source).count()
}

fn print_phase_table(calls: &[Call]) {
    println!(
        "\n{:<34} {:>6} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "phase", "calls", "served", "failed→fb", "timeout→fb", "short-circ", "p50", "p99"
    );
    for phase in Phase::ALL {
        let in_phase: Vec<&Call> = calls.iter().filter(|call| call.phase == phase).collect();
        let mut latencies: Vec<Duration> = in_phase.iter().map(|call| call.latency).collect();
        println!(
            "{:<34} {:>6} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
            phase.to_string(),
            in_phase.len(),
            count(&in_phase, Source::Personal),
            count(&in_phase, Source::FallbackAfterFailure),
            count(&in_phase, Source::FallbackAfterTimeout),
            count(&in_phase, Source::ShortCircuited),
            format!("{:.2?}", percentile(&mut latencies, 50)),
            format!("{:.2?}", percentile(&mut latencies, 99)),
        );
    }
}

/// Totals for the users' calls made while the service hung.
struct Hanging {
    calls: usize,
    answered: usize,
    blocked: Duration,
    p50: Duration,
    p99: Duration,
}

impl Hanging {
    fn of(calls: &[Call]) -> Hanging {
        let hanging: Vec<&Call> = calls
            .iter()
            .filter(|call| call.phase == Phase::Hanging)
            .collect();
        let mut latencies: Vec<Duration> = hanging.iter().map(|call| call.latency).collect();
        Hanging {
            calls: hanging.len(),
            answered: hanging
                .iter()
                .filter(|call| call.source != Source::Failed)
                .count(),
            blocked: latencies.iter().sum(),
            p50: percentile(&mut latencies, 50),
            p99: percentile(&mut latencies, 99),
        }
    }
}

/// Serves the dashboard, with the operator's buttons (on loopback only), and returns its address.
async fn serve_dashboard() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, fusebox::http::admin_router()).await });
    address
}

/// `--record <file>`: the file to write the trace to, the breaker recording from now on.
fn recording() -> Option<String> {
    let mut arguments = std::env::args().skip_while(|argument| argument != "--record");
    arguments.next()?;
    let path = arguments.next().unwrap_or_else(|| "trace.jsonl".to_owned());
    let record = fusebox::Overrides::from_toml_str("[breakers.recommendations]\nrecord = true\n")
        .expect("the overrides");
    registry::apply(&record).expect("recording put in force");
    Some(path)
}

/// `--watch`: users call for ever while the service goes through its phases again and again.
async fn watch(service: SocketAddr) {
    println!("watching: phases of {WATCHED_PHASE:?}, for ever (Ctrl-C stops)\n");
    let forever = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    tokio::spawn(users(
        forever,
        Arc::new(Log::default()),
        move |user| async move {
            recommendations(service, user)
                .await
                .map_or(Source::Failed, |recs| recs.source)
        },
    ));
    loop {
        for phase in Phase::ALL {
            phase.enter();
            println!("  [{:6.2}s] the service is now {phase}", elapsed());
            tokio::time::sleep(WATCHED_PHASE).await;
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    elapsed();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let service = listener.local_addr().expect("local address");
    tokio::spawn(recommendation_service(listener));
    let dashboard = serve_dashboard().await;
    println!("dashboard: http://{dashboard}/ (the breaker, live; `-- --watch` keeps it running)");

    println!("recommendation service on {service}; {USERS} users; phases of {PHASE:?}\n");
    registry::on_transition(|t| {
        println!(
            "  [{:6.2}s] breaker `{}`: {} -> {}",
            elapsed(),
            t.name,
            t.from,
            t.to
        );
    });

    if std::env::args().any(|argument| argument == "--watch") {
        watch(service).await;
    }
    let record_to = recording();

    // With the breaker, through all four phases.
    let log = Arc::new(Log::default());
    let start = Instant::now();
    let end = start + PHASE * 4;
    let driver = tokio::spawn(users(end, Arc::clone(&log), move |user| async move {
        match recommendations(service, user).await {
            Ok(recs) if !recs.movies.is_empty() => recs.source,
            _ => Source::Failed,
        }
    }));
    for (index, phase) in Phase::ALL.into_iter().enumerate() {
        tokio::time::sleep_until((start + PHASE * u32::try_from(index).unwrap_or(0)).into()).await;
        phase.enter();
        println!("  [{:6.2}s] the service is now {phase}", elapsed());
    }
    let _ = driver.await;
    let guarded = log.calls();
    if let (Some(path), Some(breaker)) = (&record_to, registry::get("recommendations")) {
        let trace = breaker.trace();
        std::fs::write(path, trace.to_json_lines()).expect("write the trace");
        println!(
            "\n  the breaker's last {} calls are in {path} (`cargo run --example what_if -- {path} examples/candidates.toml`)",
            trace.calls.len()
        );
    }
    print_phase_table(&guarded);
    if let Some(breaker) = registry::get("recommendations") {
        let metrics = breaker.metrics();
        println!(
            "\nbreaker at the end: {} ({} calls and {} rejections in its {} ms window)",
            metrics.state,
            metrics.calls,
            metrics.rejections,
            breaker.config().window().as_millis()
        );
    }

    // The same users against the same hanging service, without a breaker.
    println!(
        "\n  [{:6.2}s] without a breaker: the service hangs again for {PHASE:?}; callers give up after {UNGUARDED_TIMEOUT:?}",
        elapsed()
    );
    Phase::Hanging.enter();
    let unguarded_log = Arc::new(Log::default());
    users(
        Instant::now() + PHASE,
        Arc::clone(&unguarded_log),
        move |user| async move {
            match tokio::time::timeout(UNGUARDED_TIMEOUT, fetch(service, user)).await {
                Ok(Ok(_)) => Source::Personal,
                _ => Source::Failed,
            }
        },
    )
    .await;
    let (with, without) = (Hanging::of(&guarded), Hanging::of(&unguarded_log.calls()));

    print_comparison(&with, &without);
}

fn print_comparison(with: &Hanging, without: &Hanging) {
    println!("\nwhile the service hung ({USERS} users, {PHASE:?}):");
    println!("{:<34} {:>16} {:>16}", "", "with breaker", "without");
    println!(
        "{:<34} {:>16} {:>16}",
        "calls made", with.calls, without.calls
    );
    println!(
        "{:<34} {:>16} {:>16}",
        "calls answered (fallback or not)", with.answered, without.answered
    );
    println!(
        "{:<34} {:>16} {:>16}",
        "time callers spent blocked",
        format!("{:.1?}", with.blocked),
        format!("{:.1?}", without.blocked)
    );
    println!(
        "{:<34} {:>16} {:>16}",
        "median latency",
        format!("{:.2?}", with.p50),
        format!("{:.2?}", without.p50)
    );
    println!(
        "{:<34} {:>16} {:>16}",
        "p99 latency",
        format!("{:.2?}", with.p99),
        format!("{:.2?}", without.p99)
    );
}
