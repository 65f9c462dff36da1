//! A camera agent's side of the distributed topology, sans-IO: no hub
//! judges the rig; every agent sends its clock's status to every peer and
//! judges the health of all of them — itself included — from the same
//! reports, with the same rules ([`HealthMonitor`]) a hub would use. Agents
//! hearing the same reports therefore hold the same view, one liveness
//! timeout and a path delay apart at most; an agent cut off from the others
//! sees them lost while they see it lost, which is what an operator at
//! either side must be told. A restarted agent did not hear what came
//! before: until a camera locks again it calls "acquiring" what the others
//! call "resyncing" (both: not locked).
//!
//! The driver hands it datagrams with `now` (the agent's base clock), sends
//! every `poll_transmit` datagram to every peer, reports what `poll_alert`
//! gives, and calls `handle_timeout` at `poll_timeout` with how its clock
//! stands.

use std::collections::VecDeque;

use super::camera_endpoint::ClockReport;
use super::link::{CoordinationLink, LinkConfig, LinkConfigError, LinkStats, Rejection};
use super::message::{Message, NodeId};
use crate::health::{ClusterId, HealthAlert, HealthConfig, HealthMonitor};
use crate::time::{Nanos, Time};

/// Counters of what the endpoint did beyond its link's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerEndpointStats {
    pub reports_sent: u64,
    pub reports_received: u64,
    /// Authentic messages a peer has no business sending another (commands,
    /// acknowledgements): agents do not steer each other.
    pub ignored: u64,
    /// Reports about another node than their sender: a peer speaks for
    /// itself only, so none can make the others see a third one locked.
    pub misattributed: u64,
}

pub struct PeerEndpoint {
    link: CoordinationLink,
    status_interval: Nanos,
    next_report: Time,
    health: HealthMonitor,
    stats: PeerEndpointStats,
    transmits: VecDeque<Vec<u8>>,
}

impl PeerEndpoint {
    /// An agent started at base time `now`; its first report is due at
    /// once. `add_agent` names every agent it judges, itself included.
    pub fn new(
        link: LinkConfig,
        status_interval: Nanos,
        health: HealthConfig,
        now: Time,
    ) -> Result<Self, LinkConfigError> {
        if status_interval <= Nanos::ZERO {
            return Err(LinkConfigError::StatusInterval(status_interval));
        }
        Ok(PeerEndpoint {
            link: CoordinationLink::new(link, now)?,
            status_interval,
            next_report: now,
            health: HealthMonitor::new(health),
            stats: PeerEndpointStats::default(),
            transmits: VecDeque::new(),
        })
    }

    /// Judges `agent`, of `cluster`, from `now`.
    pub fn add_agent(&mut self, now: Time, agent: NodeId, cluster: ClusterId) {
        self.health.add_camera(now, agent, cluster);
    }

    pub fn node(&self) -> NodeId {
        self.link.node()
    }

    /// This agent's view of every agent.
    pub fn health(&self) -> &HealthMonitor {
        &self.health
    }

    pub fn link_stats(&self) -> LinkStats {
        self.link.stats()
    }

    pub fn stats(&self) -> PeerEndpointStats {
        self.stats
    }

    /// Handles one datagram received at base time `now`.
    pub fn receive(&mut self, now: Time, bytes: &[u8]) -> Result<(), Rejection> {
        let received = self.link.receive(now, bytes);
        self.drain_link_events();
        let received = received?;
        match received.message {
            Message::SyncStatus(status) if status.node != received.header.sender => {
                self.stats.misattributed += 1;
            }
            Message::SyncStatus(status) => {
                self.stats.reports_received += 1;
                self.health.on_report(now, &status);
            }
            Message::Command(_) | Message::CommandAck(_) => self.stats.ignored += 1,
            Message::DriftReport(_) | Message::Alert(_) | Message::Heartbeat(_) => {}
        }
        Ok(())
    }

    /// Whether a peer is alive is judged by its reports (the health
    /// monitor), not by its heartbeats: the link's own events say nothing
    /// more.
    fn drain_link_events(&mut self) {
        while self.link.poll_event().is_some() {}
    }

    /// The next base-clock instant at which `handle_timeout` is due.
    pub fn poll_timeout(&self) -> Option<Time> {
        [
            self.link.poll_timeout(),
            Some(self.next_report),
            self.health.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Sends the report if one is due (`clock` is how this agent's clock
    /// stands now) and judges itself from it as its peers will; sends the
    /// link's heartbeats; declares lost the peers overdue.
    pub fn handle_timeout(&mut self, now: Time, clock: ClockReport) {
        if now >= self.next_report {
            let status = clock.status(self.link.node(), now);
            // A non-finite rate is not sent, so not judged here either: the
            // agent's view of itself stays the one its peers hold.
            if let Ok(bytes) = self.link.encode(&Message::SyncStatus(status)) {
                self.stats.reports_sent += 1;
                self.transmits.push_back(bytes);
                self.health.on_report(now, &status);
            }
            self.next_report = Time(now.0.saturating_add(self.status_interval.0));
        }
        self.link.handle_timeout(now);
        while let Some(bytes) = self.link.poll_transmit() {
            self.transmits.push_back(bytes);
        }
        self.drain_link_events();
        self.health.handle_timeout(now);
    }

    /// The next datagram to send to every peer.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    pub fn poll_alert(&mut self) -> Option<HealthAlert> {
        self.health.poll_alert()
    }
}
