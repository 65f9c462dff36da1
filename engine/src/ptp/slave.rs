//! A PTP slave port with end-to-end two-step delay measurement, disciplining an
//! overlay clock through a servo.
//!
//! Timestamps arrive on the node's free-running base clock and are read through
//! the overlay, so t2 and t3 are on the disciplined clock exactly as a PHC-based
//! ptp4l sees them. offset = t2 − t1 − corr − delay; delay = [(t2 − t1) + (t4 − t3)
//! − corrections] / 2, filtered by a moving median.

use super::discipline::{
    self, ClockDiscipline, ClockReading, DelaySample, DelayWeighting, ServoConfig, SyncSample,
    Update,
};
use super::servo::{ServoReport, ServoState};
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
    pub servo: ServoConfig,
    pub delay_filter_length: usize,
    pub delay_weighting: DelayWeighting,
    /// Sync intervals without a Sync before the port holds its frequency.
    pub sync_receipt_timeout: u8,
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
    pub holdovers: u64,
}

/// A received Sync waiting for its Follow_Up, or the other way round.
#[derive(Clone, Copy, Debug)]
enum SyncHalf {
    Sync {
        seq: u16,
        t2: Time,
        t2_base: Time,
        correction: TimeInterval,
    },
    FollowUp {
        seq: u16,
        t1: Time,
        correction: TimeInterval,
    },
}

#[derive(Clone, Copy, Debug)]
struct DelayRequest {
    seq: u16,
    token: u64,
    /// Transmit time on the disciplined and on the base clock.
    t3: Option<(Time, Time)>,
}

pub struct PtpSlave {
    config: SlaveConfig,
    clock: OverlayClock,
    discipline: Box<dyn ClockDiscipline + Send>,
    servo_state: ServoState,
    sync_interval: Nanos,
    /// Base time after which a silent master puts the port in holdover.
    sync_deadline: Option<Time>,
    in_holdover: bool,
    master: Option<PortIdentity>,
    master_addr: Option<PeerAddr>,
    half: Option<SyncHalf>,
    /// Base time of the packet being handled.
    last_rx_base: Time,
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
        let sync_interval = Nanos::from_log2_secs(config.log_sync_interval);
        PtpSlave {
            discipline: discipline::build(
                &config.servo,
                sync_interval,
                config.delay_filter_length,
                config.delay_weighting,
            ),
            config,
            clock: OverlayClock::identity(),
            servo_state: ServoState::Unlocked,
            sync_interval,
            sync_deadline: None,
            in_holdover: false,
            master: None,
            master_addr: None,
            half: None,
            last_rx_base: Time::ZERO,
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
        self.discipline.path_delay()
    }
    pub fn in_holdover(&self) -> bool {
        self.in_holdover
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        [self.next_delay_req, self.sync_deadline]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    pub fn handle_timeout(&mut self, now: Time) {
        if self.sync_deadline.is_some_and(|d| now >= d) {
            self.enter_holdover(now);
        }
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
        self.last_rx_base = now;
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
            MessageBody::Sync(body) if self.accept_master(source) => {
                self.master_addr = Some(from);
                self.handle_sync(now, &msg.header, body, rx);
            }
            MessageBody::FollowUp(body) if self.accept_master(source) => {
                self.handle_follow_up(now, &msg.header, body);
            }
            MessageBody::DelayResp(body)
                if self.accept_master(source)
                    && body.requesting_port_identity == self.config.port_identity =>
            {
                self.handle_delay_resp(&msg.header, body.receive_timestamp);
            }
            // A foreign master (counted), other slaves' Delay_Req on a
            // multicast network, and what this port does not speak yet.
            _ => {}
        }
    }

    pub fn handle_tx_timestamp(&mut self, token: TxToken, tx: Time) {
        if let Some(req) = &mut self.delay_req
            && req.token == token.id()
        {
            req.t3 = Some((self.clock.time_at(tx), tx));
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

    /// The master fell silent: hold the best frequency estimate, stop asking
    /// for delays, and wait.
    fn enter_holdover(&mut self, now: Time) {
        self.sync_deadline = None;
        self.next_delay_req = None;
        self.delay_req = None;
        if self.in_holdover {
            return;
        }
        self.in_holdover = true;
        self.counters.holdovers += 1;
        if let Some(ppb) = self.discipline.holdover_frequency() {
            let _ = self.clock.set_frequency_ppb(now, ppb);
        }
    }

    fn handle_sync(&mut self, now: Time, header: &Header, body: &SyncBody, rx: Time) {
        self.counters.syncs += 1;
        let interval = Nanos::from_log2_secs(header.log_message_interval.clamp(-7, 7));
        if interval != self.sync_interval {
            self.sync_interval = interval;
            self.discipline.set_sync_interval(interval);
        }
        self.in_holdover = false;
        if self.config.sync_receipt_timeout > 0 {
            self.sync_deadline =
                Some(now + Nanos(interval.0 * self.config.sync_receipt_timeout as i64));
        }
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
            self.complete_sync(now, t1, (t2, rx), header.correction);
            return;
        }
        match self.half.take() {
            Some(SyncHalf::FollowUp {
                seq: s,
                t1,
                correction,
            }) if s == seq => {
                let total = TimeInterval(correction.0.saturating_add(header.correction.0));
                self.complete_sync(now, t1, (t2, rx), total);
            }
            _ => {
                self.half = Some(SyncHalf::Sync {
                    seq,
                    t2,
                    t2_base: rx,
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
                t2_base,
                correction,
            }) if s == seq => {
                let total = TimeInterval(correction.0.saturating_add(header.correction.0));
                self.complete_sync(now, t1, (t2, t2_base), total);
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
        let (Some((t3, t3_base)), Some(t4)) = (req.t3, t4.to_time()) else {
            self.counters.unmatched += 1;
            return;
        };
        self.delay_req = None;
        let sample = DelaySample {
            t3,
            t3_base,
            t4,
            correction: ScaledNanos(header.correction.scaled()),
        };
        let now = self.last_rx_base;
        if let Some(update) = self.discipline.delay(self.reading(now), sample) {
            self.apply(now, update);
        }
    }

    fn reading(&self, base: Time) -> ClockReading {
        ClockReading {
            base,
            disciplined: self.clock.time_at(base),
        }
    }

    /// `t2` on the disciplined and on the base clock.
    fn complete_sync(&mut self, now: Time, t1: Time, t2: (Time, Time), correction: TimeInterval) {
        let sample = SyncSample {
            t1,
            t2: t2.0,
            t2_base: t2.1,
            correction: ScaledNanos(correction.scaled()),
        };
        if let Some(update) = self.discipline.sync(self.reading(now), sample) {
            self.apply(now, update);
        }
    }

    /// Applies a discipline's decision to the overlay clock at base time `now`.
    fn apply(&mut self, now: Time, update: Update) {
        let decision = update.decision;
        self.counters.servo_updates += 1;
        self.servo_state = decision.state;
        if decision.state != ServoState::Unlocked {
            // Disciplines clamp to ±900 ppm, well inside what the overlay takes.
            let _ = self.clock.set_frequency_ppb(now, decision.frequency_ppb);
        }
        if let Some(step) = decision.step {
            self.clock.step(now, step);
            self.counters.steps += 1;
            // A Delay_Req stamped before the step no longer describes this clock.
            self.delay_req = None;
        }
        self.outputs.push_back(Output::Servo(ServoReport {
            at: self.clock.time_at(now),
            offset: update.offset,
            state: decision.state,
            frequency_ppb: self.clock.frequency_ppb(),
            path_delay: update.path_delay,
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
