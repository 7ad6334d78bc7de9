//! Lists of functions a breaker (or every breaker) calls when something happens to it: its
//! transitions, its calls.

use std::sync::{PoisonError, RwLock};

use once_cell::race::OnceBox;

/// Functions called in the order they were added, allocated with the first one: most breakers
/// have none, and many breakers (one per host) should not each pay for an empty list and its
/// lock.
pub(crate) struct Listeners<F: ?Sized>(OnceBox<RwLock<Vec<Box<F>>>>);

impl<F: ?Sized> Default for Listeners<F> {
    fn default() -> Self {
        Listeners::new()
    }
}

impl<F: ?Sized> Listeners<F> {
    pub(crate) const fn new() -> Self {
        Listeners(OnceBox::new())
    }

    pub(crate) fn add(&self, listener: Box<F>) {
        self.0
            .get_or_init(Box::default)
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(listener);
    }

    /// Whether a listener was ever added.
    pub(crate) fn any(&self) -> bool {
        self.0.get().is_some()
    }

    /// Calls `call` with each listener, in order.
    pub(crate) fn each(&self, mut call: impl FnMut(&F)) {
        let Some(listeners) = self.0.get() else {
            return;
        };
        for listener in &*listeners.read().unwrap_or_else(PoisonError::into_inner) {
            call(listener);
        }
    }
}
