//! The sync script's answer, read strictly: anything of another shape is a bad reply, counted
//! and ignored, never a panic or a guess.

use redis::Value;

use crate::FleetState;

/// What the script returned; see `sync.lua` for the order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Reply {
    /// The store's identity: it changes when the store loses the fleet's data.
    pub(super) epoch: String,
    pub(super) applied: Applied,
    pub(super) calls: u64,
    pub(super) failures: u64,
    pub(super) instances: u64,
    pub(super) failing_instances: u64,
    pub(super) state: FleetState,
    /// While open: how long the fleet's sleep window has left, by the server's clock.
    pub(super) sleep_left_ms: u64,
    /// While half-open: how long this instance's trial lease has left; 0 without one.
    pub(super) lease_left_ms: u64,
    pub(super) streak: u64,
}

/// What the store did with the batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Applied {
    /// Counted before (an earlier send whose answer was lost).
    Repeat,
    /// Counted now.
    Counted,
    /// Not counted: the store lost the fleet's data since this instance's last sync.
    StoreLost,
}

/// Why a reply was not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct BadReply(pub(super) String);

impl Reply {
    pub(super) fn parse(value: &Value) -> Result<Reply, BadReply> {
        let Value::Array(items) = value else {
            return Err(BadReply(format!("expected an array of 10, got {value:?}")));
        };
        let [epoch, applied, numbers @ ..] = items.as_slice() else {
            return Err(BadReply(format!("expected 10 items, got {}", items.len())));
        };
        let [
            calls,
            failures,
            instances,
            failing,
            state,
            sleep_left,
            lease_left,
            streak,
        ] = numbers
        else {
            return Err(BadReply(format!("expected 10 items, got {}", items.len())));
        };
        let epoch = match epoch {
            Value::BulkString(bytes) if !bytes.is_empty() => String::from_utf8(bytes.clone())
                .map_err(|_| BadReply("the epoch is not UTF-8".to_owned()))?,
            other => return Err(BadReply(format!("expected the epoch, got {other:?}"))),
        };
        let applied = match count(applied, "applied")? {
            0 => Applied::Repeat,
            1 => Applied::Counted,
            2 => Applied::StoreLost,
            other => return Err(BadReply(format!("applied must be 0, 1 or 2, got {other}"))),
        };
        let state = match count(state, "state")? {
            0 => FleetState::Closed,
            1 => FleetState::Open,
            2 => FleetState::HalfOpen,
            other => return Err(BadReply(format!("state must be 0, 1 or 2, got {other}"))),
        };
        Ok(Reply {
            epoch,
            applied,
            calls: count(calls, "calls")?,
            failures: count(failures, "failures")?,
            instances: count(instances, "instances")?,
            failing_instances: count(failing, "failing instances")?,
            state,
            sleep_left_ms: count(sleep_left, "sleep left")?,
            lease_left_ms: count(lease_left, "lease left")?,
            streak: count(streak, "streak")?,
        })
    }
}

/// A non-negative integer.
fn count(value: &Value, what: &str) -> Result<u64, BadReply> {
    match value {
        Value::Int(number) => u64::try_from(*number)
            .map_err(|_| BadReply(format!("{what} must not be negative, got {number}"))),
        other => Err(BadReply(format!(
            "expected {what} as an integer, got {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(items: Vec<Value>) -> Value {
        Value::Array(items)
    }

    fn good() -> Vec<Value> {
        let mut items = vec![Value::BulkString(b"1733.5.a".to_vec()), Value::Int(1)];
        items.extend([40, 30, 5, 4, 1, 900, 0, 2].map(Value::Int));
        items
    }

    #[test]
    fn reads_the_scripts_answer() {
        let parsed = Reply::parse(&reply(good())).unwrap();
        assert_eq!(parsed.epoch, "1733.5.a");
        assert_eq!(parsed.applied, Applied::Counted);
        assert_eq!((parsed.calls, parsed.failures), (40, 30));
        assert_eq!((parsed.instances, parsed.failing_instances), (5, 4));
        assert_eq!(parsed.state, FleetState::Open);
        assert_eq!(
            (parsed.sleep_left_ms, parsed.lease_left_ms, parsed.streak),
            (900, 0, 2)
        );
    }

    #[test]
    fn anything_else_is_a_bad_reply() {
        let mut short = good();
        short.pop();
        let mut negative = good();
        negative[2] = Value::Int(-1);
        let mut state = good();
        state[6] = Value::Int(7);
        let mut text = good();
        text[3] = Value::SimpleString("30".to_owned());
        let mut epoch = good();
        epoch[0] = Value::Int(3);
        for bad in [
            Value::Okay,
            Value::Nil,
            Value::Int(3),
            reply(short),
            reply(negative),
            reply(state),
            reply(text),
            reply(epoch),
        ] {
            assert!(Reply::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
