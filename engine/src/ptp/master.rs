//! A PTP master port: two-step Sync + Follow_Up, Announce, and Delay_Resp to every
//! Delay_Req. Its time is its base clock: a grandmaster is the reference.

use super::bmca::{ForeignMasters, MasterDataset};
use super::port_state::PortState;
use super::security::{AuthError, SecurityAssociation, decode};
use super::wire::{
    AnnounceBody, ClockIdentity, ClockQuality, DelayRespBody, FollowUpBody, Header, MessageBody,
    MessageType, PdelayRespBody, PdelayRespFollowUpBody, PortIdentity, PtpMessage, SyncBody,
};
use crate::node::{Destination, DropReason, Input, Node, Output, PeerAddr, TxToken};
use crate::time::{Nanos, Time, WireTimestamp};
use std::collections::VecDeque;

#[derive(Clone, Debug, PartialEq)]
pub struct MasterConfig {
    pub domain: u8,
    pub port_identity: PortIdentity,
    pub log_sync_interval: i8,
    pub log_announce_interval: i8,
    pub log_min_delay_req_interval: i8,
    pub priority1: u8,
    pub priority2: u8,
    pub clock_quality: ClockQuality,
    pub current_utc_offset: i16,
    /// 0x20 GNSS, 0xA0 internal oscillator.
    pub time_source: u8,
    /// Delay_Resp by unicast to the requester (ptp4l's hybrid_e2e) or multicast.
    pub unicast_delay_resp: bool,
    /// Never yield to another master (ptp4l's `serverOnly`/`masterOnly`), as a
    /// dedicated grandmaster is configured; otherwise stay passive while a
    /// better master is heard.
    pub master_only: bool,
    /// Sign every message and accept only authenticated Delay_Req.
    pub security: Option<SecurityAssociation>,
    /// A scheduled leap second: at this PTP (TAI) time the UTC offset grows by
    /// one (inserted) or shrinks by one (deleted). PTP time itself never jumps;
    /// in the 12 hours before, Announces carry leap61 or leap59.
    pub leap: Option<LeapSecond>,
    /// Announce the ARB timescale rather than PTP's (TAI): for a grandmaster
    /// whose time is the host's UTC wall clock, as ptp4l does when its clock
    /// is CLOCK_REALTIME. Slaves then take its time as it is, with no UTC
    /// offset applied.
    pub arb_timescale: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeapSecond {
    pub at: Time,
    pub inserted: bool,
}

impl LeapSecond {
    /// Announced this long before it happens (IEEE 1588-2019 §7.6.2.3 leaves it
    /// to the time source; 12 h is the usual practice).
    pub const NOTICE: Nanos = Nanos::from_secs(12 * 3600);

    /// (UTC offset, leap61, leap59) at PTP time `now`, for a base offset.
    pub fn state(&self, base_offset: i16, now: Time) -> (i16, bool, bool) {
        if now >= self.at {
            let delta = if self.inserted { 1 } else { -1 };
            (base_offset + delta, false, false)
        } else if self.at - now <= Self::NOTICE {
            (base_offset, self.inserted, !self.inserted)
        } else {
            (base_offset, false, false)
        }
    }
}

impl MasterConfig {
    /// A GNSS-locked grandmaster with ptp4l-like defaults.
    pub fn grandmaster(clock_identity: ClockIdentity, domain: u8, log_sync_interval: i8) -> Self {
        MasterConfig {
            domain,
            port_identity: PortIdentity {
                clock_identity,
                port_number: 1,
            },
            log_sync_interval,
            log_announce_interval: 1,
            log_min_delay_req_interval: log_sync_interval,
            priority1: 128,
            priority2: 128,
            clock_quality: ClockQuality {
                clock_class: 6,
                clock_accuracy: 0x21,
                offset_scaled_log_variance: 0x4e5d,
            },
            current_utc_offset: 37,
            time_source: 0x20,
            unicast_delay_resp: true,
            master_only: false,
            security: None,
            leap: None,
            arb_timescale: false,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MasterCounters {
    pub syncs_sent: u64,
    pub delay_resps_sent: u64,
    pub malformed: u64,
    pub ignored: u64,
    /// Sync intervals spent passive because a better master was heard.
    pub passive_intervals: u64,
    pub unauthenticated: u64,
}

pub struct PtpMaster {
    config: MasterConfig,
    next_sync: Time,
    next_announce: Time,
    sync_seq: u16,
    announce_seq: u16,
    /// The Sync whose transmit timestamp is awaited: (token id, sequence id).
    awaiting_tx: Option<(u64, u16)>,
    /// Pdelay_Resp sent, awaiting its transmit timestamp for the Follow_Up:
    /// (token id, sequence id, requester, requester's address).
    awaiting_pdelay: Vec<(u64, u16, PortIdentity, PeerAddr)>,
    next_token: u64,
    /// Better masters heard: while one is, this port stays passive (§9.2.5).
    foreign: ForeignMasters,
    /// A port that may yield starts LISTENING: it says nothing until an
    /// announce receipt timeout has passed, so that it hears a better master
    /// already on the network before it competes with it.
    listening_until: Time,
    /// For a boundary clock's master port: the grandmaster its slave port
    /// follows, announced in place of this port's own clock, one step further.
    parent: Option<MasterDataset>,
    outputs: VecDeque<Output>,
    counters: MasterCounters,
}

impl PtpMaster {
    pub fn new(config: MasterConfig, now: Time) -> Self {
        let listening_until = if config.master_only {
            now
        } else {
            now + Nanos(
                Nanos::from_log2_secs(config.log_announce_interval).0
                    * ANNOUNCE_RECEIPT_TIMEOUT as i64,
            )
        };
        PtpMaster {
            config,
            next_sync: now,
            next_announce: now,
            sync_seq: 0,
            announce_seq: 0,
            awaiting_tx: None,
            awaiting_pdelay: Vec::new(),
            next_token: 0,
            foreign: ForeignMasters::default(),
            listening_until,
            parent: None,
            outputs: VecDeque::new(),
            counters: MasterCounters::default(),
        }
    }

    pub fn counters(&self) -> MasterCounters {
        self.counters
    }

    /// This port's own dataset, as its Announces state it.
    fn own_dataset(&self) -> MasterDataset {
        let c = &self.config;
        MasterDataset {
            priority1: c.priority1,
            clock_quality: c.clock_quality,
            priority2: c.priority2,
            grandmaster: c.port_identity.clock_identity,
            steps_removed: 0,
            sender: c.port_identity,
        }
    }

    /// Starts the Sync and Announce cadence afresh at `now` (a boundary clock's
    /// master port, when its clock has just been stepped or locked).
    pub fn restart(&mut self, now: Time) {
        self.next_sync = now;
        self.next_announce = now;
    }

    /// What a boundary clock's master port announces: the grandmaster its slave
    /// port follows (`None`: this clock itself).
    pub fn set_parent(&mut self, parent: Option<MasterDataset>) {
        self.parent = parent;
    }

    /// The port's state at `now` (its own time).
    pub fn port_state(&self, now: Time) -> PortState {
        if now < self.listening_until {
            PortState::Listening
        } else if self.is_passive() {
            PortState::Passive
        } else {
            PortState::Master
        }
    }

    /// A better master is on the network: stay silent (PASSIVE).
    pub fn is_passive(&self) -> bool {
        !self.config.master_only
            && self
                .foreign
                .best()
                .is_some_and(|b| b.compare(&self.own_dataset()).is_lt())
    }

    fn header(&self, message_type: MessageType, seq: u16, log_interval: i8) -> Header {
        Header::new(
            message_type,
            self.config.domain,
            self.config.port_identity,
            seq,
            log_interval,
        )
    }

    fn send(&mut self, to: Destination, msg: PtpMessage, token: Option<TxToken>) {
        let bytes = match &self.config.security {
            Some(sa) => sa.sign(&msg),
            None => msg.to_bytes(),
        };
        self.outputs.push_back(Output::Send {
            port: 1,
            to,
            event: msg.is_event(),
            bytes,
            token,
        });
    }

    fn handle_sync_timer(&mut self, now: Time) {
        let seq = self.sync_seq;
        self.sync_seq = self.sync_seq.wrapping_add(1);
        let mut header = self.header(MessageType::Sync, seq, self.config.log_sync_interval);
        header.flags.two_step = true;
        let msg = PtpMessage::new(
            header,
            MessageBody::Sync(SyncBody {
                origin_timestamp: WireTimestamp::from_time(now),
            }),
        );
        let id = self.next_token;
        self.next_token += 1;
        self.awaiting_tx = Some((id, seq));
        self.counters.syncs_sent += 1;
        self.send(Destination::Multicast, msg, Some(TxToken::new(id)));
    }

    fn handle_announce_timer(&mut self, now: Time) {
        let seq = self.announce_seq;
        self.announce_seq = self.announce_seq.wrapping_add(1);
        let mut header = self.header(
            MessageType::Announce,
            seq,
            self.config.log_announce_interval,
        );
        let c = &self.config;
        header.flags.ptp_timescale = !c.arb_timescale;
        header.flags.current_utc_offset_valid = !c.arb_timescale;
        let (utc_offset, leap61, leap59) =
            c.leap.map_or((c.current_utc_offset, false, false), |l| {
                l.state(c.current_utc_offset, now)
            });
        header.flags.leap61 = leap61;
        header.flags.leap59 = leap59;
        let gm = self.parent.map_or(
            (
                c.priority1,
                c.clock_quality,
                c.priority2,
                c.port_identity.clock_identity,
                0,
            ),
            |p| {
                (
                    p.priority1,
                    p.clock_quality,
                    p.priority2,
                    p.grandmaster,
                    p.steps_removed.saturating_add(1),
                )
            },
        );
        let msg = PtpMessage::new(
            header,
            MessageBody::Announce(AnnounceBody {
                origin_timestamp: WireTimestamp::from_time(now),
                current_utc_offset: utc_offset,
                grandmaster_priority1: gm.0,
                grandmaster_clock_quality: gm.1,
                grandmaster_priority2: gm.2,
                grandmaster_identity: gm.3,
                steps_removed: gm.4,
                time_source: c.time_source,
            }),
        );
        self.send(Destination::Multicast, msg, None);
    }

    fn handle_tx_timestamp(&mut self, token: TxToken, tx: Time) {
        if let Some(i) = self.awaiting_pdelay.iter().position(|p| p.0 == token.id()) {
            let (_, seq, requester, to) = self.awaiting_pdelay.remove(i);
            let header = self.header(MessageType::PdelayRespFollowUp, seq, 0x7f);
            let msg = PtpMessage::new(
                header,
                MessageBody::PdelayRespFollowUp(PdelayRespFollowUpBody {
                    response_origin_timestamp: WireTimestamp::from_time(tx),
                    requesting_port_identity: requester,
                }),
            );
            self.send(Destination::Unicast(to), msg, None);
            return;
        }
        let Some((id, seq)) = self.awaiting_tx else {
            return;
        };
        if id != token.id() {
            return;
        }
        self.awaiting_tx = None;
        let header = self.header(MessageType::FollowUp, seq, self.config.log_sync_interval);
        let msg = PtpMessage::new(
            header,
            MessageBody::FollowUp(FollowUpBody {
                precise_origin_timestamp: WireTimestamp::from_time(tx),
            }),
        );
        self.send(Destination::Multicast, msg, None);
    }

    fn handle_packet(&mut self, from: PeerAddr, bytes: &[u8], rx: Time) {
        let msg = match decode(self.config.security.as_ref(), bytes) {
            Ok(m) => m,
            Err(AuthError::Malformed(_)) => {
                self.counters.malformed += 1;
                self.outputs
                    .push_back(Output::Dropped(DropReason::Malformed));
                return;
            }
            Err(_) => {
                self.counters.unauthenticated += 1;
                self.outputs
                    .push_back(Output::Dropped(DropReason::Unauthenticated));
                return;
            }
        };
        if msg.header.domain_number != self.config.domain {
            self.counters.ignored += 1;
            return;
        }
        if let MessageBody::Announce(body) = &msg.body {
            let interval = Nanos::from_log2_secs(msg.header.log_message_interval.clamp(-7, 7));
            let dataset = MasterDataset::from_announce(body, msg.header.source_port_identity);
            self.foreign.record(dataset, interval, rx);
            return;
        }
        if let MessageBody::PdelayReq(_) = &msg.body {
            // Every port answers its link peer, whatever its state (§11.4.3).
            self.answer_pdelay(from, &msg.header, rx);
            return;
        }
        if !matches!(msg.body, MessageBody::DelayReq(_))
            || rx < self.listening_until
            || self.is_passive()
        {
            self.counters.ignored += 1;
            return;
        }
        let mut header = self.header(
            MessageType::DelayResp,
            msg.header.sequence_id,
            self.config.log_min_delay_req_interval,
        );
        // The requester's residence-time corrections travel back to it.
        header.correction = msg.header.correction;
        let reply = PtpMessage::new(
            header,
            MessageBody::DelayResp(DelayRespBody {
                receive_timestamp: WireTimestamp::from_time(rx),
                requesting_port_identity: msg.header.source_port_identity,
            }),
        );
        let to = if self.config.unicast_delay_resp {
            Destination::Unicast(from)
        } else {
            Destination::Multicast
        };
        self.counters.delay_resps_sent += 1;
        self.send(to, reply, None);
    }
}

impl PtpMaster {
    fn answer_pdelay(&mut self, from: PeerAddr, request: &Header, rx: Time) {
        let mut header = self.header(MessageType::PdelayResp, request.sequence_id, 0x7f);
        header.flags.two_step = true;
        header.correction = request.correction;
        let msg = PtpMessage::new(
            header,
            MessageBody::PdelayResp(PdelayRespBody {
                request_receipt_timestamp: WireTimestamp::from_time(rx),
                requesting_port_identity: request.source_port_identity,
            }),
        );
        let id = self.next_token;
        self.next_token += 1;
        self.awaiting_pdelay
            .push((id, request.sequence_id, request.source_port_identity, from));
        // A requester that never gets its timestamp back must not grow this.
        if self.awaiting_pdelay.len() > 64 {
            self.awaiting_pdelay.remove(0);
        }
        self.send(Destination::Unicast(from), msg, Some(TxToken::new(id)));
    }
}

/// Announce intervals of silence before a better master is forgotten.
const ANNOUNCE_RECEIPT_TIMEOUT: u8 = 3;

fn advance(deadline: &mut Time, now: Time, interval: Nanos) {
    while *deadline <= now {
        *deadline += interval;
    }
}

impl Node for PtpMaster {
    fn handle_input(&mut self, _now: Time, input: Input<'_>) {
        match input {
            Input::Packet {
                from, bytes, rx, ..
            } => self.handle_packet(from, bytes, rx),
            Input::TxTimestamp { token, tx } => self.handle_tx_timestamp(token, tx),
            Input::FrameCaptured { .. } | Input::FrameArrived(_) | Input::Adjust(_) => {}
        }
    }

    fn handle_timeout(&mut self, now: Time) {
        self.foreign.expire(now, ANNOUNCE_RECEIPT_TIMEOUT);
        let passive = now < self.listening_until || self.is_passive();
        if now >= self.next_sync {
            if passive {
                self.counters.passive_intervals += 1;
            } else {
                self.handle_sync_timer(now);
            }
            advance(
                &mut self.next_sync,
                now,
                Nanos::from_log2_secs(self.config.log_sync_interval),
            );
        }
        if now >= self.next_announce {
            if !passive {
                self.handle_announce_timer(now);
            }
            advance(
                &mut self.next_announce,
                now,
                Nanos::from_log2_secs(self.config.log_announce_interval),
            );
        }
    }

    fn poll_timeout(&self) -> Option<Time> {
        Some(self.next_sync.min(self.next_announce))
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leap_second_is_announced_for_twelve_hours_then_moves_utc_not_ptp_time() {
        let leap = LeapSecond {
            at: Time::from_nanos(100 * 3600 * 1_000_000_000),
            inserted: true,
        };
        let hour = Nanos::from_secs(3600);
        assert_eq!(leap.state(37, leap.at - hour * 13), (37, false, false));
        assert_eq!(leap.state(37, leap.at - hour), (37, true, false));
        assert_eq!(leap.state(37, leap.at), (38, false, false));
        let deleted = LeapSecond {
            inserted: false,
            ..leap
        };
        assert_eq!(deleted.state(37, leap.at - hour), (37, false, true));
        assert_eq!(deleted.state(37, leap.at + hour), (36, false, false));
    }

    #[test]
    fn announces_carry_the_leap_flags() {
        let mut config = MasterConfig::grandmaster(ClockIdentity([1; 8]), 0, 0);
        config.master_only = true;
        config.leap = Some(LeapSecond {
            at: Time(7_200_000_000_000),
            inserted: true,
        });
        let mut m = PtpMaster::new(config, Time(3_600_000_000_000));
        m.handle_timeout(Time(3_600_000_000_000));
        let announce = std::iter::from_fn(|| m.poll_output())
            .find_map(|o| match o {
                Output::Send { bytes, .. } => PtpMessage::decode(&bytes)
                    .ok()
                    .filter(|msg| matches!(msg.body, MessageBody::Announce(_))),
                _ => None,
            })
            .expect("an Announce at start");
        assert!(announce.header.flags.leap61 && !announce.header.flags.leap59);
    }

    #[test]
    fn a_grandmaster_on_utc_announces_the_arb_timescale() {
        let first_announce = |arb: bool| {
            let mut config = MasterConfig::grandmaster(ClockIdentity([1; 8]), 0, 0);
            config.master_only = true;
            config.arb_timescale = arb;
            let mut m = PtpMaster::new(config, Time(0));
            m.handle_timeout(Time(0));
            std::iter::from_fn(|| m.poll_output())
                .find_map(|o| match o {
                    Output::Send { bytes, .. } => PtpMessage::decode(&bytes)
                        .ok()
                        .filter(|msg| matches!(msg.body, MessageBody::Announce(_))),
                    _ => None,
                })
                .expect("an Announce at start")
        };
        let ptp = first_announce(false).header.flags;
        assert!(ptp.ptp_timescale && ptp.current_utc_offset_valid);
        let arb = first_announce(true).header.flags;
        assert!(!arb.ptp_timescale && !arb.current_utc_offset_valid);
    }
}
