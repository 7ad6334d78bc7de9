//! Every registered breaker over HTTP: JSON, a Server-Sent Events stream and a live dashboard
//! page, as an axum [`Router`] to nest in the application's own.
//!
//! ```no_run
//! # async fn serve() -> std::io::Result<()> {
//! let app = axum::Router::new()
//!     // … the application's routes …
//!     .nest_service("/breakers-dashboard", fusebox::http::router());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! Mount it with `nest_service`, which serves the dashboard with or without a trailing slash
//! (`/breakers-dashboard` and `/breakers-dashboard/`); axum's `nest` answers 404 to the second.
//!
//! # Routes
//!
//! Relative to where the router is nested:
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the dashboard: one self-contained page (no CDN, works offline), a tile per breaker, live from the stream |
//! | `GET /breakers` | `{"breakers": [breaker, …]}`, every registered breaker by name (`/breakers/` too) |
//! | `GET /breakers/{name}` | one breaker; `404 {"error": …}` if none has that name |
//! | `GET /events` | `{"events": [event, …]}`: the last 256 transitions, oldest first |
//! | `GET /health` | [`registry::health`]: `200` when `up` or `degraded`, `503` when `down`; `{"status", "refusing": [{"name", "state", "critical"}, …], "more_refusing", "breakers"}`, naming at most 100 breakers that turn calls away (critical ones first) and counting the rest |
//! | `GET /stream` | Server-Sent Events, below; `503` when [`Routes::max_streams`] streams are open already |
//! | `GET /breakers/{name}/trace` | [`admin_router`] only: the breaker's last calls with `record` ([`CircuitBreaker::trace`]), one JSON object a line (`application/x-ndjson`): `{"at_ms", "kind", "duration_us"}`, oldest first; empty without `record`. A breaker named `{name}/trace` is answered instead, as the whole path names it |
//! | `POST /breakers/{name}/{action}` | [`admin_router`] only: `force-open`, `force-closed`, `release`, `reset` or `promote-shadow` (its shadow's configuration put in force, [`registry::promote_shadow`]; `409` without a shadow); answers the breaker after it; `403` for a request a page of another site could have made (see [Security](#security)), `404` for an unknown name, `400` for an unknown action |
//!
//! Every path under `/breakers/` names a breaker, whatever its name: the collections are
//! elsewhere, so a breaker named `events` or `stream` is read like any other.
//!
//! A breaker is
//!
//! ```json
//! {
//!   "name": "shop::recommendations",
//!   "state": "open",
//!   "time_in_state_ms": 2300,
//!   "config": {"error_threshold": 50, "request_volume_threshold": 20, "window_ms": 10000,
//!              "window_buckets": 10, "sleep_window_ms": 5000, "half_open_max_calls": 1},
//!   "window": {"calls": 24, "successes": 4, "failures": 20, "timeouts": 0, "rejections": 310,
//!              "error_percent": 83, "slow_calls": 0, "slow_call_percent": 0,
//!              "shed_percent": 92},
//!   "counters": {"calls": 1830, "successes": 1790, "failures": 40, "timeouts": 0,
//!                "rejected": 310, "busy": 0, "fallbacks": 350, "retries": 0,
//!                "retries_denied": 0,
//!                "transitions": [{"from": "closed", "to": "open", "count": 2}]}
//! }
//! ```
//!
//! with `state` one of `closed`, `open`, `half_open`, `forced_open`, `forced_closed`; `config`
//! the configuration in force (its keys as the attribute's, optional ones only when set);
//! `window` the rolling window ([`Metrics`](crate::Metrics)) and `counters` the counts since
//! the breaker was created ([`Counters`]); a breaker with `record_latency` adds `"latency":
//! {"calls", "p50_us", "p99_us"}` ([`Latency`](crate::Latency)). An event is `{"name", "from",
//! "to", "at_ms"}`, `at_ms` in milliseconds since the Unix epoch. A name with a `/` in it (a
//! [`Keyed`](crate::Keyed) family's) is written as it is or percent-encoded (`%2F`).
//!
//! # The stream
//!
//! `GET /stream` sends, as Server-Sent Events:
//!
//! - `snapshot` first, at once: every breaker, as `GET /breakers`;
//! - `history` right after it: `{"period_ms": 1000, "breakers": {"<name>": {"rate": [n, …],
//!   "error_percent": [n, …]}}}`, each breaker's calls per second and window error percent over
//!   the last two minutes, oldest first, sampled once a second from when the first router was
//!   made in a Tokio runtime (or its first request), for at most 1,000 breakers (about 1.1 KB
//!   each), so that the dashboard draws the past on its first paint;
//! - `changes` every 500 ms: `{"breakers": [breaker, …], "removed": [name, …]}`, the breakers
//!   whose state, configuration or counts changed since this stream last sent them (a breaker
//!   whose only change is its time in state is not sent again: the page counts that itself),
//!   and the names of breakers no longer registered. A stream's steady traffic is what
//!   changed, not every breaker twice a second;
//! - `transition` (an event) as each happens;
//! - `lagged` (`{"missed": n}`) when a slow client missed transitions.
//!
//! The figures the streams compare are read once per period for all of them, not once per
//! stream. Each open stream holds a map of the names it sent; at most
//! [`Routes::max_streams`] streams (32 by default) are open at once on one router, and a
//! request beyond that is answered `503` with `Retry-After`.
//!
//! # Security
//!
//! [`router`] only reads. [`admin_router`] is the same router plus the `POST` routes, and its
//! dashboard shows their buttons: whoever reaches it can open every circuit of the service.
//! What the routers defend against themselves:
//!
//! - **Cross-site requests (CSRF).** An operator's browser carries the operator's cookies and
//!   credentials to any site, so a page of another site could make it post to the admin
//!   routes. An action is taken only if the request carries the header `X-Breaker-Admin`
//!   ([`ADMIN_HEADER`], any value), which the dashboard's buttons send and which no other site
//!   can make a browser send (a cross-site form cannot set headers, and a script on another
//!   site would need a CORS preflight that the routers never grant), and only if neither its
//!   `Sec-Fetch-Site` (`cross-site`, `same-site`) nor, without that, its `Origin` (another
//!   host than the request's `Host`, or `null`) says another site made it. Otherwise the
//!   answer is `403` and nothing changes. Scripts and `curl` send the header:
//!   `curl -X POST -H 'X-Breaker-Admin: 1' http://…/breakers/payments/force-open`.
//! - **Framing (clickjacking).** Every answer says `X-Frame-Options: DENY` and
//!   `Content-Security-Policy: … frame-ancestors 'none'`, so no other page can show the
//!   dashboard in a frame and trick a click on its buttons; the policy also lets the page
//!   load nothing from, or send nothing to, another origin.
//! - **Hostile names.** Breaker names can come from request data (a [`Keyed`](crate::Keyed)
//!   family's keys): the JSON escapes them as JSON does, and the dashboard renders them as
//!   text, isolated from the text around them (`<bdi>`), with control, formatting and
//!   invisible characters (a right-to-left override, a zero-width space) and the backslash
//!   shown as escapes (`\u{202E}`, `\\`), so two names never look alike.
//! - **Many viewers.** The stream's cap, above.
//!
//! What remains the application's job: **authentication and authorization** (mount
//! [`admin_router`] behind the application's own, an axum middleware or a listener only
//! operators reach, never on the public listener), **TLS**, and checking the `Host` header
//! against the names it serves where a browser on the operator's machine could reach the
//! router (a DNS-rebinding page is same-origin to the browser, so the checks above do not see
//! it). Reads are not refused cross-site: a browser does not let another site read the answers
//! (the routers send no CORS headers), and an application that wants another origin to read
//! them can add its own CORS layer for the `GET` routes.
//!
//! # Slow clients
//!
//! Each stream reads shared state and never holds up a breaker: a transition is handed to a
//! bounded broadcast queue (256 events) that no client can block; a client that does not read
//! (a stalled browser, a full TCP window) skips the periods it was too slow for (it gets what
//! changed since it last read, never a backlog) and, past 256 transitions, loses the oldest of
//! those it has not read, and is told how many in a `lagged` event. Its memory does not grow.
//!
//! Transitions are recorded from the first time a router is made.

mod events;
mod guard;
mod health;
mod history;
mod stream;

use std::sync::{Arc, LazyLock, atomic::AtomicUsize};

use axum::{
    Json, Router,
    extract::Path,
    http::{HeaderMap, StatusCode, header},
    middleware,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde::Serialize;

pub use guard::ADMIN_HEADER;

use crate::{CircuitBreaker, Config, Counters, State, registry};

/// The read-only router: the dashboard, the JSON routes and the stream. See the
/// [module](self) for the routes.
///
/// It has no state of its own, so it nests or merges into a router of any state type
/// (`nest_service` takes it as `Router<()>`).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Routes::new().router()
}

/// [`router`] plus `POST /breakers/{name}/{force-open|force-closed|release|reset|promote-shadow}`, and a
/// dashboard with buttons for them: use it *instead of* [`router`] (merging the two repeats
/// their routes, which axum refuses at startup). Put it behind the application's own
/// authentication; see [Security](self#security) for what it refuses by itself.
///
/// ```
/// # async fn serve() -> std::io::Result<()> {
/// // Operators only: a listener on the private interface.
/// let admin = axum::Router::new().nest_service("/ops", fusebox::http::admin_router());
/// let listener = tokio::net::TcpListener::bind("10.0.0.5:9000").await?;
/// axum::serve(listener, admin).await
/// # }
/// ```
pub fn admin_router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Routes::new().admin_router()
}

/// The routers with settings of their own: how many streams may be open at once.
///
/// ```
/// let dashboard: axum::Router = fusebox::http::Routes::new()
///     .max_streams(8) // a few operators' screens
///     .router();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Routes {
    max_streams: usize,
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

impl Routes {
    /// How many streams a router serves at once unless told otherwise.
    pub const DEFAULT_MAX_STREAMS: usize = 32;

    /// The defaults: at most [`DEFAULT_MAX_STREAMS`](Self::DEFAULT_MAX_STREAMS) streams.
    #[must_use]
    pub const fn new() -> Self {
        Routes {
            max_streams: Routes::DEFAULT_MAX_STREAMS,
        }
    }

    /// At most this many `GET /stream` (each dashboard page open holds one) at once on the
    /// router; a request beyond them is answered `503` with `Retry-After`, and the page tries
    /// again by itself. 0 turns the stream off (the page then shows what `GET /breakers`
    /// said when it loaded).
    #[must_use]
    pub const fn max_streams(mut self, streams: usize) -> Self {
        self.max_streams = streams;
        self
    }

    /// The read-only router, as [`router`].
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        self.routes(false)
    }

    /// The router with the operator's levers, as [`admin_router`].
    pub fn admin_router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        self.routes(true)
    }

    fn routes<S: Clone + Send + Sync + 'static>(self, admin: bool) -> Router<S> {
        // From now on, transitions are recorded for `/events` and the stream, and (in a Tokio
        // runtime; else from the first stream) the breakers' rates for the dashboard's history.
        let _ = events::events();
        history::start();
        let open = Arc::new(AtomicUsize::new(0));
        let most = self.max_streams;
        let one = get(move |Path(path): Path<String>| async move { one(&path, admin) });
        Router::new()
            .route("/", get(move || async move { page(admin) }))
            .route("/breakers", get(list))
            // `/breakers/` too: a name is never empty, so the slash alone is the list.
            .route("/breakers/", get(list))
            .route("/events", get(events::recent))
            .route("/health", get(health::health))
            .route(
                "/stream",
                get(move || {
                    let open = Arc::clone(&open);
                    async move { stream::open(open, most) }
                }),
            )
            // A wildcard: names of keyed breakers have a `/` in them.
            .route("/breakers/{*path}", if admin { one.post(act) } else { one })
            // A router made outside a runtime starts the history at its first request.
            .layer(middleware::map_request(
                |request: axum::extract::Request| async move {
                    history::start();
                    request
                },
            ))
            .layer(middleware::map_response(guard::protect))
    }
}

/// The dashboard page; the admin router's shows the operator's buttons.
static PAGE: &str = include_str!("http/dashboard.html");
static ADMIN_PAGE: LazyLock<String> =
    LazyLock::new(|| PAGE.replacen(r#"data-admin="false""#, r#"data-admin="true""#, 1));

fn page(admin: bool) -> Response {
    let page = if admin { ADMIN_PAGE.as_str() } else { PAGE };
    ([(header::CACHE_CONTROL, "no-cache")], Html(page)).into_response()
}

/// A breaker as the JSON routes show it.
#[derive(Serialize)]
struct View<'a> {
    name: &'a str,
    state: State,
    time_in_state_ms: u64,
    config: Config,
    window: Window,
    counters: Counters,
    /// Fleet mode: what the breaker knows of the fleet.
    #[serde(skip_serializing_if = "Option::is_none")]
    fleet: Option<crate::FleetView>,
    /// `record_latency`: how long its calls take.
    #[serde(skip_serializing_if = "Option::is_none")]
    latency: Option<crate::Latency>,
    /// A shadow: what it would have done.
    #[serde(skip_serializing_if = "Option::is_none")]
    shadow: Option<crate::ShadowMetrics>,
}

/// The rolling window's figures.
#[derive(Serialize)]
struct Window {
    calls: u64,
    successes: u64,
    failures: u64,
    timeouts: u64,
    rejections: u64,
    error_percent: u64,
    slow_calls: u64,
    slow_call_percent: u64,
    shed_percent: u64,
}

impl<'a> View<'a> {
    fn of(breaker: &'a CircuitBreaker) -> Self {
        let metrics = breaker.metrics();
        View {
            name: breaker.name(),
            state: metrics.state,
            time_in_state_ms: u64::try_from(metrics.time_in_state.as_millis()).unwrap_or(u64::MAX),
            config: breaker.config(),
            window: Window {
                calls: metrics.calls,
                successes: metrics.successes,
                failures: metrics.failures,
                timeouts: metrics.timeouts,
                rejections: metrics.rejections,
                error_percent: metrics.error_percent,
                slow_calls: metrics.slow_calls,
                slow_call_percent: metrics.slow_call_percent,
                shed_percent: metrics.shed_percent,
            },
            counters: metrics.counters,
            fleet: metrics.fleet,
            latency: metrics.latency,
            shadow: metrics.shadow,
        }
    }

    /// The breaker as the JSON routes write it.
    fn json(&self) -> String {
        // Plain data of strings and integers: serializing it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Every registered breaker, as `GET /breakers` answers: `{"breakers": [breaker, …]}`.
fn list_text<'a>(breakers: impl Iterator<Item = &'a str>) -> String {
    let mut text = String::from(r#"{"breakers":["#);
    for (i, breaker) in breakers.enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(breaker);
    }
    text.push_str("]}");
    text
}

fn json_text(text: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(ErrorBody { error: message })).into_response()
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

async fn list() -> Response {
    // Read now, not the streams' shared reading, which may be a period old (and holds their
    // fingerprints too, which a list does not need).
    let breakers: Vec<String> = registry::all()
        .iter()
        .map(|breaker| View::of(breaker).json())
        .collect();
    json_text(list_text(breakers.iter().map(String::as_str)))
}

fn no_breaker(name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("no breaker is registered as `{name}`; GET /breakers lists them"),
    )
}

/// `GET /breakers/{name}`, and on the admin router `GET /breakers/{name}/trace`. A breaker
/// whose whole name the path is comes first: one named `{name}/trace` is shown rather than
/// `{name}`'s trace (which `CircuitBreaker::trace` still reads).
fn one(path: &str, admin: bool) -> Response {
    if let Some(breaker) = registry::get(path) {
        return Json(View::of(&breaker)).into_response();
    }
    let Some(name) = path.strip_suffix("/trace") else {
        return no_breaker(path);
    };
    let Some(breaker) = registry::get(name) else {
        return no_breaker(name);
    };
    if !admin {
        return error(
            StatusCode::NOT_FOUND,
            "a breaker's trace is served by the admin router (`http::admin_router`)".to_owned(),
        );
    }
    let lines = breaker.trace().to_json_lines();
    ([(header::CONTENT_TYPE, "application/x-ndjson")], lines).into_response()
}

/// An operator's lever: `false` if there was nothing to pull.
type Lever = fn(&CircuitBreaker) -> bool;

/// What `POST /breakers/{name}/{action}` does.
const ACTIONS: [(&str, Lever); 5] = [
    ("force-open", |breaker| {
        breaker.force_open();
        true
    }),
    ("force-closed", |breaker| {
        breaker.force_closed();
        true
    }),
    ("release", |breaker| {
        breaker.release();
        true
    }),
    ("reset", |breaker| {
        breaker.reset();
        true
    }),
    ("promote-shadow", |breaker| {
        breaker.promote_shadow().is_some()
    }),
];

async fn act(headers: HeaderMap, Path(path): Path<String>) -> Response {
    // Before anything else: a forged request learns nothing, not even whether the name exists.
    if let Err(refusal) = guard::check_action(&headers) {
        return error(StatusCode::FORBIDDEN, refusal);
    }
    let Some((name, action)) = path.rsplit_once('/') else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "POST /breakers/{{name}}/{{action}} with an action: one of force-open, \
                 force-closed, release, reset, promote-shadow (got `{path}`)"
            ),
        );
    };
    let Some((_, lever)) = ACTIONS.iter().find(|(known, _)| *known == action) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown action `{action}`: the actions are force-open, force-closed, release, \
                 reset and promote-shadow"
            ),
        );
    };
    match registry::get(name) {
        Some(breaker) => {
            if lever(&breaker) {
                Json(View::of(&breaker)).into_response()
            } else {
                error(
                    StatusCode::CONFLICT,
                    format!("the circuit breaker `{name}` has no shadow to promote"),
                )
            }
        }
        None => no_breaker(name),
    }
}
