//! Recent transitions: a bounded ring for `GET /events`, and the queue the streams read them
//! from.

use std::{
    collections::VecDeque,
    sync::{Mutex, OnceLock, PoisonError},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::Json;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::{State, Transition, registry};

/// A transition as the routes show it.
#[derive(Clone, Serialize)]
pub(super) struct Event {
    name: String,
    from: State,
    to: State,
    at_ms: u64,
}

/// Recent transitions, and the queue the streams read them from.
pub(super) struct Events {
    recent: Mutex<VecDeque<Event>>,
    pub(super) live: broadcast::Sender<Event>,
}

/// How many transitions `/events` keeps, and how many a stream's client may fall behind by.
const KEPT: usize = 256;

static EVENTS: OnceLock<Events> = OnceLock::new();

/// The process's transitions, recorded from the first call on.
pub(super) fn events() -> &'static Events {
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
pub(super) struct Recent {
    events: Vec<Event>,
}

/// `GET /events`.
pub(super) async fn recent() -> Json<Recent> {
    let recent = events()
        .recent
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    Json(Recent {
        events: recent.iter().cloned().collect(),
    })
}
