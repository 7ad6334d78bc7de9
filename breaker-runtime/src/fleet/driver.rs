//! One fleet client's driver: a single task syncs every breaker the client has, instead of a
//! task per breaker. It sleeps until the next member is due (or looks at its counts), sends
//! every sync due then, or within a quarter period of it, in one round trip, and hands each
//! answer to its member. Joins and the store's trip announcements reach it through one channel.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::{sync::mpsc::UnboundedReceiver, time::Instant};

use super::{
    member::{Member, Prepared},
    reply::Reply,
    store::{Fault, Store},
    trips::Announcement,
};

/// What reaches the driver besides time.
pub(super) enum Event {
    /// A breaker joined the fleet.
    Joined(Box<Member>),
    /// The store announced that a breaker's fleet tripped.
    Tripped(Announcement),
}

/// How long the driver sleeps with no member: until a join wakes it.
const IDLE: Duration = Duration::from_secs(3600);

/// Drives the members of one client until aborted (by [`Fleet::stop`](super::Fleet::stop)),
/// noting in `last_fault` why the last sync that failed did.
pub(super) async fn drive(
    mut store: Store,
    mut events: UnboundedReceiver<Event>,
    last_fault: Arc<Mutex<Option<String>>>,
) {
    let mut members: Vec<Member> = Vec::new();
    let mut listening = true;
    loop {
        let now = Instant::now();
        // Syncs due within a quarter of the shortest period go with those due now.
        let early = members.iter().map(Member::step).min().unwrap_or_default();
        let mut sending = Vec::new();
        let mut commands = Vec::new();
        let mut leaving = Vec::new();
        for (index, member) in members.iter_mut().enumerate() {
            if !member.due(now, early) {
                continue;
            }
            match member.prepare() {
                Prepared::Leave => leaving.push(index),
                Prepared::Skip => member.schedule(now),
                Prepared::Send { command, now_ms } => {
                    commands.push(command);
                    sending.push((index, now_ms));
                }
            }
        }
        if !commands.is_empty() {
            let answers = store.sync(&commands).await;
            let now = Instant::now();
            for ((index, now_ms), answer) in sending.into_iter().zip(answers) {
                let reply = answer
                    .and_then(|value| Reply::parse(&value).map_err(|bad| Fault::BadReply(bad.0)));
                if let Err(fault) = &reply {
                    *last_fault.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(fault.to_string());
                }
                members[index].answered(reply, now_ms);
                members[index].schedule(now);
            }
        }
        // Highest first, so that each index still names its member.
        for index in leaving.into_iter().rev() {
            members.swap_remove(index);
        }

        let wake = members
            .iter()
            .map(Member::wake_at)
            .min()
            .unwrap_or_else(|| Instant::now() + IDLE);
        if !listening {
            tokio::time::sleep_until(wake).await;
            continue;
        }
        match tokio::time::timeout_at(wake, events.recv()).await {
            Ok(Some(Event::Joined(member))) => members.push(*member),
            Ok(Some(Event::Tripped(trip))) => {
                let now = Instant::now();
                for member in members.iter_mut().filter(|m| m.name() == trip.name) {
                    member.tripped(trip.sleep_left_ms, now);
                }
            }
            // Every handle and the announcements' subscription are gone: the members sync on.
            Ok(None) => listening = false,
            Err(_) => {}
        }
    }
}
