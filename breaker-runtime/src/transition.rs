//! Transitions: a breaker's state changes as they are reported, to the functions listening to
//! one breaker or to every breaker (and, with the `tracing` feature, as a `tracing` event).

use std::sync::{PoisonError, RwLock};

use once_cell::race::OnceBox;

use crate::{Name, State};

/// A breaker changed state.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use fusebox::{CircuitBreaker, Config, State};
///
/// let breaker = CircuitBreaker::new("profile", Config::default());
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = Arc::clone(&seen);
/// breaker.on_transition(move |t| log.lock().unwrap().push((t.from, t.to)));
/// breaker.force_open();
/// breaker.release();
/// assert_eq!(
///     *seen.lock().unwrap(),
///     [(State::Closed, State::ForcedOpen), (State::ForcedOpen, State::Closed)]
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transition {
    /// The breaker's name.
    pub name: Name,
    /// The state it left.
    pub from: State,
    /// The state it entered.
    pub to: State,
}

type Listener = Box<dyn Fn(&Transition) + Send + Sync>;

/// Functions called on every transition, in the order they were added.
///
/// They run on the thread whose call caused the transition, after the transition is made, so
/// they must be quick; transitions of one breaker caused by two threads at once may be
/// reported in either order. A listener that panics unwinds into that call.
///
/// Allocated with the first listener: most breakers have none, and many breakers (one per
/// host) should not each pay for an empty list and its lock.
#[derive(Default)]
pub(crate) struct Listeners(OnceBox<RwLock<Vec<Listener>>>);

impl Listeners {
    pub(crate) const fn new() -> Self {
        Listeners(OnceBox::new())
    }

    pub(crate) fn add(&self, listener: Listener) {
        self.0
            .get_or_init(Box::default)
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(listener);
    }

    pub(crate) fn notify(&self, transition: &Transition) {
        let Some(listeners) = self.0.get() else {
            return;
        };
        for listener in &*listeners.read().unwrap_or_else(PoisonError::into_inner) {
            listener(transition);
        }
    }
}

/// Listeners of every breaker, added with [`registry::on_transition`](crate::registry::on_transition).
pub(crate) static EVERY_BREAKER: Listeners = Listeners::new();
