//! Transitions: a breaker's state changes as they are reported, to the functions listening to
//! one breaker or to every breaker (and, with the `tracing` feature, as a `tracing` event).

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

/// A function called on every transition.
pub(crate) type TransitionListener = dyn Fn(&Transition) + Send + Sync;

/// The listeners of a breaker's transitions (see [`Listeners`]): called in the order they were
/// added, on the thread whose call caused the transition, after it is made, so they must be
/// quick; transitions of one breaker caused by two threads at once may be reported in either
/// order. A listener that panics unwinds into that call.
pub(crate) type Listeners = crate::listeners::Listeners<TransitionListener>;

impl Listeners {
    pub(crate) fn notify(&self, transition: &Transition) {
        self.each(|listener| listener(transition));
    }
}

/// Listeners of every breaker, added with [`registry::on_transition`](crate::registry::on_transition).
pub(crate) static EVERY_BREAKER: Listeners = Listeners::new();
