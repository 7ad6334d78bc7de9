//! A family of breakers, one per key: per host, per tenant, per downstream endpoint.

use std::{
    borrow::Borrow,
    fmt::{self, Display},
    future::Future,
    hash::Hash,
    panic::Location,
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use crate::{
    CircuitBreaker, Config, Failure, Name, State,
    clock::Clock,
    limits::{self, Limit},
    registry::{self, Family},
};

/// The map's hasher: foldhash, seeded at random per map, several times faster than std's
/// default hasher on short keys such as host names. It does not claim that hasher's
/// resistance to deliberately colliding keys; [`Keyed::max_keys`] bounds what such keys can
/// cost.
type Hasher = foldhash::fast::RandomState;

/// A family of circuit breakers sharing one [`Config`], one breaker per key, created at the
/// key's first call: one per host, per tenant, per endpoint.
///
/// Each key's breaker is named `<family>/<key>` (the key's `Display`) and is in the
/// [`registry`], so `registry::get("catalog/10.0.0.1")`, metrics and dashboards see it like
/// any other. Family names should be unique: a key whose name another breaker already has in
/// the registry (another family of the same name, say) keeps a breaker of its own that is not
/// listed.
///
/// # Bounded
/// At most [`max_keys`](Self::max_keys) keys (10,000 by default), each displayed in at most
/// [`max_key_len`](Self::max_key_len) bytes (256 by default), have breakers of their own.
/// A longer key shares one overflow breaker, `<family>/(overflow)`, with every other key
/// without a breaker of its own. Having no breaker to be found by, it is measured at each of
/// its calls, by writing its `Display` into a counter that gives up past `max_key_len`: a long
/// key costs that many bytes' worth of formatting, and is never copied or named, nor takes
/// the family's lock. When a new key arrives at `max_keys`, the family first evicts its idle
/// keys (see below; this sweep runs at most once per bucket period of the configuration's
/// window, so that a stream of new keys at the bound does not sweep on every call); if none is
/// idle, the new key shares the overflow breaker too, until idle keys make room.
///
/// So a flood of distinct keys (a scan, a bug, an attack), however long, still goes through
/// a breaker and costs a bounded amount of memory. The keys' breakers hold at most
///
/// `max_keys × (2 × max_key_len + len(family) + C)` bytes
///
/// of heap: each key is held twice, as the map's key and in its breaker's name
/// `<family>/<key>`, and `C`, a breaker with its map and registry entries, is about 580 bytes
/// (measured on x86-64 Linux with every feature on). The overflow breaker adds about 450
/// bytes and the family's name once. With the defaults and a family name of 20 bytes, that is
/// at most about 11 MB, whatever the keys. `C` is a breaker as made and called from one thread
/// at a time; what any breaker gains later comes on top (48 bytes of counts since creation
/// once its window has emptied a bucket, contention cells when threads call it at once). So
/// does whatever heap `K` holds beyond what its `Display` writes, for a key type that holds
/// more than it prints: that is the caller's to bound.
///
/// # Eviction
/// A key is idle when its breaker has been closed (not open, half-open or forced) for at least
/// its rolling window and has counted no call in it. Idle keys are evicted when the family is
/// full, or when [`evict_idle`](Self::evict_idle) is called (a periodic task may call it);
/// evicting removes the breaker from the family and from the registry. Open keys are never evicted: forgetting
/// them would let calls through to a backend that is failing. A key that comes back after its
/// eviction starts with a new, closed breaker — the state an idle closed breaker had anyway.
///
/// ```
/// use fusebox::{Config, Failure, Keyed, State, registry};
///
/// let hosts: Keyed<String> = Keyed::new("catalog-doc", Config::builder().consecutive_failures(2).build()?)
///     .max_keys(10_000);
/// let fetch = |host: &str| if host == "10.0.0.2" { Err("refused") } else { Ok("catalog") };
///
/// for host in ["10.0.0.1", "10.0.0.2", "10.0.0.2"] {
///     let _ = hosts.call(host, || fetch(host));
/// }
/// assert_eq!(hosts.state("10.0.0.1"), Some(State::Closed));
/// assert_eq!(hosts.state("10.0.0.2"), Some(State::Open), "one bad host opens its own breaker only");
/// assert_eq!(hosts.state("10.0.0.3"), None, "no breaker until its first call");
/// assert!(matches!(hosts.call("10.0.0.2", || fetch("10.0.0.2")), Err(Failure::Breaker(_))));
/// assert_eq!(registry::get("catalog-doc/10.0.0.2").unwrap().state(), State::Open);
/// # Ok::<(), fusebox::ConfigError>(())
/// ```
pub struct Keyed<K> {
    /// The family as the registry knows it: its name, and the configuration its code declared,
    /// which overrides go over for every key.
    family: Arc<Family>,
    config: Config,
    max_keys: usize,
    /// Keys whose `Display` is longer than this many bytes share the overflow breaker.
    max_key_len: usize,
    breakers: papaya::HashMap<K, Arc<CircuitBreaker>, Hasher>,
    /// The breaker of the keys beyond `max_keys` or `max_key_len`, made when the first one
    /// arrives.
    overflow: OnceLock<Arc<CircuitBreaker>>,
    /// Held while a key's breaker is made or evicted (see `first_call`); it holds when a full
    /// family last swept for idle keys (see `made_room`).
    changes: Mutex<u64>,
    /// The clock the family's breakers read, and its sweeps.
    clock: Clock,
}

impl<K> Keyed<K>
where
    K: Hash + Eq + Clone + Display + Send + Sync + 'static,
{
    /// An empty family named `family`, whose breakers will all have `config` (with the
    /// overrides in force, see [`Overrides`](crate::Overrides): the family is a configuration
    /// target by its name). Family names should be unique: a family made under a name another
    /// family holds is a [`Conflict`](crate::registry::Conflict) that
    /// [`registry::check`](crate::registry::check) reports, naming both places.
    #[track_caller]
    pub fn new(family: impl Into<Name>, config: Config) -> Self {
        let family = registry::code_family(family.into(), config, Location::caller());
        Keyed::of(family, config)
    }

    /// The family an annotated function with `key = "arg"` declares. Not public API.
    #[doc(hidden)]
    #[must_use]
    pub fn declared(declaration: &'static crate::Declaration) -> Self {
        Keyed::of(registry::declared_family(declaration), declaration.config())
    }

    fn of(family: Arc<Family>, config: Config) -> Self {
        Keyed {
            family,
            config,
            max_keys: within(limits::MAX_KEYS, limits::default_of(limits::MAX_KEYS)),
            max_key_len: within(limits::MAX_KEY_LEN, limits::default_of(limits::MAX_KEY_LEN)),
            breakers: papaya::HashMap::with_hasher(Hasher::default()),
            overflow: OnceLock::new(),
            changes: Mutex::new(0),
            clock: Clock::default(),
        }
    }

    /// At most this many keys have breakers of their own; see [Bounded](#bounded). Taken into
    /// [`limits::MAX_KEYS`](crate::limits::MAX_KEYS)' range (1 to 1,000,000): 0 is 1.
    #[must_use]
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = within(
            limits::MAX_KEYS,
            u64::try_from(max_keys).unwrap_or(u64::MAX),
        );
        self
    }

    /// Keys whose `Display` (the `<key>` of the name `<family>/<key>`) is longer than this
    /// many bytes share the overflow breaker instead of having breakers of their own; see
    /// [Bounded](#bounded). Taken into [`limits::MAX_KEY_LEN`](crate::limits::MAX_KEY_LEN)'s
    /// range (1 to 65,536, 256 by default): 0 is 1.
    ///
    /// ```
    /// use fusebox::{Config, Keyed, registry};
    ///
    /// let paths: Keyed<String> = Keyed::new("paths-doc", Config::default()).max_key_len(32);
    /// let scan = format!("/search?q={}", "x".repeat(10_000));
    /// for path in ["/items", scan.as_str()] {
    ///     paths.call(path, || Ok::<_, std::io::Error>(())).unwrap();
    /// }
    /// assert!(paths.state("/items").is_some());
    /// assert_eq!(paths.state(scan.as_str()), None, "too long for a breaker of its own");
    /// assert_eq!(registry::get("paths-doc/(overflow)").unwrap().metrics().calls, 1);
    /// ```
    #[must_use]
    pub fn max_key_len(mut self, max_key_len: usize) -> Self {
        self.max_key_len = within(
            limits::MAX_KEY_LEN,
            u64::try_from(max_key_len).unwrap_or(u64::MAX),
        );
        self
    }

    /// The family's name, the first part of every key's breaker name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.family.name
    }

    /// The configuration every key's breaker has.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How many keys have breakers of their own now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.breakers.len()
    }

    /// Whether no key has a breaker yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `operation` through `key`'s breaker, as [`CircuitBreaker::call`] does, creating the
    /// breaker at the key's first call.
    ///
    /// # Errors
    /// As [`CircuitBreaker::call`].
    #[inline]
    pub fn call<Q, T, E>(
        &self,
        key: &Q,
        operation: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, Failure<E>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + Display + ?Sized,
    {
        // The lease (the map's read guard) is held for the call, so that the breaker needs no
        // reference count of its own (an atomic add on a line every thread calling this key
        // shares).
        self.lease().breaker(key).call(operation)
    }

    /// Runs `operation` through `key`'s breaker, as [`CircuitBreaker::call_with`] does.
    ///
    /// # Errors
    /// As [`CircuitBreaker::call`].
    #[inline]
    pub fn call_with<Q, T, E>(
        &self,
        key: &Q,
        operation: impl FnOnce() -> Result<T, E>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, Failure<E>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + Display + ?Sized,
    {
        self.lease().breaker(key).call_with(operation, is_failure)
    }

    /// Runs the future `operation` through `key`'s breaker, as [`CircuitBreaker::call_async`]
    /// does. The key's breaker is found (or created) now; the call is admitted when the
    /// returned future is first polled. The future holds the breaker, so it may outlive the
    /// key's eviction: its outcome then counts in the evicted breaker.
    ///
    /// # Errors
    /// As [`CircuitBreaker::call_async`].
    ///
    /// ```
    /// use fusebox::{Config, Keyed};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let tenants: Keyed<u64> = Keyed::new("billing-doc", Config::default());
    /// let invoice = tenants.call_async(&42, async { Ok::<_, std::io::Error>("paid") }).await;
    /// assert_eq!(invoice.unwrap(), "paid");
    /// assert_eq!(tenants.breaker(&42).name(), "billing-doc/42");
    /// # }
    /// ```
    pub fn call_async<Q, T, E, F>(
        &self,
        key: &Q,
        operation: F,
    ) -> impl Future<Output = Result<T, Failure<E>>> + use<K, Q, T, E, F>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + Display + ?Sized,
        F: Future<Output = Result<T, E>>,
    {
        let breaker = self.breaker(key);
        async move { breaker.call_async(operation).await }
    }

    /// `key`'s breaker, created if it has none (or the overflow breaker, at the bound).
    pub fn breaker<Q>(&self, key: &Q) -> Arc<CircuitBreaker>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + Display + ?Sized,
    {
        let guard = self.breakers.guard();
        Arc::clone(self.breaker_in(key, &guard))
    }

    /// A lease on the family's breakers, for code that finds a key's breaker in one statement
    /// and calls it in the next (what `#[circuit_breaker(key = …)]` generates for a sync
    /// function). Not public API.
    #[doc(hidden)]
    #[must_use]
    pub fn lease(&self) -> Lease<'_, K> {
        Lease {
            keyed: self,
            guard: self.breakers.guard(),
        }
    }

    /// `key`'s breaker, if it has one of its own.
    #[must_use]
    pub fn get<Q>(&self, key: &Q) -> Option<Arc<CircuitBreaker>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.breakers.pin().get(key).cloned()
    }

    /// The state of `key`'s breaker; `None` if the key has no breaker of its own (it has not
    /// been called yet, was evicted, or shares the overflow breaker).
    #[must_use]
    pub fn state<Q>(&self, key: &Q) -> Option<State>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.breakers.pin().get(key).map(|breaker| breaker.state())
    }

    /// Every key that has a breaker of its own, with it.
    #[must_use]
    pub fn breakers(&self) -> Vec<(K, Arc<CircuitBreaker>)> {
        self.breakers
            .pin()
            .iter()
            .map(|(key, breaker)| (key.clone(), Arc::clone(breaker)))
            .collect()
    }

    /// Removes `key`'s breaker from the family and the registry, whatever its state, and
    /// returns it.
    pub fn remove<Q>(&self, key: &Q) -> Option<Arc<CircuitBreaker>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let _changing = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let breaker = self.breakers.pin().remove(key).cloned()?;
        registry::remove_this(&breaker);
        Some(breaker)
    }

    /// Evicts every idle key (see [Eviction](#eviction)); returns how many.
    pub fn evict_idle(&self) -> usize {
        let _changing = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        self.evict_idle_now()
    }

    /// [`evict_idle`](Self::evict_idle), for a caller that holds `changes`.
    fn evict_idle_now(&self) -> usize {
        let mut evicted = 0;
        self.breakers.pin().retain(|_, breaker| {
            if !is_idle(breaker) {
                return true;
            }
            registry::remove_this(breaker);
            evicted += 1;
            false
        });
        evicted
    }

    /// `key`'s breaker, found under `guard` or made and inserted.
    #[inline]
    fn breaker_in<'g, Q>(
        &'g self,
        key: &Q,
        guard: &'g impl papaya::Guard,
    ) -> &'g Arc<CircuitBreaker>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + Display + ?Sized,
    {
        match self.breakers.get(key, guard) {
            Some(breaker) => breaker,
            None => self.first_call(key, guard),
        }
    }

    /// A call of a key without a breaker of its own: a breaker of its own if the key is short
    /// enough and there is room, else the overflow one.
    #[cold]
    #[inline(never)]
    fn first_call<'g, Q>(
        &'g self,
        key: &Q,
        guard: &'g impl papaya::Guard,
    ) -> &'g Arc<CircuitBreaker>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + Display + ?Sized,
    {
        // Measured before the key is copied and before the lock: every call of a long key
        // comes here (it never gets a breaker to be found by), so a flood of them must cost
        // no allocation and contend on nothing but the overflow breaker.
        if !displays_within(key, self.max_key_len) {
            return self.overflow();
        }
        let key = key.to_owned();
        // `Borrow` promises the owned key hashes and compares as the borrowed one, not that it
        // displays the same; the name is made from the owned key, so it is the one that must
        // fit.
        if !displays_within(&key, self.max_key_len) {
            return self.overflow();
        }
        // Making a key's breaker (into the registry and the map) and evicting one (out of both)
        // each happen whole, so the map and the registry always agree. Only first calls and
        // sweeps take this lock; calls to a known key never do.
        let mut swept_ms = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(breaker) = self.breakers.get(&key, guard) {
            return breaker; // another thread made it while this one waited
        }
        if self.breakers.len() >= self.max_keys && !self.made_room(&mut swept_ms) {
            return self.overflow();
        }
        let breaker = self.make(format!("{}/{key}", self.name()));
        self.breakers.get_or_insert(key, breaker, guard)
    }

    /// The breaker every key without one of its own shares, `<family>/(overflow)`.
    fn overflow(&self) -> &Arc<CircuitBreaker> {
        self.overflow
            .get_or_init(|| self.make(format!("{}/(overflow)", self.name())))
    }

    /// At the bound: evicts idle keys, unless a sweep ran within the last bucket period
    /// (`swept_ms`, kept under the `changes` lock the caller holds). Whether there is room now.
    fn made_room(&self, swept_ms: &mut u64) -> bool {
        let now = self.clock.now_ms();
        let period = self.config.window_ms() / self.config.window_buckets().max(1);
        if now >= swept_ms.saturating_add(period) {
            *swept_ms = now;
            self.evict_idle_now();
        }
        self.breakers.len() < self.max_keys
    }

    /// A breaker of this family named `name`, on the family's clock, with the overrides in
    /// force, and registered: a name another breaker holds (another family of the same name,
    /// say) leaves it out of the registry; it still works.
    fn make(&self, name: String) -> Arc<CircuitBreaker> {
        registry::register_key(&self.family, name, |name, config| {
            let clock = Clock::default();
            // Set before the breaker is made, so that its first period starts on the family's
            // clock, not on the system clock it would otherwise read once.
            #[cfg(feature = "test-util")]
            if let Some(test) = self.clock.test_clock() {
                clock.set(test);
            }
            Arc::new(CircuitBreaker::on_clock(name, config, clock))
        })
    }

    /// Makes the family and every breaker it has or will have read time from `clock`, as
    /// [`CircuitBreaker::set_clock`]. Returns `false` (and changes nothing) if a clock was
    /// already set.
    #[cfg(feature = "test-util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub fn set_clock(&self, clock: &crate::TestClock) -> bool {
        if !self.clock.set(clock) {
            return false;
        }
        for (_, breaker) in &self.breakers.pin() {
            breaker.set_clock(clock);
        }
        if let Some(overflow) = self.overflow.get() {
            overflow.set_clock(clock);
        }
        true
    }
}

/// The family's breakers, readable while this lives: [`Keyed::lease`]. It holds the map's read
/// guard, as [`Keyed::call`] does for the length of a call, so a breaker found through it needs
/// no reference count of its own. Not `Send`: it belongs to the thread that took it.
#[doc(hidden)]
pub struct Lease<'k, K> {
    keyed: &'k Keyed<K>,
    guard: papaya::LocalGuard<'k>,
}

impl<K> Lease<'_, K>
where
    K: Hash + Eq + Clone + Display + Send + Sync + 'static,
{
    /// `key`'s breaker, created if it has none, as [`Keyed::breaker`]; borrowed from the lease,
    /// not from `key`.
    #[inline]
    pub fn breaker<Q>(&self, key: &Q) -> &CircuitBreaker
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + Display + ?Sized,
    {
        self.keyed.breaker_in(key, &self.guard)
    }
}

/// `value` taken into `limit`'s range (a family's bound, `max_keys` or `max_key_len`), as a
/// size.
fn within(limit: Limit, value: u64) -> usize {
    usize::try_from(value.clamp(limit.min, limit.max)).unwrap_or(usize::MAX)
}

/// Whether `key`'s `Display` takes at most `max` bytes. It is written into a counter that
/// refuses to go past `max`, so a key of any length costs at most `max` bytes' worth of
/// formatting (for a `Display` that stops at the writer's error, as `write!` does) and no
/// allocation. A `Display` that fails on its own cannot be named either, and does not fit.
fn displays_within(key: &(impl Display + ?Sized), max: usize) -> bool {
    struct Counter {
        len: usize,
        max: usize,
    }
    impl fmt::Write for Counter {
        fn write_str(&mut self, part: &str) -> fmt::Result {
            self.len = self.len.saturating_add(part.len());
            if self.len > self.max {
                Err(fmt::Error)
            } else {
                Ok(())
            }
        }
    }
    let mut counter = Counter { len: 0, max };
    // The length is checked again after writing: a `Display` that ignores the writer's error
    // and reports success must not pass for a short one.
    fmt::write(&mut counter, format_args!("{key}")).is_ok() && counter.len <= max
}

/// Closed (not forced) for at least a window, with no call counted in it: a breaker just made
/// for a key, whose first call has not been counted yet, is not idle.
fn is_idle(breaker: &CircuitBreaker) -> bool {
    if breaker.state() != State::Closed {
        return false;
    }
    let metrics = breaker.metrics();
    metrics.calls == 0
        && metrics.rejections == 0
        && metrics.time_in_state >= breaker.config().window()
}

impl<K> Drop for Keyed<K> {
    /// The family's name is free again: a family made under it next holds it (its keys' breakers
    /// stay registered until evicted or removed).
    fn drop(&mut self) {
        registry::forget_family(&self.family);
    }
}

impl<K: Hash + Eq> fmt::Debug for Keyed<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyed")
            .field("family", &&*self.family.name)
            .field("keys", &self.breakers.len())
            .field("max_keys", &self.max_keys)
            .field("max_key_len", &self.max_key_len)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::TestClock;

    fn family(name: &'static str) -> (Keyed<u32>, TestClock) {
        let config = Config::builder()
            .window(Duration::from_secs(1))
            .window_buckets(10)
            .build()
            .unwrap();
        let keyed = Keyed::new(name, config).max_keys(2);
        let clock = TestClock::new();
        assert!(keyed.set_clock(&clock));
        (keyed, clock)
    }

    #[test]
    fn a_full_family_sweeps_at_most_once_per_bucket_period() {
        let (keyed, clock) = family("keyed-unit-sweeps");
        for key in [1, 2] {
            keyed.call(&key, || Ok::<_, ()>(())).unwrap();
        }
        keyed.call(&3, || Ok::<_, ()>(())).unwrap(); // full, nothing idle: a sweep, the overflow
        let swept = *keyed.changes.lock().unwrap();
        assert_eq!(swept, clock.now_ms());
        clock.advance(Duration::from_millis(50));
        keyed.call(&4, || Ok::<_, ()>(())).unwrap();
        assert_eq!(
            *keyed.changes.lock().unwrap(),
            swept,
            "within the period: no sweep"
        );
        clock.advance(Duration::from_millis(50));
        keyed.call(&5, || Ok::<_, ()>(())).unwrap();
        assert_eq!(
            *keyed.changes.lock().unwrap(),
            swept + 100,
            "a period on: a sweep"
        );
        assert_eq!(keyed.len(), 2);
    }

    #[test]
    fn a_key_made_on_the_familys_clock_is_not_idle_at_once() {
        let (keyed, clock) = family("keyed-unit-clock");
        // The family's clock stands an hour past the system clock: a key's breaker made now
        // has been closed for no time at all on it, however long on the system clock.
        clock.advance(Duration::from_secs(3_600));
        let fresh = keyed.breaker(&1);
        assert_eq!(fresh.metrics().time_in_state, Duration::ZERO);
        assert!(!is_idle(&fresh));
        assert_eq!(keyed.evict_idle(), 0);
        clock.advance(Duration::from_secs(1));
        assert!(
            is_idle(&fresh),
            "idle after a whole window on the family's clock"
        );
    }

    #[test]
    fn a_clock_set_later_reaches_every_breaker_the_overflow_one_too() {
        let keyed = Keyed::new("keyed-unit-later-clock", Config::default()).max_keys(1);
        keyed.call(&1, || Ok::<_, ()>(())).unwrap();
        keyed.call(&2, || Ok::<_, ()>(())).unwrap(); // beyond the bound: the overflow breaker
        let clock = TestClock::new();
        assert!(keyed.set_clock(&clock));
        let overflow = keyed.overflow.get().expect("made for key 2");
        for breaker in [&keyed.get(&1).unwrap(), overflow] {
            assert!(breaker.clock.test_clock().is_some(), "{}", breaker.name());
        }
    }

    #[test]
    fn a_key_is_idle_only_after_a_whole_window_without_calls() {
        let (keyed, clock) = family("keyed-unit-idle");
        let fresh = keyed.breaker(&1); // made, never called
        assert!(!is_idle(&fresh), "too new to be idle");
        keyed.call(&2, || Ok::<_, ()>(())).unwrap();
        clock.advance(Duration::from_secs(1));
        keyed.call(&2, || Ok::<_, ()>(())).unwrap(); // closed for a window, but called in it
        assert!(is_idle(&fresh));
        assert!(!is_idle(&keyed.get(&2).unwrap()));
        assert_eq!(keyed.evict_idle(), 1);
        assert_eq!(keyed.state(&1), None);
        assert_eq!(keyed.state(&2), Some(State::Closed));
    }

    /// Writes `parts` one `write_str` at a time, and, like a careless `Display`, carries on
    /// and reports success when the writer refuses one.
    struct Pieces(&'static [&'static str]);

    impl Display for Pieces {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for part in self.0 {
                let _ = f.write_str(part);
            }
            Ok(())
        }
    }

    #[test]
    fn a_key_fits_up_to_its_last_byte() {
        assert!(displays_within("abcd", 4));
        assert!(!displays_within("abcde", 4));
        assert!(displays_within(&1_234_u32, 4));
        assert!(!displays_within(&12_345_u32, 4));
        assert!(displays_within("", 1));
        assert!(displays_within("é", 2), "bytes, not characters");
        assert!(!displays_within("é", 1));
        assert!(displays_within(&Pieces(&["ab", "", "cd"]), 4));
        assert!(!displays_within(&Pieces(&["ab", "cd", "e"]), 4));
    }

    #[test]
    fn a_display_that_ignores_the_refusal_does_not_pass_for_short() {
        assert!(!displays_within(&Pieces(&["abcdef", "g"]), 4));
        assert!(!displays_within(&Pieces(&["abc", "defgh", ""]), 4));
    }

    #[test]
    fn a_family_says_what_it_is() {
        let (keyed, _clock) = family("keyed-unit-describe");
        assert!(keyed.is_empty());
        keyed.call(&7, || Ok::<_, ()>(())).unwrap();
        assert!(!keyed.is_empty());
        assert_eq!(keyed.name(), "keyed-unit-describe");
        assert_eq!(keyed.config().window(), Duration::from_secs(1));
        let debug = format!("{keyed:?}");
        assert!(
            debug.contains("keyed-unit-describe")
                && debug.contains("keys: 1")
                && debug.contains("max_key_len: 256"),
            "{debug}"
        );
    }
}
