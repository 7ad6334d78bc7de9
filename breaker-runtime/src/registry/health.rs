//! The service's health as its breakers see it, for readiness probes and on-call screens.

use crate::State;

/// How the service stands, by its breakers (see [`health`](super::health)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum HealthStatus {
    /// Every breaker is closed (or forced closed).
    Up,
    /// Some breaker is open, half-open or forced open, none of them critical: the service
    /// still serves (with fallbacks or errors for what needs that dependency).
    Degraded,
    /// A breaker marked `critical` is open, half-open or forced open.
    Down,
}

impl HealthStatus {
    /// The spelling in JSON: `up`, `degraded` or `down`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Up => "up",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Down => "down",
        }
    }
}

impl std::fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One breaker, as [`Health`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BreakerHealth {
    /// The breaker's name.
    pub name: String,
    /// Its state.
    pub state: State,
    /// Whether it is marked `critical`.
    pub critical: bool,
}

impl BreakerHealth {
    /// Whether it turns calls away: open, half-open or forced open.
    #[must_use]
    pub const fn refusing(&self) -> bool {
        matches!(
            self.state,
            State::Open | State::HalfOpen | State::ForcedOpen
        )
    }
}

/// The service's health: a status and every registered breaker (see
/// [`health`](super::health)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Health {
    /// `Down` if a critical breaker turns calls away, `Degraded` if another does, else `Up`.
    pub status: HealthStatus,
    /// Every registered breaker, by name.
    pub breakers: Vec<BreakerHealth>,
}

impl Health {
    /// The health of `breakers`.
    pub(crate) fn of(breakers: Vec<BreakerHealth>) -> Health {
        let status = breakers
            .iter()
            .filter(|breaker| breaker.refusing())
            .map(|breaker| {
                if breaker.critical {
                    HealthStatus::Down
                } else {
                    HealthStatus::Degraded
                }
            })
            .max()
            .unwrap_or(HealthStatus::Up);
        Health { status, breakers }
    }

    /// The breakers that turn calls away: open, half-open or forced open.
    pub fn refusing(&self) -> impl Iterator<Item = &BreakerHealth> {
        self.breakers.iter().filter(|breaker| breaker.refusing())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(name: &str, state: State, critical: bool) -> BreakerHealth {
        BreakerHealth {
            name: name.to_owned(),
            state,
            critical,
        }
    }

    #[test]
    fn a_critical_breaker_turning_calls_away_is_down_another_degraded() {
        let closed = breaker("a", State::Closed, true);
        let forced_closed = breaker("b", State::ForcedClosed, true);
        assert_eq!(Health::of(vec![]).status, HealthStatus::Up);
        assert_eq!(
            Health::of(vec![closed.clone(), forced_closed.clone()]).status,
            HealthStatus::Up
        );
        for state in [State::Open, State::HalfOpen, State::ForcedOpen] {
            let plain = breaker("c", state, false);
            let critical = breaker("d", state, true);
            let degraded = Health::of(vec![closed.clone(), plain.clone()]);
            assert_eq!(degraded.status, HealthStatus::Degraded, "{state:?}");
            assert_eq!(degraded.refusing().count(), 1);
            let down = Health::of(vec![plain, critical, forced_closed.clone()]);
            assert_eq!(down.status, HealthStatus::Down, "{state:?}");
            assert_eq!(down.refusing().count(), 2);
        }
    }
}
