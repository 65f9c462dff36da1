//! A boundary clock: a slave port toward the grandmaster and a master port
//! toward a cluster, for hierarchical sync (a stadium's clusters, a remote site).
//!
//! The slave port (port 1) disciplines the clock; the master port (port 2) runs
//! on that disciplined time, so everything it stamps and sends is in PTP time,
//! and announces the grandmaster the slave port follows one step further away.
//! Each port keeps its own message exchange; transmit tokens are tagged by port
//! so each timestamp returns to the port that asked. The master port stays
//! silent until the slave port is locked (a cluster must not lock to a clock
//! that is still finding the grandmaster), and restarts its cadence whenever
//! the slave port steps the clock.

use crate::node::{Input, Node, Output, TxToken};
use crate::ptp::port_state::PortState;
use crate::ptp::{MasterConfig, PtpMaster, PtpSlave, SlaveConfig};
use crate::time::Time;

/// Token ids of the master port carry this bit.
const DOWNSTREAM: u64 = 1 << 63;
pub const UPSTREAM_PORT: u16 = 1;
pub const DOWNSTREAM_PORT: u16 = 2;

pub struct BoundaryClock {
    upstream: PtpSlave,
    downstream: PtpMaster,
    /// Whether the master port is serving, and the step count it last saw.
    serving: bool,
    steps_seen: u64,
}

impl BoundaryClock {
    /// `master` should be `master_only`: its segment has no other master.
    pub fn new(slave: SlaveConfig, master: MasterConfig, now: Time) -> Self {
        let upstream = PtpSlave::new(slave);
        let downstream = PtpMaster::new(master, upstream.clock().time_at(now));
        BoundaryClock {
            upstream,
            downstream,
            serving: false,
            steps_seen: 0,
        }
    }

    /// Opens, closes or restarts the master port as the slave port's clock
    /// locks, loses its master or steps.
    fn follow_upstream(&mut self, now: Time) {
        let locked = self.upstream.port_state() == PortState::Slave;
        let steps = self.upstream.counters().steps;
        if locked && (!self.serving || steps != self.steps_seen) {
            let disciplined = self.disciplined(now);
            self.downstream.restart(disciplined);
        }
        self.serving = locked;
        self.steps_seen = steps;
        self.downstream.set_parent(self.upstream.parent());
    }

    pub fn slave(&self) -> &PtpSlave {
        &self.upstream
    }

    fn disciplined(&self, base: Time) -> Time {
        self.upstream.clock().time_at(base)
    }
}

impl Node for BoundaryClock {
    fn handle_input(&mut self, now: Time, input: Input<'_>) {
        match input {
            Input::Packet {
                port: DOWNSTREAM_PORT,
                ..
            } if !self.serving => {}
            Input::Packet {
                port: DOWNSTREAM_PORT,
                from,
                bytes,
                rx,
            } => {
                let (now, rx) = (self.disciplined(now), self.disciplined(rx));
                self.downstream.handle_input(
                    now,
                    Input::Packet {
                        port: 1,
                        from,
                        bytes,
                        rx,
                    },
                );
            }
            Input::Packet {
                from, bytes, rx, ..
            } => {
                self.upstream.handle_packet(now, from, bytes, rx);
                self.follow_upstream(now);
            }
            Input::TxTimestamp { token, tx } if token.id() & DOWNSTREAM != 0 => {
                let token = TxToken::new(token.id() & !DOWNSTREAM);
                let (now, tx) = (self.disciplined(now), self.disciplined(tx));
                self.downstream
                    .handle_input(now, Input::TxTimestamp { token, tx });
            }
            Input::TxTimestamp { token, tx } => self.upstream.handle_tx_timestamp(token, tx),
            Input::FrameCaptured { .. } | Input::FrameArrived(_) | Input::Adjust(_) => {}
        }
    }

    fn handle_timeout(&mut self, now: Time) {
        self.upstream.handle_timeout(now);
        self.follow_upstream(now);
        let disciplined = self.disciplined(now);
        if self.serving
            && self
                .downstream
                .poll_timeout()
                .is_some_and(|d| disciplined >= d)
        {
            self.downstream.handle_timeout(disciplined);
        }
    }

    fn poll_timeout(&self) -> Option<Time> {
        let downstream = self
            .downstream
            .poll_timeout()
            .filter(|_| self.serving)
            .map(|d| self.upstream.clock().base_at(d));
        [self.upstream.poll_timeout(), downstream]
            .into_iter()
            .flatten()
            .min()
    }

    fn poll_output(&mut self) -> Option<Output> {
        if let Some(out) = self.upstream.poll_output() {
            return Some(out);
        }
        match self.downstream.poll_output()? {
            Output::Send {
                to,
                event,
                bytes,
                token,
                ..
            } => Some(Output::Send {
                port: DOWNSTREAM_PORT,
                to,
                event,
                bytes,
                token: token.map(|t| TxToken::new(t.id() | DOWNSTREAM)),
            }),
            other => Some(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Destination;
    use crate::ptp::discipline::ServoConfig;
    use crate::ptp::servo::PiConfig;
    use crate::ptp::wire::{ClockIdentity, MessageBody, PortIdentity, PtpMessage};

    fn bc() -> BoundaryClock {
        let id = ClockIdentity([7; 8]);
        let slave = SlaveConfig::new(
            PortIdentity {
                clock_identity: id,
                port_number: UPSTREAM_PORT,
            },
            ServoConfig::Pi(PiConfig::hardware()),
        );
        let mut master = MasterConfig::grandmaster(id, 0, 0);
        master.port_identity.port_number = DOWNSTREAM_PORT;
        master.master_only = true;
        BoundaryClock::new(slave, master, Time(0))
    }

    #[test]
    fn the_master_port_is_silent_until_the_slave_port_locks() {
        let mut b = bc();
        b.handle_timeout(Time(0));
        assert!(std::iter::from_fn(|| b.poll_output()).next().is_none());
        assert_eq!(
            b.poll_timeout(),
            None,
            "nothing to wake for without a master"
        );
    }

    #[test]
    fn the_master_port_sends_on_port_two_and_gets_its_timestamps_back() {
        let mut b = bc();
        // As if the slave port had locked: the master port's own timer fires.
        b.downstream.handle_timeout(Time(0));
        let out: Vec<_> = std::iter::from_fn(|| b.poll_output()).collect();
        let sync = out
            .into_iter()
            .find_map(|o| match o {
                Output::Send {
                    port,
                    to,
                    bytes,
                    token: Some(token),
                    ..
                } => Some((port, to, bytes, token)),
                _ => None,
            })
            .expect("a Sync from the master port");
        assert_eq!(sync.0, DOWNSTREAM_PORT);
        assert_eq!(sync.1, Destination::Multicast);
        assert!(matches!(
            PtpMessage::decode(&sync.2).unwrap().body,
            MessageBody::Sync(_)
        ));
        b.handle_input(
            Time(1_000),
            Input::TxTimestamp {
                token: sync.3,
                tx: Time(1_000),
            },
        );
        let follow_up = std::iter::from_fn(|| b.poll_output())
            .find_map(|o| match o {
                Output::Send { port, bytes, .. } => Some((port, bytes)),
                _ => None,
            })
            .expect("the Follow_Up");
        assert_eq!(follow_up.0, DOWNSTREAM_PORT);
        assert!(matches!(
            PtpMessage::decode(&follow_up.1).unwrap().body,
            MessageBody::FollowUp(_)
        ));
    }
}
