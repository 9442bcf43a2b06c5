//! Remote deliveries run on their own, beside the queue run that claimed
//! them: a slow or stuck destination must never hold up local delivery or
//! mail to other destinations (issue 12, attack 1).
//!
//! Each destination domain has a backlog of messages and up to
//! `max_per_domain` lanes working through it; a lane keeps its connection
//! from one message to the next, and all lanes together hold at most
//! `max_deliveries` slots. So a destination that answers one byte a minute
//! ties up its own lanes and nothing else. The backlogs are bounded: what
//! does not fit is given back to the store, due again shortly.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use store::QueueRecipient;
use tokio::sync::Semaphore;

use crate::{Error, Queue};

/// Messages waiting for one destination's lanes. Another one is opened
/// when each lane has this many before it.
const MESSAGES_PER_LANE: usize = 10;
/// Messages waiting for any destination; beyond this, claimed remote work
/// goes back to the store (memory stays bounded however long the queue).
const MAX_WAITING: usize = 4096;
/// Messages waiting for one destination.
const MAX_WAITING_PER_DOMAIN: usize = 256;
/// How long a remote delivery's leases hold, in seconds: set when a lane
/// takes the message (it may have waited longer than the queue run's short
/// claim), and renewed a third of the way before they run out.
pub(crate) const LEASE: i64 = 1800;
/// When work that did not fit is due again.
pub(crate) const POSTPONE: Duration = Duration::from_secs(30);

/// One message's recipients at one domain.
pub(crate) type Group = Vec<QueueRecipient>;

pub(crate) struct Dispatch {
    state: Mutex<State>,
    slots: Arc<Semaphore>,
    max_per_domain: usize,
}

#[derive(Default)]
struct State {
    destinations: HashMap<String, Destination>,
    waiting: usize,
    /// Recipients waiting or under way: a lease that ran out while they
    /// waited lets the next queue run claim them again, and they must not
    /// then be delivered twice.
    in_flight: HashSet<i64>,
    /// Groups waiting or under way, per message: its report waits until
    /// none is left, so one report tells of every recipient tried together.
    messages: HashMap<String, usize>,
}

#[derive(Default)]
struct Destination {
    lanes: usize,
    backlog: VecDeque<Group>,
}

/// What became of a group offered to the dispatcher.
pub(crate) enum Offer {
    /// Waiting for a lane.
    Taken,
    /// No room: give it back to the store.
    Full(Group),
}

impl Dispatch {
    pub fn new(max_deliveries: usize, max_per_domain: usize) -> Dispatch {
        Dispatch {
            state: Mutex::new(State::default()),
            slots: Arc::new(Semaphore::new(max_deliveries.max(1))),
            max_per_domain: max_per_domain.max(1),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is consistent after every statement; a panic elsewhere
        // while it was held leaves nothing half-done.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Queue {
    /// Whether a lane has some recipient of this message, waiting or under
    /// way.
    pub(crate) fn is_message_in_flight(&self, queue_id: &str) -> bool {
        self.dispatch.state().messages.contains_key(queue_id)
    }

    /// Whether a lane has this recipient, waiting or under way.
    pub(crate) fn is_in_flight(&self, recipient: i64) -> bool {
        self.dispatch.state().in_flight.contains(&recipient)
    }

    /// Waits until no remote delivery is waiting or under way (each lane
    /// wakes the queue when it finishes a message).
    pub(crate) async fn lanes_idle(&self) {
        loop {
            let woken = self.wake.notified();
            if self.dispatch.state().messages.is_empty() {
                return;
            }
            woken.await;
        }
    }

    /// Hands a group to its destination's lanes, opening a lane if the
    /// destination has too few for its backlog.
    pub(crate) fn offer_remote(self: &Arc<Self>, domain: String, group: Group) -> Offer {
        let dispatch = &self.dispatch;
        let mut guard = dispatch.state();
        let state = &mut *guard;
        let backlog = state.destinations.get(&domain).map_or(0, |d| d.backlog.len());
        if state.waiting >= MAX_WAITING || backlog >= MAX_WAITING_PER_DOMAIN {
            return Offer::Full(group);
        }
        let destination = state.destinations.entry(domain.clone()).or_default();
        let ids: Vec<i64> = group.iter().map(|r| r.id).collect();
        let message = group.first().map(|r| r.queue_id.clone()).unwrap_or_default();
        destination.backlog.push_back(group);
        let open_lane = destination.lanes < dispatch.max_per_domain
            && destination.backlog.len() > destination.lanes * MESSAGES_PER_LANE;
        if open_lane {
            destination.lanes += 1;
        }
        state.waiting += 1;
        state.in_flight.extend(ids);
        *state.messages.entry(message).or_default() += 1;
        drop(guard);
        if open_lane {
            let queue = self.clone();
            tokio::spawn(async move { queue.lane(domain).await });
        }
        Offer::Taken
    }

    /// Works through a destination's backlog, one message after another on
    /// one slot, until the backlog is empty.
    async fn lane(self: Arc<Self>, domain: String) {
        let Ok(_slot) = self.dispatch.slots.clone().acquire_owned().await else {
            return;
        };
        while let Some(group) = self.next_for(&domain) {
            let ids: Vec<i64> = group.iter().map(|r| r.id).collect();
            let message = group.first().map(|r| r.queue_id.clone()).unwrap_or_default();
            // Each message is delivered in a task of its own: should one
            // panic, the lane goes on and its recipients are let go, so the
            // next queue run can claim them again once their lease ends.
            let (queue, to) = (self.clone(), domain.clone());
            match tokio::spawn(async move { queue.deliver_leased(&to, group).await }).await {
                Ok(Ok(())) => {}
                // The leases run out and the recipients are tried again.
                Ok(Err(e)) => tracing::error!(%domain, error = %e, "recording a remote delivery failed"),
                Err(e) => tracing::error!(%domain, error = %e, "a remote delivery failed"),
            }
            let mut guard = self.dispatch.state();
            let state = &mut *guard;
            for id in ids {
                state.in_flight.remove(&id);
            }
            if let Some(groups) = state.messages.get_mut(&message) {
                *groups -= 1;
                if *groups == 0 {
                    state.messages.remove(&message);
                }
            }
            drop(guard);
            // Outcomes may owe the sender a report; the queue run sends it.
            self.wake.notify_one();
        }
    }

    /// Delivers a group while holding its recipients' leases: renewed
    /// first (a group may have waited in the backlog), then again while the
    /// delivery runs. Recipients whose lease was taken over are left alone.
    async fn deliver_leased(&self, domain: &str, group: Group) -> Result<(), Error> {
        let ids: Vec<i64> = group.iter().map(|r| r.id).collect();
        let now = store::now();
        let held = self.store.renew_leases(&ids, &self.owner, now + LEASE).await?;
        let still: HashSet<i64> = held.iter().copied().collect();
        let mut group: Group = group.into_iter().filter(|r| still.contains(&r.id)).collect();
        // A message whose lifetime ended while it waited is not sent now.
        for recipient in group.extract_if(.., |r| self.is_expired(r, now)) {
            self.expire(&recipient).await?;
        }
        if group.is_empty() {
            return Ok(());
        }
        let heartbeat = async {
            loop {
                tokio::time::sleep(Duration::from_secs(LEASE as u64 / 3)).await;
                // Only when every lease is gone is the transaction given up:
                // cut short, it might deliver twice. A recipient ended
                // meanwhile (bounced from the command line, say) keeps its
                // end; outcomes are written only for pending recipients.
                match self.store.renew_leases(&held, &self.owner, store::now() + LEASE).await {
                    Ok(still) if still.is_empty() => return,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(%domain, error = %e, "could not renew delivery leases"),
                }
            }
        };
        tokio::select! {
            result = self.deliver_group(domain, &group) => result,
            () = heartbeat => {
                tracing::warn!(%domain, "delivery leases were taken over elsewhere; leaving the message to them");
                Ok(())
            }
        }
    }

    /// The next message for a lane of `domain`, or `None` when the lane is
    /// to end (decided under the lock, so a message offered meanwhile
    /// finds either this lane or a new one).
    fn next_for(&self, domain: &str) -> Option<Group> {
        let mut guard = self.dispatch.state();
        let state = &mut *guard;
        let destination = state.destinations.get_mut(domain)?;
        match destination.backlog.pop_front() {
            Some(group) => {
                state.waiting -= 1;
                Some(group)
            }
            None => {
                destination.lanes -= 1;
                if destination.lanes == 0 {
                    state.destinations.remove(domain);
                }
                None
            }
        }
    }
}
