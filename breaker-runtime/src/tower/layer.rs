//! The layer: which breaker, and which classifier, a wrapped service gets.

use std::{fmt, sync::Arc};

use tower_layer::Layer;

use super::{CircuitBreakerService, DefaultClassifier};
use crate::{CircuitBreaker, Config, name::Name, registry};

/// Wraps a service in a circuit breaker: see the [module](super).
///
/// Cloning the layer, or applying it many times, shares one breaker.
#[derive(Clone)]
pub struct CircuitBreakerLayer<C = DefaultClassifier> {
    breaker: Arc<CircuitBreaker>,
    classifier: C,
}

impl CircuitBreakerLayer {
    /// A layer over the breaker registered as `name`, registered now with `config` if there is
    /// none ([`registry::get_or_register`]: an existing breaker keeps its configuration, and a
    /// different `config` is a conflict [`registry::check`] reports, naming this line).
    ///
    /// ```
    /// use fusebox::{Config, registry, tower::CircuitBreakerLayer};
    ///
    /// let layer = CircuitBreakerLayer::new("catalog", Config::default());
    /// assert!(registry::get("catalog").is_some());
    /// assert_eq!(layer.breaker().name(), "catalog");
    /// ```
    #[track_caller]
    pub fn new(name: impl Into<Name>, config: Config) -> Self {
        CircuitBreakerLayer::from_breaker(registry::get_or_register(name, config))
    }

    /// A layer over `breaker`, registered or not.
    #[must_use]
    pub fn from_breaker(breaker: Arc<CircuitBreaker>) -> Self {
        CircuitBreakerLayer {
            breaker,
            classifier: DefaultClassifier,
        }
    }
}

impl<C> CircuitBreakerLayer<C> {
    /// The same layer, judging outcomes with `classifier`.
    #[must_use]
    pub fn classifier<D>(self, classifier: D) -> CircuitBreakerLayer<D> {
        CircuitBreakerLayer {
            breaker: self.breaker,
            classifier,
        }
    }

    /// The breaker.
    #[must_use]
    pub fn breaker(&self) -> &Arc<CircuitBreaker> {
        &self.breaker
    }

    /// The classifier.
    #[allow(dead_code)] // read by the retry policy, with `tokio`
    pub(super) fn classifier_ref(&self) -> &C {
        &self.classifier
    }
}

impl<C> fmt::Debug for CircuitBreakerLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerLayer")
            .field("breaker", &self.breaker.name())
            .finish_non_exhaustive()
    }
}

impl<S, C: Clone> Layer<S> for CircuitBreakerLayer<C> {
    type Service = CircuitBreakerService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService::new(inner, Arc::clone(&self.breaker), self.classifier.clone())
    }
}
