//! What a `Keyed` family holds, counted by a global allocator: bounded by `max_keys` and
//! `max_key_len` together, whatever keys arrive, as `Keyed`'s "Bounded" section states.
//!
//! Only this thread's allocations are counted, and the cases take turns, so that the test
//! harness's other threads cannot disturb the counts.
#![allow(clippy::cast_precision_loss)]

use std::sync::{Mutex, PoisonError};

use breaker_runtime::{Config, Keyed, State, registry};

#[path = "../../tests/counting_allocator/mod.rs"]
mod counting_allocator;

use counting_allocator::{allocations, live_bytes as live};

/// One case at a time: the registry is shared, and a case's inserts must not be counted on
/// another case's thread.
static SERIAL: Mutex<()> = Mutex::new(());

/// The per-key constant `C` of the bound (a breaker, its map entry and its registry entry,
/// and the `/` of its name): about 580 bytes on x86-64 Linux (see
/// `bytes_per_key_are_two_copies_of_the_key_the_family_name_and_a_constant`), with headroom
/// for other targets and allocators' rounding of what std asks for.
const PER_KEY: i64 = 750;

/// The overflow breaker, its name but the family's part, and its registry entry: about 450
/// bytes, with headroom as `PER_KEY`.
const OVERFLOW: i64 = 600;

/// The bound `Keyed`'s docs state: `max_keys × (2 × max_key_len + len(family) + C)`, plus
/// the overflow breaker and its name.
fn bound(family: &str, max_keys: usize, max_key_len: usize) -> i64 {
    let [family, max_keys, max_key_len] =
        [family.len(), max_keys, max_key_len].map(|n| i64::try_from(n).unwrap());
    max_keys * (2 * max_key_len + family + PER_KEY) + OVERFLOW + family
}

/// A key of exactly `len` bytes, distinct for each `i`: `i`, zero-padded (by hand: a
/// formatting width stops at 65,535).
fn key(i: usize, len: usize) -> String {
    let digits = i.to_string();
    let mut key = "0".repeat(len.saturating_sub(digits.len()));
    key.push_str(&digits);
    key
}

/// Makes sure what a process sets up once (the registry, the map's thread state) is set up
/// before a case counts.
fn warm_up() {
    let keyed: Keyed<String> = Keyed::new("keyed-bytes-warm-up", Config::default());
    keyed.call("warm", || Ok::<_, ()>(())).unwrap();
}

#[test]
fn a_flood_of_long_keys_holds_bytes_bounded_by_max_keys_and_max_key_len() {
    const FAMILY: &str = "keyed-bytes-flood";
    const MAX_KEYS: usize = 100;
    let _turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    warm_up();
    let keyed: Keyed<String> = Keyed::new(FAMILY, Config::default()).max_keys(MAX_KEYS);
    let before = live();
    // 2,000 distinct keys of 100 KB, one at a time: only what the family keeps is counted.
    for i in 0..2_000 {
        let long = key(i, 100_000);
        keyed.call(long.as_str(), || Ok::<_, ()>(())).unwrap();
    }
    let held = live() - before;
    let bound = bound(FAMILY, MAX_KEYS, 256);
    println!("2,000 keys of 100 KB: {held} bytes held (bound {bound})");
    assert!(
        held <= bound,
        "2,000 keys of 100 KB left {held} bytes held, more than the bound of {bound}"
    );
    let long = key(7, 100_000);
    assert_eq!(keyed.state(long.as_str()), None, "no breaker of its own");
    assert!(keyed.get(long.as_str()).is_none());
    let overflow = registry::get("keyed-bytes-flood/(overflow)").expect("the overflow breaker");
    assert_eq!(
        overflow.metrics().calls,
        2_000,
        "every long key's call counted there"
    );

    // A short key still has a breaker of its own, and so does one at the limit.
    keyed.call("short", || Ok::<_, ()>(())).unwrap();
    assert_eq!(keyed.state("short"), Some(State::Closed));
    let at_limit = key(1, 256);
    keyed.call(at_limit.as_str(), || Ok::<_, ()>(())).unwrap();
    assert_eq!(keyed.state(at_limit.as_str()), Some(State::Closed));
    assert_eq!(keyed.len(), 2);
}

#[test]
fn long_keys_are_turned_away_without_allocating() {
    let _turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    warm_up();
    let keyed: Keyed<String> = Keyed::new("keyed-bytes-no-copy", Config::default());
    keyed
        .call(key(0, 257).as_str(), || Ok::<_, ()>(()))
        .unwrap(); // makes the overflow breaker
    let long: Vec<String> = (1..=1_000).map(|i| key(i, 10_000)).collect();
    let before = allocations();
    for long in &long {
        keyed.call(long.as_str(), || Ok::<_, ()>(())).unwrap();
    }
    assert_eq!(
        allocations() - before,
        0,
        "1,000 new long keys were copied or named"
    );
    assert!(keyed.is_empty());
}

/// The figures behind the bound: heap bytes a family holds per key, for short keys and keys
/// at the default `max_key_len`, at two family sizes (the map grows its table in steps).
/// `cargo test -p breaker-runtime --test keyed_bytes -- --nocapture` prints them.
#[test]
fn bytes_per_key_are_two_copies_of_the_key_the_family_name_and_a_constant() {
    let _turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    warm_up();
    for (family, keys, len) in [
        ("keyed-bytes-short-1k", 1_000, 8),
        ("keyed-bytes-short-10k", 10_000, 8),
        ("keyed-bytes-long-1k", 1_000, 256),
        ("keyed-bytes-long-10k", 10_000, 256),
    ] {
        let keyed: Keyed<String> = Keyed::new(family, Config::default()).max_keys(keys);
        let before = live();
        for i in 0..keys {
            keyed
                .call(key(i, len).as_str(), || Ok::<_, ()>(()))
                .unwrap();
        }
        let held = live() - before;
        assert_eq!(keyed.len(), keys);
        let per_key = held as f64 / keys as f64;
        let constant = per_key - (2 * len + family.len()) as f64;
        println!(
            "{keys} keys of {len} bytes, family {family:?}: {per_key:.0} bytes per key, \
             C = {constant:.0}"
        );
        assert!(
            constant <= PER_KEY as f64,
            "{per_key:.0} bytes per key: C = {constant:.0}, more than {PER_KEY}"
        );

        let before = live();
        keyed
            .call(key(1, 257).as_str(), || Ok::<_, ()>(()))
            .unwrap();
        let overflow = live() - before;
        println!("the overflow breaker of {family:?}: {overflow} bytes");
        assert!(overflow <= OVERFLOW + i64::try_from(family.len()).unwrap());
    }
}
