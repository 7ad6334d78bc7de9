//! Classification: what a response, or an error, counts as to its breaker (a success, a
//! failure, or neither). The tower layer and the reqwest middleware judge their calls with it;
//! the types are public as `fusebox::tower::{Classify, Verdict, …}`.

/// What a call through the layer counts as.
///
/// ```
/// use fusebox::tower::Verdict;
///
/// assert_ne!(Verdict::Ignored, Verdict::Failure);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Counted as a success.
    Success,
    /// Counted as a failure.
    Failure,
    /// Counted as neither, as Resilience4j's ignored exceptions: not in the window, not in the
    /// error rate; a half-open trial that is ignored gives its permit back to the next caller.
    /// Counted in [`Counters::ignored`](crate::Counters::ignored).
    Ignored,
}

/// Decides what a response, or an error of the inner service, counts as.
///
/// Implemented by [`DefaultClassifier`], [`HttpClassifier`], [`GrpcClassifier`] and by any
/// `Fn(Result<&Response, &Error>) -> Verdict`:
///
/// ```
/// use fusebox::tower::{Classify, Verdict};
///
/// // A service answering `Result<u16, String>`-like calls with status codes.
/// let by_code = |result: Result<&u16, &String>| match result {
///     Ok(code) if *code >= 500 => Verdict::Failure,
///     Ok(_) => Verdict::Success,
///     Err(_) => Verdict::Failure,
/// };
/// assert_eq!(by_code.classify(Ok(&503)), Verdict::Failure);
/// ```
pub trait Classify<Response, Error> {
    /// What `result` counts as.
    fn classify(&self, result: Result<&Response, &Error>) -> Verdict;
}

impl<F, Response, Error> Classify<Response, Error> for F
where
    F: Fn(Result<&Response, &Error>) -> Verdict,
{
    fn classify(&self, result: Result<&Response, &Error>) -> Verdict {
        self(result)
    }
}

/// The layer's default: a response is a success, an error of the inner service a failure.
///
/// ```
/// use fusebox::tower::{Classify, DefaultClassifier, Verdict};
///
/// assert_eq!(Classify::<(), ()>::classify(&DefaultClassifier, Err(&())), Verdict::Failure);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefaultClassifier;

impl<Response, Error> Classify<Response, Error> for DefaultClassifier {
    fn classify(&self, result: Result<&Response, &Error>) -> Verdict {
        match result {
            Ok(_) => Verdict::Success,
            Err(_) => Verdict::Failure,
        }
    }
}

/// HTTP responses: 5xx are failures; 4xx are successes (the server answered; the request was
/// wrong), except 408 Request Timeout, a failure by default (the server was too slow to read
/// the request, as Polly's `HandleTransientHttpError`); 429 Too Many Requests is a success by
/// default and can be made a failure. Errors of the inner service (connection refused, reset)
/// are failures.
///
/// ```
/// use fusebox::tower::{Classify, HttpClassifier, Verdict};
///
/// let response = |status: u16| http::Response::builder().status(status).body(()).unwrap();
/// let classify = |classifier: &HttpClassifier, status| {
///     Classify::<_, ()>::classify(classifier, Ok(&response(status)))
/// };
/// let default = HttpClassifier::default();
/// assert_eq!(classify(&default, 503), Verdict::Failure);
/// assert_eq!(classify(&default, 404), Verdict::Success);
/// assert_eq!(classify(&default, 408), Verdict::Failure);
/// assert_eq!(classify(&default, 429), Verdict::Success);
/// let strict = HttpClassifier::default().too_many_requests_fail(true);
/// assert_eq!(classify(&strict, 429), Verdict::Failure);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpClassifier {
    request_timeout_fails: bool,
    too_many_requests_fail: bool,
}

impl Default for HttpClassifier {
    fn default() -> Self {
        HttpClassifier {
            request_timeout_fails: true,
            too_many_requests_fail: false,
        }
    }
}

impl HttpClassifier {
    /// Whether 408 Request Timeout is a failure (by default it is).
    #[must_use]
    pub const fn request_timeout_fails(mut self, fails: bool) -> Self {
        self.request_timeout_fails = fails;
        self
    }

    /// Whether 429 Too Many Requests is a failure (by default it is not).
    #[must_use]
    pub const fn too_many_requests_fail(mut self, fail: bool) -> Self {
        self.too_many_requests_fail = fail;
        self
    }

    /// What a response of `status` counts as.
    #[must_use]
    pub fn status(&self, status: http::StatusCode) -> Verdict {
        let fails = status.is_server_error()
            || (status == http::StatusCode::REQUEST_TIMEOUT && self.request_timeout_fails)
            || (status == http::StatusCode::TOO_MANY_REQUESTS && self.too_many_requests_fail);
        if fails {
            Verdict::Failure
        } else {
            Verdict::Success
        }
    }
}

impl<Body, Error> Classify<http::Response<Body>, Error> for HttpClassifier {
    fn classify(&self, result: Result<&http::Response<Body>, &Error>) -> Verdict {
        match result {
            Ok(response) => self.status(response.status()),
            Err(_) => Verdict::Failure,
        }
    }
}

/// gRPC responses, by the `grpc-status` header: by default `UNKNOWN` (2), `DEADLINE_EXCEEDED`
/// (4), `RESOURCE_EXHAUSTED` (8), `INTERNAL` (13), `UNAVAILABLE` (14) and `DATA_LOSS` (15) are
/// failures (the server or the network failed); every other code (`OK`, `INVALID_ARGUMENT`,
/// `NOT_FOUND`, `PERMISSION_DENIED`, …: the call was answered) is a success. An HTTP 5xx is a failure, and so
/// is an error of the inner service.
///
/// It reads the response's headers, where a server puts `grpc-status` when it answers with an
/// error and no message (a "trailers-only" response, how tonic and the other implementations
/// send an error status); a status sent in trailers after a body is not seen, and the response
/// counts by its HTTP status (a success for 200).
///
/// ```
/// use fusebox::tower::{Classify, GrpcClassifier, Verdict};
///
/// let answer = |code: &str| {
///     http::Response::builder().header("grpc-status", code).body(()).unwrap()
/// };
/// let grpc = GrpcClassifier::default();
/// assert_eq!(Classify::<_, ()>::classify(&grpc, Ok(&answer("14"))), Verdict::Failure);
/// assert_eq!(Classify::<_, ()>::classify(&grpc, Ok(&answer("5"))), Verdict::Success);
/// let lenient = grpc.failing(14, false);
/// assert_eq!(Classify::<_, ()>::classify(&lenient, Ok(&answer("14"))), Verdict::Success);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrpcClassifier {
    /// Bit `n` set: code `n` is a failure.
    failing: u32,
}

impl GrpcClassifier {
    /// The codes that are failures by default.
    const DEFAULT_FAILURES: [u8; 6] = [2, 4, 8, 13, 14, 15];

    /// Makes status `code` (0 to 16) a failure or not; other numbers change nothing (a status
    /// outside the range is never a failure).
    #[must_use]
    pub const fn failing(mut self, code: u8, fails: bool) -> Self {
        if code <= 16 {
            if fails {
                self.failing |= 1 << code;
            } else {
                self.failing &= !(1 << code);
            }
        }
        self
    }

    /// What a response with `grpc-status: code` counts as.
    #[must_use]
    pub const fn code(&self, code: u32) -> Verdict {
        if code <= 16 && self.failing & (1 << code) != 0 {
            Verdict::Failure
        } else {
            Verdict::Success
        }
    }
}

impl Default for GrpcClassifier {
    fn default() -> Self {
        let mut classifier = GrpcClassifier { failing: 0 };
        let mut index = 0;
        while index < GrpcClassifier::DEFAULT_FAILURES.len() {
            classifier = classifier.failing(GrpcClassifier::DEFAULT_FAILURES[index], true);
            index += 1;
        }
        classifier
    }
}

impl<Body, Error> Classify<http::Response<Body>, Error> for GrpcClassifier {
    fn classify(&self, result: Result<&http::Response<Body>, &Error>) -> Verdict {
        let Ok(response) = result else {
            return Verdict::Failure;
        };
        if response.status().is_server_error() {
            return Verdict::Failure;
        }
        response
            .headers()
            .get("grpc-status")
            .and_then(|code| code.to_str().ok()?.trim().parse().ok())
            // A header that is not a number is not a status this classifier knows: the answer
            // counts by its HTTP status, as one without the header.
            .map_or(Verdict::Success, |code| self.code(code))
    }
}
