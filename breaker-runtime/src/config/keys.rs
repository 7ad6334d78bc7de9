//! The configuration's keys, one row each: the single place a key is declared. Everything
//! that has an entry per key (the [`Config`] and its builder, the live configuration, the
//! [`PartialConfig`] layers, the limits, [`ConfigKey`] for the attribute and the override
//! sources, the documentation's key tables) is made from these rows by
//! [`config_keys!`](super::table) — see there for a row's parts. Adding a key is a row here,
//! plus what it means to a call where the call uses it.

use super::table::{
    at_least_of, builder_setter, choices_of, config_getter, config_keys, count_rows, from_number,
    key_kind, live_getter, live_type, needs_of, partial_number, partial_type, partial_value,
    store_max, stored_number, stored_type,
};

config_keys! {
    /// Percent of failed calls in the window at or above which the breaker trips (1..=100).
    ErrorThreshold error_threshold ERROR_THRESHOLD: count {
        range: 1, 100;
        default: Some(50);
        store: u8;
        get: error_threshold;
        set: error_threshold(percent);
        table: "trip when failures are at least this percent of the calls in the window…", "";
    }

    /// Calls the window must hold before the error rate (or the slow-call rate) can trip the
    /// breaker (≥ 1).
    RequestVolumeThreshold request_volume_threshold REQUEST_VOLUME_THRESHOLD: count {
        range: 1, u32::MAX as u64;
        default: Some(20);
        get: request_volume_threshold;
        set: request_volume_threshold(calls);
        table: "…and the window holds at least this many calls", "";
    }

    /// Length of the rolling window, `window_ms` (10 ms to one day).
    WindowMs window_ms WINDOW_MS: millis {
        range: crate::limits::MIN_BUCKET_MS, crate::limits::MAX_MS;
        default: Some(10_000);
        get: window;
        set: window(length);
        table: "length of the rolling window", "";
    }

    /// Buckets the window is kept in (1..=1000); they must split the window evenly into
    /// buckets of at least [`limits::MIN_BUCKET_MS`](crate::limits::MIN_BUCKET_MS).
    WindowBuckets window_buckets WINDOW_BUCKETS: count {
        range: 1, 1_000;
        default: Some(10);
        store: u16;
        get: window_buckets;
        set: window_buckets(buckets);
        table: "buckets the window is kept in", ", divides `window_ms` into buckets of at least 10 ms";
    }

    /// How long the circuit stays open before it lets a trial call through,
    /// `sleep_window_ms` (1 ms to one day).
    SleepWindowMs sleep_window_ms SLEEP_WINDOW_MS: millis {
        range: 1, crate::limits::MAX_MS;
        default: Some(5_000);
        get: sleep_window;
        set: sleep_window(sleep);
        table: "how long the circuit stays open before a trial call", "";
    }

    /// Trial calls admitted while half-open (1..=65535); all of them must succeed to close.
    HalfOpenMaxCalls half_open_max_calls HALF_OPEN_MAX_CALLS: count {
        range: 1, u16::MAX as u64;
        default: Some(1);
        store: u16;
        get: half_open_max_calls;
        set: half_open_max_calls(calls);
        table: "trial calls while half-open; all must succeed to close", "";
    }

    /// Failures in a row that also trip the breaker, whatever the error rate (≥ 1; off unless
    /// set), like pybreaker's `fail_max`.
    ConsecutiveFailures consecutive_failures CONSECUTIVE_FAILURES: optional_count {
        range: 1, u32::MAX as u64;
        default: None;
        get: consecutive_failures;
        set: consecutive_failures(failures);
        table: "also trip after this many failures in a row", "";
    }

    /// How long an async call may run before it is dropped and counted as a failure
    /// ([`BreakerError::Timeout`](crate::BreakerError::Timeout)), `timeout_ms` (1 ms to one
    /// day; off unless set). Sync calls cannot be abandoned and ignore it. Enforced with the
    /// `tokio` feature, whose timer enforces it; without that feature the builder has no
    /// method for it and overrides refuse it, so a timeout cannot be silently ignored.
    TimeoutMs timeout_ms TIMEOUT_MS: optional_millis {
        range: 1, crate::limits::MAX_MS;
        default: None;
        get: timeout;
        set: #[cfg(feature = "tokio")] #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))] timeout(limit);
        table: "async calls only, needs the `tokio` feature: a call still running is dropped and fails", "";
    }

    /// Calls allowed in flight at once, the bulkhead (≥ 1; off unless set): beyond it calls
    /// are rejected at once ([`BreakerError::Busy`](crate::BreakerError::Busy)), as Hystrix's
    /// semaphore isolation.
    MaxConcurrent max_concurrent MAX_CONCURRENT: optional_count {
        range: 1, u32::MAX as u64;
        default: None;
        get: max_concurrent;
        set: max_concurrent(calls);
        table: "bulkhead: calls beyond this many in flight are rejected at once", "";
    }

    /// How long a call may take before it counts as slow, `slow_call_ms` (10 ms to one day;
    /// off unless set). At least [`MIN_BUCKET_MS`](crate::limits::MIN_BUCKET_MS): calls are
    /// timed on the breaker's coarse clock, whose tick is 1 to 10 ms, so a measured time is
    /// within a tick or so of the real one. The breaker trips when slow calls are at least
    /// `slow_call_threshold` percent of the window's calls, as Resilience4j's slow-call rule;
    /// a slow success is still a success, a slow failure both slow and a failure.
    SlowCallMs slow_call_ms SLOW_CALL_MS: optional_millis {
        range: crate::limits::MIN_BUCKET_MS, crate::limits::MAX_MS;
        default: None;
        get: slow_call;
        set: slow_call(limit);
        table: "a call taking longer is slow (timed on the breaker's coarse clock, hence at least 10 ms)", "";
    }

    /// Percent of slow calls in the window at or above which the breaker trips, once the
    /// window holds `request_volume_threshold` calls (1..=100, 100 unless set); only with
    /// `slow_call_ms`.
    SlowCallThreshold slow_call_threshold SLOW_CALL_THRESHOLD: count {
        range: 1, 100;
        default: Some(100);
        store: u8;
        get: slow_call_threshold;
        set: slow_call_threshold(percent);
        needs: SlowCallMs, "the time past which a call is slow";
        table: "trip when slow calls are at least this percent of the calls in the window (volume reached)", ", with `slow_call_ms`";
    }

    /// The longest sleep window open-duration backoff grows to, `sleep_window_max_ms` (at
    /// least `sleep_window_ms`, at most one day; off unless set): each re-opening after a
    /// failed trial sleeps twice as long as the one before, back to `sleep_window_ms` once
    /// the circuit closes.
    SleepWindowMaxMs sleep_window_max_ms SLEEP_WINDOW_MAX_MS: optional_millis {
        range: 1, crate::limits::MAX_MS;
        default: None;
        get: sleep_window_max;
        set: sleep_window_max(longest);
        at_least: SleepWindowMs;
        table: "backoff: each re-opening after a failed trial sleeps twice as long, up to this; back to `sleep_window_ms` once closed", ", at least `sleep_window_ms`";
    }

    /// Up to how many percent each sleep window is lengthened by a random share of itself,
    /// `sleep_window_jitter` (1..=100; off unless set): many instances of a service that
    /// opened together half-open at different moments.
    SleepWindowJitter sleep_window_jitter SLEEP_WINDOW_JITTER: optional_count {
        range: 1, 100;
        default: None;
        store: u8;
        get: sleep_window_jitter;
        set: sleep_window_jitter(percent);
        table: "lengthen each sleep window by a random share of itself, up to this percent", "";
    }

    /// How long a half-open period may wait on its trials before it ends as a failure,
    /// `half_open_max_wait_ms` (1 ms to one day; off unless set): the circuit re-opens, and
    /// the late trials' outcomes are ignored. Without it, a sync trial call that never
    /// returns keeps the circuit half-open, and every other call rejected, for as long as it
    /// hangs.
    HalfOpenMaxWaitMs half_open_max_wait_ms HALF_OPEN_MAX_WAIT_MS: optional_millis {
        range: 1, crate::limits::MAX_MS;
        default: None;
        get: half_open_max_wait;
        set: half_open_max_wait(limit);
        table: "a half-open period whose trials have not all finished after this long re-opens (their late outcomes are ignored)", "";
    }

    /// Whether the breaker shares its counts with the other instances of the service,
    /// `fleet` (off unless set): when the process runs `fleet::start` (feature `redis`), the
    /// fleet trips on the fleet's failures. Without fleet mode running, the breaker decides
    /// alone, and says so (its metrics' fleet view is not started).
    Fleet fleet FLEET: flag {
        range: 0, 1;
        default: Some(0);
        get: fleet;
        set: fleet(on);
        table: "with fleet mode running (`redis` feature, `fleet::start`), share the counts with the service's other instances and trip on the fleet's", "";
    }

    /// Whether an open breaker takes the whole service down in
    /// [`registry::health`](crate::registry::health), `critical` (off unless set). Off, an
    /// open, half-open or forced-open breaker makes the service `Degraded`, which a readiness
    /// probe still passes: a dependency's outage usually must not take every instance out of
    /// rotation, which would turn a partial outage into a total one. On, it makes the service
    /// `Down` (`503` on `GET /health`): for a dependency without which nothing the service
    /// does can succeed.
    Critical critical CRITICAL: flag {
        range: 0, 1;
        default: Some(0);
        get: critical;
        set: critical(on);
        table: "an open breaker makes `registry::health()` `Down` (503 on `GET /health`) rather than `Degraded`", "";
    }

    /// Whether each call is timed on the fine monotonic clock, `record_latency` (off unless
    /// set): [`Metrics::latency`](crate::Metrics::latency) gives the p50 and p99 of the
    /// breaker's calls, the dashboard shows them, and with the `metrics` feature the publisher
    /// exports `breaker_call_duration_seconds{breaker, kind}`. It costs a call two readings of
    /// `Instant` and an atomic add; a breaker without it reads no extra clock.
    RecordLatency record_latency RECORD_LATENCY: flag {
        range: 0, 1;
        default: Some(0);
        get: record_latency;
        set: record_latency(on);
        table: "time each call on the fine clock: p50 and p99 in the metrics and the dashboard, `breaker_call_duration_seconds`", "";
    }

    /// Whether each call runs inside a `tracing` span, `trace_calls` (off unless set; with the
    /// `tracing` feature, which the attribute requires for it): calls, annotated functions,
    /// the tower layer's requests and the reqwest middleware's run in a span `circuit_breaker`
    /// that carries `breaker` (the name), `state` (at admission: `closed`, `half_open`,
    /// `forced_closed`, or the state that refused it) and `outcome` (`success`, `failure`,
    /// `timeout`, `rejected`, `busy`), so traces exported to OpenTelemetry show the breaker's
    /// decision around the call. A breaker without it pays nothing for it on a call.
    TraceCalls trace_calls TRACE_CALLS: flag {
        range: 0, 1;
        default: Some(0);
        get: trace_calls;
        set: trace_calls(on);
        table: "run each call in a `tracing` span with the breaker's name, the state at admission and the outcome (`tracing` feature)", "";
    }

    /// Attempts after the first, `retry` (1..=10; off unless set): a call that failed or
    /// timed out is made again, through the breaker, up to this many times. A refusal (open,
    /// busy) ends the attempts at once, and so does the retry budget (`retry_budget`). Retry
    /// sits outside the breaker: every attempt is admitted, counted and classified by it. The
    /// attribute's functions retry with it; code retries with
    /// [`CircuitBreaker::call_with_retry`](crate::CircuitBreaker::call_with_retry) and a
    /// [`Retry`](crate::Retry) made from it ([`Retry::of`](crate::Retry::of)). Overrides change
    /// the attempts, waits and budget of a function whose attribute has `retry`, from its next
    /// call; a function whose attribute does not was compiled without the copies of its
    /// arguments a second attempt needs, and makes one attempt whatever the overrides say.
    Retry retry RETRY: optional_count {
        range: 1, 10;
        default: None;
        store: u8;
        get: retry;
        set: retry(attempts);
        table: "attempts after the first: a failed or timed-out call is made again, through the breaker; a refusal is never retried", "";
    }

    /// The wait before the first retry, `retry_backoff_ms` (1 ms to one day, 50 unless set;
    /// only with `retry`): the wait before retry *n* is this doubled *n − 1* times, up to
    /// `retry_backoff_max_ms`.
    RetryBackoffMs retry_backoff_ms RETRY_BACKOFF_MS: millis {
        range: 1, crate::limits::MAX_MS;
        default: Some(50);
        get: retry_backoff;
        set: retry_backoff(first);
        needs: Retry, "the attempts after the first";
        table: "wait before the first retry; doubled before each next one", ", with `retry`";
    }

    /// The longest wait between two attempts, `retry_backoff_max_ms` (at least
    /// `retry_backoff_ms`, at most one day; 20 × `retry_backoff_ms` unless set; only with
    /// `retry`).
    RetryBackoffMaxMs retry_backoff_max_ms RETRY_BACKOFF_MAX_MS: optional_millis {
        range: 1, crate::limits::MAX_MS;
        default: None;
        get: retry_backoff_max;
        set: retry_backoff_max(longest);
        needs: Retry, "the attempts after the first";
        at_least: RetryBackoffMs;
        table: "the longest wait between attempts (20 × `retry_backoff_ms` unless set)", ", at least `retry_backoff_ms`, with `retry`";
    }

    /// Up to how many percent each wait between attempts is lengthened by a random share of
    /// itself, `retry_jitter` (1..=100; off unless set; only with `retry`): callers that failed
    /// together do not retry together.
    RetryJitter retry_jitter RETRY_JITTER: optional_count {
        range: 1, 100;
        default: None;
        store: u8;
        get: retry_jitter;
        set: retry_jitter(percent);
        needs: Retry, "the attempts after the first";
        table: "lengthen each wait between attempts by a random share of itself, up to this percent", ", with `retry`";
    }

    /// The retry budget, `retry_budget` (percent, 1..=100, 20 unless set; only with `retry`):
    /// the retries made within the breaker's rolling window stay at most this share of the
    /// window's first attempts, plus 10 per window, as Finagle's and tower's retry budgets.
    /// A retry the budget refuses is not made: the last error goes back, and
    /// [`Counters::retries_denied`](crate::Counters::retries_denied) counts it. So a dependency
    /// that fails every call gets at most 1.2 × its callers' calls, plus 10 per window, at the
    /// default, however many attempts `retry` allows.
    RetryBudget retry_budget RETRY_BUDGET: count {
        range: 1, 100;
        default: Some(20);
        store: u8;
        get: retry_budget;
        set: retry_budget(percent);
        needs: Retry, "the attempts after the first";
        table: "retries within the window stay at most this percent of its first attempts, plus 10", ", with `retry`";
    }

    /// How the breaker decides to refuse calls, `policy` (`"threshold"` unless set): the
    /// threshold policy trips on the keys above; `"adaptive"` needs none of them and sets them
    /// itself (see [`Policy::Adaptive`](crate::Policy::Adaptive)).
    Policy policy POLICY: choice {
        range: 0, 1;
        default: Some(0);
        store: u8;
        get: policy;
        set: policy(policy);
        choices: &crate::Policy::NAMES;
        table: "`\"adaptive\"`: no thresholds to choose; it trips within a second on a majority of failures and probes its way back (below)", "";
    }

    /// Whether the breaker keeps its last calls, `record` (off unless set): the time, what
    /// became of each ([`CallKind`](crate::CallKind)) and how long it ran when it was timed,
    /// in a ring of [`TRACE_LEN`](crate::TRACE_LEN) entries of 8 bytes (128 KiB, made at the
    /// first call recorded, nothing allocated per call). Recorded calls are timed (on the
    /// coarse clock, unless `record_latency` times them finely), so that a replay can judge
    /// other `slow_call_ms` and `timeout_ms`.
    /// [`CircuitBreaker::trace`](crate::CircuitBreaker::trace) reads it, and with the `http`
    /// feature `GET /breakers/{name}/trace` on the admin router serves it as JSON lines. A
    /// recorded call pays a relaxed add and store, and the listeners' path.
    Record record RECORD: flag {
        range: 0, 1;
        default: Some(0);
        get: record;
        set: record(on);
        table: "keep the last 16,384 calls (time, outcome, duration) for `CircuitBreaker::trace`, `GET /breakers/{name}/trace` and replays", "";
    }
}
