//! A PTP slave port with end-to-end two-step delay measurement, disciplining an
//! overlay clock through a servo.
//!
//! Timestamps arrive on the node's free-running base clock and are read through
//! the overlay, so t2 and t3 are on the disciplined clock exactly as a PHC-based
//! ptp4l sees them. offset = t2 − t1 − corr − delay; delay = [(t2 − t1) + (t4 − t3)
//! − corrections] / 2, filtered by a moving median.

use super::delay_filter::MovingMedian;
use super::servo::{PiConfig, PiServo, Servo, ServoReport, ServoState};
use super::wire::{
    DelayReqBody, FollowUpBody, Header, MessageBody, MessageType, PortIdentity, PtpMessage,
    SyncBody,
};
use crate::node::{Destination, DropReason, Output, PeerAddr, TxToken};
use crate::overlay_clock::OverlayClock;
use crate::time::{Nanos, ScaledNanos, Time, TimeInterval, WireTimestamp};
use std::collections::VecDeque;

#[derive(Clone, Debug, PartialEq)]
pub struct SlaveConfig {
    pub domain: u8,
    pub port_identity: PortIdentity,
    pub log_min_delay_req_interval: i8,
    /// Used for the servo's gains until the master's Sync says otherwise.
    pub log_sync_interval: i8,
    pub servo: PiConfig,
    pub delay_filter_length: usize,
    /// Send Delay_Req to the master's own address (ptp4l's hybrid_e2e) rather
    /// than to the multicast group.
    pub unicast_delay_req: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlaveCounters {
    pub syncs: u64,
    pub follow_ups: u64,
    pub delay_resps: u64,
    pub servo_updates: u64,
    pub steps: u64,
    pub malformed: u64,
    pub wrong_domain: u64,
    pub foreign_master: u64,
    pub unmatched: u64,
}

/// A received Sync waiting for its Follow_Up, or the other way round.
#[derive(Clone, Copy, Debug)]
enum SyncHalf {
    Sync {
        seq: u16,
        t2: Time,
        correction: TimeInterval,
    },
    FollowUp {
        seq: u16,
        t1: Time,
        correction: TimeInterval,
    },
}

/// A complete Sync exchange.
#[derive(Clone, Copy, Debug)]
struct SyncPair {
    t1: Time,
    t2: Time,
    correction: TimeInterval,
}

#[derive(Clone, Copy, Debug)]
struct DelayRequest {
    seq: u16,
    token: u64,
    t3: Option<Time>,
}

pub struct PtpSlave {
    config: SlaveConfig,
    clock: OverlayClock,
    servo: PiServo,
    servo_state: ServoState,
    delay_filter: MovingMedian,
    path_delay: Option<ScaledNanos>,
    master: Option<PortIdentity>,
    master_addr: Option<PeerAddr>,
    half: Option<SyncHalf>,
    last_sync: Option<SyncPair>,
    delay_req: Option<DelayRequest>,
    next_delay_req: Option<Time>,
    delay_req_seq: u16,
    next_token: u64,
    outputs: VecDeque<Output>,
    counters: SlaveCounters,
}

impl PtpSlave {
    /// A slave whose disciplined clock starts equal to its base clock.
    pub fn new(config: SlaveConfig) -> Self {
        let servo = PiServo::new(
            config.servo,
            Nanos::from_log2_secs(config.log_sync_interval),
        );
        PtpSlave {
            delay_filter: MovingMedian::new(config.delay_filter_length),
            config,
            clock: OverlayClock::identity(),
            servo,
            servo_state: ServoState::Unlocked,
            path_delay: None,
            master: None,
            master_addr: None,
            half: None,
            last_sync: None,
            delay_req: None,
            next_delay_req: None,
            delay_req_seq: 0,
            next_token: 0,
            outputs: VecDeque::new(),
            counters: SlaveCounters::default(),
        }
    }

    /// The disciplined clock (PTP time as a function of base time).
    pub fn clock(&self) -> &OverlayClock {
        &self.clock
    }
    pub fn servo_state(&self) -> ServoState {
        self.servo_state
    }
    pub fn counters(&self) -> SlaveCounters {
        self.counters
    }
    pub fn path_delay(&self) -> Option<Nanos> {
        self.path_delay.map(ScaledNanos::rounded)
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        self.next_delay_req
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    pub fn handle_timeout(&mut self, now: Time) {
        let Some(due) = self.next_delay_req else {
            return;
        };
        if now < due {
            return;
        }
        self.send_delay_req(now);
        let interval = Nanos::from_log2_secs(self.config.log_min_delay_req_interval);
        let mut next = due + interval;
        while next <= now {
            next += interval;
        }
        self.next_delay_req = Some(next);
    }

    pub fn handle_packet(&mut self, now: Time, from: PeerAddr, bytes: &[u8], rx: Time) {
        let msg = match PtpMessage::decode(bytes) {
            Ok(m) => m,
            Err(_) => {
                self.counters.malformed += 1;
                self.outputs
                    .push_back(Output::Dropped(DropReason::Malformed));
                return;
            }
        };
        if msg.header.domain_number != self.config.domain {
            self.counters.wrong_domain += 1;
            self.outputs
                .push_back(Output::Dropped(DropReason::WrongDomain));
            return;
        }
        let source = msg.header.source_port_identity;
        match &msg.body {
            MessageBody::Announce(_) => {
                // Until the BMCA arrives, the first master heard is followed.
                self.master.get_or_insert(source);
            }
            MessageBody::Sync(body) => {
                if self.accept_master(source) {
                    self.master_addr = Some(from);
                    self.handle_sync(now, &msg.header, body, rx);
                }
            }
            MessageBody::FollowUp(body) => {
                if self.accept_master(source) {
                    self.handle_follow_up(now, &msg.header, body);
                }
            }
            MessageBody::DelayResp(body) => {
                if self.accept_master(source)
                    && body.requesting_port_identity == self.config.port_identity
                {
                    let t4 = body.receive_timestamp;
                    self.handle_delay_resp(&msg.header, t4);
                }
            }
            // Other slaves' Delay_Req on a multicast network.
            MessageBody::DelayReq(_) => {}
        }
    }

    pub fn handle_tx_timestamp(&mut self, token: TxToken, tx: Time) {
        if let Some(req) = &mut self.delay_req
            && req.token == token.id()
        {
            req.t3 = Some(self.clock.time_at(tx));
        }
    }

    fn accept_master(&mut self, source: PortIdentity) -> bool {
        let m = *self.master.get_or_insert(source);
        if m != source {
            self.counters.foreign_master += 1;
            return false;
        }
        true
    }

    fn handle_sync(&mut self, now: Time, header: &Header, body: &SyncBody, rx: Time) {
        self.counters.syncs += 1;
        self.servo
            .set_sync_interval(Nanos::from_log2_secs(header.log_message_interval));
        if self.next_delay_req.is_none() {
            self.next_delay_req = Some(now);
        }
        let t2 = self.clock.time_at(rx);
        let seq = header.sequence_id;
        if !header.flags.two_step {
            let Some(t1) = body.origin_timestamp.to_time() else {
                self.counters.malformed += 1;
                return;
            };
            self.complete_sync(now, t1, t2, header.correction);
            return;
        }
        match self.half.take() {
            Some(SyncHalf::FollowUp {
                seq: s,
                t1,
                correction,
            }) if s == seq => {
                let total = TimeInterval(correction.0.saturating_add(header.correction.0));
                self.complete_sync(now, t1, t2, total);
            }
            _ => {
                self.half = Some(SyncHalf::Sync {
                    seq,
                    t2,
                    correction: header.correction,
                })
            }
        }
    }

    fn handle_follow_up(&mut self, now: Time, header: &Header, body: &FollowUpBody) {
        self.counters.follow_ups += 1;
        let Some(t1) = body.precise_origin_timestamp.to_time() else {
            self.counters.malformed += 1;
            return;
        };
        let seq = header.sequence_id;
        match self.half.take() {
            Some(SyncHalf::Sync {
                seq: s,
                t2,
                correction,
            }) if s == seq => {
                let total = TimeInterval(correction.0.saturating_add(header.correction.0));
                self.complete_sync(now, t1, t2, total);
            }
            other => {
                // A Follow_Up ahead of its Sync is kept; a stale Sync is dropped.
                if let Some(SyncHalf::Sync { .. }) = other {
                    self.counters.unmatched += 1;
                }
                self.half = Some(SyncHalf::FollowUp {
                    seq,
                    t1,
                    correction: header.correction,
                });
            }
        }
    }

    fn handle_delay_resp(&mut self, header: &Header, t4: WireTimestamp) {
        self.counters.delay_resps += 1;
        let Some(req) = self.delay_req else {
            self.counters.unmatched += 1;
            return;
        };
        if req.seq != header.sequence_id {
            self.counters.unmatched += 1;
            return;
        }
        let (Some(t3), Some(t4), Some(sync)) = (req.t3, t4.to_time(), self.last_sync) else {
            self.counters.unmatched += 1;
            return;
        };
        self.delay_req = None;
        let raw = (ScaledNanos::from_nanos(sync.t2 - sync.t1) + ScaledNanos::from_nanos(t4 - t3)
            - ScaledNanos(sync.correction.scaled())
            - ScaledNanos(header.correction.scaled()))
        .half();
        self.path_delay = Some(self.delay_filter.push(raw));
    }

    fn complete_sync(&mut self, now: Time, t1: Time, t2: Time, correction: TimeInterval) {
        self.last_sync = Some(SyncPair { t1, t2, correction });
        let Some(delay) = self.path_delay else {
            return;
        };
        let offset =
            (ScaledNanos::from_nanos(t2 - t1) - ScaledNanos(correction.scaled()) - delay).rounded();
        let decision = self.servo.sample(offset, t2, 1.0);
        self.counters.servo_updates += 1;
        self.servo_state = decision.state;
        if decision.state != ServoState::Unlocked {
            // The servo's frequency is bounded well inside what the overlay takes.
            let _ = self.clock.set_frequency_ppb(now, decision.frequency_ppb);
        }
        if let Some(step) = decision.step {
            self.clock.step(now, step);
            self.counters.steps += 1;
            // Timestamps taken before the step no longer describe this clock.
            self.last_sync = None;
            self.delay_req = None;
        }
        self.outputs.push_back(Output::Servo(ServoReport {
            at: self.clock.time_at(now),
            offset,
            state: decision.state,
            frequency_ppb: self.clock.frequency_ppb(),
            path_delay: delay.rounded(),
        }));
    }

    fn send_delay_req(&mut self, now: Time) {
        let seq = self.delay_req_seq;
        self.delay_req_seq = self.delay_req_seq.wrapping_add(1);
        let header = Header::new(
            MessageType::DelayReq,
            self.config.domain,
            self.config.port_identity,
            seq,
            0x7f,
        );
        let msg = PtpMessage::new(
            header,
            MessageBody::DelayReq(DelayReqBody {
                origin_timestamp: WireTimestamp::from_time(self.clock.time_at(now)),
            }),
        );
        let token = self.next_token;
        self.next_token += 1;
        self.delay_req = Some(DelayRequest {
            seq,
            token,
            t3: None,
        });
        let to = match self.master_addr {
            Some(addr) if self.config.unicast_delay_req => Destination::Unicast(addr),
            _ => Destination::Multicast,
        };
        self.outputs.push_back(Output::Send {
            to,
            event: true,
            bytes: msg.to_bytes(),
            token: Some(TxToken::new(token)),
        });
    }
}
