//! The last two minutes of every breaker's request and error rates, sampled once a second
//! while a router exists, so that a dashboard opened now draws the past on its first paint.
//!
//! The sampler starts with the first router made inside a Tokio runtime (or the first request
//! one answers) and runs for the process's life, one for every router. It keeps
//! [`SAMPLES`] + 1 totals and [`SAMPLES`] error rates per breaker, about 1.1 KB, for at most
//! [`MOST_BREAKERS`] breakers (about 1.1 MB): a breaker beyond them (a large
//! [`Keyed`](crate::Keyed) family) starts its curves when the page opens, as without history.

use std::{
    collections::{HashMap, VecDeque},
    fmt::Write,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use crate::registry;

/// Samples kept: two minutes, one a second.
pub(super) const SAMPLES: usize = 120;
/// How often a sample is taken.
const PERIOD: Duration = Duration::from_secs(1);
/// Breakers with a history at most.
pub(super) const MOST_BREAKERS: usize = 1_000;

/// One breaker's samples, oldest first.
#[derive(Default)]
struct Track {
    /// Calls asked of it since it was made (ran, rejected or busy), at each sample.
    totals: VecDeque<u64>,
    /// Its window's error percent at each sample.
    errors: VecDeque<u8>,
}

#[derive(Default)]
struct History {
    started: bool,
    tracks: HashMap<Arc<str>, Track>,
}

static HISTORY: Mutex<Option<History>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut History) -> R) -> R {
    let mut history = HISTORY.lock().unwrap_or_else(PoisonError::into_inner);
    f(history.get_or_insert_with(History::default))
}

/// Whether the sampler runs: the check every request makes, without the lock.
static STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Starts the sampler if it is not running and a Tokio runtime is there to run it.
pub(super) fn start() {
    if STARTED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    STARTED.store(true, std::sync::atomic::Ordering::Relaxed);
    let starting = with(|history| !std::mem::replace(&mut history.started, true));
    if starting {
        runtime.spawn(async {
            let mut ticks = tokio::time::interval(PERIOD);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                sample();
            }
        });
    }
}

/// One sample of every breaker with a track, and of new ones while there is room: the figures
/// of a breaker beyond [`MOST_BREAKERS`] are not read.
fn sample() {
    let breakers = registry::all();
    with(|history| {
        let listed: std::collections::HashSet<&str> =
            breakers.iter().map(|breaker| breaker.name()).collect();
        history.tracks.retain(|name, _| listed.contains(&**name));
        for breaker in &breakers {
            let name = breaker.name();
            if !history.tracks.contains_key(name) {
                if history.tracks.len() >= MOST_BREAKERS {
                    continue;
                }
                history.tracks.insert(Arc::from(name), Track::default());
            }
            let Some(track) = history.tracks.get_mut(name) else {
                continue;
            };
            let metrics = breaker.metrics();
            let counters = &metrics.counters;
            track
                .totals
                .push_back(counters.calls + counters.rejected + counters.busy);
            track
                .errors
                .push_back(u8::try_from(metrics.error_percent.min(100)).unwrap_or(100));
            while track.totals.len() > SAMPLES + 1 {
                track.totals.pop_front();
            }
            while track.errors.len() > SAMPLES {
                track.errors.pop_front();
            }
        }
    });
}

/// The history as the stream's `history` event sends it: `{"period_ms": 1000, "breakers":
/// {"<name>": {"rate": [calls per second, …], "error_percent": [%, …]}, …}}`, oldest first,
/// the last sample a second old at most.
pub(super) fn json() -> String {
    with(|history| {
        let mut out = format!(r#"{{"period_ms":{},"breakers":{{"#, PERIOD.as_millis());
        let mut first = true;
        for (name, track) in &history.tracks {
            if track.totals.len() < 2 {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(
                out,
                "{}:{{\"rate\":[",
                serde_json::to_string(&**name).unwrap_or_default()
            );
            let rates = track
                .totals
                .iter()
                .zip(track.totals.iter().skip(1))
                // A total that went down was reset: count from zero.
                .map(|(before, after)| {
                    if after >= before {
                        after - before
                    } else {
                        *after
                    }
                });
            let skip = track.errors.len() + 1 - track.totals.len();
            for (i, rate) in rates.enumerate() {
                let _ = write!(out, "{}{rate}", if i == 0 { "" } else { "," });
            }
            out.push_str(r#"],"error_percent":["#);
            for (i, error) in track.errors.iter().skip(skip).enumerate() {
                let _ = write!(out, "{}{error}", if i == 0 { "" } else { "," });
            }
            out.push_str("]}");
        }
        out.push_str("}}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    #[test]
    fn each_sample_adds_a_rate_and_an_error_percent_oldest_first() {
        let breaker = registry::get_or_register("http-history::unit", Config::default());
        sample();
        for _ in 0..3 {
            let _ = breaker.call(|| Err::<(), _>("down"));
        }
        let _ = breaker.call(|| Ok::<_, ()>(()));
        sample();
        let _ = breaker.call(|| Ok::<_, ()>(()));
        sample();
        let json: serde_json::Value = serde_json::from_str(&json()).unwrap();
        assert_eq!(json["period_ms"], 1000);
        let mine = &json["breakers"]["http-history::unit"];
        assert_eq!(mine["rate"], serde_json::json!([4, 1]), "{json}");
        assert_eq!(mine["error_percent"], serde_json::json!([75, 60]), "{json}");
    }
}
