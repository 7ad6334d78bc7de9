//! The Prometheus example, scraped: its `/metrics` route serves the exposition text, which
//! parses, and whose breaker series say what the calls did. The example's own code is this
//! test's module, so the test checks what a user copies.

// The samples compared are whole numbers, exact in an f64.
#![allow(clippy::float_cmp)]

use std::{collections::BTreeMap, sync::atomic::Ordering};

#[path = "../examples/prometheus.rs"]
#[allow(dead_code)] // its `main` is the example's
mod example;

use example::{DOWN, QuoteError};

/// One sample: the metric's name and its labels, sorted.
type Series = (String, BTreeMap<String, String>);

/// Parses the text exposition format (comments, `name{label="value",…} value` lines, label
/// values with their escapes `\\`, `\"` and `\n` read back); panics on a line that is neither,
/// and on two samples of one series, so a malformed or ambiguous scrape fails the test.
fn parse(text: &str) -> (BTreeMap<Series, f64>, BTreeMap<String, String>) {
    let (mut samples, mut types) = (BTreeMap::new(), BTreeMap::new());
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            let words: Vec<&str> = comment.split_whitespace().collect();
            if let ["TYPE", name, kind] = words[..] {
                types.insert(name.to_owned(), kind.to_owned());
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample line: series value");
        let value: f64 = value.parse().expect("a sample's value is a number");
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, labels)) => (name, parse_labels(labels)),
        };
        assert!(
            samples.insert((name.to_owned(), labels), value).is_none(),
            "one sample per series: {line}"
        );
    }
    (samples, types)
}

/// `label="value",…}`: the labels, their values unescaped.
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while !rest.starts_with('}') {
        let (key, after) = rest.split_once("=\"").expect("label=\"value\"");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect("a closing quote") {
                (at, '"') => break at,
                (_, '\\') => match chars.next().expect("an escaped character").1 {
                    'n' => value.push('\n'),
                    escaped @ ('\\' | '"') => value.push(escaped),
                    other => panic!("`\\{other}` is not an escape of the format: {text}"),
                },
                (_, '\n') => panic!("a raw line feed in a label value: {text}"),
                (_, other) => value.push(other),
            }
        };
        assert!(labels.insert(key.to_owned(), value).is_none(), "{text}");
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
    labels
}

fn value(samples: &BTreeMap<Series, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let key = (
        name.to_owned(),
        labels
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
    );
    *samples
        .get(&key)
        .unwrap_or_else(|| panic!("no series {name}{labels:?} in the scrape"))
}

/// A breaker in fleet mode whose store is away, with 3 calls made since it joined.
fn fleet_breaker() -> fusebox::fleet::Fleet {
    let breaker =
        fusebox::registry::get_or_register("prometheus::fleet", fusebox::Config::default());
    let fleet = fusebox::fleet::Fleet::connect(
        "redis://127.0.0.1:1",
        fusebox::fleet::FleetOptions::new().timeout(std::time::Duration::from_millis(50)),
    )
    .expect("a fleet client");
    fleet.join(std::sync::Arc::clone(&breaker)).expect("joined");
    for _ in 0..3 {
        let _ = breaker.call(|| Ok::<_, ()>(()));
    }
    fleet
}

/// Its series: stale, its outcomes pending; none for the breakers not in fleet mode.
fn fleet_series(samples: &BTreeMap<Series, f64>, types: &BTreeMap<String, String>) {
    let of_fleet = [("breaker", "prometheus::fleet")];
    assert_eq!(value(samples, "breaker_fleet_stale", &of_fleet), 1.0);
    assert_eq!(value(samples, "breaker_fleet_open", &of_fleet), 0.0);
    assert_eq!(
        value(samples, "breaker_fleet_pending_outcomes", &of_fleet),
        3.0
    );
    assert_eq!(value(samples, "breaker_fleet_started", &of_fleet), 1.0);
    // `fleet = true` in a process that started no fleet: said, not silent.
    let alone = [("breaker", "prometheus::alone")];
    assert_eq!(value(samples, "breaker_fleet_started", &alone), 0.0);
    assert_eq!(value(samples, "breaker_fleet_stale", &alone), 1.0);
    let synced = [("breaker", "prometheus::fleet"), ("kind", "synced")];
    assert_eq!(value(samples, "breaker_fleet_outcomes_total", &synced), 0.0);
    assert_eq!(types["breaker_fleet_stale"], "gauge");
    assert_eq!(types["breaker_fleet_sync_faults_total"], "counter");
    assert!(
        !samples
            .keys()
            .any(|(name, labels)| name.starts_with("breaker_fleet")
                && labels.get("breaker").is_some_and(|b| b == "quotes")),
        "no fleet series for a breaker not in fleet mode"
    );
}

/// Names a client could choose for its keys, that a careless encoding renders as one another's
/// labels: with a backslash before a quote or a line feed, and the label's own escapes.
const HOSTILE: [&str; 9] = [
    "a\\\"b", "a\"b", "a\\\nb", "a\nb", "a\\b", "a%5Cb", "a%b", "a\\nb", "a,b=\"}",
];

fn hostile_breakers() {
    for name in HOSTILE {
        let breaker = fusebox::registry::get_or_register(name, fusebox::Config::default());
        let _ = breaker.call(|| Ok::<_, ()>(()));
    }
}

/// Each hostile name is a series of its own, its label the name with `%` and `\` written as
/// `%25` and `%5C`.
fn hostile_series(samples: &BTreeMap<Series, f64>) {
    let labels: Vec<&String> = samples
        .keys()
        .filter(|(name, _)| name == "breaker_window_calls")
        .filter_map(|(_, labels)| labels.get("breaker"))
        .collect();
    for name in HOSTILE {
        let label = name.replace('%', "%25").replace('\\', "%5C");
        assert_eq!(
            labels.iter().filter(|shown| ***shown == label).count(),
            1,
            "{name:?} is the series {label:?}, once: {labels:?}"
        );
        assert_eq!(
            value(samples, "breaker_window_calls", &[("breaker", &label)]),
            1.0
        );
    }
}

/// `record_latency`: the calls that ran, timed, as a histogram by outcome (each well under half a
/// millisecond); the refused ones did not run and are not in it.
fn latency_series(samples: &BTreeMap<Series, f64>, types: &BTreeMap<String, String>) {
    assert_eq!(types["breaker_call_duration_seconds"], "histogram");
    let timed = |series: &str, kind: &str, le: Option<&str>| {
        let mut labels = vec![("breaker", "quotes"), ("kind", kind)];
        if let Some(le) = le {
            labels.push(("le", le));
        }
        value(samples, series, &labels)
    };
    assert_eq!(
        timed("breaker_call_duration_seconds_count", "successful", None),
        5.0
    );
    assert_eq!(
        timed("breaker_call_duration_seconds_count", "failed", None),
        3.0
    );
    assert_eq!(
        timed(
            "breaker_call_duration_seconds_bucket",
            "successful",
            Some("0.0005")
        ),
        5.0
    );
    assert_eq!(
        timed(
            "breaker_call_duration_seconds_bucket",
            "failed",
            Some("+Inf")
        ),
        3.0
    );
    assert!(timed("breaker_call_duration_seconds_sum", "successful", None) < 0.0025);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_of_the_example_shows_what_the_calls_did() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(example::serve(listener));

    // 5 successes; 3 failures open the circuit; 4 calls rejected; then up again but still open.
    let (mut ok, mut failed, mut rejected) = (0, 0, 0);
    for item in 0..14 {
        DOWN.store((5..10).contains(&item), Ordering::Relaxed);
        match example::quote(item) {
            Ok(_) => ok += 1,
            Err(QuoteError::Refused) => failed += 1,
            Err(QuoteError::Unavailable(_)) => rejected += 1,
        }
    }
    assert_eq!((ok, failed, rejected), (5, 3, 6));

    let fleet = fleet_breaker();
    fusebox::registry::get_or_register(
        "prometheus::alone",
        fusebox::Config::builder().fleet(true).build().unwrap(),
    );
    hostile_breakers();
    let (samples, types) = parse(&example::scrape(address).await);
    fleet_series(&samples, &types);
    hostile_series(&samples);
    fleet.stop();
    let calls = |kind| {
        value(
            &samples,
            "breaker_calls_total",
            &[("breaker", "quotes"), ("kind", kind)],
        )
    };
    assert_eq!(calls("successful"), 5.0);
    assert_eq!(calls("failed"), 3.0);
    assert_eq!(calls("rejected"), 6.0);
    assert_eq!(calls("timeout"), 0.0);
    assert_eq!(calls("busy"), 0.0);
    let state = |state| {
        value(
            &samples,
            "breaker_state",
            &[("breaker", "quotes"), ("state", state)],
        )
    };
    assert_eq!(state("open"), 1.0);
    for other in ["closed", "half_open", "forced_open", "forced_closed"] {
        assert_eq!(state(other), 0.0, "{other}");
    }
    let transitions = &[("breaker", "quotes"), ("from", "closed"), ("to", "open")];
    assert_eq!(
        value(&samples, "breaker_transitions_total", transitions),
        1.0
    );
    // 3 failures in 8 calls in the window.
    let rate = value(&samples, "breaker_failure_rate", &[("breaker", "quotes")]);
    assert!((rate - 37.5).abs() < 1e-9, "{rate}");
    assert_eq!(types["breaker_calls_total"], "counter");
    assert_eq!(types["breaker_transitions_total"], "counter");
    assert_eq!(types["breaker_state"], "gauge");
    assert_eq!(types["breaker_failure_rate"], "gauge");
    // No call was slower than `slow_call_ms` (the example does not set it): zero, and present.
    assert_eq!(
        value(&samples, "breaker_slow_call_rate", &[("breaker", "quotes")]),
        0.0
    );
    assert_eq!(
        value(
            &samples,
            "breaker_slow_calls_total",
            &[("breaker", "quotes")]
        ),
        0.0
    );
    assert_eq!(types["breaker_slow_call_rate"], "gauge");
    assert_eq!(types["breaker_slow_calls_total"], "counter");

    latency_series(&samples, &types);

    // A closed breaker's old "open" series goes back to 0 at the next scrape.
    fusebox::registry::get("quotes")
        .expect("registered")
        .reset();
    let (samples, _) = parse(&example::scrape(address).await);
    let state = |state| {
        value(
            &samples,
            "breaker_state",
            &[("breaker", "quotes"), ("state", state)],
        )
    };
    assert_eq!((state("open"), state("closed")), (0.0, 1.0));
    // Counters count on across the reset.
    let calls = value(
        &samples,
        "breaker_calls_total",
        &[("breaker", "quotes"), ("kind", "rejected")],
    );
    assert_eq!(calls, 6.0);
}
