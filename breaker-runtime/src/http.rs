//! Every registered breaker over HTTP: JSON, a Server-Sent Events stream and a live dashboard
//! page, as an axum [`Router`] to nest in the application's own.
//!
//! ```no_run
//! # async fn serve() -> std::io::Result<()> {
//! let app = axum::Router::new()
//!     // … the application's routes …
//!     .nest("/breakers-dashboard", fusebox::http::router());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! # Routes
//!
//! Relative to where the router is nested:
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the dashboard: one self-contained page (no CDN, works offline), a tile per breaker, live from the stream |
//! | `GET /breakers` | `{"breakers": [breaker, …]}`, every registered breaker by name |
//! | `GET /breakers/{name}` | one breaker; `404 {"error": …}` if none has that name |
//! | `GET /breakers/events` | `{"events": [event, …]}`: the last 256 transitions, oldest first |
//! | `GET /breakers/stream` | Server-Sent Events: `snapshot` (as `GET /breakers`) every 500 ms, `transition` (an event) as each happens, `lagged` (`{"missed": n}`) when a slow client missed transitions |
//! | `POST /breakers/{name}/{action}` | [`admin_router`] only: `force-open`, `force-closed`, `release` or `reset`; answers the breaker after it; `404` for an unknown name, `400` for an unknown action |
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
//!              "error_percent": 83},
//!   "counters": {"calls": 1830, "successes": 1790, "failures": 40, "timeouts": 0,
//!                "rejected": 310, "busy": 0, "fallbacks": 350,
//!                "transitions": [{"from": "closed", "to": "open", "count": 2}]}
//! }
//! ```
//!
//! with `state` one of `closed`, `open`, `half_open`, `forced_open`, `forced_closed`; `config`
//! the configuration in force (its keys as the attribute's, optional ones only when set);
//! `window` the rolling window ([`Metrics`](crate::Metrics)) and `counters` the counts since
//! the breaker was created ([`Counters`]). An event is `{"name", "from",
//! "to", "at_ms"}`, `at_ms` in milliseconds since the Unix epoch. A name with a `/` in it (a
//! [`Keyed`](crate::Keyed) family's) is written as it is or percent-encoded (`%2F`).
//!
//! # Operators
//!
//! [`router`] only reads. [`admin_router`] is the same router plus the `POST` routes, and its
//! dashboard shows their buttons: whoever reaches it can open every circuit of the service, so
//! mount it behind the application's own authentication (an axum middleware, or a listener
//! only operators reach), never on the public listener.
//!
//! # Slow clients
//!
//! Each stream reads shared state and never holds up a breaker: a transition is handed to a
//! bounded broadcast queue (256 events) that no client can block; a client that does not read
//! (a stalled browser, a full TCP window) skips the snapshots it was too slow for (it gets the
//! newest one when it reads again, never a backlog) and, past 256 transitions, loses the oldest
//! of those it has not read, and is told how many in a `lagged` event. Its memory does not grow.
//!
//! Transitions are recorded from the first time a router is made.

use std::{
    collections::VecDeque,
    convert::Infallible,
    pin::pin,
    sync::{LazyLock, Mutex, OnceLock, PoisonError},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    Json, Router,
    extract::Path,
    http::{StatusCode, header},
    response::{
        Html, IntoResponse, Response,
        sse::{Event as SseEvent, Sse},
    },
    routing::get,
};
use futures_util::{
    Stream,
    future::{Either, select},
    stream,
};
use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::{CircuitBreaker, Config, Counters, State, Transition, registry};

/// The read-only router: the dashboard, the JSON routes and the stream. See the
/// [module](self) for the routes.
///
/// It has no state of its own, so it nests or merges into a router of any state type.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    routes(false)
}

/// [`router`] plus `POST /breakers/{name}/{force-open|force-closed|release|reset}`, and a
/// dashboard with buttons for them. Put it behind the application's own authentication.
///
/// ```
/// # async fn serve() -> std::io::Result<()> {
/// // Operators only: a listener on the private interface.
/// let admin = axum::Router::new().nest("/ops", fusebox::http::admin_router());
/// let listener = tokio::net::TcpListener::bind("10.0.0.5:9000").await?;
/// axum::serve(listener, admin).await
/// # }
/// ```
pub fn admin_router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    routes(true)
}

fn routes<S: Clone + Send + Sync + 'static>(admin: bool) -> Router<S> {
    // From now on, transitions are recorded for `/breakers/events` and the stream.
    let _ = events();
    let one = get(one);
    Router::new()
        .route("/", get(move || async move { page(admin) }))
        .route("/breakers", get(list))
        .route("/breakers/events", get(recent))
        .route("/breakers/stream", get(live))
        // A wildcard: names of keyed breakers have a `/` in them.
        .route("/breakers/{*path}", if admin { one.post(act) } else { one })
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
            },
            counters: metrics.counters,
            fleet: metrics.fleet,
        }
    }
}

#[derive(Serialize)]
struct List<'a> {
    breakers: Vec<View<'a>>,
}

/// Every registered breaker, as JSON text.
fn snapshot() -> String {
    let breakers = registry::all();
    let list = List {
        breakers: breakers.iter().map(|breaker| View::of(breaker)).collect(),
    };
    // Plain data of strings and integers: serializing it cannot fail.
    serde_json::to_string(&list).unwrap_or_default()
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
    json_text(snapshot())
}

fn no_breaker(name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("no breaker is registered as `{name}`; GET /breakers lists them"),
    )
}

async fn one(Path(name): Path<String>) -> Response {
    match registry::get(&name) {
        Some(breaker) => Json(View::of(&breaker)).into_response(),
        None => no_breaker(&name),
    }
}

/// An operator's lever.
type Lever = fn(&CircuitBreaker);

/// What `POST /breakers/{name}/{action}` does.
const ACTIONS: [(&str, Lever); 4] = [
    ("force-open", CircuitBreaker::force_open),
    ("force-closed", CircuitBreaker::force_closed),
    ("release", CircuitBreaker::release),
    ("reset", CircuitBreaker::reset),
];

async fn act(Path(path): Path<String>) -> Response {
    let Some((name, action)) = path.rsplit_once('/') else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "POST /breakers/{{name}}/{{action}} with an action: one of force-open, \
                 force-closed, release, reset (got `{path}`)"
            ),
        );
    };
    let Some((_, lever)) = ACTIONS.iter().find(|(known, _)| *known == action) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown action `{action}`: the actions are force-open, force-closed, release \
                 and reset"
            ),
        );
    };
    match registry::get(name) {
        Some(breaker) => {
            lever(&breaker);
            Json(View::of(&breaker)).into_response()
        }
        None => no_breaker(name),
    }
}

/// A transition as the routes show it.
#[derive(Clone, Serialize)]
struct Event {
    name: String,
    from: State,
    to: State,
    at_ms: u64,
}

/// Recent transitions, and the queue the streams read them from.
struct Events {
    recent: Mutex<VecDeque<Event>>,
    live: broadcast::Sender<Event>,
}

/// How many transitions `/breakers/events` keeps, and how many a stream's client may fall
/// behind by.
const KEPT: usize = 256;

/// How often a stream sends a snapshot.
const SNAPSHOT_EVERY: Duration = Duration::from_millis(500);

static EVENTS: OnceLock<Events> = OnceLock::new();

fn events() -> &'static Events {
    EVENTS.get_or_init(|| {
        registry::on_transition(|transition| {
            if let Some(events) = EVENTS.get() {
                events.record(transition);
            }
        });
        Events {
            recent: Mutex::new(VecDeque::with_capacity(KEPT)),
            live: broadcast::channel(KEPT).0,
        }
    })
}

impl Events {
    /// Runs on the thread whose call made the transition: a short lock and a send that never
    /// waits for a reader.
    fn record(&self, transition: &Transition) {
        let event = Event {
            name: transition.name.to_string(),
            from: transition.from,
            to: transition.to,
            at_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| {
                    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
                }),
        };
        {
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            if recent.len() == KEPT {
                recent.pop_front();
            }
            recent.push_back(event.clone());
        }
        // No stream open: nobody to tell.
        let _ = self.live.send(event);
    }
}

#[derive(Serialize)]
struct Recent {
    events: Vec<Event>,
}

async fn recent() -> Json<Recent> {
    let recent = events()
        .recent
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    Json(Recent {
        events: recent.iter().cloned().collect(),
    })
}

/// The stream: a snapshot at once and every [`SNAPSHOT_EVERY`], each transition as it comes.
async fn live() -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let transitions = events().live.subscribe();
    let mut ticks = tokio::time::interval(SNAPSHOT_EVERY);
    // A client too slow for some snapshots gets the newest one, not a backlog.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    Sse::new(stream::unfold(
        (transitions, ticks),
        |(mut transitions, mut ticks)| async move {
            let event = match select(pin!(ticks.tick()), pin!(transitions.recv())).await {
                Either::Left(_) => SseEvent::default().event("snapshot").data(snapshot()),
                Either::Right((Ok(event), _)) => SseEvent::default()
                    .event("transition")
                    .data(serde_json::to_string(&event).unwrap_or_default()),
                Either::Right((Err(RecvError::Lagged(missed)), _)) => SseEvent::default()
                    .event("lagged")
                    .data(format!(r#"{{"missed":{missed}}}"#)),
                // The sender lives in a static: it never closes.
                Either::Right((Err(RecvError::Closed), _)) => return None,
            };
            Some((Ok(event), (transitions, ticks)))
        },
    ))
}
