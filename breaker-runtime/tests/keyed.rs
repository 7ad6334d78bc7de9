//! `Keyed`: one breaker per key, named `<family>/<key>` and registered, bounded by `max_keys`
//! and `max_key_len`, idle closed keys evicted. Time moves on a test clock.

use std::{sync::Arc, thread, time::Duration};

use breaker_runtime::{Config, Failure, Keyed, State, TestClock, registry};

fn config() -> Config {
    Config::builder()
        .consecutive_failures(1)
        .window(Duration::from_secs(1))
        .window_buckets(10)
        .build()
        .unwrap()
}

fn family(name: &'static str, max_keys: usize) -> (Keyed<String>, TestClock) {
    let keyed = Keyed::new(name, config()).max_keys(max_keys);
    let clock = TestClock::new();
    assert!(keyed.set_clock(&clock));
    (keyed, clock)
}

fn fail(keyed: &Keyed<String>, key: &str) {
    let _ = keyed.call(key, || Err::<(), _>("down"));
}

fn succeed(keyed: &Keyed<String>, key: &str) {
    keyed.call(key, || Ok::<_, ()>(())).unwrap();
}

#[test]
fn each_key_has_its_own_registered_breaker() {
    let (hosts, _clock) = family("keyed-own", 100);
    succeed(&hosts, "a");
    fail(&hosts, "b");
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts.state("a"), Some(State::Closed));
    assert_eq!(hosts.state("b"), Some(State::Open));
    assert_eq!(hosts.state("c"), None);
    let b = registry::get("keyed-own/b").expect("registered under <family>/<key>");
    assert!(Arc::ptr_eq(&b, &hosts.get("b").unwrap()));
    assert_eq!(b.name(), "keyed-own/b");
    assert!(matches!(
        hosts.call("b", || Ok::<_, ()>(())),
        Err(Failure::Breaker(error)) if error.name() == "keyed-own/b"
    ));
    let mut keys: Vec<String> = hosts.breakers().into_iter().map(|(key, _)| key).collect();
    keys.sort();
    assert_eq!(keys, ["a", "b"]);
}

#[test]
fn idle_closed_keys_are_evicted_and_open_ones_kept() {
    let (hosts, clock) = family("keyed-evict", 100);
    succeed(&hosts, "idle");
    fail(&hosts, "open");
    assert_eq!(hosts.evict_idle(), 0, "both were called within the window");
    clock.advance(Duration::from_secs(1));
    assert_eq!(hosts.evict_idle(), 1);
    assert_eq!(hosts.state("idle"), None);
    assert!(
        registry::get("keyed-evict/idle").is_none(),
        "unlisted with it"
    );
    assert_eq!(
        hosts.state("open"),
        Some(State::Open),
        "an open key is never evicted"
    );
    assert!(registry::get("keyed-evict/open").is_some());

    // A key called again after its eviction gets a new breaker, registered again.
    succeed(&hosts, "idle");
    let again = registry::get("keyed-evict/idle").expect("registered again");
    assert!(Arc::ptr_eq(&again, &hosts.get("idle").unwrap()));
    assert_eq!(
        again.metrics().calls,
        1,
        "a new breaker, not the evicted one"
    );
}

#[test]
fn a_full_family_evicts_idle_keys_for_new_ones_or_shares_an_overflow_breaker() {
    let (hosts, clock) = family("keyed-full", 2);
    succeed(&hosts, "a");
    succeed(&hosts, "b");
    // Full, and nothing idle: the new key shares the overflow breaker.
    succeed(&hosts, "c");
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts.state("c"), None);
    let overflow = registry::get("keyed-full/(overflow)").expect("the overflow breaker");
    assert_eq!(overflow.metrics().calls, 1);
    fail(&hosts, "d"); // beyond the bound too: trips the shared overflow breaker
    assert_eq!(overflow.state(), State::Open);

    // Once the keys are idle, a new key makes room for itself.
    clock.advance(Duration::from_secs(1));
    succeed(&hosts, "e");
    assert_eq!(hosts.state("e"), Some(State::Closed));
    assert_eq!(hosts.len(), 1, "a and b were evicted");
}

#[test]
fn threads_racing_on_a_new_key_share_one_breaker() {
    let hosts: Arc<Keyed<u32>> = Arc::new(Keyed::new("keyed-race", Config::default()));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let hosts = Arc::clone(&hosts);
            thread::spawn(move || {
                for _ in 0..1_000 {
                    hosts.call(&7, || Ok::<_, ()>(())).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts.get(&7).unwrap().metrics().calls, 4_000);
    assert_eq!(
        registry::get("keyed-race/7").unwrap().metrics().calls,
        4_000
    );
}

#[test]
fn removing_a_key_unlists_its_breaker() {
    let (hosts, _clock) = family("keyed-remove", 10);
    fail(&hosts, "x");
    let removed = hosts.remove("x").expect("it had one");
    assert_eq!(removed.state(), State::Open);
    assert!(hosts.state("x").is_none());
    assert!(registry::get("keyed-remove/x").is_none());
    assert!(hosts.remove("x").is_none());
}

#[tokio::test(flavor = "current_thread")]
async fn async_calls_go_through_the_keys_breaker() {
    let (hosts, _clock) = family("keyed-async", 10);
    let answer = hosts.call_async("p", async { Ok::<_, ()>(5) }).await;
    assert_eq!(answer.unwrap(), 5);
    let failed = hosts.call_async("q", async { Err::<(), _>("down") }).await;
    assert!(matches!(failed, Err(Failure::Error("down"))));
    assert_eq!(hosts.state("q"), Some(State::Open));
}

#[test]
fn a_key_evicted_while_it_is_called_again_stays_registered() {
    let (hosts, clock) = family("keyed-churn", 10);
    let hosts = Arc::new(hosts);
    let caller = {
        let hosts = Arc::clone(&hosts);
        thread::spawn(move || {
            for _ in 0..20_000 {
                succeed(&hosts, "k");
            }
        })
    };
    while !caller.is_finished() {
        clock.advance(Duration::from_secs(1)); // every key idle again
        hosts.evict_idle();
    }
    caller.join().unwrap();
    // Whatever the interleaving, the key's breaker in the family is the one the registry lists.
    succeed(&hosts, "k");
    let listed = registry::get("keyed-churn/k").expect("the key's breaker is registered");
    assert!(Arc::ptr_eq(&listed, &hosts.get("k").unwrap()));
}

#[test]
fn keys_longer_than_max_key_len_share_the_overflow_breaker() {
    let hosts: Keyed<String> = Keyed::new("keyed-long", config()).max_key_len(4);
    succeed(&hosts, "abcd");
    assert_eq!(
        hosts.state("abcd"),
        Some(State::Closed),
        "at the limit: its own"
    );
    fail(&hosts, "abcde"); // one byte over: trips the shared overflow breaker
    assert_eq!(hosts.state("abcde"), None);
    assert!(hosts.get("abcde").is_none());
    assert!(registry::get("keyed-long/abcde").is_none(), "no name made");
    let overflow = registry::get("keyed-long/(overflow)").expect("the overflow breaker");
    assert_eq!(overflow.state(), State::Open);
    assert!(matches!(
        hosts.call("vwxyz", || Ok::<_, ()>(())),
        Err(Failure::Breaker(error)) if error.name() == "keyed-long/(overflow)"
    ));
    assert_eq!(overflow.metrics().calls, 1);
    assert_eq!(overflow.metrics().rejections, 1);
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts.state("abcd"), Some(State::Closed), "untouched");
}

#[test]
fn a_key_is_as_long_as_its_display() {
    let ids: Keyed<u64> = Keyed::new("keyed-display-len", config()).max_key_len(3);
    ids.call(&999, || Ok::<_, ()>(())).unwrap();
    ids.call(&1_000, || Ok::<_, ()>(())).unwrap();
    assert_eq!(ids.state(&999), Some(State::Closed));
    assert_eq!(ids.state(&1_000), None, "four digits");
    assert_eq!(
        registry::get("keyed-display-len/(overflow)")
            .unwrap()
            .metrics()
            .calls,
        1
    );
}

#[test]
fn max_key_len_is_taken_into_its_range() {
    let tiny: Keyed<String> = Keyed::new("keyed-len-tiny", config()).max_key_len(0);
    assert!(format!("{tiny:?}").contains("max_key_len: 1"), "{tiny:?}");
    succeed(&tiny, "a");
    succeed(&tiny, "ab");
    assert_eq!(tiny.state("a"), Some(State::Closed), "0 is 1");
    assert_eq!(tiny.state("ab"), None);

    let huge: Keyed<String> = Keyed::new("keyed-len-huge", config()).max_key_len(usize::MAX);
    assert!(
        format!("{huge:?}").contains("max_key_len: 65536"),
        "{huge:?}"
    );
    let longest = "x".repeat(65_536);
    let too_long = "x".repeat(65_537);
    succeed(&huge, &longest);
    succeed(&huge, &too_long);
    assert_eq!(huge.state(longest.as_str()), Some(State::Closed));
    assert_eq!(huge.state(too_long.as_str()), None);

    let default: Keyed<String> = Keyed::new("keyed-len-default", config());
    assert!(
        format!("{default:?}").contains("max_key_len: 256"),
        "{default:?}"
    );
}

/// A key whose `Display` fails cannot be named: it shares the overflow breaker rather than
/// panic in the making of a name.
#[test]
fn a_key_that_cannot_be_displayed_shares_the_overflow_breaker() {
    #[derive(Clone, PartialEq, Eq, Hash)]
    struct Unprintable;
    impl std::fmt::Display for Unprintable {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            Err(std::fmt::Error)
        }
    }
    let keys: Keyed<Unprintable> = Keyed::new("keyed-unprintable", config());
    keys.call(&Unprintable, || Ok::<_, ()>(())).unwrap();
    assert_eq!(keys.state(&Unprintable), None);
    assert_eq!(
        registry::get("keyed-unprintable/(overflow)")
            .unwrap()
            .metrics()
            .calls,
        1
    );
}
