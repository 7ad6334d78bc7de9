//! The ledger of one breaker's outcomes on their way to the store: captured from the
//! breaker's counts since creation (which the call path keeps anyway, so syncing adds nothing
//! to a call), held as deltas stamped with the local time they were captured, sent in
//! numbered batches, and accounted for: every outcome captured is synced, pending or expired.
//!
//! A batch that was sent without an answer is sent again as it is, under the same sequence
//! number, until the store answers: the script adds a batch once, so a retried send never
//! counts twice. The numbers count from 1 for each ledger; the member sends them with its
//! ledger's life, a random number, so that a new ledger under the same instance id (a restarted
//! process that kept its id, a breaker that joined again) has its batches added from its first
//! rather than taken for repeats of the earlier ledger's. Deltas are kept one per bucket period
//! and dropped once older than the window (the store would drop them too), so the ledger stays
//! within a window's worth of entries however long the store is away.

/// Outcomes captured within one bucket period, at `at_ms` on the breaker's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Delta {
    pub(super) at_ms: u64,
    pub(super) calls: u64,
    pub(super) failures: u64,
}

/// What this instance says of a fleet trial in a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Trial {
    #[default]
    None,
    Succeeded,
    Failed,
}

impl Trial {
    pub(super) const fn code(self) -> u8 {
        match self {
            Trial::None => 0,
            Trial::Succeeded => 1,
            Trial::Failed => 2,
        }
    }
}

/// A numbered batch: what is sent (and sent again) under one sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Batch {
    pub(super) seq: u64,
    /// This instance's outcomes since the last batch.
    pub(super) deltas: Vec<Delta>,
    /// Outcomes of this instance the store had counted before it lost its data, sent again to
    /// seed it: not part of the accounting, which counted them when they were first synced.
    pub(super) seed: Vec<Delta>,
    pub(super) trial: Trial,
}

impl Batch {
    fn calls(&self) -> u64 {
        self.deltas.iter().map(|delta| delta.calls).sum()
    }
}

#[derive(Debug, Default)]
pub(super) struct Ledger {
    /// The breaker's counts since creation (calls, failures) as of the last capture.
    captured: Option<(u64, u64)>,
    /// Captured, not in a batch yet, oldest first.
    next: Vec<Delta>,
    /// Sent, not answered yet.
    in_flight: Option<Batch>,
    /// Window counts to seed the store with, in the next batch.
    seed: Vec<Delta>,
    /// A trial report of a batch the store did not count, for the next batch.
    trial_again: Trial,
    seq: u64,
    pub(super) synced: u64,
    pub(super) expired: u64,
}

impl Ledger {
    /// Takes in the breaker's counts since creation: what is new since the last capture
    /// becomes a delta of the bucket period starting at `now_ms` (or joins the newest delta
    /// if that one is less than `bucket_ms` old). The first capture only sets the start:
    /// outcomes from before the breaker joined the fleet are not the fleet's.
    pub(super) fn capture(&mut self, now_ms: u64, calls: u64, failures: u64, bucket_ms: u64) {
        let Some((seen_calls, seen_failures)) = self.captured.replace((calls, failures)) else {
            return;
        };
        let (calls, failures) = (
            calls.saturating_sub(seen_calls),
            failures.saturating_sub(seen_failures),
        );
        if calls == 0 {
            return;
        }
        match self.next.last_mut() {
            Some(last) if now_ms.saturating_sub(last.at_ms) < bucket_ms => {
                last.calls += calls;
                last.failures += failures;
            }
            _ => self.next.push(Delta {
                at_ms: now_ms,
                calls,
                failures,
            }),
        }
    }

    /// Failures captured and not yet in a batch.
    pub(super) fn unsent_failures(&self) -> u64 {
        self.next.iter().map(|delta| delta.failures).sum()
    }

    /// Calls captured and not yet in a batch.
    pub(super) fn unsent_calls(&self) -> u64 {
        self.next.iter().map(|delta| delta.calls).sum()
    }

    /// Outcomes captured and not yet known to be counted by the store.
    pub(super) fn pending(&self) -> u64 {
        let unsent: u64 = self.next.iter().map(|delta| delta.calls).sum();
        unsent + self.in_flight.as_ref().map_or(0, Batch::calls)
    }

    /// Drops the deltas that have left the window at `now_ms`, counting them as expired.
    pub(super) fn expire(&mut self, now_ms: u64, window_ms: u64) {
        let inside = |delta: &Delta| now_ms.saturating_sub(delta.at_ms) < window_ms;
        let mut expired = 0;
        let mut keep = |delta: &Delta| {
            let keep = inside(delta);
            if !keep {
                expired += delta.calls;
            }
            keep
        };
        self.next.retain(&mut keep);
        if let Some(batch) = &mut self.in_flight {
            batch.deltas.retain(&mut keep);
        }
        self.seed.retain(inside);
        self.expired += expired;
    }

    /// The batch to send: the one still unanswered, or a new one of everything captured since,
    /// with `trial` (made by `trial` only for a new batch, so a resent batch says the same).
    pub(super) fn batch(&mut self, trial: impl FnOnce() -> Trial) -> &Batch {
        if self.in_flight.is_none() {
            self.seq += 1;
            self.in_flight = Some(Batch {
                seq: self.seq,
                deltas: std::mem::take(&mut self.next),
                seed: std::mem::take(&mut self.seed),
                trial: match std::mem::take(&mut self.trial_again) {
                    Trial::None => trial(),
                    again => again,
                },
            });
        }
        self.in_flight.as_ref().expect("made just above")
    }

    /// The store counted the batch in flight (now, or at an earlier send whose answer was lost).
    pub(super) fn acknowledged(&mut self) -> Option<Batch> {
        let batch = self.in_flight.take()?;
        self.synced += batch.calls();
        Some(batch)
    }

    /// The store lost the fleet's data and counted nothing of the batch in flight: its deltas
    /// go back to be sent again, and `window` (the breaker's buckets, newest first, as
    /// (start, calls, failures)) less what is still to be sent seeds the store in the next
    /// batch, so that the store holds this instance's window again without counting anything
    /// twice. The batch's trial report goes in the next batch too.
    pub(super) fn lost(&mut self, window: &[Delta]) {
        if let Some(batch) = self.in_flight.take() {
            self.trial_again = batch.trial;
            let mut deltas = batch.deltas;
            deltas.append(&mut self.next);
            self.next = deltas;
        }
        let (mut calls, mut failures) = self.next.iter().fold((0, 0), |(c, f), delta| {
            (c + delta.calls, f + delta.failures)
        });
        // What is still to be sent is the newest part of the window: take it off the newest
        // buckets first.
        self.seed = window
            .iter()
            .filter_map(|bucket| {
                let take_calls = bucket.calls.min(calls);
                let take_failures = bucket.failures.min(failures);
                calls -= take_calls;
                failures -= take_failures;
                let left = Delta {
                    at_ms: bucket.at_ms,
                    calls: bucket.calls - take_calls,
                    failures: bucket.failures - take_failures,
                };
                (left.calls > 0).then_some(left)
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(at_ms: u64, calls: u64, failures: u64) -> Delta {
        Delta {
            at_ms,
            calls,
            failures,
        }
    }

    #[test]
    fn captures_what_is_new_one_delta_per_bucket_period() {
        let mut ledger = Ledger::default();
        ledger.capture(0, 50, 5, 100); // joined: the start
        assert_eq!(ledger.pending(), 0);
        ledger.capture(10, 53, 6, 100);
        ledger.capture(60, 55, 6, 100);
        ledger.capture(120, 60, 9, 100);
        ledger.capture(130, 60, 9, 100); // nothing new
        assert_eq!(ledger.next, [delta(10, 5, 1), delta(120, 5, 3)]);
        assert_eq!((ledger.pending(), ledger.unsent_failures()), (10, 4));
    }

    #[test]
    fn a_batch_without_an_answer_is_sent_again_as_it_was() {
        let mut ledger = Ledger::default();
        ledger.capture(0, 0, 0, 100);
        ledger.capture(10, 4, 2, 100);
        let first = ledger.batch(|| Trial::Failed).clone();
        assert_eq!((first.seq, first.trial), (1, Trial::Failed));
        ledger.capture(200, 7, 2, 100); // more outcomes while it is in flight
        let again = ledger.batch(|| Trial::None).clone();
        assert_eq!(again, first, "the same sequence number and contents");
        assert_eq!(ledger.pending(), 7);
        assert_eq!(ledger.acknowledged().map(|batch| batch.seq), Some(1));
        assert_eq!((ledger.synced, ledger.pending()), (4, 3));
        let second = ledger.batch(|| Trial::None);
        assert_eq!(
            (second.seq, second.deltas.clone()),
            (2, vec![delta(200, 3, 0)])
        );
    }

    #[test]
    fn outcomes_older_than_the_window_expire_and_stay_accounted_for() {
        let mut ledger = Ledger::default();
        ledger.capture(0, 0, 0, 100);
        ledger.capture(100, 10, 10, 100);
        let _ = ledger.batch(|| Trial::None); // sent, never answered
        for at in (200..=1_500).step_by(100) {
            ledger.capture(at, 10 + at / 100, 10, 100);
        }
        ledger.expire(1_500, 1_000);
        // 25 captured: the in-flight 10 (at 100) and the 5 at 200..=500 expired.
        assert_eq!(ledger.expired, 15);
        assert_eq!(ledger.pending(), 10);
        assert_eq!(ledger.synced + ledger.pending() + ledger.expired, 25);
        assert!(
            ledger.next.len() <= 10,
            "bounded by the window's bucket periods"
        );
    }

    #[test]
    fn a_store_that_lost_its_data_is_seeded_with_the_window_less_what_is_pending() {
        let mut ledger = Ledger::default();
        ledger.capture(0, 0, 0, 100);
        ledger.capture(300, 6, 1, 100);
        let _ = ledger.batch(|| Trial::Succeeded);
        ledger.capture(400, 8, 3, 100);
        // The window, newest first: 11 calls, of which the 8 pending are the newest.
        let window = [delta(400, 2, 2), delta(300, 4, 1), delta(200, 5, 0)];
        ledger.lost(&window);
        assert_eq!(
            ledger.pending(),
            8,
            "nothing of it was counted: all pending"
        );
        let batch = ledger.batch(|| Trial::None).clone();
        assert_eq!(batch.trial, Trial::Succeeded, "reported again");
        assert_eq!(batch.deltas, [delta(300, 6, 1), delta(400, 2, 2)]);
        assert_eq!(
            batch.seed,
            [delta(200, 3, 0)],
            "the window without the pending 8"
        );
        ledger.acknowledged();
        assert_eq!((ledger.synced, ledger.pending()), (8, 0));
    }

    #[test]
    fn a_store_that_loses_the_seed_too_is_seeded_again_with_the_window_once() {
        let mut ledger = Ledger::default();
        ledger.capture(0, 0, 0, 100);
        ledger.capture(300, 4, 1, 100);
        let _ = ledger.batch(|| Trial::None);
        let window = [delta(300, 4, 1), delta(200, 6, 0)];
        ledger.lost(&window);
        let reseed = ledger.batch(|| Trial::None).clone();
        assert_eq!(reseed.seed, [delta(200, 6, 0)]);
        // The re-seed finds the store lost again, as do the sends after it, while calls go on.
        ledger.capture(450, 7, 1, 100);
        let window = [delta(400, 3, 0), delta(300, 4, 1), delta(200, 6, 0)];
        for _ in 0..3 {
            ledger.lost(&window);
            let batch = ledger.batch(|| Trial::None).clone();
            assert_eq!(batch.deltas, [delta(300, 4, 1), delta(450, 3, 0)]);
            assert_eq!(
                batch.seed,
                [delta(200, 6, 0)],
                "the window once, not a seed per loss"
            );
        }
        assert_eq!(
            (ledger.pending(), ledger.synced),
            (7, 0),
            "nothing counted yet"
        );
        ledger.acknowledged();
        assert_eq!((ledger.pending(), ledger.synced), (0, 7));
    }
}
