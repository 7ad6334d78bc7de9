//! `GET /stream`: every breaker once, then what changed, as Server-Sent Events, on a bounded
//! number of connections.
//!
//! Twice a second each stream compares the breakers' figures with what it last sent and sends
//! the breakers that changed, so a dashboard left open on ten thousand idle breakers costs a
//! few bytes a period, not the whole registry. The figures are read once per period for every
//! stream (a shared [`Frame`]), so a hundred viewers do not read every breaker a hundred times.

use std::{
    collections::HashMap,
    convert::Infallible,
    hash::{DefaultHasher, Hasher},
    pin::pin,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    http::{StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event as SseEvent, Sse},
    },
};
use futures_util::{
    future::{Either, select},
    stream,
};
use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::{View, error, events, history, list_text};
use crate::registry;

/// How often a stream sends what changed.
const PERIOD: Duration = Duration::from_millis(500);

/// Every registered breaker, read at one moment: what the streams send and compare.
struct Frame {
    at: Instant,
    breakers: Vec<Entry>,
}

/// One breaker in a [`Frame`].
struct Entry {
    name: Arc<str>,
    /// Its figures but the ones that change with time alone (time in state, time since a fleet
    /// sync): equal fingerprints, nothing to send.
    fingerprint: u64,
    /// It, as the JSON routes show it.
    json: Box<str>,
}

impl Frame {
    /// Every registered breaker, read now.
    fn build() -> Frame {
        let breakers = registry::all()
            .iter()
            .map(|breaker| {
                let mut view = View::of(breaker);
                let json = view.json().into();
                view.time_in_state_ms = 0;
                if let Some(fleet) = &mut view.fleet {
                    fleet.since_sync = None;
                }
                let mut fingerprint = Fingerprint(DefaultHasher::new());
                let _ = serde_json::to_writer(&mut fingerprint, &view);
                Entry {
                    name: breaker.name().into(),
                    fingerprint: fingerprint.0.finish(),
                    json,
                }
            })
            .collect();
        Frame {
            at: Instant::now(),
            breakers,
        }
    }

    /// The frame every stream shares: read again once it is half a period old, by whichever
    /// stream comes first (the others wait for it rather than read every breaker too).
    fn shared() -> Arc<Frame> {
        static SHARED: Mutex<Option<Arc<Frame>>> = Mutex::new(None);
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        match &*shared {
            Some(frame) if frame.at.elapsed() < PERIOD / 2 => Arc::clone(frame),
            _ => Arc::clone(shared.insert(Arc::new(Frame::build()))),
        }
    }
}

/// Hashes what serde writes into it.
struct Fingerprint(DefaultHasher);

impl std::io::Write for Fingerprint {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What one stream sent: each breaker's fingerprint, and the period it was last seen in.
#[derive(Default)]
struct Sent {
    breakers: HashMap<Arc<str>, (u64, u64)>,
    period: u64,
}

impl Sent {
    /// The event for `frame`, its name and data: `snapshot` the first time, then `changes`.
    fn event(&mut self, frame: &Frame) -> (&'static str, String) {
        self.period += 1;
        let first = self.period == 1;
        let mut changed = Vec::new();
        for entry in &frame.breakers {
            let seen = (entry.fingerprint, self.period);
            match self.breakers.get_mut(&entry.name) {
                Some(sent) if sent.0 == entry.fingerprint => sent.1 = self.period,
                Some(sent) => {
                    *sent = seen;
                    changed.push(&*entry.json);
                }
                None => {
                    self.breakers.insert(Arc::clone(&entry.name), seen);
                    changed.push(&*entry.json);
                }
            }
        }
        if first {
            return ("snapshot", list_text(changed.into_iter()));
        }
        let mut removed = Vec::new();
        let period = self.period;
        self.breakers.retain(|name, (_, seen)| {
            let listed = *seen == period;
            if !listed {
                removed.push(serde_json::to_string(&**name).unwrap_or_default());
            }
            listed
        });
        removed.sort_unstable();
        let mut data = list_text(changed.into_iter());
        data.pop(); // the closing brace
        data.push_str(r#","removed":["#);
        data.push_str(&removed.join(","));
        data.push_str("]}");
        ("changes", data)
    }
}

/// A place among a router's open streams, given back when the stream ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `GET /stream` on a router with `open` streams open of at most `most`.
pub(super) fn open(open: Arc<AtomicUsize>, most: usize) -> Response {
    if open.fetch_add(1, Ordering::Relaxed) >= most {
        open.fetch_sub(1, Ordering::Relaxed);
        let mut refusal = error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{most} streams are open on this router already, as many as it serves \
                 (http::Routes::max_streams); try again later"
            ),
        );
        refusal
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        return refusal;
    }
    live(Slot(open)).into_response()
}

/// The stream: a snapshot at once, what changed every [`PERIOD`], each transition as it comes.
fn live(slot: Slot) -> Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>> {
    let transitions = events::events().live.subscribe();
    let mut ticks = tokio::time::interval(PERIOD);
    // A client too slow for some periods gets what changed since it last read, not a backlog.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let state = Live {
        transitions,
        ticks,
        sent: Sent::default(),
        history_due: false,
        _slot: slot,
    };
    Sse::new(stream::unfold(state, |mut state| async move {
        if std::mem::take(&mut state.history_due) {
            let event = SseEvent::default().event("history").data(history::json());
            return Some((Ok(event), state));
        }
        let event = match select(pin!(state.ticks.tick()), pin!(state.transitions.recv())).await {
            Either::Left(_) => {
                let (name, data) = state.sent.event(&Frame::shared());
                state.history_due = name == "snapshot";
                SseEvent::default().event(name).data(data)
            }
            Either::Right((Ok(event), _)) => SseEvent::default()
                .event("transition")
                .data(serde_json::to_string(&event).unwrap_or_default()),
            Either::Right((Err(RecvError::Lagged(missed)), _)) => SseEvent::default()
                .event("lagged")
                .data(format!(r#"{{"missed":{missed}}}"#)),
            // The sender lives in a static: it never closes.
            Either::Right((Err(RecvError::Closed), _)) => return None,
        };
        Some((Ok(event), state))
    }))
}

/// One stream's state between events.
struct Live {
    transitions: Receiver<events::Event>,
    ticks: tokio::time::Interval,
    sent: Sent,
    /// The snapshot went: the history follows it.
    history_due: bool,
    _slot: Slot,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, fingerprint: u64) -> Entry {
        Entry {
            name: name.into(),
            fingerprint,
            json: format!(r#"{{"name":{name:?}}}"#).into(),
        }
    }

    fn frame(entries: Vec<Entry>) -> Frame {
        Frame {
            at: Instant::now(),
            breakers: entries,
        }
    }

    #[test]
    fn a_stream_sends_everything_once_then_what_changed_and_what_went() {
        let mut sent = Sent::default();
        let both = frame(vec![entry("a", 1), entry("b", 2)]);
        assert_eq!(
            sent.event(&both),
            (
                "snapshot",
                r#"{"breakers":[{"name":"a"},{"name":"b"}]}"#.to_owned()
            )
        );
        assert_eq!(
            sent.event(&both),
            ("changes", r#"{"breakers":[],"removed":[]}"#.to_owned()),
            "nothing changed: nothing sent"
        );
        let moved = frame(vec![entry("a", 9), entry("c\"", 3)]);
        assert_eq!(
            sent.event(&moved),
            (
                "changes",
                r#"{"breakers":[{"name":"a"},{"name":"c\""}],"removed":["b"]}"#.to_owned()
            )
        );
        assert_eq!(sent.breakers.len(), 2, "what went is forgotten");
        assert_eq!(
            sent.event(&frame(vec![])),
            (
                "changes",
                r#"{"breakers":[],"removed":["a","c\""]}"#.to_owned()
            )
        );
    }
}
