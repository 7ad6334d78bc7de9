//! One breaker's part in the fleet: its sync loop, and what it does with the fleet's answer.
//! Everything here runs on the sync task, never on a call: it reads the breaker's counts and
//! state word, and moves the state word only as an operator's lever would.

use std::{
    hash::{BuildHasher, RandomState},
    sync::Arc,
    time::Duration,
};

use redis::{Script, ScriptInvocation, Value, aio::ConnectionManager};

use super::{
    FleetOptions,
    ledger::{Batch, Delta, Ledger, Trial},
    reply::{Applied, Reply},
};
use crate::{
    CircuitBreaker, Config, FleetState, State,
    config::millis,
    fleet_seam::{Standing, Tally},
    registry,
};

/// The script, loaded once per server (EVALSHA; loaded again after a restart).
fn script() -> &'static Script {
    static SCRIPT: std::sync::OnceLock<Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(include_str!("sync.lua")))
}

/// The shortest sync period: a bucket period under it would be a sync per few milliseconds.
const MIN_PERIOD_MS: u64 = 50;

pub(super) struct Member {
    breaker: Arc<CircuitBreaker>,
    instance: Arc<str>,
    options: FleetOptions,
    /// Joined because its `fleet` key is on: syncs only while it stays on.
    from_registry: bool,
    keys: [String; 7],
    /// This ledger's life: drawn at random when the breaker joins, sent with each batch's
    /// sequence number, so that the store tells this life's batches from those of an earlier
    /// one under the same instance id (a restarted process that kept its id, a breaker that
    /// left the fleet and joined again), whose numbers started from 1 too.
    life: u64,
    ledger: Ledger,
    /// The store's epoch at the last answer.
    epoch: Option<String>,
    /// What the member follows of the fleet: the period it holds, the trial it woke.
    following: Following,
    /// Failed syncs in a row, and answers that found the store had lost the fleet's data again
    /// right after a re-seed: what the back-off doubles with.
    errors_in_row: u32,
    /// How the store has kept the fleet's data: whether a loss is seeded again at once.
    losses: Losses,
    /// When to sync next, besides backing off while the store fails.
    next: Next,
}

/// What a member remembers of the fleet's hold on its breaker, between answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Following {
    /// The open (or half-open) period the fleet holds the breaker in.
    held: Option<u32>,
    /// The open period that a trial lease woke, until its trial's outcome is reported.
    lease: Option<u32>,
    /// This instance's trial succeeded in the fleet's current half-open period.
    trial_succeeded: bool,
}

/// What the breaker does about the fleet's answer ([`Following::decide`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Follow {
    /// Close the period the fleet held: the fleet closed.
    Close { generation: u32 },
    /// Hold the breaker open until then: the fleet is open, or half-open with no lease here.
    HoldUntil { end_ms: u64 },
    /// Let the held period take a trial call: this instance holds a trial lease.
    Wake { generation: u32 },
    /// Nothing to change.
    Stay,
}

/// What a sync sends, decided before any I/O ([`Member::outgoing`]).
#[derive(Debug)]
struct Outgoing {
    batch: Batch,
    /// This instance's own window is at the error threshold.
    failing: bool,
    /// The breaker is held open by the fleet and would take a trial lease.
    wants_lease: bool,
}

/// When the next sync is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// About a sync period from now.
    Period,
    /// A quarter period from now: the fleet is closed but failing at its error threshold, so
    /// that its trip reaches the store, and every instance, sooner.
    Soon,
    /// At once: the store lost its data and wants seeding (at most once per sync period: see
    /// `Losses`).
    Now,
}

/// How a member stands with a store that loses the fleet's data. A loss found after the store
/// kept the data is seeded again at once, a store restarted empty or flushed being seeded
/// within the round trip; a loss found again before a batch was counted since the last (the
/// store lost the seed too), or within a sync period of the last re-seed at once, is backed
/// off from as a failed sync is. Otherwise a store that loses the data at every answer (a
/// proxy over servers that do not share it, a flapping failover, the keys evicted) would be
/// sent a script per round trip.
#[derive(Debug, Default)]
struct Losses {
    /// When the store was last found to have lost the data and was seeded again at once.
    reseeded_at_ms: Option<u64>,
    /// A loss was found and no batch has been counted since: the seed has not held yet.
    unsettled: bool,
}

/// What to do about a store found to have lost the fleet's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AfterLoss {
    /// Seed it again at once.
    ReseedNow,
    /// Seed it again after backing off, as after a failed sync.
    BackOff,
}

impl Losses {
    /// The store was found to have lost the fleet's data at `now_ms`.
    fn lost(&mut self, now_ms: u64, period_ms: u64) -> AfterLoss {
        let again = std::mem::replace(&mut self.unsettled, true);
        let recent = self
            .reseeded_at_ms
            .is_some_and(|at| now_ms.saturating_sub(at) <= period_ms);
        if again || recent {
            return AfterLoss::BackOff;
        }
        self.reseeded_at_ms = Some(now_ms);
        AfterLoss::ReseedNow
    }

    /// The store counted a batch (or had counted it): it keeps the fleet's data.
    fn settled(&mut self) {
        self.unsettled = false;
    }
}

impl Member {
    pub(super) fn new(
        breaker: Arc<CircuitBreaker>,
        instance: Arc<str>,
        options: FleetOptions,
        from_registry: bool,
    ) -> Member {
        let base = format!("{}:v2:{{{}}}", options.prefix, breaker.name());
        let keys = [
            "meta", "buckets", "seen", "failing", "seqs", "leases", "trials",
        ]
        .map(|part| format!("{base}:{part}"));
        let mut member = Member {
            breaker,
            instance,
            options,
            from_registry,
            keys,
            // The state's keys are random (per process, and new for each `RandomState`): the
            // hashed value needs to be nothing more than a value.
            life: RandomState::new().hash_one(0_u8),
            ledger: Ledger::default(),
            epoch: None,
            following: Following::default(),
            errors_in_row: 0,
            losses: Losses::default(),
            next: Next::Period,
        };
        // From here on, its outcomes are the fleet's.
        member.capture();
        member
    }

    /// The sync period: the breaker's bucket period.
    fn period_ms(&self) -> u64 {
        self.breaker.seam().bucket_ms().max(MIN_PERIOD_MS)
    }

    /// Until the next sync, with room for one late answer: how long the fleet's word holds a
    /// breaker while half-open, and how old a view may be before it is stale.
    fn hold_ms(&self) -> u64 {
        2 * self.period_ms() + millis(self.options.timeout)
    }

    /// Syncs until aborted: about once per bucket period (a random 75–100 % of it, so that
    /// instances started together spread out, and a fleet trip reaches each within one
    /// period), sooner when failures pile up or the fleet is failing at its threshold, and
    /// backing off while the store fails or loses the fleet's data right after each re-seed.
    pub(super) async fn run(mut self, mut connection: ConnectionManager) {
        let random = RandomState::new();
        let mut draws = 0_u64;
        loop {
            let period = self.period_ms();
            let wait = if self.errors_in_row > 0 {
                let doubled = period.saturating_mul(1 << self.errors_in_row.min(16));
                doubled.min(millis(self.options.max_backoff))
            } else {
                match self.next {
                    Next::Now => 0,
                    Next::Soon => period / 4,
                    Next::Period => {
                        draws += 1;
                        period - period * (random.hash_one(draws) % 256) / 1024
                    }
                }
            };
            self.next = Next::Period;
            self.wait(wait, period).await;
            if !self.sync(&mut connection).await {
                return;
            }
        }
    }

    /// Waits `wait_ms`, looking at the breaker's counts every quarter period: a pile of new
    /// failures (a quarter of the request volume threshold) is sent at once.
    async fn wait(&mut self, wait_ms: u64, period_ms: u64) {
        let step = (period_ms / 4).max(10);
        let mut waited = 0;
        while waited < wait_ms {
            let this = step.min(wait_ms - waited);
            tokio::time::sleep(Duration::from_millis(this)).await;
            waited += this;
            if self.errors_in_row == 0 {
                self.capture();
                let pile = (self.breaker.config().request_volume_threshold() / 4).max(1);
                if self.ledger.unsent_failures() >= pile {
                    return;
                }
            }
        }
    }

    fn capture(&mut self) {
        let seam = self.breaker.seam();
        let counts = seam.since_creation();
        self.ledger.capture(
            seam.now_ms(),
            counts.calls,
            counts.failures,
            seam.bucket_ms(),
        );
        if let Some(link) = seam.link() {
            link.captured(counts.calls, self.ledger.pending());
        }
    }

    /// One sync: the batch out, the fleet's view back, the breaker following it. Returns
    /// whether to go on: a breaker joined from the registry syncs while it is listed there
    /// (a removed breaker, or an evicted key of a family, ends its sync with it). The I/O is
    /// this function's alone: what to send ([`outgoing`](Self::outgoing)) is decided before
    /// it, and what the answer means ([`answered`](Self::answered)) after.
    async fn sync(&mut self, connection: &mut ConnectionManager) -> bool {
        if self.from_registry {
            let listed = registry::get(self.breaker.name())
                .is_some_and(|listed| Arc::ptr_eq(&listed, &self.breaker));
            if !listed {
                return false;
            }
            if !self.breaker.seam().fleet_key() {
                return true; // its `fleet` key was turned off: it waits, unsynced
            }
        }
        let config = self.breaker.config();
        let now = self.breaker.seam().now_ms();
        let outgoing = self.outgoing(&config, now);
        let invocation = self.invocation(&outgoing, &config, now);
        let answer = tokio::time::timeout(
            self.options.timeout,
            invocation.invoke_async::<Value>(connection),
        )
        .await;
        let reply = match answer {
            Ok(Ok(value)) => Reply::parse(&value).map_err(|bad| Fault::BadReply(bad.0)),
            // An error from the server, or no connection.
            Ok(Err(error)) => Err(Fault::Store(error.to_string())),
            Err(_) => Err(Fault::Store(format!(
                "no answer within {:?}",
                self.options.timeout
            ))),
        };
        self.answered(reply, now);
        true
    }

    /// What to send at `now`: the outcomes captured and not yet counted (the ledger's batch,
    /// with the trial this instance's lease woke), whether this instance's own window is
    /// failing, and whether it would take a trial lease.
    fn outgoing(&mut self, config: &Config, now: u64) -> Outgoing {
        self.capture();
        self.ledger.expire(now, config.window_ms());
        let seam = self.breaker.seam();
        let window = seam.in_window(now);
        let failing = at_error_threshold(window.failures, window.calls, config.error_threshold());
        let standing = seam.standing();
        let wants_lease =
            standing.state == State::Open && self.following.held == Some(standing.generation);
        let following = &mut self.following;
        let batch = self
            .ledger
            .batch(|| following.trial_outcome(standing))
            .clone();
        Outgoing {
            batch,
            failing,
            wants_lease,
        }
    }

    /// What the answer to a sync sent at `now` means: the fleet's view, taken into the
    /// breaker's link, and the breaker following the fleet's state; or a fault, counted, and
    /// the back-off.
    fn answered(&mut self, reply: Result<Reply, Fault>, now: u64) {
        let breaker = Arc::clone(&self.breaker);
        let link = breaker
            .seam()
            .link()
            .expect("a member's breaker has joined");
        link.stale_after_ms
            .store(self.hold_ms(), std::sync::atomic::Ordering::Relaxed);
        match reply {
            Ok(reply) => {
                if reply.applied == Applied::StoreLost {
                    self.store_lost(&reply, now);
                } else {
                    self.resumed();
                    self.losses.settled();
                    link.succeeded(now);
                    self.follow(&reply, now);
                }
                link.update(|view| {
                    *view = view.with_counts(reply.calls, reply.failures);
                    view.state = reply.state;
                    view.instances = reply.instances;
                    view.failing_instances = reply.failing_instances;
                });
            }
            Err(fault) => {
                // Said once per outage, not once per retry.
                #[cfg(feature = "tracing")]
                if self.errors_in_row == 0 {
                    tracing::warn!(
                        breaker = %breaker.name(),
                        "fleet sync failed, deciding locally until it resumes: {fault}"
                    );
                }
                self.errors_in_row = self.errors_in_row.saturating_add(1);
                link.failed();
                link.update(|view| match fault {
                    Fault::BadReply(_) => view.bad_replies += 1,
                    Fault::Store(_) => view.sync_errors += 1,
                });
            }
        }
        link.update(|view| {
            view.synced = self.ledger.synced;
            view.pending = self.ledger.pending();
            view.expired = self.ledger.expired;
        });
    }

    /// The script's call for `batch`, as `sync.lua` lists its keys and arguments.
    fn invocation(
        &self,
        outgoing: &Outgoing,
        config: &Config,
        now: u64,
    ) -> ScriptInvocation<'static> {
        let Outgoing {
            batch,
            failing,
            wants_lease,
        } = outgoing;
        let window_ms = config.window_ms();
        let bucket_ms = window_ms / config.window_buckets();
        let mut invocation = script().prepare_invoke();
        for key in &self.keys {
            invocation.key(key);
        }
        invocation
            .arg(&*self.instance)
            .arg(batch_id(self.life, batch.seq))
            .arg(self.epoch.as_deref().unwrap_or(""))
            .arg(window_ms)
            .arg(bucket_ms)
            .arg(config.request_volume_threshold())
            .arg(config.error_threshold())
            .arg(self.options.quorum)
            .arg(config.sleep_window_ms())
            .arg(config.sleep_window_max_ms().unwrap_or(0))
            .arg(config.sleep_window_jitter().unwrap_or(0))
            .arg(self.options.trial_leases)
            .arg(millis(self.options.lease))
            .arg(u8::from(*failing))
            .arg(batch.trial.code())
            .arg(u8::from(*wants_lease))
            .arg(batch.deltas.len() + batch.seed.len());
        for delta in batch.seed.iter().chain(&batch.deltas) {
            invocation
                .arg(now.saturating_sub(delta.at_ms))
                .arg(delta.calls)
                .arg(delta.failures);
        }
        invocation
    }

    /// The store answers again after failed syncs: the back-off ends.
    fn resumed(&mut self) {
        #[cfg(feature = "tracing")]
        if self.errors_in_row > 0 {
            tracing::info!(breaker = %self.breaker.name(), "fleet sync resumed");
        }
        self.errors_in_row = 0;
    }

    /// The store lost the fleet's data (its epoch changed) and counted nothing of the batch:
    /// the batch's outcomes wait for the next, which seeds the store again with the breaker's
    /// window, at once or after backing off (see `Losses`). The store's state is a new one's:
    /// the breaker follows nothing of it until it is seeded, and the answer is not a sync that
    /// succeeded, so the view turns stale while the store keeps losing the data.
    fn store_lost(&mut self, reply: &Reply, now: u64) {
        let breaker = Arc::clone(&self.breaker);
        let seam = breaker.seam();
        let link = seam.link().expect("a member's breaker has joined");
        let known = self.epoch.replace(reply.epoch.clone());
        let window: Vec<Delta> = seam
            .buckets(now)
            .into_iter()
            .map(|(start, Tally { calls, failures })| Delta {
                at_ms: start.min(now),
                calls,
                failures,
            })
            .collect();
        self.ledger.lost(&window);
        if known.is_some() {
            link.update(|view| view.reseeds += 1);
        }
        match self.losses.lost(now, self.period_ms()) {
            AfterLoss::ReseedNow => {
                self.resumed();
                self.next = Next::Now;
            }
            AfterLoss::BackOff => {
                // Said once per episode, as a failed sync is once per outage.
                #[cfg(feature = "tracing")]
                if self.errors_in_row == 0 {
                    tracing::warn!(
                        breaker = %breaker.name(),
                        "the fleet's store lost its data again right after it was seeded \
                         (servers that do not share it, a failover flapping, its keys evicted): \
                         backing off, deciding locally until it keeps it"
                    );
                }
                self.errors_in_row = self.errors_in_row.saturating_add(1);
            }
        }
    }

    /// After an answer that counted the batch (now, or at an earlier send whose answer was
    /// lost): the batch is accounted for, and the breaker follows the fleet.
    fn follow(&mut self, reply: &Reply, now: u64) {
        self.epoch = Some(reply.epoch.clone());
        self.ledger.acknowledged();
        let threshold = self.breaker.config().error_threshold();
        if reply.state == FleetState::Closed
            && at_error_threshold(reply.failures, reply.calls, threshold)
        {
            self.next = Next::Soon;
        }
        let seam = self.breaker.seam();
        let follow = self
            .following
            .decide(reply, seam.standing(), now, self.hold_ms());
        match follow {
            Follow::Close { generation } => seam.close(now, generation),
            Follow::HoldUntil { end_ms } => {
                if let Some(generation) = seam.hold_open(now, end_ms) {
                    self.following.held = Some(generation);
                }
            }
            Follow::Wake { generation } => seam.wake_for_trial(now, generation),
            Follow::Stay => {}
        }
    }
}

impl Following {
    /// What the breaker, standing at `standing`, does about the fleet's answer `reply` at
    /// `now` (holding it, when the fleet is half-open, for `hold_ms`: until the next sync's
    /// answer), and what the member remembers of it from then on.
    fn decide(&mut self, reply: &Reply, standing: Standing, now: u64, hold_ms: u64) -> Follow {
        let Standing { state, generation } = standing;
        let held = self.held == Some(generation) && matches!(state, State::Open | State::HalfOpen);
        match reply.state {
            FleetState::Closed => {
                *self = Following::default();
                if held {
                    Follow::Close { generation }
                } else {
                    Follow::Stay
                }
            }
            FleetState::Open => {
                self.lease = None;
                self.trial_succeeded = false;
                Follow::HoldUntil {
                    end_ms: now + reply.sleep_left_ms.max(hold_ms),
                }
            }
            FleetState::HalfOpen => {
                if reply.lease_left_ms > 0 {
                    if state == State::Open && held && self.lease != Some(generation) {
                        self.lease = Some(generation);
                        return Follow::Wake { generation };
                    }
                    Follow::Stay
                } else if !(self.trial_succeeded && state == State::Closed) && self.lease.is_none()
                {
                    Follow::HoldUntil {
                        end_ms: now + hold_ms,
                    }
                } else {
                    Follow::Stay
                }
            }
        }
    }

    /// What this instance has to say of the trial its lease woke: nothing while none ran (the
    /// open period it woke is still current) or one is running (half-open); then its outcome.
    fn trial_outcome(&mut self, standing: Standing) -> Trial {
        let Some(woken) = self.lease else {
            return Trial::None;
        };
        if standing.generation == woken || standing.state == State::HalfOpen {
            return Trial::None;
        }
        self.lease = None;
        match standing.state {
            State::Closed => {
                self.trial_succeeded = true;
                Trial::Succeeded
            }
            State::Open => Trial::Failed,
            _ => Trial::None, // an operator forced it
        }
    }
}

/// Why a sync did not bring the fleet's view.
#[derive(Debug)]
enum Fault {
    /// No answer in time, no connection, or an error from the server.
    Store(String),
    /// An answer that is not the script's.
    BadReply(String),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Store(message) => write!(f, "the store: {message}"),
            Fault::BadReply(message) => write!(f, "a reply of the wrong shape, ignored: {message}"),
        }
    }
}

/// A batch's name in the store, `<life>:<sequence>`: the life in hex (compared as a string by
/// the script, whose numbers hold 53 bits), the sequence number in decimal.
fn batch_id(life: u64, seq: u64) -> String {
    format!("{life:016x}:{seq}")
}

/// Whether `failures` of `calls` are at the error threshold: the rule an instance's own window
/// is "failing" by, and a closed fleet's window is worth syncing sooner by (the volume aside).
fn at_error_threshold(failures: u64, calls: u64, threshold: u64) -> bool {
    failures > 0 && failures * 100 >= threshold * calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_member_is_a_life_of_its_own_and_names_its_batches_by_it() {
        let options = FleetOptions::new().instance("pod-a");
        let breaker = Arc::new(CircuitBreaker::new("member-unit-life", Config::default()));
        let lives: Vec<u64> = (0..4)
            .map(|_| {
                let member =
                    Member::new(Arc::clone(&breaker), "pod-a".into(), options.clone(), false);
                member.life
            })
            .collect();
        for (i, life) in lives.iter().enumerate() {
            assert!(
                !lives[i + 1..].contains(life),
                "the same breaker and id, joined again, is a new life: {lives:x?}"
            );
        }
        assert_eq!(batch_id(0xab, 7), "00000000000000ab:7");
        assert_eq!(batch_id(u64::MAX, 1), "ffffffffffffffff:1");
    }

    fn reply(state: FleetState) -> Reply {
        Reply {
            epoch: "e".to_owned(),
            applied: Applied::Counted,
            calls: 0,
            failures: 0,
            instances: 1,
            failing_instances: 0,
            state,
            sleep_left_ms: 0,
            lease_left_ms: 0,
            streak: 0,
        }
    }

    const fn standing(state: State, generation: u32) -> Standing {
        Standing { state, generation }
    }

    #[test]
    fn a_closed_fleet_closes_only_the_period_it_held_and_forgets_its_hold() {
        let held = Following {
            held: Some(4),
            lease: Some(4),
            trial_succeeded: true,
        };
        let mut following = held;
        let closed = reply(FleetState::Closed);
        assert_eq!(
            following.decide(&closed, standing(State::Open, 4), 1_000, 400),
            Follow::Close { generation: 4 }
        );
        assert_eq!(following, Following::default());
        // A period the fleet did not hold (the breaker opened on its own since): left alone.
        let mut following = held;
        assert_eq!(
            following.decide(&closed, standing(State::Open, 5), 1_000, 400),
            Follow::Stay
        );
        let mut following = held;
        assert_eq!(
            following.decide(&closed, standing(State::Closed, 4), 1_000, 400),
            Follow::Stay,
            "closed already"
        );
    }

    #[test]
    fn an_open_fleet_holds_the_breaker_for_its_sleep_left_or_until_the_next_answer() {
        let mut following = Following {
            held: None,
            lease: Some(2),
            trial_succeeded: true,
        };
        let mut open = reply(FleetState::Open);
        open.sleep_left_ms = 3_000;
        assert_eq!(
            following.decide(&open, standing(State::Closed, 2), 1_000, 400),
            Follow::HoldUntil { end_ms: 4_000 }
        );
        assert_eq!((following.lease, following.trial_succeeded), (None, false));
        open.sleep_left_ms = 100;
        assert_eq!(
            following.decide(&open, standing(State::Closed, 2), 1_000, 400),
            Follow::HoldUntil { end_ms: 1_400 },
            "at least until the next sync's answer"
        );
    }

    #[test]
    fn a_half_open_fleet_wakes_a_held_breaker_once_for_its_lease_and_holds_the_others() {
        let mut half_open = reply(FleetState::HalfOpen);
        half_open.lease_left_ms = 5_000;
        let mut following = Following {
            held: Some(7),
            ..Following::default()
        };
        assert_eq!(
            following.decide(&half_open, standing(State::Open, 7), 1_000, 400),
            Follow::Wake { generation: 7 }
        );
        assert_eq!(following.lease, Some(7));
        assert_eq!(
            following.decide(&half_open, standing(State::Open, 7), 1_100, 400),
            Follow::Stay,
            "woken once per period"
        );
        // Without a lease here: held until the next answer, unless this instance's trial
        // succeeded and closed it, or its own trial is still out.
        half_open.lease_left_ms = 0;
        let mut without = Following {
            held: Some(7),
            ..Following::default()
        };
        assert_eq!(
            without.decide(&half_open, standing(State::Open, 7), 1_000, 400),
            Follow::HoldUntil { end_ms: 1_400 }
        );
        let mut succeeded = Following {
            trial_succeeded: true,
            ..Following::default()
        };
        assert_eq!(
            succeeded.decide(&half_open, standing(State::Closed, 8), 1_000, 400),
            Follow::Stay
        );
        assert_eq!(
            following.decide(&half_open, standing(State::HalfOpen, 8), 1_000, 400),
            Follow::Stay,
            "its woken trial is out"
        );
    }

    #[test]
    fn the_trial_a_lease_woke_is_reported_once_when_it_ended() {
        let mut following = Following {
            lease: Some(3),
            ..Following::default()
        };
        assert_eq!(
            following.trial_outcome(standing(State::Open, 3)),
            Trial::None,
            "not run"
        );
        assert_eq!(
            following.trial_outcome(standing(State::HalfOpen, 4)),
            Trial::None,
            "running"
        );
        assert_eq!(
            following.trial_outcome(standing(State::Closed, 5)),
            Trial::Succeeded
        );
        assert!(following.trial_succeeded);
        assert_eq!(
            following.trial_outcome(standing(State::Closed, 5)),
            Trial::None,
            "once"
        );
        let mut failed = Following {
            lease: Some(3),
            ..Following::default()
        };
        assert_eq!(
            failed.trial_outcome(standing(State::Open, 5)),
            Trial::Failed
        );
        let mut forced = Following {
            lease: Some(3),
            ..Following::default()
        };
        assert_eq!(
            forced.trial_outcome(standing(State::ForcedOpen, 5)),
            Trial::None
        );
    }

    #[test]
    fn a_sync_sends_the_new_outcomes_and_says_whether_its_window_is_failing() {
        let clock = crate::TestClock::new();
        let breaker = CircuitBreaker::new(
            "member-unit-outgoing",
            Config::builder()
                .request_volume_threshold(100)
                .build()
                .unwrap(),
        );
        breaker.set_clock(&clock);
        let options = FleetOptions::new().instance("pod-a");
        let mut member = Member::new(Arc::new(breaker), "pod-a".into(), options, false);
        let config = member.breaker.config();
        let now = clock.now_ms();
        let quiet = member.outgoing(&config, now);
        assert!(quiet.batch.deltas.is_empty() && !quiet.failing && !quiet.wants_lease);

        for _ in 0..3 {
            let _ = member.breaker.call(|| Err::<(), _>("down"));
        }
        let _ = member.breaker.call(|| Ok::<_, ()>(()));
        let again = member.outgoing(&config, now);
        assert_eq!(
            (again.batch.seq, again.batch.deltas.len()),
            (quiet.batch.seq, 0),
            "a batch goes again as it was until it is answered"
        );
        member.ledger.acknowledged();
        let failing = member.outgoing(&config, now);
        assert_eq!(failing.batch.seq, quiet.batch.seq + 1);
        let sent: (u64, u64) = failing
            .batch
            .deltas
            .iter()
            .fold((0, 0), |(calls, failures), delta| {
                (calls + delta.calls, failures + delta.failures)
            });
        assert_eq!(sent, (4, 3));
        assert!(
            failing.failing,
            "3 failures of 4 calls are over the 50 % threshold"
        );
        assert!(!failing.wants_lease, "not held by the fleet");
    }

    #[test]
    fn a_store_lost_again_right_after_a_reseed_is_backed_off_from() {
        let mut losses = Losses::default();
        // Restarted empty or flushed: seeded again at once.
        assert_eq!(losses.lost(1_000, 200), AfterLoss::ReseedNow);
        // The answer to the re-seed finds the data lost again, and so do those after the
        // back-off, however late: the seed has not held.
        assert_eq!(losses.lost(1_005, 200), AfterLoss::BackOff);
        assert_eq!(losses.lost(1_410, 200), AfterLoss::BackOff);
        assert_eq!(losses.lost(9_000, 200), AfterLoss::BackOff);
        // A batch counted: the store keeps the data, and a later loss is seeded at once.
        losses.settled();
        assert_eq!(losses.lost(20_000, 200), AfterLoss::ReseedNow);
    }

    #[test]
    fn a_store_is_seeded_again_at_once_at_most_once_per_sync_period() {
        let mut losses = Losses::default();
        assert_eq!(losses.lost(1_000, 200), AfterLoss::ReseedNow);
        losses.settled();
        // Lost again at the next sync though the re-seed was counted (answers from servers
        // that take turns): within a period of the last re-seed at once.
        assert_eq!(losses.lost(1_180, 200), AfterLoss::BackOff);
        losses.settled();
        assert_eq!(losses.lost(1_201, 200), AfterLoss::ReseedNow);
    }
}
