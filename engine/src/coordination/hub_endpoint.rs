//! A hub's side of the coordination protocol, sans-IO: one link to its
//! cameras, the commands it sends them ([`CommandSender`]) and the health
//! it judges from their reports ([`HealthMonitor`]).
//!
//! The driver hands it datagrams with `now` (the hub's base clock), asks it
//! for commands (`command`), sends what `poll_transmit` gives to the node
//! named (or to every camera), reports what `poll_event` gives, and calls
//! `handle_timeout` at `poll_timeout`.

use std::collections::VecDeque;

use super::commands::{Acknowledged, CommandConfig, CommandSender, CommandStats};
use super::link::{CoordinationLink, LinkConfig, LinkConfigError, LinkEvent, LinkStats, Rejection};
use super::message::{Message, NodeId};
use super::wire::EncodeError;
use crate::health::{ClusterId, HealthAlert, HealthConfig, HealthMonitor};
use crate::time::{Nanos, Time};

/// A datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Its one receiver; `None`: every camera (heartbeats).
    pub to: Option<NodeId>,
    pub bytes: Vec<u8>,
}

/// What the hub's endpoint reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HubEvent {
    /// A camera confirmed a command.
    Acknowledged(Acknowledged),
    /// A camera restarted: its unacknowledged commands, `count` of them,
    /// were dropped (they were for the clock it had before).
    Cancelled {
        camera: NodeId,
        count: usize,
    },
    Alert(HealthAlert),
}

pub struct HubEndpoint {
    link: CoordinationLink,
    commands: CommandSender,
    health: HealthMonitor,
    transmits: VecDeque<Transmit>,
    events: VecDeque<HubEvent>,
    /// Reports about another node than their sender: not judged.
    misattributed_reports: u64,
}

impl HubEndpoint {
    pub fn new(
        link: LinkConfig,
        commands: CommandConfig,
        health: HealthConfig,
        now: Time,
    ) -> Result<Self, LinkConfigError> {
        Ok(HubEndpoint {
            link: CoordinationLink::new(link, now)?,
            commands: CommandSender::new(commands),
            health: HealthMonitor::new(health),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            misattributed_reports: 0,
        })
    }

    /// A restarted hub: numbers its commands on from `earlier`'s (persisted
    /// with its boot counter), everything else begun afresh.
    pub fn resume_numbering(&mut self, config: CommandConfig, earlier: &HubEndpoint) {
        self.commands = CommandSender::resuming(config, &earlier.commands);
    }

    /// Watches `camera`, of `cluster`, from `now`.
    pub fn add_camera(&mut self, now: Time, camera: NodeId, cluster: ClusterId) {
        self.health.add_camera(now, camera, cluster);
    }

    pub fn node(&self) -> NodeId {
        self.link.node()
    }

    pub fn health(&self) -> &HealthMonitor {
        &self.health
    }

    pub fn link_stats(&self) -> LinkStats {
        self.link.stats()
    }

    pub fn command_stats(&self) -> CommandStats {
        self.commands.stats()
    }

    /// Reports refused for speaking of another node than their sender.
    pub fn misattributed_reports(&self) -> u64 {
        self.misattributed_reports
    }

    /// Whether `camera` has a command not yet acknowledged.
    pub fn command_pending(&self, camera: NodeId) -> bool {
        self.commands.busy(camera)
    }

    /// Sends `camera` an adjustment; returns its number. A non-finite rate
    /// cannot be sent, and is refused here rather than queued.
    pub fn command(
        &mut self,
        now: Time,
        camera: NodeId,
        step: Nanos,
        frequency_ppb: f64,
    ) -> Result<u64, EncodeError> {
        if !frequency_ppb.is_finite() {
            return Err(EncodeError::NonFinite {
                field: "frequency_ppb",
            });
        }
        let sequence = self.commands.submit(now, camera, step, frequency_ppb);
        self.seal_commands();
        Ok(sequence)
    }

    fn seal_commands(&mut self) {
        while let Some(command) = self.commands.poll_transmit() {
            match self.link.encode(&Message::Command(command)) {
                Ok(bytes) => self.transmits.push_back(Transmit {
                    to: Some(command.target),
                    bytes,
                }),
                // Only a non-finite rate fails, and `command` refuses those;
                // were one queued, its target's commands could never be
                // acknowledged: dropped, and said so.
                Err(_) => {
                    let count = self.commands.cancel(command.target);
                    self.events.push_back(HubEvent::Cancelled {
                        camera: command.target,
                        count,
                    });
                }
            }
        }
    }

    /// Handles one datagram received at base time `now`.
    pub fn receive(&mut self, now: Time, bytes: &[u8]) -> Result<(), Rejection> {
        let received = self.link.receive(now, bytes);
        self.drain_link_events();
        let received = received?;
        match received.message {
            // A camera speaks for itself only.
            Message::SyncStatus(status) if status.node != received.header.sender => {
                self.misattributed_reports += 1;
            }
            Message::SyncStatus(status) => self.health.on_report(now, &status),
            Message::CommandAck(ack) => {
                let from = received.header.sender;
                if let Some(done) = self.commands.on_ack(now, self.link.node(), from, ack) {
                    self.events.push_back(HubEvent::Acknowledged(done));
                }
                self.seal_commands();
            }
            Message::DriftReport(_)
            | Message::Command(_)
            | Message::Alert(_)
            | Message::Heartbeat(_) => {}
        }
        self.drain_alerts();
        Ok(())
    }

    fn drain_link_events(&mut self) {
        while let Some(event) = self.link.poll_event() {
            if let LinkEvent::PeerRestarted { peer, .. } = event {
                let count = self.commands.cancel(peer);
                if count > 0 {
                    self.events.push_back(HubEvent::Cancelled {
                        camera: peer,
                        count,
                    });
                }
            }
        }
    }

    fn drain_alerts(&mut self) {
        while let Some(alert) = self.health.poll_alert() {
            self.events.push_back(HubEvent::Alert(alert));
        }
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        [
            self.link.poll_timeout(),
            self.commands.poll_timeout(),
            self.health.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn handle_timeout(&mut self, now: Time) {
        self.link.handle_timeout(now);
        while let Some(bytes) = self.link.poll_transmit() {
            self.transmits.push_back(Transmit { to: None, bytes });
        }
        self.drain_link_events();
        self.commands.handle_timeout(now);
        self.seal_commands();
        self.health.handle_timeout(now);
        self.drain_alerts();
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<HubEvent> {
        self.events.pop_front()
    }
}
