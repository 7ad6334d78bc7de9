//! One breaker's part in the fleet: its sync loop, and what it does with the fleet's answer.
//! Everything here runs on the sync task, never on a call: it reads the breaker's counts and
//! state word, and moves the state word only as an operator's lever would.

use std::{
    hash::{BuildHasher, RandomState},
    sync::Arc,
    time::Duration,
};

use redis::Cmd;
use tokio::time::Instant;

use super::{
    FleetOptions,
    ledger::{Batch, Delta, Ledger, Trial},
    reply::{Applied, Reply},
    store::{Fault, SCRIPT_KEYS, script},
};
use crate::{
    CircuitBreaker, Config, FleetState, State,
    config::millis,
    fleet_seam::{Standing, Tally},
    registry,
};

/// The shortest sync period: a bucket period under it would be a sync per few milliseconds.
const MIN_PERIOD_MS: u64 = 50;

/// At most how many sync periods apart a quiet member with nothing new syncs.
const HEARTBEAT_PERIODS: u64 = 8;

/// How many sync periods a quiet member holds successes before it sends them: they add to
/// the fleet's window only its volume and its denominator, neither of which can trip it.
const SUCCESSES_WAIT_PERIODS: u64 = 4;

pub(super) struct Member {
    breaker: Arc<CircuitBreaker>,
    instance: Arc<str>,
    options: FleetOptions,
    /// Joined because its `fleet` key is on: syncs only while it stays on.
    from_registry: bool,
    keys: [String; SCRIPT_KEYS],
    /// Where the store announces the fleet's trips (the script publishes there).
    channel: String,
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
    /// When the next sync is due, when the member next looks at its counts, and when the last
    /// one was answered: the driver's schedule for this member.
    due: Instant,
    look: Instant,
    answered_at: Instant,
    /// The fleet had nothing for this member at the last answer: closed, under half its error
    /// threshold, and this instance neither failing nor held. A quiet member syncs once per
    /// half window when it has nothing new (to stay counted among the active instances),
    /// every four periods when it has only successes to send, and every period, as a member
    /// that is not quiet does, once it has failures to send or its breaker leaves closed.
    quiet: bool,
    /// This instance's own window was failing at the last sync.
    sent_failing: bool,
    /// Draws for the sync period's random part.
    random: RandomState,
    draws: u64,
}

/// What a member has for the driver when its sync is due ([`Member::prepare`]).
pub(super) enum Prepared {
    /// The breaker left the registry (an evicted key, a removed breaker): its sync ends.
    Leave,
    /// Nothing to send now (its `fleet` key was turned off): it waits, unsynced.
    Skip,
    /// The script's call, and the breaker's clock when it was made.
    Send { command: Cmd, now_ms: u64 },
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
        let channel = options.trips_channel();
        let now = Instant::now();
        let mut member = Member {
            breaker,
            instance,
            options,
            from_registry,
            keys,
            channel,
            // The state's keys are random (per process, and new for each `RandomState`): the
            // hashed value needs to be nothing more than a value.
            life: RandomState::new().hash_one(0_u8),
            ledger: Ledger::default(),
            epoch: None,
            following: Following::default(),
            errors_in_row: 0,
            losses: Losses::default(),
            next: Next::Period,
            due: now,
            look: now,
            answered_at: now,
            quiet: false,
            sent_failing: false,
            random: RandomState::new(),
            draws: 0,
        };
        // From here on, its outcomes are the fleet's; the first sync is about a period away,
        // instances started together spreading out.
        member.capture();
        member.schedule(now);
        member
    }

    /// The breaker's name: what the fleet's trip messages name it by.
    pub(super) fn name(&self) -> &str {
        self.breaker.name()
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

    /// A quiet member's sync period when it has nothing new: half the window, so that it
    /// stays among the fleet's active instances (those that synced within the window), and at
    /// most eight periods, so that the fleet's view it shows is never older than that.
    fn heartbeat_ms(&self) -> u64 {
        let period = self.period_ms();
        (self.breaker.config().window_ms() / 2).clamp(period, HEARTBEAT_PERIODS * period)
    }

    /// How often the member looks at its counts between syncs: a quarter period.
    pub(super) fn step(&self) -> Duration {
        Duration::from_millis((self.period_ms() / 4).max(10))
    }

    /// Sets when the next sync is due, after an answer (or a sync skipped) at `now`: about once
    /// per period (a random 75–100 % of it, so that instances started together spread out, and
    /// a fleet trip reaches each within one period), once per half window while quiet, sooner
    /// when the fleet is failing at its threshold or the store wants seeding, and backing off
    /// while the store fails or loses the fleet's data right after each re-seed.
    pub(super) fn schedule(&mut self, now: Instant) {
        let period = self.period_ms();
        let wait = if self.errors_in_row > 0 {
            let doubled = period.saturating_mul(1 << self.errors_in_row.min(16));
            doubled.min(millis(self.options.max_backoff))
        } else {
            match std::mem::replace(&mut self.next, Next::Period) {
                Next::Now => 0,
                Next::Soon => period / 4,
                Next::Period => {
                    let base = if self.quiet {
                        self.heartbeat_ms()
                    } else {
                        period
                    };
                    self.draws += 1;
                    base - base * (self.random.hash_one(self.draws) % 256) / 1024
                }
            }
        };
        self.answered_at = now;
        self.due = now + Duration::from_millis(wait);
        self.look = now + self.step();
    }

    /// When the driver should next look at this member.
    pub(super) fn wake_at(&self) -> Instant {
        self.due.min(self.look)
    }

    /// Whether the sync is due by `now + early` (the driver sends what is due soon with what
    /// is due now, in one round trip). Between syncs, a look every quarter period: a pile of
    /// new failures (a quarter of the request volume threshold) is sent at once; a quiet
    /// member with failures to send, or whose breaker left closed, syncs a period after its
    /// last answer, as a member that is not quiet does, and one with successes to send, four
    /// periods after it.
    pub(super) fn due(&mut self, now: Instant, early: Duration) -> bool {
        if now + early >= self.due {
            return true;
        }
        if now < self.look || self.errors_in_row > 0 {
            return false;
        }
        self.look = now + self.step();
        self.capture();
        let unsent = self.ledger.unsent_failures();
        let pile = (self.breaker.config().request_volume_threshold() / 4).max(1);
        if unsent >= pile {
            return true;
        }
        if self.quiet {
            let periods = if unsent > 0 || self.breaker.seam().standing().state != State::Closed {
                self.quiet = false;
                1
            } else if self.ledger.unsent_calls() > 0 {
                SUCCESSES_WAIT_PERIODS
            } else {
                return false;
            };
            let wait = Duration::from_millis(self.period_ms() * periods);
            self.due = self.due.min(self.answered_at + wait);
            return now + early >= self.due;
        }
        false
    }

    /// The fleet tripped, as the store announced (with `sleep_left_ms` of its sleep window
    /// left): the breaker opens now, as it would at its next sync's answer, which follows in
    /// a period to confirm it.
    pub(super) fn tripped(&mut self, sleep_left_ms: u64, now: Instant) {
        let at = self.breaker.seam().now_ms();
        let follow = self.following.opened(sleep_left_ms, at, self.hold_ms());
        self.apply(follow, at);
        if let Some(link) = self.breaker.seam().link() {
            link.update(|view| view.state = FleetState::Open);
        }
        if self.quiet {
            self.quiet = false;
            let period = Duration::from_millis(self.period_ms());
            self.due = self.due.min(now + period);
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

    /// The sync due now: the script's call with the batch, decided before any I/O; the
    /// driver sends it and hands the answer to [`answered`](Self::answered). A breaker joined
    /// from the registry syncs while it is listed there (a removed breaker, or an evicted key
    /// of a family, ends its sync with it).
    pub(super) fn prepare(&mut self) -> Prepared {
        if self.from_registry {
            let listed = registry::get(self.breaker.name())
                .is_some_and(|listed| Arc::ptr_eq(&listed, &self.breaker));
            if !listed {
                return Prepared::Leave;
            }
            if !self.breaker.seam().fleet_key() {
                return Prepared::Skip;
            }
        }
        let config = self.breaker.config();
        let now_ms = self.breaker.seam().now_ms();
        let outgoing = self.outgoing(&config, now_ms);
        self.sent_failing = outgoing.failing;
        Prepared::Send {
            command: self.command(&outgoing, &config, now_ms),
            now_ms,
        }
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
    /// the back-off. The driver then [`schedule`](Self::schedule)s the next sync.
    pub(super) fn answered(&mut self, reply: Result<Reply, Fault>, now: u64) {
        self.quiet = false;
        let breaker = Arc::clone(&self.breaker);
        let link = breaker
            .seam()
            .link()
            .expect("a member's breaker has joined");
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
        // Until the next answer is late: a quiet member's comes later.
        let until_next = if self.quiet {
            self.heartbeat_ms() + self.period_ms() + millis(self.options.timeout)
        } else {
            self.hold_ms()
        };
        link.stale_after_ms
            .store(until_next, std::sync::atomic::Ordering::Relaxed);
    }

    /// The script's call for `batch`, as `sync.lua` lists its keys and arguments.
    fn command(&self, outgoing: &Outgoing, config: &Config, now: u64) -> Cmd {
        let Outgoing {
            batch,
            failing,
            wants_lease,
        } = outgoing;
        let window_ms = config.window_ms();
        let bucket_ms = window_ms / config.window_buckets();
        let mut command = redis::cmd("EVALSHA");
        command
            .arg(script().get_hash())
            .arg(SCRIPT_KEYS)
            .arg(&self.keys[..])
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
            .arg(&self.channel)
            .arg(self.breaker.name())
            .arg(batch.deltas.len() + batch.seed.len());
        for delta in batch.seed.iter().chain(&batch.deltas) {
            command
                .arg(now.saturating_sub(delta.at_ms))
                .arg(delta.calls)
                .arg(delta.failures);
        }
        command
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
        let standing = seam.standing();
        let follow = self.following.decide(reply, standing, now, self.hold_ms());
        self.quiet = reply.state == FleetState::Closed
            && !at_error_threshold(reply.failures.saturating_mul(2), reply.calls, threshold)
            && !self.sent_failing
            && self.ledger.unsent_failures() == 0
            && standing.state == State::Closed
            && self.following == Following::default();
        self.apply(follow, now);
    }

    /// Moves the breaker as `follow` says.
    fn apply(&mut self, follow: Follow, now: u64) {
        let seam = self.breaker.seam();
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
            FleetState::Open => self.opened(reply.sleep_left_ms, now, hold_ms),
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

    /// The fleet is open with `sleep_left_ms` of its sleep window left: the breaker is held
    /// open until then (at least until the next answer), and no lease or trial of an earlier
    /// half-open period counts any more.
    fn opened(&mut self, sleep_left_ms: u64, now: u64, hold_ms: u64) -> Follow {
        self.lease = None;
        self.trial_succeeded = false;
        Follow::HoldUntil {
            end_ms: now + sleep_left_ms.max(hold_ms),
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
