//! The HTTP routes (`http` feature), served on loopback: the JSON shapes, the errors, the
//! read-only router refusing to mutate, the events ring, and the stream, including a client
//! that does not read.

mod support;

use std::{
    io::{BufRead, BufReader, Write},
    net::{SocketAddr, TcpStream},
    sync::{Mutex, OnceLock},
    thread,
    time::{Duration, Instant},
};

use fusebox::{CircuitBreaker, Config, State, registry};
use serde_json::Value;
use support::{act, request, request_with};

/// One read-only server and one admin server for the whole binary (the registry is global).
fn servers() -> (SocketAddr, SocketAddr) {
    static SERVERS: OnceLock<(SocketAddr, SocketAddr)> = OnceLock::new();
    *SERVERS.get_or_init(|| {
        (
            support::serve(axum::Router::new().nest_service("/ops", fusebox::http::router())),
            support::serve(axum::Router::new().nest_service("/ops", fusebox::http::admin_router())),
        )
    })
}

/// Tests that move breakers run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Waits for the other tests that move breakers (a failed one leaves the lock usable).
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|error| panic!("not JSON ({error}): {body}"))
}

fn breaker(name: &'static str) -> std::sync::Arc<CircuitBreaker> {
    registry::get_or_register(
        name,
        Config::builder()
            .consecutive_failures(2)
            .build()
            .expect("a valid configuration"),
    )
}

#[test]
fn a_breaker_reads_as_its_state_config_window_and_counters() {
    let _serial = one_at_a_time();
    let (read_only, _) = servers();
    let cart = breaker("http::cart");
    cart.reset();
    for _ in 0..3 {
        let _ = cart.call(|| Ok::<_, ()>(()));
    }
    for _ in 0..2 {
        let _ = cart.call(|| Err::<(), _>("refused"));
    }
    let _ = cart.call(|| Ok::<_, ()>(())); // rejected: open

    let (status, head, body) = request(read_only, "GET", "/ops/breakers/http::cart");
    assert_eq!(status, 200, "{body}");
    assert!(head.contains("application/json"), "{head}");
    let view = json(&body);
    assert_eq!(view["name"], "http::cart");
    assert_eq!(view["state"], "open");
    assert!(view["time_in_state_ms"].is_u64());
    assert_eq!(view["config"]["consecutive_failures"], 2);
    assert_eq!(view["config"]["error_threshold"], 50);
    assert!(
        view["config"].get("timeout_ms").is_none(),
        "unset keys are left out"
    );
    assert_eq!(view["window"]["calls"], 5);
    assert_eq!(view["window"]["failures"], 2);
    assert_eq!(view["window"]["rejections"], 1);
    assert_eq!(view["window"]["error_percent"], 40);
    let counters = &view["counters"];
    assert_eq!(
        (counters["calls"].as_u64(), counters["rejected"].as_u64()),
        (Some(5), Some(1))
    );
    assert!(
        counters["transitions"]
            .as_array()
            .expect("a list")
            .iter()
            .any(|t| t["from"] == "closed" && t["to"] == "open" && t["count"].as_u64() >= Some(1)),
        "{counters}"
    );

    // The list has every registered breaker, this one among them.
    let (status, _, body) = request(read_only, "GET", "/ops/breakers");
    assert_eq!(status, 200);
    let list = json(&body);
    let names: Vec<&str> = list["breakers"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|b| b["name"].as_str().expect("a name"))
        .collect();
    assert!(names.contains(&"http::cart"), "{names:?}");
    assert_eq!(names.len(), registry::all().len());
}

#[test]
fn names_with_a_slash_are_found_written_plain_or_encoded() {
    let _serial = one_at_a_time();
    let (read_only, _) = servers();
    breaker("http::inventory/10.0.0.7:8080");
    for path in [
        "/ops/breakers/http::inventory/10.0.0.7:8080",
        "/ops/breakers/http%3A%3Ainventory%2F10.0.0.7%3A8080",
    ] {
        let (status, _, body) = request(read_only, "GET", path);
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(json(&body)["name"], "http::inventory/10.0.0.7:8080");
    }
}

#[test]
fn the_admin_router_serves_a_recorded_breakers_trace_as_json_lines() {
    let (read_only, admin) = servers();
    let traced = registry::get_or_register(
        "http::traced",
        Config::builder().record(true).build().unwrap(),
    );
    let _ = traced.call(|| Ok::<_, ()>(()));
    let _ = traced.call(|| Err::<(), _>(()));
    let (status, headers, body) = request(admin, "GET", "/ops/breakers/http::traced/trace");
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains("application/x-ndjson"), "{headers}");
    // A header, then a line per call.
    let header = json(body.lines().next().unwrap());
    assert_eq!(header["breaker"], "http::traced");
    assert_eq!(header["config"]["record"], true);
    let kinds: Vec<Value> = body
        .lines()
        .skip(1)
        .map(|line| json(line)["kind"].clone())
        .collect();
    assert_eq!(kinds, ["success", "failure"]);
    assert!(
        json(body.lines().nth(1).unwrap())["at_ms"]
            .as_u64()
            .unwrap()
            > 1_600_000_000_000
    );
    // The read-only router does not serve it; an unknown breaker is a 404 either way.
    let (status, _, body) = request(read_only, "GET", "/ops/breakers/http::traced/trace");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("admin router"), "{body}");
    let (status, _, body) = request(admin, "GET", "/ops/breakers/http::untraced-nobody/trace");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("http::untraced-nobody"), "{body}");
}

#[test]
fn unknown_names_and_actions_are_json_errors_and_the_read_only_router_mutates_nothing() {
    let _serial = one_at_a_time();
    let (read_only, admin) = servers();
    let quotes = breaker("http::quotes");
    quotes.reset();

    let (status, _, body) = request(read_only, "GET", "/ops/breakers/http::nope");
    assert_eq!(status, 404);
    assert!(
        json(&body)["error"]
            .as_str()
            .expect("a message")
            .contains("http::nope")
    );

    // The read-only router has no POST routes at all.
    let (status, _, _) = request(read_only, "POST", "/ops/breakers/http::quotes/force-open");
    assert_eq!(status, 405);
    assert_eq!(quotes.state(), State::Closed);

    let (status, _, body) = act(admin, "/ops/breakers/http::nope/force-open");
    assert_eq!(status, 404);
    assert!(json(&body)["error"].is_string());
    let (status, _, body) = act(admin, "/ops/breakers/http::quotes/explode");
    assert_eq!(status, 400);
    let message = json(&body)["error"].as_str().expect("a message").to_owned();
    assert!(
        message.contains("force-open, force-closed, release"),
        "{message}"
    );
    let (status, _, _) = act(admin, "/ops/breakers/http::quotes");
    assert_eq!(status, 400, "a name without an action");

    // The levers, each answering the breaker after it.
    for (action, state) in [
        ("force-open", "forced_open"),
        ("release", "closed"),
        ("force-closed", "forced_closed"),
        ("reset", "closed"),
    ] {
        let (status, _, body) = act(admin, &format!("/ops/breakers/http::quotes/{action}"));
        assert_eq!(status, 200, "{action}: {body}");
        assert_eq!(json(&body)["state"], state, "{action}");
    }
    assert_eq!(quotes.state(), State::Closed);

    // The admin router's page has the buttons; the read-only one's does not.
    let (_, _, page) = request(admin, "GET", "/ops");
    assert!(page.contains(r#"data-admin="true""#));
    let (status, _, page) = request(read_only, "GET", "/ops");
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-admin="false""#) && page.contains("<title>"));
    // Nested with `nest_service`, as the docs say: the trailing slash answers too.
    for server in [read_only, admin] {
        let (status, _, page) = request(server, "GET", "/ops/");
        assert_eq!(status, 200, "/ops/");
        assert!(page.contains("<title>"));
    }
}

#[test]
fn the_events_ring_keeps_the_last_transitions_oldest_first() {
    let _serial = one_at_a_time();
    let (read_only, _) = servers();
    let flapping = breaker("http::flapping");
    for _ in 0..200 {
        flapping.force_open();
        flapping.release();
    }
    let (status, _, body) = request(read_only, "GET", "/ops/events");
    assert_eq!(status, 200);
    let events = json(&body)["events"].as_array().expect("a list").clone();
    assert_eq!(events.len(), 256, "bounded");
    let last = events.last().expect("an event");
    assert_eq!(
        (&last["name"], &last["from"], &last["to"]),
        (
            &Value::from("http::flapping"),
            &Value::from("forced_open"),
            &Value::from("closed")
        )
    );
    let times: Vec<u64> = events
        .iter()
        .map(|e| e["at_ms"].as_u64().expect("a time"))
        .collect();
    assert!(
        times.windows(2).all(|pair| pair[0] <= pair[1]),
        "oldest first"
    );
}

/// A stream's next event: its name and data.
fn next_event(reader: &mut impl BufRead) -> (String, String) {
    let (mut name, mut data) = (String::new(), String::new());
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).expect("read the stream") > 0,
            "the stream ended"
        );
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() && !data.is_empty() {
            return (name, data);
        }
        if let Some(value) = line.strip_prefix("event: ") {
            value.clone_into(&mut name);
        } else if let Some(value) = line.strip_prefix("data: ") {
            data.push_str(value);
        }
    }
}

/// Opens the stream: a reader over its body, after the response's head.
fn open_stream(server: SocketAddr) -> BufReader<TcpStream> {
    try_stream(server).unwrap_or_else(|status| panic!("the stream answered {status}"))
}

/// Opens the stream, or says the status line it was refused with.
fn try_stream(server: SocketAddr) -> Result<BufReader<TcpStream>, String> {
    let mut stream = TcpStream::connect(server).expect("connect");
    write!(stream, "GET /ops/stream HTTP/1.1\r\nHost: {server}\r\n\r\n").expect("send");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a timeout");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).expect("the status line");
    if !line.contains(" 200 ") {
        return Err(line);
    }
    loop {
        line.clear();
        reader.read_line(&mut line).expect("a header");
        if line.trim().is_empty() {
            return Ok(reader);
        }
        assert!(
            !line.to_ascii_lowercase().starts_with("content-type:")
                || line.contains("text/event-stream"),
            "{line}"
        );
    }
}

#[test]
fn the_stream_sends_snapshots_and_transitions_and_a_stalled_client_blocks_nothing() {
    let _serial = one_at_a_time();
    let (read_only, _) = servers();
    let streamed = breaker("http::streamed");
    streamed.reset();

    let mut reader = open_stream(read_only);
    // The first event is a snapshot, sent at once.
    let (name, data) = next_event(&mut reader);
    assert_eq!(name, "snapshot");
    assert!(json(&data)["breakers"].is_array());

    streamed.force_open();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (name, data) = next_event(&mut reader);
        if name == "transition" {
            let event = json(&data);
            if event["name"] == "http::streamed" {
                assert_eq!(
                    (&event["from"], &event["to"]),
                    (&Value::from("closed"), &Value::from("forced_open"))
                );
                break;
            }
        }
        assert!(Instant::now() < deadline, "no transition event");
    }

    // A client that opens the stream and never reads, while 200,000 transitions go by: the
    // thread making them is never held up (the whole burst runs in well under the bound, on a
    // loaded machine too), and the client is told what it missed once it reads.
    let mut stalled = open_stream(read_only);
    let started = Instant::now();
    for _ in 0..100_000 {
        streamed.force_open();
        streamed.release();
    }
    let burst = started.elapsed();
    assert!(
        burst < Duration::from_secs(20),
        "200,000 transitions took {burst:?}"
    );
    let mut lagged = None;
    for _ in 0..100_000 {
        let (name, data) = next_event(&mut stalled);
        if name == "lagged" {
            lagged = json(&data)["missed"].as_u64();
            break;
        }
    }
    let missed = lagged.expect("a lagged event");
    assert!(missed > 0);
    eprintln!("200,000 transitions in {burst:?}; the stalled client missed {missed}");
    streamed.reset();
}

/// A request that must not pull a lever: what it is, its headers and its body.
type Forged<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

#[test]
fn cross_site_requests_pull_no_lever_and_no_answer_can_be_framed() {
    let _serial = one_at_a_time();
    let (read_only, admin) = servers();
    let victim = breaker("http::victim");
    victim.reset();
    let path = "/ops/breakers/http::victim/force-open";
    let forged: [Forged; 6] = [
        (
            "a cross-site HTML form",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", "http://evil.example"),
                ("Sec-Fetch-Site", "cross-site"),
            ],
            "confirm=1",
        ),
        ("a text/plain POST", &[("Content-Type", "text/plain")], "x"),
        (
            "the header, from another site",
            &[
                ("X-Breaker-Admin", "1"),
                ("Origin", "http://evil.example"),
                ("Sec-Fetch-Site", "cross-site"),
            ],
            "",
        ),
        (
            "the header, from a sibling site",
            &[("X-Breaker-Admin", "1"), ("Sec-Fetch-Site", "same-site")],
            "",
        ),
        (
            "the header, from another origin, as an older browser says it",
            &[("X-Breaker-Admin", "1"), ("Origin", "http://evil.example")],
            "",
        ),
        (
            "the header, from a sandboxed frame",
            &[("X-Breaker-Admin", "1"), ("Origin", "null")],
            "",
        ),
    ];
    for (what, headers, body) in forged {
        let (status, head, body) = request_with(admin, "POST", path, headers, body);
        assert_eq!(status, 403, "{what}: {body}");
        let message = json(&body)["error"].as_str().expect("a message").to_owned();
        assert!(message.starts_with("refused: "), "{what}: {message}");
        assert!(head.to_ascii_lowercase().contains("x-frame-options: deny"));
        assert_eq!(victim.state(), State::Closed, "{what} changed nothing");
    }

    // The dashboard's own request, as a browser sends it, and a script's.
    let here = format!("http://{admin}");
    let (status, _, body) = request_with(
        admin,
        "POST",
        path,
        &[
            ("X-Breaker-Admin", "1"),
            ("Origin", &here),
            ("Sec-Fetch-Site", "same-origin"),
        ],
        "",
    );
    assert_eq!((status, victim.state()), (200, State::ForcedOpen), "{body}");
    victim.reset();
    let (status, _, body) = act(admin, path);
    assert_eq!((status, victim.state()), (200, State::ForcedOpen), "{body}");
    victim.reset();

    // No answer of either router can be shown in another page's frame.
    for (server, path) in [
        (read_only, "/ops"),
        (admin, "/ops"),
        (read_only, "/ops/breakers"),
        (read_only, "/ops/breakers/http::nope"),
        (read_only, "/ops/events"),
    ] {
        let (_, head, _) = request(server, "GET", path);
        let head = head.to_ascii_lowercase();
        assert!(
            head.contains("x-frame-options: deny")
                && head.contains("content-security-policy:")
                && head.contains("frame-ancestors 'none'")
                && head.contains("x-content-type-options: nosniff"),
            "{path}: {head}"
        );
    }
}

#[test]
fn every_path_under_breakers_names_a_breaker_even_events_and_stream() {
    let _serial = one_at_a_time();
    let (read_only, _) = servers();
    for name in ["events", "stream", "events/stream"] {
        breaker(name);
        let (status, head, body) = request(read_only, "GET", &format!("/ops/breakers/{name}"));
        assert_eq!(status, 200, "{name}: {body}");
        assert!(head.contains("application/json"), "{name}: {head}");
        assert_eq!(json(&body)["name"], name);
    }
    let (status, _, body) = request(read_only, "GET", "/ops/events");
    assert_eq!(status, 200);
    assert!(json(&body)["events"].is_array(), "{body}");
    let mut stream = open_stream(read_only);
    assert_eq!(next_event(&mut stream).0, "snapshot");
}

/// The events of a stream for `during`: each one's name and data.
fn events_for(reader: &mut BufReader<TcpStream>, during: Duration) -> Vec<(String, String)> {
    let end = Instant::now() + during;
    let mut events = Vec::new();
    while Instant::now() < end {
        events.push(next_event(reader));
    }
    events
}

#[test]
fn the_stream_sends_each_breaker_once_then_only_what_changed() {
    let _serial = one_at_a_time();
    let (read_only, _) = servers();
    let idle: Vec<_> = (0..300)
        .map(|i| registry::get_or_register(format!("http::idle::{i:03}"), Config::default()))
        .collect();
    let mut reader = open_stream(read_only);
    let (name, snapshot) = next_event(&mut reader);
    assert_eq!(name, "snapshot");
    // Every breaker once: in the snapshot, or in the changes that follow (the streams share
    // one reading of the registry per period, which may be from before these were made).
    let mut sent: std::collections::HashSet<String> = std::collections::HashSet::new();
    let take = |sent: &mut std::collections::HashSet<String>, data: &str| {
        for breaker in json(data)["breakers"].as_array().expect("a list") {
            let name = breaker["name"].as_str().expect("a name").to_owned();
            assert!(sent.insert(name.clone()), "{name} sent twice");
        }
    };
    take(&mut sent, &snapshot);
    // Right after the snapshot, the two minutes of history the dashboard draws at once.
    let (name, history) = next_event(&mut reader);
    assert_eq!(name, "history", "{history}");
    assert_eq!(json(&history)["period_ms"], 1000, "{history}");
    assert!(json(&history)["breakers"].is_object(), "{history}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !idle.iter().all(|breaker| sent.contains(breaker.name())) {
        assert!(Instant::now() < deadline, "not every breaker was sent");
        let (name, data) = next_event(&mut reader);
        assert_eq!(name, "changes", "{data}");
        take(&mut sent, &data);
    }

    // Two seconds of nothing happening to the idle breakers: four periods, each of a few
    // bytes, where every breaker twice a second would be the whole list each time.
    let (_, _, whole) = request(read_only, "GET", "/ops/breakers");
    let quiet = events_for(&mut reader, Duration::from_secs(2));
    let bytes: usize = quiet.iter().map(|(_, data)| data.len()).sum();
    eprintln!(
        "the list of {} breakers: {} bytes; the stream in 2 s after sending each once: {} \
         events, {bytes} bytes",
        sent.len(),
        whole.len(),
        quiet.len()
    );
    assert!(
        quiet.iter().any(|(name, _)| name == "changes"),
        "{:?}",
        quiet.iter().map(|(name, _)| name).collect::<Vec<_>>()
    );
    assert!(
        bytes < whole.len() / 10,
        "{bytes} bytes in 2 s for idle breakers; the list is {}",
        whole.len()
    );
    assert!(!quiet.iter().any(|(_, data)| data.contains("http::idle::")));

    // One idle breaker is called, another goes: the next changes say so, and only so.
    let _ = idle[7].call(|| Ok::<_, ()>(()));
    registry::remove("http::idle::299");
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut called, mut removed) = (false, false);
    while !(called && removed) {
        assert!(Instant::now() < deadline, "no changes event said so");
        let (name, data) = next_event(&mut reader);
        if name != "changes" {
            continue;
        }
        let changes = json(&data);
        for breaker in changes["breakers"].as_array().expect("a list") {
            let name = breaker["name"].as_str().expect("a name");
            assert!(
                !name.starts_with("http::idle::") || name == "http::idle::007",
                "{name} did not change"
            );
            called |= name == "http::idle::007";
        }
        removed |= changes["removed"]
            .as_array()
            .expect("a list")
            .contains(&Value::from("http::idle::299"));
    }
    for breaker in &idle {
        registry::remove(breaker.name());
    }
}

#[test]
fn streams_beyond_the_cap_are_refused_until_one_ends() {
    let _serial = one_at_a_time();
    // The default: 32 streams at once.
    let default = support::serve(axum::Router::new().nest_service("/ops", fusebox::http::router()));
    let open: Vec<_> = (0..32).map(|_| open_stream(default)).collect();
    let refused = try_stream(default).expect_err("a 33rd stream is refused");
    assert!(refused.contains(" 503 "), "{refused}");
    drop(open);

    // A setting of its own; a refusal says why and when to try again.
    let two = support::serve(
        axum::Router::new()
            .nest_service("/ops", fusebox::http::Routes::new().max_streams(2).router()),
    );
    let first = open_stream(two);
    let _second = open_stream(two);
    let (status, head, body) = request(two, "GET", "/ops/stream");
    assert_eq!(status, 503, "{body}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 5"),
        "{head}"
    );
    assert!(
        json(&body)["error"]
            .as_str()
            .expect("a message")
            .contains("max_streams"),
        "{body}"
    );
    // A client that goes away gives its place back (once the server finds it gone, at its
    // next event).
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match try_stream(two) {
            Ok(_) => break,
            Err(refused) => assert!(Instant::now() < deadline, "still refused: {refused}"),
        }
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_fleet_breaker_without_a_fleet_says_so_in_the_json() {
    let _serial = one_at_a_time();
    let (read_only, _) = servers();
    registry::get_or_register(
        "http::alone",
        Config::builder()
            .fleet(true)
            .build()
            .expect("a valid configuration"),
    );
    let (status, _, body) = request(read_only, "GET", "/ops/breakers/http::alone");
    assert_eq!(status, 200, "{body}");
    let view = json(&body);
    assert_eq!(view["config"]["fleet"], true);
    assert_eq!(
        (&view["fleet"]["started"], &view["fleet"]["stale"]),
        (&Value::from(false), &Value::from(true)),
        "{view}"
    );
    let (_, _, body) = request(read_only, "GET", "/ops/breakers/http::cart");
    assert!(
        json(&body).get("fleet").is_none(),
        "no fleet view without the key"
    );
}

#[test]
fn the_list_answers_with_or_without_a_trailing_slash() {
    let _serial = one_at_a_time();
    let (read_only, _) = servers();
    for path in ["/ops/breakers", "/ops/breakers/"] {
        let (status, _, body) = request(read_only, "GET", path);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(json(&body)["breakers"].is_array(), "{path}: {body}");
    }
}

#[test]
fn the_admin_router_promotes_a_shadow_and_refuses_a_forged_request_to() {
    let (_, admin) = servers();
    let live = registry::get_or_register("http::shadowed", Config::default());
    let path = "/ops/breakers/http::shadowed/promote-shadow";
    // No shadow: nothing to promote.
    let (status, _, body) = act(admin, path);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("no shadow"), "{body}");

    let mut keys = fusebox::PartialConfig::new();
    keys.error_threshold = Some(30);
    live.set_shadow(&keys).unwrap();
    let (status, _, body) = request_with(admin, "GET", "/ops/breakers/http::shadowed", &[], "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["shadow"]["config"]["error_threshold"], 30);
    assert_eq!(json(&body)["shadow"]["successes_refused"], 0);

    let forged = [
        ("X-Breaker-Admin", "1"),
        ("Origin", "http://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ];
    let (status, _, body) = request_with(admin, "POST", path, &forged, "");
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        live.config().error_threshold(),
        50,
        "a forged request changed nothing"
    );

    let (status, _, body) = act(admin, path);
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["config"]["error_threshold"], 30);
    assert!(json(&body).get("shadow").is_none(), "{body}");
    assert_eq!(live.config().error_threshold(), 30);
}
