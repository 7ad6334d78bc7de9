//! `RetryPolicy` and `PerKeyRetryPolicy`: tower's retry middleware, with the breaker's retry
//! keys and budget.

use std::{
    fmt::{self, Display},
    hash::Hash,
    sync::Arc,
    time::Duration,
};

use super::{CircuitBreakerLayer, Classify, PerKeyLayer, Verdict};
use crate::{CircuitBreaker, Failure, Keyed, Retry};

/// A [`tower::retry::Policy`](::tower::retry::Policy) for a service behind a
/// [`CircuitBreakerLayer`]: it retries what the layer's classifier counts as a failure (an
/// HTTP 5xx with [`HttpClassifier`](super::HttpClassifier), an inner error by default) and a
/// timeout, never a refusal (open, busy), as the breaker's retry keys in force say (`retry`,
/// `retry_backoff_ms`, `retry_backoff_max_ms`, `retry_jitter`), and spends the breaker's retry
/// budget (`retry_budget`), as [`Retry`] does for calls. The waits are Tokio's. With no
/// `retry` in force it retries nothing.
///
/// Put the retry layer outside the breaker's, so that each attempt goes through the breaker:
///
/// ```
/// use std::{sync::{Arc, atomic::{AtomicU32, Ordering}}, time::Duration};
/// use fusebox::{Config, tower::CircuitBreakerLayer};
/// use tower::{Layer, Service, ServiceExt, retry::RetryLayer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let requests = Arc::new(AtomicU32::new(0));
/// let seen = Arc::clone(&requests);
/// let flaky = tower::service_fn(move |id: u32| {
///     let n = seen.fetch_add(1, Ordering::SeqCst);
///     async move { if n == 0 { Err(std::io::Error::other("reset")) } else { Ok(id) } }
/// });
/// let config = Config::builder().retry(2).retry_backoff(Duration::from_millis(1)).build()?;
/// let breaker = CircuitBreakerLayer::new("docs::retried", config);
/// let mut client = RetryLayer::new(breaker.retry_policy()).layer(breaker.layer(flaky));
///
/// assert_eq!(client.ready().await?.call(7).await?, 7);
/// assert_eq!(requests.load(Ordering::SeqCst), 2);
/// assert_eq!(breaker.breaker().metrics().counters.retries, 1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RetryPolicy<C> {
    breaker: Arc<CircuitBreaker>,
    classifier: C,
    /// Retries made for this request (tower clones the policy for each request).
    retries: u8,
}

impl<C: Clone> CircuitBreakerLayer<C> {
    /// The retry policy of this layer's breaker, judging responses with its classifier; see
    /// [`RetryPolicy`].
    #[must_use]
    pub fn retry_policy(&self) -> RetryPolicy<C> {
        RetryPolicy {
            breaker: Arc::clone(self.breaker()),
            classifier: self.classifier_ref().clone(),
            retries: 0,
        }
    }
}

impl<C> fmt::Debug for RetryPolicy<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("breaker", &self.breaker.name())
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl<Req, Res, E, C> ::tower::retry::Policy<Req, Res, Failure<E>> for RetryPolicy<C>
where
    Req: Clone,
    C: Classify<Res, E>,
{
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        _: &mut Req,
        result: &mut Result<Res, Failure<E>>,
    ) -> Option<tokio::time::Sleep> {
        retry_after(&self.breaker, &self.classifier, &mut self.retries, result)
    }

    fn clone_request(&mut self, request: &Req) -> Option<Req> {
        // Before the first attempt (on the service's own policy, which tower then clones for
        // the request), and before each retry (on the request's).
        if self.retries == 0 {
            self.breaker.first_attempt();
        }
        Some(request.clone())
    }
}

/// The wait before another attempt after `result`, if `breaker`'s retry keys in force and its
/// budget allow one (counted in `retries`): after what `classifier` counts as a failure, or a
/// timeout; never after a refusal.
fn retry_after<Res, E, C: Classify<Res, E>>(
    breaker: &CircuitBreaker,
    classifier: &C,
    retries: &mut u8,
    result: &Result<Res, Failure<E>>,
) -> Option<tokio::time::Sleep> {
    let failed = match result {
        Ok(response) => classifier.classify(Ok(response)) == Verdict::Failure,
        Err(Failure::Error(error)) => classifier.classify(Err(error)) == Verdict::Failure,
        Err(Failure::Breaker(error)) => crate::retry::is_retried(error),
    };
    if !failed {
        return None;
    }
    let retry = Retry::<()>::in_force(breaker)?;
    let wait: Duration = breaker.next_retry(&retry, *retries)?;
    *retries += 1;
    Some(tokio::time::sleep(wait))
}

/// [`RetryPolicy`] for a service behind a [`PerKeyLayer`]: each request is retried as its
/// key's breaker says (its retry keys in force, its budget), through that breaker.
///
/// ```
/// use std::{sync::{Arc, atomic::{AtomicU32, Ordering}}, time::Duration};
/// use fusebox::{Config, registry, tower::CircuitBreakerLayer};
/// use tower::{Layer, Service, ServiceExt, retry::RetryLayer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let requests = Arc::new(AtomicU32::new(0));
/// let seen = Arc::clone(&requests);
/// let flaky = tower::service_fn(move |host: &'static str| {
///     let n = seen.fetch_add(1, Ordering::SeqCst);
///     async move { if n == 0 { Err(std::io::Error::other("reset")) } else { Ok(host) } }
/// });
/// let config = Config::builder().retry(2).retry_backoff(Duration::from_millis(1)).build()?;
/// let hosts = CircuitBreakerLayer::per_key("docs::retried-hosts", config, |host: &&'static str| *host);
/// let mut client = RetryLayer::new(hosts.retry_policy()).layer(hosts.layer(flaky));
///
/// assert_eq!(client.ready().await?.call("a.example").await?, "a.example");
/// let breaker = registry::get("docs::retried-hosts/a.example").unwrap();
/// assert_eq!(breaker.metrics().counters.retries, 1);
/// # Ok(())
/// # }
/// ```
pub struct PerKeyRetryPolicy<K, F, C> {
    family: Arc<Keyed<K>>,
    key: F,
    classifier: C,
    /// Retries made for this request (tower clones the policy for each request).
    retries: u8,
}

impl<K, F: Clone, C: Clone> PerKeyLayer<K, F, C> {
    /// The retry policy of this layer's breakers, each request's by its key, judging
    /// responses with the layer's classifier; see [`PerKeyRetryPolicy`].
    #[must_use]
    pub fn retry_policy(&self) -> PerKeyRetryPolicy<K, F, C> {
        PerKeyRetryPolicy {
            family: Arc::clone(self.family()),
            key: self.key_ref().clone(),
            classifier: self.classifier_ref().clone(),
            retries: 0,
        }
    }
}

impl<K, F: Clone, C: Clone> Clone for PerKeyRetryPolicy<K, F, C> {
    fn clone(&self) -> Self {
        PerKeyRetryPolicy {
            family: Arc::clone(&self.family),
            key: self.key.clone(),
            classifier: self.classifier.clone(),
            retries: self.retries,
        }
    }
}

impl<K: Hash + Eq + Clone + Display + Send + Sync + 'static, F, C> fmt::Debug
    for PerKeyRetryPolicy<K, F, C>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerKeyRetryPolicy")
            .field("family", &self.family.name())
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl<Req, Res, E, K, F, C> ::tower::retry::Policy<Req, Res, Failure<E>>
    for PerKeyRetryPolicy<K, F, C>
where
    Req: Clone,
    K: Hash + Eq + Clone + Display + Send + Sync + 'static,
    F: Fn(&Req) -> K,
    C: Classify<Res, E>,
{
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        request: &mut Req,
        result: &mut Result<Res, Failure<E>>,
    ) -> Option<tokio::time::Sleep> {
        let breaker = self.family.breaker(&(self.key)(request));
        retry_after(&breaker, &self.classifier, &mut self.retries, result)
    }

    fn clone_request(&mut self, request: &Req) -> Option<Req> {
        // As `RetryPolicy`'s: the first attempt is counted on the key's budget.
        if self.retries == 0 {
            self.family.breaker(&(self.key)(request)).first_attempt();
        }
        Some(request.clone())
    }
}
