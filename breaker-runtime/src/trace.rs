//! `record`: a breaker's last calls, kept in a ring for replay and inspection.
//!
//! Each entry is one atomic word: the call's time since the trace began (36 bits of
//! milliseconds, two years), how long it ran when it was timed (25 bits of microseconds, 33 s,
//! saturating) and what became of it (3 bits). A call takes its place with a relaxed
//! `fetch_add` on the count and stores its word: nothing is allocated per call, and the ring,
//! [`TRACE_LEN`] words, is made at the first call recorded.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{
    CallKind, CircuitBreaker, Config,
    sync::{AtomicU64, Ordering},
};

/// Calls a breaker with `record` keeps: its last 16,384, in 128 KiB. Enough for a replay to
/// see a trip and a recovery: 16 seconds of a breaker taking a thousand calls a second, nearly
/// three minutes at a hundred. Made only for the breakers that record: turn `record` on for a
/// few at a time, not in `[defaults]` for a family of thousands.
pub const TRACE_LEN: usize = 16_384;

const KIND_BITS: u32 = 3;
const DURATION_BITS: u32 = 25;
const DURATION_MAX: u64 = (1 << DURATION_BITS) - 2;
const TIME_SHIFT: u32 = KIND_BITS + DURATION_BITS;

/// One recorded call: when, what became of it, and how long it ran if it was timed (with
/// `record_latency` or `slow_call_ms`).
///
/// With the `serde` feature it serializes as `{"at_ms", "kind", "duration_us"}`, `at_ms` in
/// milliseconds since the Unix epoch (on a test clock, since the trace
/// began, plus the wall-clock time it began at), `duration_us` left out when unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct TraceEntry {
    /// When the call ended (or was refused), in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// What became of it.
    #[cfg_attr(feature = "serde", serde(serialize_with = "kind_name"))]
    pub kind: CallKind,
    /// How long it ran, if it was timed.
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "duration_us",
            serialize_with = "whole_micros",
            skip_serializing_if = "Option::is_none"
        )
    )]
    pub duration: Option<Duration>,
}

#[cfg(feature = "serde")]
#[allow(clippy::trivially_copy_pass_by_ref)] // as serde's `serialize_with` passes it
fn kind_name<S: serde::Serializer>(kind: &CallKind, to: S) -> Result<S::Ok, S::Error> {
    to.serialize_str(kind.as_str())
}

#[cfg(feature = "serde")]
// `skip_serializing_if` leaves `None` out.
#[allow(clippy::ref_option)]
fn whole_micros<S: serde::Serializer>(
    duration: &Option<Duration>,
    to: S,
) -> Result<S::Ok, S::Error> {
    let micros = duration.map_or(0, |duration| {
        u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
    });
    to.serialize_u64(micros)
}

/// A breaker's recorded calls ([`CircuitBreaker::trace`]), or calls from elsewhere to replay
/// (`fusebox::simulate`, feature `simulate`).
///
/// As JSON lines (`to_json_lines`, features `http` or `simulate`; `GET /breakers/{name}/trace` on the
/// admin router) it is a first line of what the trace is about, then a line per call:
///
/// ```text
/// {"breaker":"recommendations","began_at_ms":1796550000000,"clock_ms":5003117,"config":{"error_threshold":50,…}}
/// {"at_ms":1796550000012,"kind":"success","duration_us":3000}
/// {"at_ms":1796550000020,"kind":"rejected"}
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Trace {
    /// The breaker's name.
    pub breaker: String,
    /// When the trace began (its first call), in milliseconds since the Unix epoch.
    pub began_at_ms: u64,
    /// The breaker's own clock then, in milliseconds: a replay puts the rolling window's
    /// buckets where the breaker had them (they start at multiples of their width on that
    /// clock), so that the same configuration makes the same transitions at the same times.
    pub clock_ms: u64,
    /// The breaker's configuration in force when the trace was read.
    pub config: Config,
    /// The calls, oldest first.
    pub calls: Vec<TraceEntry>,
}

impl Trace {
    /// A trace of `calls` (made elsewhere: from logs, say) by a breaker named `breaker` with
    /// `config`, beginning at its earliest call, its clock taken to be the wall clock.
    #[must_use]
    pub fn new(breaker: impl Into<String>, config: Config, calls: Vec<TraceEntry>) -> Trace {
        let began_at_ms = calls.iter().map(|call| call.at_ms).min().unwrap_or(0);
        Trace {
            breaker: breaker.into(),
            began_at_ms,
            clock_ms: began_at_ms,
            config,
            calls,
        }
    }

    /// The trace as JSON lines: its header, then a line per call.
    #[cfg(any(feature = "http", feature = "simulate"))]
    #[must_use]
    pub fn to_json_lines(&self) -> String {
        use std::fmt::Write;
        #[derive(serde::Serialize)]
        struct Header<'t> {
            breaker: &'t str,
            began_at_ms: u64,
            clock_ms: u64,
            config: Config,
        }
        let header = Header {
            breaker: &self.breaker,
            began_at_ms: self.began_at_ms,
            clock_ms: self.clock_ms,
            config: self.config,
        };
        // Plain data of integers and names: serializing it cannot fail.
        let mut lines = serde_json::to_string(&header).unwrap_or_default();
        lines.push('\n');
        for call in &self.calls {
            let _ = writeln!(lines, "{}", serde_json::to_string(call).unwrap_or_default());
        }
        lines
    }

    /// Milliseconds on the breaker's clock when `call` ended.
    #[must_use]
    pub const fn clock_at(&self, call: &TraceEntry) -> u64 {
        self.clock_ms
            .saturating_add(call.at_ms)
            .saturating_sub(self.began_at_ms)
    }
}

/// The ring.
pub(crate) struct Ring {
    /// The breaker's clock when the trace began, and the wall clock then, in milliseconds.
    started_ms: u64,
    started_unix_ms: u64,
    /// Calls recorded since the trace began.
    count: AtomicU64,
    entries: Box<[AtomicU64]>,
}

impl Ring {
    /// A trace beginning at `now_ms` on the breaker's clock.
    pub(crate) fn new(now_ms: u64) -> Ring {
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(0));
        Ring {
            started_ms: now_ms,
            started_unix_ms: unix_ms,
            count: AtomicU64::new(0),
            entries: (0..TRACE_LEN).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Records a call that ended at `now_ms`.
    pub(crate) fn push(&self, now_ms: u64, kind: CallKind, duration: Option<Duration>) {
        // A kind's code is its place in `CallKind::ALL` (its discriminant) + 1: 0 is an empty
        // slot.
        let code = kind as u64 + 1;
        let duration = duration.map_or(0, |duration| {
            u64::try_from(duration.as_micros())
                .unwrap_or(u64::MAX)
                .min(DURATION_MAX)
                + 1
        });
        let at = now_ms.saturating_sub(self.started_ms);
        let word = at << TIME_SHIFT | duration << KIND_BITS | code;
        let index = self.count.fetch_add(1, Ordering::Relaxed);
        let slot = usize::try_from(index % TRACE_LEN as u64).unwrap_or(0);
        self.entries[slot].store(word, Ordering::Relaxed);
    }

    /// The breaker's clock when the trace began, and the wall clock then.
    pub(crate) const fn began(&self) -> (u64, u64) {
        (self.started_ms, self.started_unix_ms)
    }

    /// The calls kept, oldest first.
    pub(crate) fn entries(&self) -> Vec<TraceEntry> {
        let count = self.count.load(Ordering::Relaxed);
        let first = count.saturating_sub(TRACE_LEN as u64);
        (first..count)
            .filter_map(|index| {
                let slot = usize::try_from(index % TRACE_LEN as u64).unwrap_or(0);
                let word = self.entries[slot].load(Ordering::Relaxed);
                let code = usize::try_from(word & ((1 << KIND_BITS) - 1)).unwrap_or(0);
                let kind = *CallKind::ALL.get(code.checked_sub(1)?)?;
                let duration = (word >> KIND_BITS) & ((1 << DURATION_BITS) - 1);
                Some(TraceEntry {
                    at_ms: self.started_unix_ms + (word >> TIME_SHIFT),
                    kind,
                    duration: duration.checked_sub(1).map(Duration::from_micros),
                })
            })
            .collect()
    }
}

impl CircuitBreaker {
    /// The calls this breaker recorded (`record`), oldest first: at most its last
    /// [`TRACE_LEN`], with its name, its configuration in force and when the trace began;
    /// no calls if it never recorded one. A call being recorded as this reads may be missing,
    /// or read in the place of the oldest.
    ///
    /// ```
    /// use fusebox::{CallKind, CircuitBreaker, Config};
    ///
    /// let breaker = CircuitBreaker::new("traced-doc", Config::builder().record(true).build()?);
    /// let _ = breaker.call(|| Ok::<_, ()>(1));
    /// let _ = breaker.call(|| Err::<(), _>("down"));
    /// let trace = breaker.trace();
    /// let kinds: Vec<CallKind> = trace.calls.iter().map(|call| call.kind).collect();
    /// assert_eq!(kinds, [CallKind::Success, CallKind::Failure]);
    /// assert_eq!(trace.breaker, "traced-doc");
    /// # Ok::<(), fusebox::ConfigError>(())
    /// ```
    #[must_use]
    pub fn trace(&self) -> Trace {
        let ring = self
            .extras
            .get()
            .and_then(crate::extras::Parts::trace_if_made);
        let (clock_ms, began_at_ms) = ring.map_or((0, 0), Ring::began);
        Trace {
            breaker: self.name().to_owned(),
            began_at_ms,
            clock_ms,
            config: self.config(),
            calls: ring.map_or_else(Vec::new, Ring::entries),
        }
    }
}
