//! A camera agent's side of the coordination protocol, sans-IO: it reports
//! its clock to the hub every `status_interval`, and it hands its driver the
//! hub's adjustment commands to apply — each exactly once, in order — and
//! acknowledges every copy it receives.
//!
//! Exactly once is the link's rule (a command is accepted only if its
//! number is above the last one accepted from its sender in the sender's
//! epoch); this endpoint adds what the commander needs to stop
//! retransmitting: an acknowledgement for the accepted command and for
//! every later copy the link refuses as already applied.

use std::collections::VecDeque;

use super::adjustment::Adjustment;
use super::link::{CoordinationLink, LinkConfig, LinkConfigError, LinkStats, Rejection};
use super::message::{CommandAck, LockState, Message, NodeId, SyncStatus};
use crate::time::{Nanos, Time};

/// How a camera's clock stands, as its agent sees it when a report is due.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockReport {
    pub lock: LockState,
    /// The last offset its discipline measured from its reference.
    pub offset: Nanos,
    pub frequency_ppb: f64,
}

impl ClockReport {
    /// The report `node` sends of it at `at`.
    pub fn status(self, node: NodeId, at: Time) -> SyncStatus {
        SyncStatus {
            node,
            lock: self.lock,
            offset: self.offset,
            frequency_ppb: self.frequency_ppb,
            at,
        }
    }
}

/// A command the driver must apply now, and who sent it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ToApply {
    pub commander: NodeId,
    pub adjustment: Adjustment,
}

/// Counters of what the endpoint did beyond its link's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CameraEndpointStats {
    pub applied: u64,
    pub acks_sent: u64,
    pub reports_sent: u64,
}

pub struct CameraEndpoint {
    link: CoordinationLink,
    status_interval: Nanos,
    next_report: Time,
    stats: CameraEndpointStats,
    transmits: VecDeque<Vec<u8>>,
}

impl CameraEndpoint {
    /// An endpoint started at base time `now`; its first report is due at
    /// once.
    pub fn new(
        config: LinkConfig,
        status_interval: Nanos,
        now: Time,
    ) -> Result<Self, LinkConfigError> {
        if status_interval <= Nanos::ZERO {
            return Err(LinkConfigError::StatusInterval(status_interval));
        }
        Ok(CameraEndpoint {
            link: CoordinationLink::new(config, now)?,
            status_interval,
            next_report: now,
            stats: CameraEndpointStats::default(),
            transmits: VecDeque::new(),
        })
    }

    pub fn node(&self) -> NodeId {
        self.link.node()
    }

    pub fn link_stats(&self) -> LinkStats {
        self.link.stats()
    }

    pub fn stats(&self) -> CameraEndpointStats {
        self.stats
    }

    /// Handles one datagram received at base time `now`: a command to apply
    /// now, or nothing (anything else, or refused: the link counts why).
    pub fn receive(&mut self, now: Time, bytes: &[u8]) -> Result<Option<ToApply>, Rejection> {
        match self.link.receive(now, bytes) {
            Ok(received) => {
                let Message::Command(c) = received.message else {
                    return Ok(None);
                };
                let commander = received.header.sender;
                self.acknowledge(commander, c.adjustment.sequence);
                self.stats.applied += 1;
                Ok(Some(ToApply {
                    commander,
                    adjustment: c.adjustment,
                }))
            }
            Err(rejection) => {
                if let Rejection::AlreadyApplied { sender, sequence } = rejection {
                    // Our acknowledgement was lost or is still on its way:
                    // say it again, or the commander retransmits forever.
                    self.acknowledge(sender, sequence);
                }
                Err(rejection)
            }
        }
    }

    fn acknowledge(&mut self, commander: NodeId, sequence: u64) {
        let ack = Message::CommandAck(CommandAck {
            commander,
            sequence,
        });
        // An acknowledgement has no rate, so sealing it cannot fail.
        if let Ok(bytes) = self.link.encode(&ack) {
            self.stats.acks_sent += 1;
            self.transmits.push_back(bytes);
        }
    }

    /// The next base-clock instant at which `handle_timeout` is due.
    pub fn poll_timeout(&self) -> Option<Time> {
        [self.link.poll_timeout(), Some(self.next_report)]
            .into_iter()
            .flatten()
            .min()
    }

    /// Sends the report if one is due (`clock` is how the clock stands
    /// now), and the link's heartbeats.
    pub fn handle_timeout(&mut self, now: Time, clock: ClockReport) {
        if now >= self.next_report {
            let status = Message::SyncStatus(clock.status(self.link.node(), now));
            // A non-finite rate is not sent; the report after it may be.
            if let Ok(bytes) = self.link.encode(&status) {
                self.stats.reports_sent += 1;
                self.transmits.push_back(bytes);
            }
            self.next_report = Time(now.0.saturating_add(self.status_interval.0));
        }
        self.link.handle_timeout(now);
        while let Some(bytes) = self.link.poll_transmit() {
            self.transmits.push_back(bytes);
        }
        // The camera has one peer, its hub: whether it is alive is the
        // hub's health to judge, not the camera's.
        while self.link.poll_event().is_some() {}
    }

    /// The next datagram to send to the hub.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }
}
