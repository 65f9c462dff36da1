//! The commander's side of adjustment commands: numbering, ordering and
//! retransmission until the target acknowledges, sans-IO.
//!
//! A command is a clock step plus a rate: a step applied twice moves the
//! clock twice, so every command must be applied exactly once, and in the
//! order it was decided. The pieces that make it so:
//!
//! - each target's commands are numbered from 1 (the [`Adjustment`]'s
//!   `sequence`); its link applies a command only if its number is above the
//!   last one applied from this commander (see `link.rs`), so copies made
//!   by the network or by retransmission are refused there;
//! - one command per target is in flight at a time (stop-and-wait): a later
//!   command waits in the target's queue until the one before it is
//!   acknowledged. Were two in flight, reordering could apply the second
//!   first and make the link refuse the first — its step lost;
//! - the in-flight command is sent again after `retransmit_initial`, then
//!   after twice as long each time up to `retransmit_max`, until its
//!   [`CommandAck`] comes. The target acknowledges every copy, applied or
//!   refused as a repeat, so a lost acknowledgement costs one interval.
//!
//! A target that restarted (a new epoch) lost the clock the queued
//! commands were computed for: [`CommandSender::cancel`] drops them.

use std::collections::{BTreeMap, VecDeque};

use super::adjustment::Adjustment;
use super::message::{AdjustmentCommand, CommandAck, NodeId};
use crate::time::{Nanos, Time};

/// How a commander retransmits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandConfig {
    /// The wait before the first retransmission: a little over a round
    /// trip of the coordination path.
    pub retransmit_initial: Nanos,
    /// The longest wait between retransmissions, so that a target that is
    /// away for a while is not flooded and is reached soon after it is back.
    pub retransmit_max: Nanos,
}

impl Default for CommandConfig {
    fn default() -> Self {
        CommandConfig {
            retransmit_initial: Nanos::from_millis(20),
            retransmit_max: Nanos::from_millis(500),
        }
    }
}

/// Counters over a commander's life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommandStats {
    /// Commands handed to [`CommandSender::submit`].
    pub submitted: u64,
    /// Copies sent after the first.
    pub retransmissions: u64,
    pub acknowledged: u64,
    /// Acknowledgements of no command in flight: late copies, or for
    /// commands already acknowledged.
    pub stray_acks: u64,
    /// Commands dropped unsent or unacknowledged by [`CommandSender::cancel`].
    pub cancelled: u64,
    /// The longest time from submission to acknowledgement.
    pub max_ack_latency: Nanos,
}

/// A command the target confirmed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Acknowledged {
    pub target: NodeId,
    pub adjustment: Adjustment,
    /// From submission to acknowledgement.
    pub latency: Nanos,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    adjustment: Adjustment,
    submitted: Time,
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    pending: Pending,
    /// When to send it again, and the wait after that.
    resend_at: Time,
    backoff: Nanos,
}

#[derive(Clone, Debug, Default)]
struct Outbox {
    /// The last number acknowledged or cancelled.
    last_sequence: u64,
    in_flight: Option<InFlight>,
    queued: VecDeque<Pending>,
}

impl Outbox {
    /// The last number given to a command, whatever became of it.
    fn last_used(&self) -> u64 {
        self.queued
            .back()
            .map(|p| p.adjustment.sequence)
            .or(self.in_flight.map(|f| f.pending.adjustment.sequence))
            .unwrap_or(self.last_sequence)
    }
}

/// The commands one node sends, for every target.
#[derive(Clone, Debug)]
pub struct CommandSender {
    config: CommandConfig,
    outboxes: BTreeMap<NodeId, Outbox>,
    stats: CommandStats,
    transmits: VecDeque<AdjustmentCommand>,
}

impl CommandSender {
    pub fn new(config: CommandConfig) -> Self {
        CommandSender {
            config,
            outboxes: BTreeMap::new(),
            stats: CommandStats::default(),
            transmits: VecDeque::new(),
        }
    }

    /// A commander that goes on numbering where `earlier` stopped: what a
    /// restarted commander persists, since its targets refuse numbers they
    /// have applied already.
    pub fn resuming(config: CommandConfig, earlier: &CommandSender) -> Self {
        let mut sender = CommandSender::new(config);
        for (&target, outbox) in &earlier.outboxes {
            sender.outboxes.insert(
                target,
                Outbox {
                    last_sequence: outbox.last_used(),
                    ..Outbox::default()
                },
            );
        }
        sender
    }

    pub fn stats(&self) -> CommandStats {
        self.stats
    }

    /// Whether `target` has a command not yet acknowledged.
    pub fn busy(&self, target: NodeId) -> bool {
        self.outboxes
            .get(&target)
            .is_some_and(|o| o.in_flight.is_some() || !o.queued.is_empty())
    }

    /// Queues "step `target`'s clock by `step` and run it at
    /// `frequency_ppb`"; returns the number it goes by.
    pub fn submit(&mut self, now: Time, target: NodeId, step: Nanos, frequency_ppb: f64) -> u64 {
        let outbox = self.outboxes.entry(target).or_default();
        let sequence = outbox.last_used() + 1;
        outbox.queued.push_back(Pending {
            adjustment: Adjustment {
                sequence,
                step,
                frequency_ppb,
            },
            submitted: now,
        });
        self.stats.submitted += 1;
        self.send_next(now, target);
        sequence
    }

    /// Starts `target`'s next queued command if none is in flight.
    fn send_next(&mut self, now: Time, target: NodeId) {
        let Some(outbox) = self.outboxes.get_mut(&target) else {
            return;
        };
        if outbox.in_flight.is_some() {
            return;
        }
        let Some(pending) = outbox.queued.pop_front() else {
            return;
        };
        outbox.in_flight = Some(InFlight {
            pending,
            resend_at: after(now, self.config.retransmit_initial),
            backoff: self.config.retransmit_initial,
        });
        self.transmits.push_back(AdjustmentCommand {
            target,
            adjustment: pending.adjustment,
        });
    }

    /// `from` acknowledged a command; `self_id` is this commander. Returns
    /// the command it completes, if it was the one in flight.
    pub fn on_ack(
        &mut self,
        now: Time,
        self_id: NodeId,
        from: NodeId,
        ack: CommandAck,
    ) -> Option<Acknowledged> {
        let in_flight = self
            .outboxes
            .get_mut(&from)
            .filter(|_| ack.commander == self_id)
            .and_then(|o| {
                o.in_flight
                    .take_if(|f| f.pending.adjustment.sequence == ack.sequence)
                    .inspect(|f| o.last_sequence = f.pending.adjustment.sequence)
            });
        let Some(done) = in_flight else {
            self.stats.stray_acks += 1;
            return None;
        };
        let latency = now - done.pending.submitted;
        self.stats.acknowledged += 1;
        self.stats.max_ack_latency = self.stats.max_ack_latency.max(latency);
        self.send_next(now, from);
        Some(Acknowledged {
            target: from,
            adjustment: done.pending.adjustment,
            latency,
        })
    }

    /// Drops `target`'s unacknowledged commands (it restarted: they were for
    /// a clock it no longer has); returns how many. Numbering goes on.
    pub fn cancel(&mut self, target: NodeId) -> usize {
        let Some(outbox) = self.outboxes.get_mut(&target) else {
            return 0;
        };
        let dropped = outbox.queued.len() + usize::from(outbox.in_flight.is_some());
        outbox.last_sequence = outbox.last_used();
        outbox.queued.clear();
        outbox.in_flight = None;
        self.stats.cancelled += dropped as u64;
        dropped
    }

    /// The next retransmission due.
    pub fn poll_timeout(&self) -> Option<Time> {
        self.outboxes
            .values()
            .filter_map(|o| o.in_flight.map(|f| f.resend_at))
            .min()
    }

    /// Sends again every in-flight command whose wait is over.
    pub fn handle_timeout(&mut self, now: Time) {
        for (&target, outbox) in &mut self.outboxes {
            let Some(f) = outbox.in_flight.as_mut().filter(|f| now >= f.resend_at) else {
                continue;
            };
            f.backoff = (f.backoff * 2).min(self.config.retransmit_max);
            f.resend_at = after(now, f.backoff);
            self.stats.retransmissions += 1;
            self.transmits.push_back(AdjustmentCommand {
                target,
                adjustment: f.pending.adjustment,
            });
        }
    }

    /// The next command to seal and send to its target.
    pub fn poll_transmit(&mut self) -> Option<AdjustmentCommand> {
        self.transmits.pop_front()
    }
}

fn after(t: Time, d: Nanos) -> Time {
    Time(t.0.saturating_add(d.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUB: NodeId = NodeId(1);
    const CAM: NodeId = NodeId(7);

    fn ack(sequence: u64) -> CommandAck {
        CommandAck {
            commander: HUB,
            sequence,
        }
    }

    fn drain(s: &mut CommandSender) -> Vec<u64> {
        std::iter::from_fn(|| s.poll_transmit())
            .map(|c| c.adjustment.sequence)
            .collect()
    }

    #[test]
    fn one_command_in_flight_per_target_the_next_after_its_ack() {
        let mut s = CommandSender::new(CommandConfig::default());
        assert_eq!(s.submit(Time(0), CAM, Nanos(5), 0.0), 1);
        assert_eq!(s.submit(Time(1), CAM, Nanos(6), 0.0), 2);
        assert_eq!(s.submit(Time(1), NodeId(8), Nanos(6), 0.0), 1);
        assert_eq!(drain(&mut s), [1, 1]);
        // An ack for the queued one, or from someone else, completes nothing.
        assert_eq!(s.on_ack(Time(2), HUB, CAM, ack(2)), None);
        assert_eq!(s.on_ack(Time(2), HUB, NodeId(9), ack(1)), None);
        let wrong_commander = CommandAck {
            commander: NodeId(2),
            sequence: 1,
        };
        assert_eq!(s.on_ack(Time(2), HUB, CAM, wrong_commander), None);
        assert_eq!(s.stats().stray_acks, 3);
        let done = s.on_ack(Time(3), HUB, CAM, ack(1)).unwrap();
        assert_eq!((done.adjustment.step, done.latency), (Nanos(5), Nanos(3)));
        assert_eq!(drain(&mut s), [2]);
        assert!(s.busy(CAM));
        // A second copy of the same ack is stray.
        assert_eq!(s.on_ack(Time(4), HUB, CAM, ack(1)), None);
        s.on_ack(Time(5), HUB, CAM, ack(2)).unwrap();
        assert!(!s.busy(CAM));
        assert_eq!(s.stats().acknowledged, 2);
        assert_eq!(s.stats().max_ack_latency, Nanos(4));
    }

    #[test]
    fn retransmits_with_a_doubling_wait_until_acknowledged() {
        let config = CommandConfig {
            retransmit_initial: Nanos(10),
            retransmit_max: Nanos(40),
        };
        let mut s = CommandSender::new(config);
        s.submit(Time(0), CAM, Nanos(5), 1.0);
        assert_eq!(drain(&mut s), [1]);
        let mut sent_at = Vec::new();
        let mut now = Time(0);
        while now < Time(200) {
            now = s.poll_timeout().unwrap();
            s.handle_timeout(now);
            if !drain(&mut s).is_empty() {
                sent_at.push(now.0);
            }
        }
        assert_eq!(sent_at, [10, 30, 70, 110, 150, 190, 230]);
        assert_eq!(s.stats().retransmissions, 7);
        s.on_ack(now, HUB, CAM, ack(1)).unwrap();
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn cancel_drops_the_commands_but_not_their_numbers() {
        let mut s = CommandSender::new(CommandConfig::default());
        s.submit(Time(0), CAM, Nanos(1), 0.0);
        s.submit(Time(0), CAM, Nanos(2), 0.0);
        drain(&mut s);
        assert_eq!(s.cancel(CAM), 2);
        assert_eq!(s.poll_timeout(), None);
        assert_eq!(s.on_ack(Time(1), HUB, CAM, ack(1)), None);
        assert_eq!(s.submit(Time(2), CAM, Nanos(3), 0.0), 3);
        // A restarted commander numbers on from the last number it used.
        let resumed = {
            let mut r = CommandSender::resuming(CommandConfig::default(), &s);
            r.submit(Time(3), CAM, Nanos(4), 0.0)
        };
        assert_eq!(resumed, 4);
        assert_eq!(s.stats().cancelled, 2);
    }
}
