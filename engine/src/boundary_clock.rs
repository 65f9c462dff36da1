//! A boundary clock: a slave port toward the grandmaster and a master port
//! toward a cluster, for hierarchical sync (a stadium's clusters, a remote site).
//!
//! The slave port (port 1) disciplines the clock; the master port (port 2) runs
//! on that disciplined time, so everything it stamps and sends is in PTP time,
//! and announces the grandmaster the slave port follows one step further away.
//! Each port keeps its own message exchange; transmit tokens are tagged by port
//! so each timestamp returns to the port that asked.

use crate::node::{Input, Node, Output, TxToken};
use crate::ptp::{MasterConfig, PtpMaster, PtpSlave, SlaveConfig};
use crate::time::Time;

/// Token ids of the master port carry this bit.
const DOWNSTREAM: u64 = 1 << 63;
pub const UPSTREAM_PORT: u16 = 1;
pub const DOWNSTREAM_PORT: u16 = 2;

pub struct BoundaryClock {
    upstream: PtpSlave,
    downstream: PtpMaster,
}

impl BoundaryClock {
    /// `master` should be `master_only`: its segment has no other master.
    pub fn new(slave: SlaveConfig, master: MasterConfig, now: Time) -> Self {
        let upstream = PtpSlave::new(slave);
        let downstream = PtpMaster::new(master, upstream.clock().time_at(now));
        BoundaryClock {
            upstream,
            downstream,
        }
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
                self.downstream.set_parent(self.upstream.parent());
            }
            Input::TxTimestamp { token, tx } if token.id() & DOWNSTREAM != 0 => {
                let token = TxToken::new(token.id() & !DOWNSTREAM);
                let (now, tx) = (self.disciplined(now), self.disciplined(tx));
                self.downstream
                    .handle_input(now, Input::TxTimestamp { token, tx });
            }
            Input::TxTimestamp { token, tx } => self.upstream.handle_tx_timestamp(token, tx),
            Input::FrameCaptured { .. } | Input::FrameArrived(_) => {}
        }
    }

    fn handle_timeout(&mut self, now: Time) {
        self.upstream.handle_timeout(now);
        self.downstream.set_parent(self.upstream.parent());
        let disciplined = self.disciplined(now);
        if self
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
    fn the_master_port_sends_on_port_two_and_gets_its_timestamps_back() {
        let mut b = bc();
        b.handle_timeout(Time(0));
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
