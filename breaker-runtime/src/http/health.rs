//! `GET /health`: the service's health for a readiness probe.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::registry::{self, BreakerHealth, HealthStatus};

/// At most this many breakers are named in the answer: a family of keyed breakers, named from
/// request data, could have thousands open, and a probe's answer stays small.
pub(super) const MOST_NAMED: usize = 100;

#[derive(Serialize)]
struct Answer<'a> {
    status: HealthStatus,
    /// The breakers turning calls away (open, half-open, forced open), critical ones first.
    refusing: Vec<&'a BreakerHealth>,
    /// How many turn calls away beyond those named.
    more_refusing: usize,
    /// How many breakers are registered.
    breakers: usize,
}

/// `200` for `up` and `degraded`, `503` for `down`, with the status and the breakers that turn
/// calls away.
pub(super) async fn health() -> Response {
    let health = registry::health();
    let mut refusing: Vec<&BreakerHealth> = health.refusing().collect();
    refusing.sort_by_key(|breaker| !breaker.critical);
    let more_refusing = refusing.len().saturating_sub(MOST_NAMED);
    refusing.truncate(MOST_NAMED);
    let code = match health.status {
        HealthStatus::Up | HealthStatus::Degraded => StatusCode::OK,
        HealthStatus::Down => StatusCode::SERVICE_UNAVAILABLE,
    };
    let answer = Answer {
        status: health.status,
        refusing,
        more_refusing,
        breakers: health.breakers.len(),
    };
    (code, [(header::CACHE_CONTROL, "no-store")], Json(answer)).into_response()
}
