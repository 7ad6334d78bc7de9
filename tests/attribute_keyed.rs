//! `key = "arg"`: one breaker per distinct value of an argument, named
//! `<the function's breaker name>/<key>`, with fallbacks, `failure_if`, `max_keys` and
//! `max_key_len`.

// Fallbacks have the annotated function's signature, `Result` included.
#![allow(clippy::unnecessary_wraps)]

use fusebox::{BreakerError, State, circuit_breaker, registry};

#[derive(Debug, PartialEq)]
enum FetchError {
    Down,
    Rejected(BreakerError),
}

impl From<BreakerError> for FetchError {
    fn from(error: BreakerError) -> Self {
        FetchError::Rejected(error)
    }
}

fn down(host: &str) -> bool {
    host.starts_with("down")
}

#[circuit_breaker(name = "keyed::profile", key = "user", consecutive_failures = 1)]
fn profile(user: u64, fail: bool) -> Result<u64, FetchError> {
    if fail {
        Err(FetchError::Down)
    } else {
        Ok(user)
    }
}

#[test]
fn each_value_of_the_key_has_its_own_breaker() {
    assert_eq!(profile(1, false), Ok(1));
    assert_eq!(profile(2, true), Err(FetchError::Down));
    // User 2's breaker is open; user 1's is not.
    assert!(matches!(
        profile(2, false),
        Err(FetchError::Rejected(BreakerError::Open { .. }))
    ));
    assert_eq!(profile(1, false), Ok(1));
    assert_eq!(
        registry::get("keyed::profile/1").unwrap().state(),
        State::Closed
    );
    assert_eq!(
        registry::get("keyed::profile/2").unwrap().state(),
        State::Open
    );
}

#[circuit_breaker(
    name = "keyed::catalog",
    key = "host",
    consecutive_failures = 1,
    fallback = "cached"
)]
fn catalog(host: &str, page: u32) -> Result<String, FetchError> {
    if down(host) {
        Err(FetchError::Down)
    } else {
        Ok(format!("{host}:{page}"))
    }
}

fn cached(host: &str, page: u32) -> Result<String, FetchError> {
    Ok(format!("cached {host}:{page}"))
}

#[test]
fn a_reference_key_is_looked_up_by_reference_and_fallbacks_work_per_key() {
    assert_eq!(catalog("up", 1).unwrap(), "up:1");
    assert_eq!(catalog("down-1", 2).unwrap(), "cached down-1:2");
    assert_eq!(
        catalog("down-1", 3).unwrap(),
        "cached down-1:3",
        "open: the fallback answers"
    );
    assert_eq!(
        registry::get("keyed::catalog/down-1").unwrap().state(),
        State::Open
    );
    assert_eq!(
        registry::get("keyed::catalog/up").unwrap().state(),
        State::Closed
    );
}

/// The body consumes the key's argument: the breaker was found before the body ran.
#[circuit_breaker(name = "keyed::consumed", key = "tenant")]
fn consumed(tenant: String) -> Result<String, FetchError> {
    Ok(tenant)
}

#[test]
fn the_body_may_move_the_key() {
    assert_eq!(consumed(String::from("acme")).unwrap(), "acme");
    assert_eq!(
        registry::get("keyed::consumed/acme")
            .unwrap()
            .metrics()
            .calls,
        1
    );
}

#[circuit_breaker(name = "keyed::bounded", key = "shard", max_keys = 2)]
fn bounded(shard: u8) -> Result<u8, FetchError> {
    Ok(shard)
}

#[test]
fn max_keys_bounds_the_breakers_and_the_rest_share_the_overflow_breaker() {
    for shard in 0..5 {
        assert_eq!(bounded(shard), Ok(shard));
    }
    assert!(registry::get("keyed::bounded/0").is_some());
    assert!(registry::get("keyed::bounded/1").is_some());
    assert!(registry::get("keyed::bounded/2").is_none());
    assert_eq!(
        registry::get("keyed::bounded/(overflow)")
            .unwrap()
            .metrics()
            .calls,
        3
    );
}

#[circuit_breaker(name = "keyed::paths", key = "path", max_key_len = 8)]
fn by_path(path: &str) -> Result<usize, FetchError> {
    Ok(path.len())
}

#[test]
fn max_key_len_sends_longer_values_to_the_overflow_breaker() {
    assert_eq!(by_path("/items"), Ok(6));
    assert_eq!(by_path("/1234567"), Ok(8));
    assert_eq!(by_path("/12345678"), Ok(9));
    assert_eq!(by_path(&"/x".repeat(50_000)), Ok(100_000));
    assert!(registry::get("keyed::paths//items").is_some());
    assert!(
        registry::get("keyed::paths//1234567").is_some(),
        "at the limit: its own"
    );
    assert!(registry::get("keyed::paths//12345678").is_none());
    assert_eq!(
        registry::get("keyed::paths/(overflow)")
            .unwrap()
            .metrics()
            .calls,
        2
    );
}

#[circuit_breaker(name = "keyed::default_len", key = "tenant")]
fn by_tenant(tenant: &str) -> Result<usize, FetchError> {
    Ok(tenant.len())
}

#[test]
fn without_max_key_len_values_of_up_to_256_bytes_have_breakers_of_their_own() {
    let (longest, too_long) = ("t".repeat(256), "t".repeat(257));
    assert_eq!(by_tenant(&longest), Ok(256));
    assert_eq!(by_tenant(&too_long), Ok(257));
    assert!(registry::get(&format!("keyed::default_len/{longest}")).is_some());
    assert!(registry::get(&format!("keyed::default_len/{too_long}")).is_none());
    assert_eq!(
        registry::get("keyed::default_len/(overflow)")
            .unwrap()
            .metrics()
            .calls,
        1
    );
}

#[circuit_breaker(name = "keyed::async", key = "region", consecutive_failures = 1)]
async fn regional(region: &str) -> Result<&'static str, FetchError> {
    if region == "eu" {
        Err(FetchError::Down)
    } else {
        Ok("ok")
    }
}

#[tokio::test(flavor = "current_thread")]
async fn async_functions_have_a_breaker_per_key_too() {
    assert_eq!(regional("us").await, Ok("ok"));
    assert_eq!(regional("eu").await, Err(FetchError::Down));
    assert!(matches!(regional("eu").await, Err(FetchError::Rejected(_))));
    assert_eq!(regional("us").await, Ok("ok"));
}
