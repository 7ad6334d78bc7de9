//! Fleet mode: the instances of a service share what their breakers see through Redis (or
//! Valkey), so that the fleet trips on the fleet's failures, not each instance on its own.
//!
//! Fifty instances whose breakers each need 20 failed calls make a thousand failed requests
//! before the fleet stops calling a dead dependency. In fleet mode each instance still decides
//! every call on its own, from its own state word, exactly as without it: **no network call,
//! lock or extra atomic operation is on the call path**. One background task per fleet client
//! (its driver) reads the counts each breaker keeps anyway and, about once per bucket period,
//! runs one Lua script per breaker that adds this instance's new outcomes to the fleet's
//! rolling window and answers with the fleet's view; the breaker then follows the fleet. The
//! syncs due at once go in one round trip (a pipeline), and a breaker with nothing to say
//! syncs rarely:
//!
//! - **Quiet breakers.** While the fleet is closed and under half its error threshold, and this
//!   instance is neither failing nor held open, a breaker with nothing new syncs once per half
//!   window (at most every eight bucket periods), which keeps it among the active instances,
//!   and one with only successes to send syncs every four periods: successes add to the fleet's
//!   volume and denominator only, which cannot trip it. Its first failure makes it sync a period
//!   after its last, as before; a pile of failures (a quarter of the volume threshold) goes at
//!   once. So a fleet at a trickle of healthy traffic costs the store a script per breaker and
//!   instance every four periods, not every period.
//! - **Trip with a quorum.** The fleet trips when its window holds at least
//!   `request_volume_threshold` calls, at least `error_threshold` percent of them failed, **and**
//!   at least two instances (and [`FleetOptions::quorum`] percent of the active ones) are failing
//!   at that rate in their own windows. One bad instance (a broken network path, a bad deploy)
//!   trips only its own breaker, as without fleet mode. The script announces the trip (Redis
//!   pub/sub, on the channel `<prefix>:v2:trips`, which each fleet client subscribes to on a
//!   connection of its own), and every instance opens on the announcement, within about a
//!   round trip of the trip, and holds its breaker open for the fleet's sleep window. An
//!   announcement lost (the subscription down, a store whose ACL refuses the channel) leaves
//!   the instance to learn of the trip at its next sync, within a sync period (a quiet one's
//!   first failure makes it sync within a period too).
//! - **Half-open across the fleet.** When the fleet's sleep window has passed, the script hands
//!   out [`FleetOptions::trial_leases`] trial leases, each for [`FleetOptions::lease`]; an
//!   instance holding one lets its breaker half-open and run its trials, the others stay open.
//!   The fleet closes once trials of two instances have succeeded (one, when only one is
//!   active), and every instance closes with it; a failed trial opens the fleet again, for a
//!   sleep window that doubles as the breaker's own does (`sleep_window_max_ms`,
//!   `sleep_window_jitter`).
//! - **Faults.** Redis slow, down, paused, restarted empty or answering garbage: calls go on
//!   deciding locally, and [`FleetView::stale`](crate::FleetView::stale) says the fleet view is
//!   old (in [`Metrics::fleet`](crate::Metrics::fleet), the `metrics` feature's
//!   `breaker_fleet_stale` and the dashboard). A fleet trip holds a breaker open for the
//!   fleet's sleep window, as its own trip would; while the fleet is half-open, an instance
//!   without a lease is held only until two sync periods (and the sync's timeout) after the
//!   last answer, so a store that goes away leaves the breaker to its own half-open. Syncs back
//!   off while the store fails and resume by themselves. A reply of the wrong shape is counted
//!   (`bad_replies`) and ignored. A store that lost the fleet's data is detected (its epoch
//!   changed) and seeded again with each instance's window, at once, but not twice within a
//!   sync period: a store that loses the data again right after a re-seed (a proxy over servers
//!   that do not share it, a failover flapping, the keys evicted under a `volatile-*` memory
//!   policy) is backed off from as a failing one, each loss is counted (`reseeds`), and the
//!   view turns stale while nothing is counted. Every outcome is counted in exactly one of
//!   `synced`, `pending` and `expired`; what waits is one entry per bucket period of the
//!   window, whatever the outage. With the `tracing` feature, the first failed sync of an
//!   outage is a warning that says why (the store's error, a timeout, or the shape of a bad
//!   reply), and so is the first loss of the data right after a re-seed; the end of either is
//!   an info event.
//!
//! # The store
//!
//! One breaker's keys share a hash tag (one slot, so that on Redis Cluster the script runs on
//! the one node that holds them) and a version: `<prefix>:v2:{<name>}:meta`, `…:buckets`,
//! `…:seqs`, `…:leases` and `…:trials` (hashes) and `…:seen` and `…:failing` (sorted sets,
//! each instance scored by when it last synced, and last synced as failing), expiring by
//! themselves when no instance syncs them: two to three windows after the last sync (and
//! between 40 s and a minute at least), or while the fleet is open or half-open, not before its
//! open period or a trial lease ends. The script sets the expiry again every third of it, when
//! the fleet's state changes, and on each key a write of its may have created, not on every key
//! at every sync. So a `Keyed` family with `fleet = true` whose keys come and go holds, in the
//! store, at most the key sets of the keys synced within the last three windows (or minute).
//! The sorted sets keep a script's cost at O(log n) in the number of instances: it counts the
//! active and failing ones by score rather than walking them. (Version 1 kept them in hashes; instances of the two versions use different
//! keys, so during a rolling upgrade each version is a fleet of its own.)
//! The script reads the server's clock (`TIME`); instances send the *age* of each delta on
//! their own clock, so clock skew between hosts cancels out. Each batch carries the instance's
//! id, a sequence number and a random number drawn when the breaker joined the fleet, and is
//! added once: a batch resent after a lost answer never counts twice, and an instance that
//! keeps its id across a restart (a pod's name), or a breaker that leaves the fleet and joins
//! again, has its batches added from its first, though it numbers them from 1 again. The
//! instances must agree on the breaker's configuration; the last to sync sets the thresholds
//! the script applies.
//!
//! ```no_run
//! use fusebox::{circuit_breaker, fleet};
//!
//! #[circuit_breaker(error_threshold = 50, fleet = true, fallback = "popular")]
//! async fn recommendations(user: u64) -> Result<Vec<String>, std::io::Error> {
//!     Ok(vec![format!("for {user}")])
//! }
//!
//! async fn popular(_user: u64) -> Result<Vec<String>, std::io::Error> {
//!     Ok(vec!["the classics".to_owned()])
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), fleet::FleetError> {
//!     // Once per process: every breaker with `fleet = true` syncs from now on.
//!     fleet::start("redis://127.0.0.1:6379", fleet::FleetOptions::new())?;
//!     let _ = recommendations(7).await;
//!     Ok(())
//! }
//! ```

mod driver;
mod ledger;
mod member;
mod reply;
mod store;
mod trips;

use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::sync::mpsc;

use crate::{CircuitBreaker, config::millis, fleet_view::Link, registry};

/// How this process takes part in the fleet. Every value is checked by
/// [`start`]/[`Fleet::connect`].
///
/// ```
/// use std::time::Duration;
/// use fusebox::fleet::FleetOptions;
///
/// let options = FleetOptions::new()
///     .instance("checkout-7f9c")
///     .quorum(30)
///     .timeout(Duration::from_millis(250));
/// assert_eq!(options.quorum_percent(), 30);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetOptions {
    instance: Option<String>,
    quorum: u64,
    trial_leases: u64,
    lease: Duration,
    timeout: Duration,
    max_backoff: Duration,
    prefix: String,
    #[cfg(feature = "redis-tls")]
    tls: store::Tls,
    #[cfg(feature = "redis-cluster")]
    cluster: bool,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions::new()
    }
}

impl FleetOptions {
    /// The defaults: an instance id made of the host name, the process id and a random part;
    /// a quorum of 50 % of the active instances (and at least two); 2 trial leases of 10 s;
    /// 500 ms to answer a sync; backing off up to 5 s while the store fails; keys under
    /// `fusebox`.
    #[must_use]
    pub fn new() -> Self {
        FleetOptions {
            instance: None,
            quorum: 50,
            trial_leases: 2,
            lease: Duration::from_secs(10),
            timeout: Duration::from_millis(500),
            max_backoff: Duration::from_secs(5),
            prefix: "fusebox".to_owned(),
            #[cfg(feature = "redis-tls")]
            tls: store::Tls::default(),
            #[cfg(feature = "redis-cluster")]
            cluster: false,
        }
    }

    /// This instance's id in the fleet (unique among the running instances; 1 to 200
    /// characters). A process restarted under the id it had (a pod's name) is the same
    /// instance to the fleet, its outcomes counted from its first sync.
    #[must_use]
    pub fn instance(mut self, id: impl Into<String>) -> Self {
        self.instance = Some(id.into());
        self
    }

    /// Percent of the active instances (1..=100) that must be failing for the fleet to trip;
    /// at least two always must.
    #[must_use]
    pub fn quorum(mut self, percent: u64) -> Self {
        self.quorum = percent;
        self
    }

    /// The quorum, in percent of the active instances.
    #[must_use]
    pub fn quorum_percent(&self) -> u64 {
        self.quorum
    }

    /// Instances (1..=100) that may run trial calls at once while the fleet is half-open.
    #[must_use]
    pub fn trial_leases(mut self, leases: u64) -> Self {
        self.trial_leases = leases;
        self
    }

    /// How long a trial lease lasts (100 ms to one hour): an instance that got one and saw
    /// no call to try in that time gives way to another.
    #[must_use]
    pub fn lease(mut self, lifetime: Duration) -> Self {
        self.lease = lifetime;
        self
    }

    /// How long a sync may take before it counts as failed (10 ms to 60 s).
    #[must_use]
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }

    /// The longest wait between syncs while the store fails, or loses the fleet's data again
    /// right after each re-seed (100 ms to 10 minutes); the wait doubles from one sync period
    /// after each failure.
    #[must_use]
    pub fn max_backoff(mut self, limit: Duration) -> Self {
        self.max_backoff = limit;
        self
    }

    /// The first part of every key (1 to 200 characters, no `{` or `}`): several services,
    /// or environments, can share one store.
    #[must_use]
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The certificates (PEM) the store's certificate must chain to, instead of the system's
    /// roots: for a store whose certificate a private authority signs (most managed Redis
    /// services with in-transit encryption). Used with a `rediss://` URL; with the `redis-tls`
    /// feature.
    ///
    /// ```no_run
    /// use fusebox::fleet::{self, FleetOptions};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let authority = std::fs::read("/etc/redis/ca.pem")?;
    /// let options = FleetOptions::new().tls_root_certificates(authority);
    /// fleet::start("rediss://redis.internal:6380", options)?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "redis-tls")]
    #[must_use]
    pub fn tls_root_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.root_certificates = Some(pem.into());
        self
    }

    /// This instance's certificate chain and private key (PEM), for a store that asks its
    /// clients for one (mutual TLS: Redis's `tls-auth-clients yes`, its default when TLS is
    /// on). With the `redis-tls` feature.
    #[cfg(feature = "redis-tls")]
    #[must_use]
    pub fn tls_client_identity(
        mut self,
        certificate_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.tls.client_identity = Some((certificate_pem.into(), key_pem.into()));
        self
    }

    /// The URL is a node of a Redis Cluster: the client learns the others from it, sends each
    /// breaker's sync to the node that holds its keys (one hash slot per breaker), and follows
    /// the slots as they move. The trips' subscription is on that node (a publication reaches
    /// every node). With the `redis-cluster` feature; `rediss://` with `redis-tls` too.
    ///
    /// ```no_run
    /// use fusebox::fleet::{self, FleetOptions};
    ///
    /// # async fn run() -> Result<(), fleet::FleetError> {
    /// fleet::start("redis://redis-0.redis:6379", FleetOptions::new().cluster(true))?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "redis-cluster")]
    #[must_use]
    pub fn cluster(mut self, on: bool) -> Self {
        self.cluster = on;
        self
    }

    /// The channel the store announces this prefix's fleet trips on.
    fn trips_channel(&self) -> String {
        format!("{}:v2:trips", self.prefix)
    }

    fn check(&self) -> Result<(), FleetError> {
        let ranges = [
            ("quorum", self.quorum, 1, 100),
            ("trial_leases", self.trial_leases, 1, 100),
            ("lease (ms)", millis(self.lease), 100, 3_600_000),
            ("timeout (ms)", millis(self.timeout), 10, 60_000),
            ("max_backoff (ms)", millis(self.max_backoff), 100, 600_000),
        ];
        for (option, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(FleetError::Option {
                    option,
                    message: format!("must be between {min} and {max}, got {value}"),
                });
            }
        }
        let text = |option, value: &str| {
            if value.is_empty() || value.chars().count() > 200 {
                return Err(FleetError::Option {
                    option,
                    message: format!("must be 1 to 200 characters, got {}", value.chars().count()),
                });
            }
            if value.contains(['{', '}']) {
                return Err(FleetError::Option {
                    option,
                    message: format!(
                        "must not contain `{{` or `}}` (the keys' hash tag), got `{value}`"
                    ),
                });
            }
            Ok(())
        };
        if let Some(instance) = &self.instance {
            text("instance", instance)?;
        }
        #[cfg(feature = "redis-tls")]
        self.tls.check()?;
        text("key_prefix", &self.prefix)
    }
}

/// Why fleet mode could not start, or a breaker could not join it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The Redis URL does not parse.
    #[error(
        "invalid Redis URL `{url}`: {message} (expected redis://[user:password@]host[:port][/db] or redis+unix:///path)"
    )]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// Called outside a Tokio runtime.
    #[error("fleet mode syncs on Tokio: call it from within a Tokio runtime")]
    NoRuntime,
    /// [`start`] was called before in this process.
    #[error("fleet mode is already running in this process: fleet::start is called once")]
    AlreadyStarted,
    /// A [`FleetOptions`] value out of range.
    #[error("fleet option {option} {message}")]
    Option {
        /// The option.
        option: &'static str,
        /// What it allows.
        message: String,
    },
    /// The breaker already syncs with a fleet.
    #[error("the breaker `{0}` already syncs with a fleet: a breaker joins one, once")]
    AlreadyJoined(String),
    /// [`Fleet::join`] on a fleet client that was stopped.
    #[error("this fleet client was stopped: a stopped client syncs nothing more")]
    Stopped,
}

/// Starts fleet mode for this process: every breaker in the [`registry`] whose configuration
/// has `fleet = true` (the attribute's key, [`ConfigBuilder::fleet`](crate::ConfigBuilder::fleet)
/// or an override) syncs through the store at `url`, those registered later too (the registry
/// is looked at every second), each key of a family with `fleet = true` as a breaker of its
/// own. A breaker removed from the registry (or an evicted key) stops syncing. Returns at once,
/// without connecting: the store may be down at startup, and the breakers decide locally until
/// it answers.
///
/// # Errors
/// [`FleetError::Url`], [`FleetError::Option`], [`FleetError::NoRuntime`] outside a Tokio
/// runtime, or [`FleetError::AlreadyStarted`] on a second call.
pub fn start(url: &str, options: FleetOptions) -> Result<Fleet, FleetError> {
    let fleet = Fleet::connect(url, options)?;
    if crate::fleet_view::mark_started() {
        return Err(FleetError::AlreadyStarted);
    }
    // The look at the registry holds the fleet until `stop`, not until the last handle is
    // dropped: `fleet::start(…)?;` alone keeps it running.
    let shared = Arc::clone(&fleet.shared);
    let look = fleet.shared.runtime.spawn(async move {
        loop {
            for breaker in registry::all() {
                if breaker.seam().fleet_key() && breaker.seam().link().is_none() {
                    // Joined by another fleet meanwhile, or stopped: nothing to do.
                    let _ = Fleet::join_with(&shared, breaker, true);
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    if let Some(tasks) = fleet.shared.tasks().as_mut() {
        tasks.push(look); // a new client's: not stopped
    }
    Ok(fleet)
}

/// A connection to the fleet's store and the breakers that sync through it. Cheap to clone;
/// the syncs run until [`stop`](Self::stop), whether or not a handle is kept.
#[derive(Clone)]
pub struct Fleet {
    shared: Arc<Shared>,
}

struct Shared {
    /// To the driver, which syncs every member of this client.
    events: mpsc::UnboundedSender<driver::Event>,
    /// Why the last sync that failed did, as the driver found it.
    last_fault: Arc<Mutex<Option<String>>>,
    options: FleetOptions,
    instance: Arc<str>,
    runtime: tokio::runtime::Handle,
    /// The driver, the trips' subscription (and `start`'s look at the registry) running;
    /// `None` once stopped.
    tasks: Mutex<Option<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Shared {
    fn tasks(&self) -> std::sync::MutexGuard<'_, Option<Vec<tokio::task::JoinHandle<()>>>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Fleet {
    /// A fleet client for the breakers given to [`join`](Self::join) only, not the
    /// registry's: for breakers made in code (or several simulated instances in one process,
    /// as the tests do). Returns at once, without connecting.
    ///
    /// # Errors
    /// [`FleetError::Url`], [`FleetError::Option`] or [`FleetError::NoRuntime`].
    pub fn connect(url: &str, options: FleetOptions) -> Result<Fleet, FleetError> {
        options.check()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| FleetError::NoRuntime)?;
        let opened = {
            let _entered = runtime.enter();
            store::Store::open(url, &options)?
        };
        let instance = options.instance.clone().unwrap_or_else(default_instance);
        let (events, received) = mpsc::unbounded_channel();
        let last_fault = Arc::new(Mutex::new(None));
        let tasks = vec![
            runtime.spawn(driver::drive(
                opened.store,
                received,
                Arc::clone(&last_fault),
            )),
            runtime.spawn(trips::listen(
                opened.subscriptions,
                opened.config,
                options.trips_channel(),
                events.clone(),
                options.max_backoff,
            )),
        ];
        Ok(Fleet {
            shared: Arc::new(Shared {
                events,
                last_fault,
                instance: instance.into(),
                options,
                runtime,
                tasks: Mutex::new(Some(tasks)),
            }),
        })
    }

    /// Syncs `breaker` with the fleet from now on, whatever its `fleet` key says, until
    /// [`stop`](Self::stop) (the sync holds an `Arc` of it till then). Its outcomes from
    /// before are not the fleet's.
    ///
    /// # Errors
    /// [`FleetError::AlreadyJoined`] if the breaker syncs with a fleet already,
    /// [`FleetError::Stopped`] after [`stop`](Self::stop).
    pub fn join(&self, breaker: Arc<CircuitBreaker>) -> Result<(), FleetError> {
        Fleet::join_with(&self.shared, breaker, false)
    }

    fn join_with(
        shared: &Arc<Shared>,
        breaker: Arc<CircuitBreaker>,
        from_registry: bool,
    ) -> Result<(), FleetError> {
        // Under the lock `stop` takes, so that no sync starts after it.
        let tasks = shared.tasks();
        if tasks.is_none() {
            return Err(FleetError::Stopped);
        }
        if !breaker.seam().join(Link::default()) {
            return Err(FleetError::AlreadyJoined(breaker.name().to_owned()));
        }
        let member = member::Member::new(
            breaker,
            Arc::clone(&shared.instance),
            shared.options.clone(),
            from_registry,
        );
        // The driver ends only when stopped, and then `tasks` is `None`.
        let _ = shared.events.send(driver::Event::Joined(Box::new(member)));
        Ok(())
    }

    /// Why the last sync that failed did, if one has: the store's error (a refused
    /// certificate, a connection refused, a cluster moving a slot), no answer in time, or a
    /// reply of the wrong shape. Each failed sync is counted in its breaker's
    /// [`FleetView`](crate::FleetView) (`sync_errors`, `bad_replies`); this says why.
    #[must_use]
    pub fn last_fault(&self) -> Option<String> {
        self.shared
            .last_fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// This instance's id in the fleet.
    #[must_use]
    pub fn instance(&self) -> &str {
        &self.shared.instance
    }

    /// Stops every sync of this fleet client (and, for [`start`]'s, the look at the
    /// registry). The breakers go on alone; the holds the fleet put on them lapse by
    /// themselves, and their fleet views turn stale.
    pub fn stop(&self) {
        for task in self.shared.tasks().take().into_iter().flatten() {
            task.abort();
        }
    }
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("instance", &self.shared.instance)
            .field("options", &self.shared.options)
            .finish_non_exhaustive()
    }
}

/// `host-pid-random`: unique per process, readable in the store.
fn default_instance() -> String {
    use std::hash::{BuildHasher, RandomState};
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|host| !host.is_empty() && !host.contains(['{', '}']))
        .unwrap_or_else(|| "instance".to_owned());
    let random = RandomState::new().hash_one(std::process::id()) & 0xffff_ffff;
    format!("{host}-{}-{random:08x}", std::process::id())
}
