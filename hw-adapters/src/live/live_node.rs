//! The engine's nodes as the live driver runs them: each reports its status
//! (port state, lock, the disciplined clock's distance from its base, the
//! hub's buffer) for the log and the metrics. A bare PTP slave port gets the
//! `Node` interface the other nodes already have.

use camsync_engine::camera_agent::CameraAgent;
use camsync_engine::hub::Hub;
use camsync_engine::node::{Input, Node, Output};
use camsync_engine::ptp::port_state::PortState;
use camsync_engine::ptp::wire::ClockIdentity;
use camsync_engine::ptp::{PtpMaster, PtpSlave, ServoState};
use camsync_engine::{Nanos, Time};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeStatus {
    pub port_state: PortState,
    /// The grandmaster followed (for a grandmaster: itself is not shown).
    pub grandmaster: Option<ClockIdentity>,
    /// `None` for a grandmaster: it disciplines nothing.
    pub servo: Option<ServoState>,
    /// The disciplined clock minus the base clock, now: what the servo has
    /// corrected so far (never applied to the host's clock).
    pub correction: Option<Nanos>,
    pub frequency_ppb: Option<f64>,
    pub path_delay: Option<Nanos>,
    /// A hub's frames held waiting for their sets, and its release delay.
    pub held_frames: Option<usize>,
    pub buffer_target: Option<Nanos>,
}

pub trait LiveNode: Node {
    fn status(&self, now: Time) -> NodeStatus;
}

fn slave_status(slave: &PtpSlave, now: Time) -> NodeStatus {
    NodeStatus {
        port_state: slave.port_state(),
        grandmaster: slave.parent().map(|p| p.grandmaster),
        servo: Some(slave.servo_state()),
        correction: Some(slave.clock().time_at(now) - now),
        frequency_ppb: Some(slave.clock().frequency_ppb()),
        path_delay: slave.path_delay(),
        held_frames: None,
        buffer_target: None,
    }
}

impl LiveNode for PtpMaster {
    fn status(&self, now: Time) -> NodeStatus {
        NodeStatus {
            port_state: self.port_state(now),
            grandmaster: None,
            servo: None,
            correction: None,
            frequency_ppb: None,
            path_delay: None,
            held_frames: None,
            buffer_target: None,
        }
    }
}

impl LiveNode for CameraAgent {
    fn status(&self, now: Time) -> NodeStatus {
        slave_status(self.slave(), now)
    }
}

impl LiveNode for Hub {
    fn status(&self, now: Time) -> NodeStatus {
        NodeStatus {
            held_frames: Some(self.held_frames().count()),
            buffer_target: Some(self.buffer_target()),
            ..slave_status(self.slave(), now)
        }
    }
}

/// A PTP slave port alone (an ordinary clock that only follows), as a node.
pub struct SlaveNode(pub PtpSlave);

impl Node for SlaveNode {
    fn handle_input(&mut self, now: Time, input: Input<'_>) {
        match input {
            Input::Packet {
                from, bytes, rx, ..
            } => self.0.handle_packet(now, from, bytes, rx),
            Input::TxTimestamp { token, tx } => self.0.handle_tx_timestamp(token, tx),
            Input::FrameCaptured { .. } | Input::FrameArrived(_) | Input::Adjust(_) => {}
        }
    }
    fn handle_timeout(&mut self, now: Time) {
        self.0.handle_timeout(now);
    }
    fn poll_timeout(&self) -> Option<Time> {
        self.0.poll_timeout()
    }
    fn poll_output(&mut self) -> Option<Output> {
        self.0.poll_output()
    }
}

impl LiveNode for SlaveNode {
    fn status(&self, now: Time) -> NodeStatus {
        slave_status(&self.0, now)
    }
}
