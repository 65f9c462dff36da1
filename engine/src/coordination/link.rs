//! One coordination endpoint: a camera agent's, a hub's or a cluster
//! leader's side of its links to the others, sans-IO.
//!
//! The driver owns the sockets and the timer. It hands every datagram to
//! [`CoordinationLink::receive`] with `now`, its node's base-clock reading,
//! and gets back the message or why it was refused; it seals outgoing
//! messages with [`CoordinationLink::encode`]; it sends what
//! [`CoordinationLink::poll_transmit`] gives (heartbeats, for every peer),
//! reports what [`CoordinationLink::poll_event`] gives (peers up, lost,
//! restarted), and calls [`CoordinationLink::handle_timeout`] when
//! [`CoordinationLink::poll_timeout`] comes.
//!
//! A frame is believed in this order: it decodes; its tag checks out under
//! a key of the ring and it does not claim to come from this node; it is
//! fresh for its sender's replay window; a command is for this node and
//! newer than the last one applied from that sender. Only then does it
//! move the sender's window and liveness, so nothing forged or replayed
//! can keep a dead peer alive or push a live one's window away.
//!
//! Peers are whoever sends authenticated frames: holding a key of the ring
//! is what admits a node. A peer's state outlives its loss, so that its old
//! frames stay refused when it comes back.

use std::collections::{BTreeMap, VecDeque};

use super::keys::{AuthError, KeyRing};
use super::message::{Heartbeat, Message, NodeId};
use super::replay::{Fresh, ReplayError, ReplayWindow};
use super::wire::{self, DecodeError, EncodeError, Epoch, Frame, FrameHeader};
use crate::time::{Nanos, Time};

/// How an endpoint is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// This node.
    pub node: NodeId,
    /// This boot of this node: must be larger than at any earlier boot (a
    /// persisted boot counter), or peers refuse everything as stale until
    /// the old epoch is passed.
    pub epoch: Epoch,
    pub keys: KeyRing,
    /// A peer not heard from for this long is declared lost.
    pub liveness_timeout: Nanos,
    /// How often this node sends a heartbeat. A few heartbeats fit in the
    /// liveness timeout, so that losing one is not losing the peer.
    pub heartbeat_interval: Nanos,
}

/// Why a configuration cannot run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkConfigError {
    #[error("the liveness timeout must be positive, not {0}")]
    LivenessTimeout(Nanos),
    #[error("the heartbeat interval must be positive, not {0}")]
    HeartbeatInterval(Nanos),
    #[error("the status report interval must be positive, not {0}")]
    StatusInterval(Nanos),
}

/// Why a datagram was refused. Each kind has its counter in [`LinkStats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("malformed: {0}")]
    Malformed(#[from] DecodeError),
    #[error("unauthenticated: {0}")]
    Unauthenticated(#[from] AuthError),
    /// Correctly tagged, but naming this node as its sender: with shared
    /// keys, one of this node's own frames reflected back at it.
    #[error("a frame claiming to come from this node")]
    Reflected,
    /// A frame accepted before.
    #[error("replayed from {sender}: {reason}")]
    Replayed { sender: NodeId, reason: ReplayError },
    /// From an earlier epoch of its sender, or below its replay window.
    #[error("stale from {sender}: {reason}")]
    Stale { sender: NodeId, reason: ReplayError },
    /// A command whose adjustment sequence is not newer than the last one
    /// applied from its sender: a retransmission, ignored.
    #[error("command {sequence} from {sender} already applied")]
    AlreadyApplied { sender: NodeId, sequence: u64 },
    /// A command for another node, which this one must not apply.
    #[error("command for {target}, not this node")]
    Misdirected { target: NodeId },
}

/// A frame that passed every check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Received {
    pub header: FrameHeader,
    pub message: Message,
}

/// What the link reports about its peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// First heard from (`reconnected` false), or heard again after being
    /// declared lost (`reconnected` true).
    PeerUp { peer: NodeId, reconnected: bool },
    /// A known peer began a new epoch: it restarted.
    PeerRestarted { peer: NodeId, epoch: Epoch },
    /// Nothing accepted from the peer for the liveness timeout.
    PeerLost { peer: NodeId, last_heard: Time },
}

/// Counters of what came in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub accepted: u64,
    pub malformed: u64,
    /// Bad tags, unknown keys and reflected frames.
    pub unauthenticated: u64,
    pub replayed: u64,
    pub stale: u64,
    /// Commands ignored as already applied.
    pub duplicate_commands: u64,
    pub misdirected: u64,
    pub peers_lost: u64,
    pub reconnections: u64,
    pub restarts: u64,
}

/// What the link knows of one peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    pub alive: bool,
    pub epoch: Epoch,
    /// Base-clock time of the last frame accepted from it.
    pub last_heard: Time,
    /// The last adjustment sequence applied from it, in its current epoch.
    pub last_command: Option<u64>,
}

#[derive(Clone, Debug)]
struct Peer {
    window: ReplayWindow,
    last_heard: Time,
    alive: bool,
    last_command: Option<u64>,
}

/// One node's coordination endpoint.
#[derive(Clone, Debug)]
pub struct CoordinationLink {
    config: LinkConfig,
    /// The sequence number of the next frame sent.
    next_sequence: u64,
    next_heartbeat: Time,
    peers: BTreeMap<NodeId, Peer>,
    stats: LinkStats,
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<LinkEvent>,
}

impl CoordinationLink {
    /// An endpoint started at base time `now`; its first heartbeat is due
    /// at once, so that peers learn of it without waiting an interval.
    pub fn new(config: LinkConfig, now: Time) -> Result<Self, LinkConfigError> {
        if config.liveness_timeout <= Nanos::ZERO {
            return Err(LinkConfigError::LivenessTimeout(config.liveness_timeout));
        }
        if config.heartbeat_interval <= Nanos::ZERO {
            return Err(LinkConfigError::HeartbeatInterval(
                config.heartbeat_interval,
            ));
        }
        Ok(CoordinationLink {
            config,
            next_sequence: 0,
            next_heartbeat: now,
            peers: BTreeMap::new(),
            stats: LinkStats::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    pub fn node(&self) -> NodeId {
        self.config.node
    }

    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// The key ring, for rotation.
    pub fn keys_mut(&mut self) -> &mut KeyRing {
        &mut self.config.keys
    }

    pub fn peer(&self, id: NodeId) -> Option<PeerStatus> {
        self.peers.get(&id).map(|p| PeerStatus {
            alive: p.alive,
            epoch: p.window.epoch(),
            last_heard: p.last_heard,
            last_command: p.last_command,
        })
    }

    /// Every peer ever heard from, by id.
    pub fn peers(&self) -> impl Iterator<Item = (NodeId, PeerStatus)> + '_ {
        self.peers
            .keys()
            .filter_map(|&id| self.peer(id).map(|s| (id, s)))
    }

    /// Seals `message` in the next frame from this node. A message that
    /// cannot be sent (a non-finite rate) uses no sequence number.
    pub fn encode(&mut self, message: &Message) -> Result<Vec<u8>, EncodeError> {
        let bytes = wire::seal(
            &self.config.keys,
            self.config.node,
            self.config.epoch,
            self.next_sequence,
            message,
        )?;
        // 2^64 frames is beyond any boot; were it reached, wrapping makes
        // receivers refuse the frames as stale, which fails safe.
        self.next_sequence = self.next_sequence.wrapping_add(1);
        Ok(bytes)
    }

    /// Handles one datagram received at base time `now`.
    pub fn receive(&mut self, now: Time, bytes: &[u8]) -> Result<Received, Rejection> {
        let result = self.admit(now, bytes);
        let counter = match &result {
            Ok(_) => &mut self.stats.accepted,
            Err(Rejection::Malformed(_)) => &mut self.stats.malformed,
            Err(Rejection::Unauthenticated(_) | Rejection::Reflected) => {
                &mut self.stats.unauthenticated
            }
            Err(Rejection::Replayed { .. }) => &mut self.stats.replayed,
            Err(Rejection::Stale { .. }) => &mut self.stats.stale,
            Err(Rejection::AlreadyApplied { .. }) => &mut self.stats.duplicate_commands,
            Err(Rejection::Misdirected { .. }) => &mut self.stats.misdirected,
        };
        *counter += 1;
        result
    }

    fn admit(&mut self, now: Time, bytes: &[u8]) -> Result<Received, Rejection> {
        let frame = Frame::decode(bytes)?;
        frame.verify(&self.config.keys)?;
        let header = frame.header;
        let sender = header.sender;
        if sender == self.config.node {
            return Err(Rejection::Reflected);
        }

        let known = self.peers.get(&sender);
        let fresh = match known {
            None => Fresh::NewEpoch,
            Some(peer) => peer
                .window
                .check(header.epoch, header.sequence)
                .map_err(|reason| {
                    if reason.is_duplicate() {
                        Rejection::Replayed { sender, reason }
                    } else {
                        Rejection::Stale { sender, reason }
                    }
                })?,
        };
        // A new epoch forgets the commands of the old one: a restarted
        // sender counts its adjustments from the start again.
        let last_command = match (fresh, known) {
            (Fresh::SameEpoch, Some(peer)) => peer.last_command,
            _ => None,
        };
        let mut command = None;
        if let Message::Command(c) = frame.message {
            if c.target != self.config.node {
                return Err(Rejection::Misdirected { target: c.target });
            }
            let sequence = c.adjustment.sequence;
            if last_command.is_some_and(|last| sequence <= last) {
                // Authentic and fresh, so the frame itself is recorded: a
                // replay of it is then refused as one.
                self.record(now, header, fresh);
                return Err(Rejection::AlreadyApplied { sender, sequence });
            }
            command = Some(sequence);
        }

        self.record(now, header, fresh);
        if let Some(sequence) = command
            && let Some(peer) = self.peers.get_mut(&sender)
        {
            peer.last_command = Some(sequence);
        }
        Ok(Received {
            header,
            message: frame.message,
        })
    }

    /// Moves the sender's window and liveness for an accepted frame.
    fn record(&mut self, now: Time, header: FrameHeader, fresh: Fresh) {
        let sender = header.sender;
        let Some(peer) = self.peers.get_mut(&sender) else {
            self.peers.insert(
                sender,
                Peer {
                    window: ReplayWindow::new(header.epoch, header.sequence),
                    last_heard: now,
                    alive: true,
                    last_command: None,
                },
            );
            self.events.push_back(LinkEvent::PeerUp {
                peer: sender,
                reconnected: false,
            });
            return;
        };
        if fresh == Fresh::NewEpoch {
            peer.last_command = None;
            self.stats.restarts += 1;
            self.events.push_back(LinkEvent::PeerRestarted {
                peer: sender,
                epoch: header.epoch,
            });
        }
        peer.window.record(header.epoch, header.sequence);
        peer.last_heard = peer.last_heard.max(now);
        if !peer.alive {
            peer.alive = true;
            self.stats.reconnections += 1;
            self.events.push_back(LinkEvent::PeerUp {
                peer: sender,
                reconnected: true,
            });
        }
    }

    /// The next base-clock instant at which [`CoordinationLink::handle_timeout`]
    /// is due: the next heartbeat, or the first live peer's liveness deadline.
    pub fn poll_timeout(&self) -> Option<Time> {
        let timeout = self.config.liveness_timeout;
        self.peers
            .values()
            .filter(|p| p.alive)
            .map(|p| after(p.last_heard, timeout))
            .chain([self.next_heartbeat])
            .min()
    }

    /// Sends a heartbeat if one is due, and declares lost every peer silent
    /// for the liveness timeout.
    pub fn handle_timeout(&mut self, now: Time) {
        if now >= self.next_heartbeat {
            let heartbeat = Message::Heartbeat(Heartbeat { at: now });
            // A heartbeat has no rate, so sealing it cannot fail.
            if let Ok(bytes) = self.encode(&heartbeat) {
                self.transmits.push_back(bytes);
            }
            // Late timers do not make a burst: the next one is an interval on.
            self.next_heartbeat = after(now, self.config.heartbeat_interval);
        }
        let timeout = self.config.liveness_timeout;
        for (&id, peer) in &mut self.peers {
            if peer.alive && now >= after(peer.last_heard, timeout) {
                peer.alive = false;
                self.stats.peers_lost += 1;
                self.events.push_back(LinkEvent::PeerLost {
                    peer: id,
                    last_heard: peer.last_heard,
                });
            }
        }
    }

    /// The next frame to send to every peer.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<LinkEvent> {
        self.events.pop_front()
    }
}

/// `t + d`, saturating: a driver's clock near the end of i64 must not make
/// a deadline wrap into the past.
fn after(t: Time, d: Nanos) -> Time {
    Time(t.0.saturating_add(d.0))
}
