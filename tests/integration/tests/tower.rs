//! The tower layer: served by axum on loopback (5xx trips it, 4xx does not, 503 with
//! `Retry-After` while open, recovery), under tower's `Buffer`, `ConcurrencyLimit` and `LoadShed`,
//! with response futures dropped half-way, timeouts and ignored outcomes. Time moves on each
//! breaker's test clock.

mod support;

use std::{
    convert::Infallible,
    future::{Future, pending},
    io,
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicU16, AtomicUsize, Ordering},
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use axum::{
    Router,
    error_handling::HandleErrorLayer,
    response::{IntoResponse, Response},
    routing::get,
};
use fusebox::{
    BreakerError, Config, Failure, State, TestClock,
    tower::{CircuitBreakerLayer, HttpClassifier, Verdict},
};
use http::StatusCode;
use tower::{Layer, Service, ServiceBuilder, ServiceExt};

fn config() -> fusebox::ConfigBuilder {
    Config::builder()
        .request_volume_threshold(4)
        .error_threshold(50)
        .sleep_window(Duration::from_secs(10))
}

#[test]
fn under_axum_5xx_trip_it_4xx_do_not_and_it_answers_503_with_retry_after_then_recovers() {
    static STATUS: AtomicU16 = AtomicU16::new(200);
    static CALLED: AtomicUsize = AtomicUsize::new(0);
    let layer = CircuitBreakerLayer::new("tower::axum_route", config().build().unwrap())
        .classifier(HttpClassifier::default());
    let clock = TestClock::new();
    layer.breaker().set_clock(&clock);
    let app = Router::new().route(
        "/flaky",
        get(|| async {
            CALLED.fetch_add(1, Ordering::Relaxed);
            StatusCode::from_u16(STATUS.load(Ordering::Relaxed)).unwrap()
        })
        // The breaker's errors (`Failure<Infallible>`) answer as they are.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(
                    |failure: Failure<Infallible>| async move { failure },
                ))
                .layer(layer.clone()),
        ),
    );
    let server = support::serve(app);
    let get = || support::request(server, "GET", "/flaky");

    // 4xx: the server answered, the request was wrong: successes.
    STATUS.store(404, Ordering::Relaxed);
    for _ in 0..6 {
        assert_eq!(get().0, 404);
    }
    assert_eq!(layer.breaker().state(), State::Closed);
    // 5xx: failures, until the rate crosses 50 % of the window.
    STATUS.store(503, Ordering::Relaxed);
    for _ in 0..6 {
        assert_eq!(get().0, 503);
    }
    assert_eq!(layer.breaker().state(), State::Open);
    let called = CALLED.load(Ordering::Relaxed);

    // Open: 503 from the breaker, with the seconds to the next trial; the handler is not called.
    clock.advance(Duration::from_millis(2_500));
    let (status, head, body) = get();
    assert_eq!(status, 503);
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 8\r\n"),
        "{head}"
    );
    assert!(
        body.contains("tower::axum_route") && body.contains("open"),
        "{body}"
    );
    assert_eq!(CALLED.load(Ordering::Relaxed), called);

    // After the sleep window, a trial call that succeeds closes it.
    STATUS.store(200, Ordering::Relaxed);
    clock.advance(Duration::from_secs(8));
    assert_eq!(get().0, 200);
    assert_eq!(layer.breaker().state(), State::Closed);
    assert_eq!(get().0, 200);
}

#[test]
fn a_layer_made_again_is_the_same_breaker() {
    let first = CircuitBreakerLayer::new("tower::same", Config::default());
    let again = CircuitBreakerLayer::new("tower::same", config().build().unwrap());
    assert!(Arc::ptr_eq(first.breaker(), again.breaker()));
    first.breaker().force_open();
    let service = again.layer(tower::service_fn(|()| async { Ok::<_, Infallible>(()) }));
    assert_eq!(service.breaker().state(), State::ForcedOpen);
}

/// An inner service that answers `Ok` or `Err` by the request, at once.
fn answering() -> impl Service<bool, Response = (), Error = io::Error, Future: Send> + Clone + Send
{
    tower::service_fn(|ok: bool| async move {
        if ok {
            Ok(())
        } else {
            Err(io::Error::other("refused"))
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_buffer_concurrency_limit_and_load_shed_nothing_panics_and_rejections_are_errors() {
    let layer = CircuitBreakerLayer::new(
        "tower::stacked",
        Config::builder().consecutive_failures(3).build().unwrap(),
    );
    // The breaker outside and inside tower's middleware.
    let outside = ServiceBuilder::new()
        .layer(layer.clone())
        .buffer(4)
        .concurrency_limit(2)
        .service(answering());
    let inside = ServiceBuilder::new()
        .load_shed()
        .buffer(4)
        .concurrency_limit(2)
        .layer(layer.clone())
        .service(answering());
    let mut tasks = Vec::new();
    for task in 0..8 {
        let (mut outside, mut inside) = (outside.clone(), inside.clone());
        tasks.push(tokio::spawn(async move {
            let mut answers = [0usize; 3]; // ok, the inner error, refused by breaker or shed
            for call in 0..50 {
                let ok = (task + call) % 5 != 0;
                match outside.ready().await.unwrap().call(ok).await {
                    Ok(()) => answers[0] += 1,
                    Err(Failure::Error(_)) => answers[1] += 1,
                    Err(Failure::Breaker(_)) => answers[2] += 1,
                }
                match inside.ready().await {
                    Ok(ready) => match ready.call(ok).await {
                        Ok(()) => answers[0] += 1,
                        Err(error) if error.is::<Failure<io::Error>>() => answers[1] += 1,
                        Err(_) => answers[2] += 1,
                    },
                    Err(_) => answers[2] += 1,
                }
            }
            answers
        }));
    }
    let mut total = [0usize; 3];
    for task in tasks {
        let answers = task.await.expect("no task panicked");
        for (sum, count) in total.iter_mut().zip(answers) {
            *sum += count;
        }
    }
    assert_eq!(total.iter().sum::<usize>(), 800);
    assert!(total[1] > 0, "the inner errors came back: {total:?}");
    // Every call of the outer stack reached the breaker; the inner stack's did unless shed.
    let counters = layer.breaker().metrics().counters;
    let reached = counters.calls + counters.rejected;
    assert!((400..=800).contains(&reached), "{counters:?}");

    // Forced open: through every stack the breaker's refusal comes back as an error.
    layer.breaker().force_open();
    let refused = outside.clone().oneshot(true).await;
    assert!(matches!(
        refused,
        Err(Failure::Breaker(BreakerError::Open { .. }))
    ));
    let refused = inside.clone().oneshot(true).await.unwrap_err();
    let refused = refused
        .downcast::<Failure<io::Error>>()
        .expect("the breaker's error");
    assert!(matches!(
        *refused,
        Failure::Breaker(BreakerError::Open { .. })
    ));
}

/// Polls `future` once, without a runtime's waker.
fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn dropped_response_futures_give_back_trial_permits_and_bulkhead_slots() {
    let never = || tower::service_fn(|()| pending::<Result<(), Infallible>>());
    // Half-open with one trial permit: a dropped trial gives it back.
    let layer = CircuitBreakerLayer::new(
        "tower::dropped_trial",
        Config::builder().consecutive_failures(1).build().unwrap(),
    );
    let clock = TestClock::new();
    layer.breaker().set_clock(&clock);
    let _ = layer.breaker().call(|| Err::<(), _>("down"));
    clock.advance(Duration::from_secs(6));
    let mut service = layer.layer(never());
    let trial = service.call(());
    assert_eq!(layer.breaker().state(), State::HalfOpen);
    let mut second = pin!(service.call(()));
    assert!(
        matches!(
            poll_once(second.as_mut()),
            Poll::Ready(Err(Failure::Breaker(_)))
        ),
        "the only trial permit is taken"
    );
    drop(trial);
    let mut third = pin!(service.call(()));
    assert!(
        poll_once(third.as_mut()).is_pending(),
        "admitted as the trial"
    );

    // A bulkhead of one: a dropped call frees its slot.
    let layer = CircuitBreakerLayer::new(
        "tower::dropped_slot",
        Config::builder().max_concurrent(1).build().unwrap(),
    );
    let mut service = layer.layer(never());
    let holding = service.call(());
    let mut busy = pin!(service.call(()));
    assert!(matches!(
        poll_once(busy.as_mut()),
        Poll::Ready(Err(Failure::Breaker(BreakerError::Busy { .. })))
    ));
    drop(holding);
    let mut admitted = pin!(service.call(()));
    assert!(poll_once(admitted.as_mut()).is_pending());
    assert_eq!(layer.breaker().metrics().counters.busy, 1);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_in_the_layer_fails_the_call_and_counts_it() {
    let layer = CircuitBreakerLayer::new(
        "tower::timeout",
        Config::builder()
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap(),
    );
    let service = layer.layer(tower::service_fn(|()| pending::<Result<(), Infallible>>()));
    let answer = service.oneshot(()).await.unwrap_err();
    assert!(matches!(
        answer,
        Failure::Breaker(BreakerError::Timeout { .. })
    ));
    assert_eq!(answer.into_response().status(), StatusCode::GATEWAY_TIMEOUT);
    let counters = layer.breaker().metrics().counters;
    assert_eq!((counters.timeouts, counters.failures), (1, 1));
}

#[test]
fn slow_responses_trip_the_layer_on_the_slow_call_rate() {
    let layer = CircuitBreakerLayer::new(
        "tower::slow",
        Config::builder()
            .request_volume_threshold(2)
            .slow_call(Duration::from_millis(200))
            .slow_call_threshold(50)
            .build()
            .unwrap(),
    );
    let clock = TestClock::new();
    layer.breaker().set_clock(&clock);
    let mut service = layer.layer(tower::service_fn(|()| pending::<Result<(), Infallible>>()));
    // Both requests are admitted when made and answered once the gate opens: the first at
    // once, the second 250 ms later on the breaker's clock.
    let gate = std::sync::Arc::new(std::sync::Mutex::new(false));
    let open = std::sync::Arc::clone(&gate);
    let mut service_ok = layer.layer(tower::service_fn(move |()| {
        let open = std::sync::Arc::clone(&open);
        std::future::poll_fn(move |_| {
            if *open.lock().unwrap() {
                Poll::Ready(Ok::<_, Infallible>(()))
            } else {
                Poll::Pending
            }
        })
    }));
    let mut fast = pin!(service_ok.call(()));
    let mut slow = pin!(service_ok.call(()));
    assert!(poll_once(slow.as_mut()).is_pending());
    *gate.lock().unwrap() = true;
    assert!(matches!(poll_once(fast.as_mut()), Poll::Ready(Ok(()))));
    assert_eq!(layer.breaker().state(), State::Closed);
    clock.advance(Duration::from_millis(250));
    assert!(matches!(poll_once(slow.as_mut()), Poll::Ready(Ok(()))));
    let metrics = layer.breaker().metrics();
    assert_eq!((metrics.successes, metrics.slow_calls), (2, 1));
    assert_eq!(metrics.state, State::Open, "1 slow response of 2: 50 %");
    let mut refused = pin!(service.call(()));
    assert!(matches!(
        poll_once(refused.as_mut()),
        Poll::Ready(Err(Failure::Breaker(BreakerError::Open { .. })))
    ));
}

#[tokio::test]
async fn an_ignored_response_counts_neither_way() {
    let layer = CircuitBreakerLayer::new(
        "tower::ignored",
        Config::builder().consecutive_failures(1).build().unwrap(),
    )
    .classifier(|result: Result<&u16, &Infallible>| match result {
        Ok(409) => Verdict::Ignored,
        Ok(code) if *code >= 500 => Verdict::Failure,
        _ => Verdict::Success,
    });
    let mut service = layer.layer(tower::service_fn(|code: u16| async move { Ok(code) }));
    for _ in 0..3 {
        assert_eq!(service.ready().await.unwrap().call(409).await.unwrap(), 409);
    }
    let metrics = layer.breaker().metrics();
    assert_eq!((metrics.calls, metrics.counters.ignored), (0, 3));
    assert_eq!(metrics.state, State::Closed);
    let _ = service.ready().await.unwrap().call(500).await;
    assert_eq!(layer.breaker().state(), State::Open);
}

#[test]
fn the_errors_answer_as_http_responses() {
    let breaker = fusebox::CircuitBreaker::new(
        "payments",
        Config::builder().consecutive_failures(1).build().unwrap(),
    );
    let clock = TestClock::new();
    breaker.set_clock(&clock);
    let _ = breaker.call(|| Err::<(), _>("declined"));
    clock.advance(Duration::from_millis(3_800)); // 1.2 s of the 5 s sleep window left
    let open = breaker.call(|| Ok::<_, Infallible>(())).unwrap_err();
    let response: Response = open.into_response();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "2", "rounded up");
    let forced = fusebox::CircuitBreaker::new("payments", Config::default());
    forced.force_open();
    let refused = forced.call(|| Ok::<_, Infallible>(())).unwrap_err();
    let response = refused.into_response();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.headers().get("retry-after").is_none(),
        "forced open: no known wait"
    );
    // An inner error answers as itself.
    let inner: Failure<StatusCode> = Failure::Error(StatusCode::BAD_GATEWAY);
    assert_eq!(inner.into_response().status(), StatusCode::BAD_GATEWAY);
}

#[tokio::test(start_paused = true)]
async fn the_layers_retry_policy_counts_every_attempt_and_stops_at_a_refusal() {
    static CALLED: AtomicUsize = AtomicUsize::new(0);
    let layer = CircuitBreakerLayer::new(
        "tower::retried",
        Config::builder()
            .consecutive_failures(5)
            .retry(3)
            .build()
            .unwrap(),
    );
    let failing = tower::service_fn(|()| async {
        CALLED.fetch_add(1, Ordering::Relaxed);
        Err::<(), _>(io::Error::other("refused"))
    });
    let service = ServiceBuilder::new()
        .retry(layer.retry_policy())
        .layer(layer.clone())
        .service(failing);

    // Four attempts, each a failure the breaker counts.
    let first = service.clone().oneshot(()).await;
    assert!(matches!(first, Err(Failure::Error(_))));
    assert_eq!(layer.breaker().metrics().counters.failures, 4);
    // The fifth attempt opens the circuit; the sixth is refused, and not retried.
    let second = service.clone().oneshot(()).await;
    assert!(matches!(
        second,
        Err(Failure::Breaker(BreakerError::Open { .. }))
    ));
    let counters = layer.breaker().metrics().counters;
    assert_eq!((counters.calls, counters.rejected), (5, 1));
    assert_eq!(
        counters.retries,
        3 + 1,
        "the refused attempt was a retry too"
    );
    assert_eq!(
        CALLED.load(Ordering::Relaxed),
        5,
        "the refused attempt never reached the backend"
    );
}

#[tokio::test(start_paused = true)]
async fn the_retry_policy_retries_what_the_classifier_fails_and_spends_the_budget() {
    static CALLED: AtomicUsize = AtomicUsize::new(0);
    let layer = CircuitBreakerLayer::new(
        "tower::retried_5xx",
        Config::builder()
            .request_volume_threshold(u32::MAX.into())
            .retry(2)
            .build()
            .unwrap(),
    )
    .classifier(HttpClassifier::default());
    // Every other response is a 503.
    let backend = tower::service_fn(|()| async {
        let n = CALLED.fetch_add(1, Ordering::Relaxed);
        let status = if n.is_multiple_of(2) { 503 } else { 200 };
        Ok::<_, Infallible>(http::Response::builder().status(status).body(()).unwrap())
    });
    let service = ServiceBuilder::new()
        .retry(layer.retry_policy())
        .layer(layer.clone())
        .service(backend);
    let response = service.clone().oneshot(()).await.unwrap();
    assert_eq!(response.status(), 200, "the 503 was retried");
    assert_eq!(CALLED.load(Ordering::Relaxed), 2);
    // A 4xx is the backend's answer: not retried.
    let answered = layer.clone().layer(tower::service_fn(|()| async {
        Ok::<_, Infallible>(http::Response::builder().status(404).body(()).unwrap())
    }));
    let retried_404 = ServiceBuilder::new()
        .retry(layer.retry_policy())
        .service(answered);
    assert_eq!(retried_404.oneshot(()).await.unwrap().status(), 404);
    assert_eq!(layer.breaker().metrics().counters.retries, 1);

    // Every response a 503: the budget (20 % of first attempts, plus 10) holds the retries.
    let down = layer.clone().layer(tower::service_fn(|()| async {
        Ok::<_, Infallible>(http::Response::builder().status(503).body(()).unwrap())
    }));
    let retried = ServiceBuilder::new()
        .retry(layer.retry_policy())
        .service(down);
    for _ in 0..100 {
        let response = retried.clone().oneshot(()).await.unwrap();
        assert_eq!(response.status(), 503);
    }
    let counters = layer.breaker().metrics().counters;
    assert!(counters.retries <= 102 * 20 / 100 + 10, "{counters:?}");
    assert!(counters.retries_denied > 50, "{counters:?}");
}

#[tokio::test]
async fn backon_outside_the_breaker_waits_out_a_refusal_before_retrying() {
    use backon::{ConstantBuilder, Retryable};

    static CALLED: AtomicUsize = AtomicUsize::new(0);
    let layer = CircuitBreakerLayer::new(
        "tower::backon",
        Config::builder()
            .consecutive_failures(2)
            .sleep_window(Duration::from_secs(1))
            .build()
            .unwrap(),
    );
    let clock = TestClock::new();
    layer.breaker().set_clock(&clock);
    // Fails twice, then answers.
    let flaky = tower::service_fn(|()| async {
        if CALLED.fetch_add(1, Ordering::Relaxed) < 2 {
            Err(io::Error::other("refused"))
        } else {
            Ok("fresh")
        }
    });
    let service = layer.layer(flaky);
    let slept = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (sleeper_clock, sleeps) = (clock.clone(), Arc::clone(&slept));

    let answer = (|| service.clone().oneshot(()))
        .retry(
            ConstantBuilder::default()
                .with_delay(Duration::from_millis(10))
                .with_max_times(5),
        )
        // A refusal says how long until the next trial: wait that long, not the backoff's step.
        .adjust(|failure: &Failure<io::Error>, backoff| match failure {
            Failure::Breaker(BreakerError::Open {
                retry_in: Some(wait),
                ..
            }) => Some(*wait),
            _ => backoff,
        })
        // The breaker's own clock moves as the retries wait.
        .sleep(move |wait| {
            sleeper_clock.advance(wait);
            sleeps.lock().unwrap().push(wait);
            std::future::ready(())
        })
        .await;

    assert_eq!(answer.unwrap(), "fresh");
    assert_eq!(
        *slept.lock().unwrap(),
        [
            Duration::from_millis(10),
            Duration::from_millis(10),
            Duration::from_millis(990), // the rest of the sleep window, as the refusal said
        ]
    );
    let counters = layer.breaker().metrics().counters;
    assert_eq!(
        (counters.calls, counters.failures, counters.rejected),
        (3, 2, 1)
    );
    assert_eq!(CALLED.load(Ordering::Relaxed), 3);
    assert_eq!(layer.breaker().state(), State::Closed);
}

/// An annotated axum handler with an extractor pattern and a fallback without parameters
/// (axum's `Path` is not `Clone`): it is a handler axum accepts, and the fallback answers.
#[fusebox::circuit_breaker(name = "tower::handler", consecutive_failures = 1, fallback = "later")]
async fn profile(
    axum::extract::Path(user): axum::extract::Path<u64>,
) -> Result<String, StatusCode> {
    if user == 0 {
        Err(StatusCode::BAD_GATEWAY)
    } else {
        Ok(format!("user {user}"))
    }
}

async fn later() -> Result<String, StatusCode> {
    Ok("try again later".to_owned())
}

#[test]
fn an_annotated_handler_with_an_extractor_pattern_and_a_fallback_serves_under_axum() {
    let server = support::serve(Router::new().route("/profile/{user}", get(profile)));
    let (status, _, body) = support::request(server, "GET", "/profile/7");
    assert_eq!((status, body.as_str()), (200, "user 7"));
    let (status, _, body) = support::request(server, "GET", "/profile/0");
    assert_eq!(
        (status, body.as_str()),
        (200, "try again later"),
        "the backend failed"
    );
    let (_, _, body) = support::request(server, "GET", "/profile/7");
    assert_eq!(
        body, "try again later",
        "open: the fallback answers at once"
    );
    let breaker = fusebox::registry::get("tower::handler").expect("registered");
    assert_eq!(breaker.metrics().counters.fallbacks, 2);
}

#[tokio::test(start_paused = true)]
async fn the_per_key_retry_policy_retries_through_each_keys_breaker() {
    static CALLED: AtomicUsize = AtomicUsize::new(0);
    let hosts = CircuitBreakerLayer::per_key(
        "tower::retried_hosts",
        Config::builder()
            .consecutive_failures(4)
            .retry(2)
            .build()
            .unwrap(),
        |host: &&'static str| *host,
    );
    // `down.example` always fails; `up.example` answers.
    let backend = tower::service_fn(|host: &'static str| async move {
        CALLED.fetch_add(1, Ordering::Relaxed);
        if host == "down.example" {
            Err(io::Error::other("reset"))
        } else {
            Ok(host)
        }
    });
    let service = ServiceBuilder::new()
        .retry(hosts.retry_policy())
        .layer(hosts.clone())
        .service(backend);

    assert!(service.clone().oneshot("down.example").await.is_err());
    assert_eq!(
        service.clone().oneshot("up.example").await.unwrap(),
        "up.example"
    );
    let down = fusebox::registry::get("tower::retried_hosts/down.example").unwrap();
    let up = fusebox::registry::get("tower::retried_hosts/up.example").unwrap();
    // Three attempts on the failing host's breaker, its retries on its own count.
    assert_eq!(down.metrics().counters.failures, 3);
    assert_eq!(down.metrics().counters.retries, 2);
    assert_eq!(up.metrics().counters.retries, 0);
    // The fourth failure opens it; the attempt after is refused and not retried.
    assert!(matches!(
        service.clone().oneshot("down.example").await,
        Err(Failure::Breaker(BreakerError::Open { .. }))
    ));
    assert_eq!(down.metrics().counters.failures, 4);
    assert_eq!(CALLED.load(Ordering::Relaxed), 3 + 1 + 1);
}
