//! Trips announced: when the script trips a fleet, it publishes `<sleep left ms> <name>` on
//! the key prefix's channel. Each fleet client subscribes once, on a connection of its own
//! (RESP3, resubscribed after every reconnect), and hands each announcement to its driver, so
//! that every instance opens within a round trip of the trip instead of at its next sync.
//! Announcements are a shortcut, not the record: one lost (the subscription down, a message
//! dropped) leaves the instance to learn of the trip at its next sync, as without them.

use std::time::Duration;

use redis::{
    Msg, ProtocolVersion, PushInfo,
    aio::{AsyncPushSender, ConnectionManager, ConnectionManagerConfig, SendError},
};
use tokio::sync::mpsc::UnboundedSender;

use super::driver::Event;

/// How often the subscription's connection is checked.
const PING_EVERY: Duration = Duration::from_secs(5);

/// A fleet trip, as announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Announcement {
    /// The breaker's name.
    pub(super) name: String,
    /// How long the fleet's sleep window has left, by the server's clock.
    pub(super) sleep_left_ms: u64,
}

impl Announcement {
    /// Reads `<sleep left ms> <name>`; anything else is not an announcement.
    pub(super) fn parse(payload: &[u8]) -> Option<Announcement> {
        let text = std::str::from_utf8(payload).ok()?;
        let (sleep, name) = text.split_once(' ')?;
        Some(Announcement {
            name: name.to_owned(),
            sleep_left_ms: sleep.parse().ok()?,
        })
    }
}

/// Hands each announcement heard to the driver; ignores every other push.
struct Listener(UnboundedSender<Event>);

impl AsyncPushSender for Listener {
    fn send(&self, info: PushInfo) -> Result<(), SendError> {
        let Some(announcement) = Msg::from_push_info(info)
            .and_then(|message| Announcement::parse(message.get_payload_bytes()))
        else {
            return Ok(());
        };
        self.0
            .send(Event::Tripped(announcement))
            .map_err(|_| SendError)
    }
}

/// Subscribes to `channel` through `client` and keeps the subscription until aborted. The
/// manager connects again, and subscribes anew, when the connection closes; a ping every few
/// seconds finds one that is gone without closing (a host that vanished from the network).
pub(super) async fn listen(
    client: redis::Client,
    config: ConnectionManagerConfig,
    channel: String,
    events: UnboundedSender<Event>,
    max_backoff: Duration,
) {
    let info = client.get_connection_info().clone();
    let settings = info.redis_settings().clone();
    let info = info.set_redis_settings(settings.set_protocol(ProtocolVersion::RESP3));
    let Ok(client) = redis::Client::open(info) else {
        return;
    };
    let config = config
        .set_push_sender(Listener(events))
        .set_automatic_resubscription();
    let Ok(mut connection) = ConnectionManager::new_lazy_with_config(client, config) else {
        return;
    };
    let mut backoff = Duration::from_millis(100);
    while connection.subscribe(&channel).await.is_err() {
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(max_backoff);
    }
    loop {
        tokio::time::sleep(PING_EVERY).await;
        let _: Result<String, _> = redis::cmd("PING").query_async(&mut connection).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_announcement_and_nothing_else() {
        assert_eq!(
            Announcement::parse(b"9500 recommendations::fetch"),
            Some(Announcement {
                name: "recommendations::fetch".to_owned(),
                sleep_left_ms: 9_500
            })
        );
        assert_eq!(
            Announcement::parse(b"0 with space"),
            Some(Announcement {
                name: "with space".to_owned(),
                sleep_left_ms: 0
            })
        );
        for bad in [&b""[..], b"9500", b"-1 x", b"soon x", b"\xff x"] {
            assert_eq!(Announcement::parse(bad), None, "{bad:?}");
        }
    }
}
