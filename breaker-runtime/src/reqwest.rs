//! One breaker per host for a [`reqwest-middleware`](reqwest_middleware) client.
//!
//! ```no_run
//! use fusebox::{BreakerError, Config, reqwest::CircuitBreakerMiddleware};
//!
//! # async fn fetch() -> Result<(), Box<dyn std::error::Error>> {
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(CircuitBreakerMiddleware::per_host("catalog-client", Config::default()))
//!     .build();
//! match client.get("http://catalog.internal/items").send().await {
//!     Ok(response) => println!("{}", response.status()),
//!     // The host's breaker is open: the request was not sent.
//!     Err(reqwest_middleware::Error::Middleware(error)) if error.is::<BreakerError>() => {
//!         println!("not sent: {error}");
//!     }
//!     Err(error) => println!("failed: {error}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Each host (`host:port` as the URL writes it) gets a breaker of a [`Keyed`] family, named
//! `<family>/<host:port>` in the registry. A response counts as [`HttpClassifier`] says (5xx and
//! 408 are failures), a transport error (refused, reset, reqwest's own timeout) as a failure. A
//! refusal is `reqwest_middleware::Error::Middleware` holding the [`BreakerError`]; so is a
//! [`Config::timeout`] that elapsed.
//!
//! With `retry` in the family's configuration (or a host's, through the overrides), a request
//! whose attempt failed (a failure as above, or a timeout; never a refusal) is sent again
//! through the host's breaker, as [`Retry`] retries a call: the backoff, the
//! jitter and the host's retry budget in force, each attempt counted. A request whose body
//! cannot be cloned (a stream) is sent once.

use std::sync::Arc;

use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{Error, Middleware, Next, Result};

use crate::{
    BreakerError, CircuitBreaker, Config, Keyed, Retry,
    classify::{HttpClassifier, Verdict},
    name::Name,
};

/// The longest `host:port` a URL can name: a DNS name of 253 bytes, a colon, a port of 5
/// digits. Every host a request goes to keeps a breaker of its own (an IPv6 literal in
/// brackets is shorter).
const HOST_PORT_LEN: usize = 253 + 1 + 5;

/// A `reqwest-middleware` middleware with one breaker per host: see the [module](self).
#[derive(Clone)]
pub struct CircuitBreakerMiddleware {
    family: Arc<Keyed<String>>,
    classifier: HttpClassifier,
}

impl CircuitBreakerMiddleware {
    /// One breaker per host, in a family `family` configured with `config` (at most 10,000
    /// hosts, each key up to 259 bytes: the longest `host:port` a URL can name, a DNS name of
    /// 253 bytes and a port; [`from_family`](Self::from_family) takes a family with other
    /// bounds).
    #[track_caller]
    pub fn per_host(family: impl Into<Name>, config: Config) -> Self {
        CircuitBreakerMiddleware::from_family(Arc::new(
            Keyed::new(family, config).max_key_len(HOST_PORT_LEN),
        ))
    }

    /// One breaker per host, in `family`.
    #[must_use]
    pub fn from_family(family: Arc<Keyed<String>>) -> Self {
        CircuitBreakerMiddleware {
            family,
            classifier: HttpClassifier::default(),
        }
    }

    /// The same middleware, judging responses with `classifier`.
    #[must_use]
    pub fn classifier(self, classifier: HttpClassifier) -> Self {
        CircuitBreakerMiddleware { classifier, ..self }
    }

    /// The family of breakers.
    #[must_use]
    pub fn family(&self) -> &Arc<Keyed<String>> {
        &self.family
    }
}

impl std::fmt::Debug for CircuitBreakerMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreakerMiddleware")
            .field("family", &self.family.name())
            .field("classifier", &self.classifier)
            .finish()
    }
}

/// `host:port` as the request's URL writes it (the port only when it is written).
fn host(request: &Request) -> &str {
    let url = request.url();
    &url[url::Position::BeforeHost..url::Position::AfterPort]
}

#[async_trait::async_trait]
impl Middleware for CircuitBreakerMiddleware {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<Response> {
        let breaker: Arc<CircuitBreaker> = self.family.breaker(host(&request));
        let Some(retry) = Retry::<()>::in_force(&breaker) else {
            return self.attempt(&breaker, request, extensions, next).await;
        };
        breaker.first_attempt();
        let (mut request, mut retries) = (request, 0);
        loop {
            // A body that streams cannot be sent twice: this attempt is the last.
            let spare = request.try_clone();
            let result = self
                .attempt(&breaker, request, extensions, next.clone())
                .await;
            let Some(spare) = spare else {
                return result;
            };
            let failed = match &result {
                Ok(response) => self.classifier.status(response.status()) == Verdict::Failure,
                Err(Error::Middleware(error)) => error
                    .downcast_ref::<BreakerError>()
                    .is_none_or(crate::retry::is_retried),
                Err(_) => true,
            };
            let wait = failed
                .then(|| breaker.next_retry(&retry, retries))
                .flatten();
            let Some(wait) = wait else {
                return result;
            };
            retries += 1;
            tokio::time::sleep(wait).await;
            request = spare;
        }
    }
}

impl CircuitBreakerMiddleware {
    /// One attempt of `request` through `breaker`.
    async fn attempt(
        &self,
        breaker: &Arc<CircuitBreaker>,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<Response> {
        let permit = breaker
            .admit()
            .map_err(|refusal| Error::middleware(breaker.rejection(refusal)))?;
        #[cfg(feature = "tracing")]
        let span = permit.ticket().is_traced().then(|| {
            let state = crate::span::admitted_in(breaker, permit.ticket());
            crate::span::for_call(breaker.name(), state)
        });
        let sent = next.run(request, extensions);
        #[cfg(feature = "tracing")]
        let sent =
            tracing::Instrument::instrument(sent, span.clone().unwrap_or_else(tracing::Span::none));
        let result = match breaker.config.timeout() {
            None => sent.await,
            Some(limit) => {
                let Ok(result) = tokio::time::timeout(limit, sent).await else {
                    #[cfg(feature = "tracing")]
                    if let Some(span) = &span {
                        span.record("outcome", "timeout");
                    }
                    return Err(Error::middleware::<BreakerError>(permit.time_out()));
                };
                result
            }
        };
        let verdict = match &result {
            Ok(response) => self.classifier.status(response.status()),
            Err(_) => Verdict::Failure,
        };
        #[cfg(feature = "tracing")]
        if let Some(span) = &span {
            span.record("outcome", crate::span::verdict_name(verdict));
        }
        permit.judged(verdict);
        result
    }
}
