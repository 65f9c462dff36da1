//! A PTP slave port with end-to-end two-step delay measurement, disciplining an
//! overlay clock through a servo.
//!
//! Timestamps arrive on the node's free-running base clock and are read through
//! the overlay, so t2 and t3 are on the disciplined clock exactly as a PHC-based
//! ptp4l sees them. offset = t2 − t1 − corr − delay; delay = [(t2 − t1) + (t4 − t3)
//! − corrections] / 2, filtered by a moving median.

use super::bmca::{ForeignMasters, MasterDataset};
use super::discipline::{
    self, ClockDiscipline, ClockReading, DelaySample, DelayWeighting, PeerDelaySample, ServoConfig,
    SyncSample, Update,
};
use super::port_state::PortState;
use super::security::{AuthError, ReplayError, ReplayWindow, SecurityAssociation, decode};
use super::servo::{ServoReport, ServoState};
use super::wire::{
    ClockIdentity, DelayReqBody, FollowUpBody, Header, MessageBody, MessageType, PdelayReqBody,
    PortIdentity, PtpMessage, SyncBody,
};
use crate::node::{Alert, AlertKind, Destination, DropReason, Output, PeerAddr, TxToken};
use crate::output_clock::{OutputClock, ResyncPolicy};
use crate::time::{Nanos, ScaledNanos, Time, TimeInterval, WireTimestamp};
use std::collections::VecDeque;
use std::collections::{BTreeMap, BTreeSet};

/// A master silent longer than this may have rebooted and restarted its
/// sequence numbers: what was accepted from it is forgotten when it is back.
const RESTART_SILENCE: Nanos = Nanos::from_secs(60);

/// A port whose servo says locked (s2) counts as locked only while none of
/// its last `LOCK_WINDOW` measured offsets is beyond this: a servo fed
/// outliers (Syncs held back by reordering, a stamp gone wrong) can stay in
/// s2 while its clock swings by milliseconds, and a frame stamped then must
/// not claim a lock it does not have.
pub(crate) const LOCKED_OFFSET_BOUND: Nanos = Nanos::from_millis(1);
const LOCK_WINDOW: usize = 8;

/// The drift `coasting_uncertainty` allows, ppm: the ±100 ppm of the
/// cheapest crystal oscillators.
const COAST_DRIFT_PPM: i64 = 100;

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
    /// Masters this port may follow; empty: any. A master not on the list is
    /// ignored however good its Announce, and every message from it counted.
    pub acceptable_masters: Vec<ClockIdentity>,
    /// Announce intervals without an Announce before a master is forgotten.
    pub announce_receipt_timeout: u8,
    /// Authenticate every message (IEEE 1588-2019 §16.14), sign our own, and
    /// reject replays.
    pub security: Option<SecurityAssociation>,
    pub delay_mechanism: DelayMechanism,
    /// How a step asked for after the first lock reaches the output.
    pub resync: ResyncPolicy,
}

impl SlaveConfig {
    /// ptp4l's defaults (domain 0, 1 s intervals, moving median of 10, hybrid
    /// E2E, receipt timeouts of 3) for a port and a servo.
    pub fn new(port_identity: PortIdentity, servo: ServoConfig) -> Self {
        SlaveConfig {
            domain: 0,
            port_identity,
            log_min_delay_req_interval: 0,
            log_sync_interval: 0,
            servo,
            delay_filter_length: 10,
            delay_weighting: DelayWeighting::None,
            sync_receipt_timeout: 3,
            unicast_delay_req: true,
            acceptable_masters: Vec::new(),
            announce_receipt_timeout: 3,
            security: None,
            delay_mechanism: DelayMechanism::E2E,
            resync: ResyncPolicy::Step,
        }
    }
}

/// How the path delay is measured (IEEE 1588-2019 §11.3, §11.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DelayMechanism {
    /// End to end: Delay_Req to the master, Delay_Resp back.
    #[default]
    E2E,
    /// Peer to peer: Pdelay_Req to the link peer, which answers with
    /// Pdelay_Resp and Pdelay_Resp_Follow_Up; upstream link delays arrive in
    /// the Sync's correction field from transparent clocks.
    P2P,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlaveCounters {
    pub syncs: u64,
    pub follow_ups: u64,
    pub delay_resps: u64,
    pub servo_updates: u64,
    pub steps: u64,
    /// Steps after the first lock taken as a graceful resync (slewed).
    pub slewed_steps: u64,
    pub malformed: u64,
    pub wrong_domain: u64,
    /// Event messages from a master other than the one the BMCA selected.
    pub foreign_master: u64,
    /// How often the selected master changed after the first selection.
    pub gm_changes: u64,
    pub unmatched: u64,
    pub holdovers: u64,
    pub not_acceptable: u64,
    pub auth_failures: u64,
    pub replays: u64,
}

/// What the master says of UTC: needed to label frames with UTC timecode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtcInfo {
    /// TAI − UTC in seconds.
    pub offset_s: i16,
    /// A leap second is inserted (leap61) or deleted (leap59) at the end of
    /// the current UTC day.
    pub leap61: bool,
    pub leap59: bool,
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

/// An outstanding Pdelay_Req: t1 (on both clocks), then t2 and t4 from the
/// Pdelay_Resp, then t3 from its Follow_Up.
#[derive(Clone, Copy, Debug)]
struct PeerDelayRequest {
    seq: u16,
    token: u64,
    t1: Option<(Time, Time)>,
    resp: Option<(Time, Time, TimeInterval)>,
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
    clock: OutputClock,
    discipline: Box<dyn ClockDiscipline + Send>,
    servo_state: ServoState,
    /// The last measured offset from the master, and when (base time).
    last_offset: Option<(Nanos, Time)>,
    /// The time bound at the last locked update that did not step the
    /// clock, and when (see `coasting_uncertainty`).
    last_locked: Option<(Nanos, Time)>,
    /// Whether the port has ever been locked (`lock_state`).
    has_locked: bool,
    /// The last `LOCK_WINDOW` measured offsets, oldest first.
    recent_offsets: VecDeque<Nanos>,
    sync_interval: Nanos,
    /// Base time after which a silent master puts the port in holdover.
    sync_deadline: Option<Time>,
    in_holdover: bool,
    /// The masters heard, and the one the BMCA selected.
    foreign: ForeignMasters,
    master: Option<PortIdentity>,
    /// The last master followed, through any gap with none.
    last_master: Option<PortIdentity>,
    /// Since when no master has been followed (base time).
    masterless_since: Option<Time>,
    replay: ReplayWindow,
    /// Per source, the latest time of sending accepted from it (see `fresh`).
    newest_sent: BTreeMap<PortIdentity, Time>,
    /// Per source, the time of sending of the message that showed it had
    /// restarted.
    restarted_at: BTreeMap<PortIdentity, Time>,
    utc: Option<UtcInfo>,
    /// (kind, source) pairs already alerted.
    alerted: BTreeSet<(AlertKind, Option<PortIdentity>)>,
    master_addr: Option<PeerAddr>,
    half: Option<SyncHalf>,
    /// The sequenceId of the last Sync measured: a copy of it (the network
    /// duplicated it) would be measured again with the copy's own, later
    /// arrival, an offset off by however late the copy came.
    measured_seq: Option<u16>,
    /// Base time of the packet being handled.
    last_rx_base: Time,
    delay_req: Option<DelayRequest>,
    pdelay_req: Option<PeerDelayRequest>,
    next_delay_req: Option<Time>,
    delay_req_seq: u16,
    next_token: u64,
    outputs: VecDeque<Output>,
    counters: SlaveCounters,
}

/// When the master sent the message, where it says (Announce's
/// originTimestamp, Follow_Up's preciseOriginTimestamp); a zero stamp (as
/// linuxptp's Announces carry) says nothing.
fn sending_time(msg: &PtpMessage) -> Option<Time> {
    let stamp = match &msg.body {
        MessageBody::Announce(b) => b.origin_timestamp,
        MessageBody::FollowUp(b) => b.precise_origin_timestamp,
        _ => return None,
    };
    stamp.to_time().filter(|t| *t > Time::ZERO)
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
            clock: OutputClock::identity(),
            servo_state: ServoState::Unlocked,
            last_offset: None,
            last_locked: None,
            has_locked: false,
            recent_offsets: VecDeque::new(),
            sync_interval,
            sync_deadline: None,
            in_holdover: false,
            masterless_since: None,
            foreign: ForeignMasters::default(),
            master: None,
            last_master: None,
            replay: ReplayWindow::default(),
            newest_sent: BTreeMap::new(),
            restarted_at: BTreeMap::new(),
            utc: None,
            alerted: BTreeSet::new(),
            master_addr: None,
            half: None,
            measured_seq: None,
            last_rx_base: Time::ZERO,
            delay_req: None,
            pdelay_req: None,
            next_delay_req: None,
            delay_req_seq: 0,
            next_token: 0,
            outputs: VecDeque::new(),
            counters: SlaveCounters::default(),
        }
    }

    /// The clock this port presents (PTP time as a function of base time):
    /// the disciplined clock, or while a graceful resync closes, trailing it.
    pub fn clock(&self) -> &OutputClock {
        &self.clock
    }
    pub fn servo_state(&self) -> ServoState {
        self.servo_state
    }

    /// Whether the clock this port presents is locked: the servo in s2, and
    /// each of the last `LOCK_WINDOW` offsets within `LOCKED_OFFSET_BOUND`.
    /// The window holds the offsets measured as evidence (`Update::evidence`:
    /// not a packet its discipline judged held in a queue), and any move of
    /// the model beyond the bound (`Update::steering`), each less the lag of
    /// a graceful resync still closing. A whole window, not one offset: right after
    /// the first step one packet measures near zero whatever the truth
    /// (swarm seed 96). Never in holdover: nothing measures the clock then,
    /// and the frequency held is only as good as the servo's last
    /// estimate, which a disturbance just before the master fell silent can
    /// leave thousands of ppm off (seed
    /// 151). What frames are flagged with; `coasting_uncertainty` is the
    /// bound that lasts through holdover.
    pub fn lock_state(&self) -> ServoState {
        if self.servo_state == ServoState::Locked
            && (self.in_holdover
                || self.recent_offsets.len() < LOCK_WINDOW
                || self.largest_recent_offset() > LOCKED_OFFSET_BOUND)
        {
            return ServoState::Unlocked;
        }
        self.servo_state
    }

    fn largest_recent_offset(&self) -> Nanos {
        self.recent_offsets
            .iter()
            .map(|o| o.abs())
            .max()
            .unwrap_or(Nanos::ZERO)
    }

    /// How far a time read from this port's clock at base time `now` may
    /// be from the master's: twice the largest recent measured offset (at
    /// least 1 µs), growing by 1 µs per second (a 1 ppm frequency error)
    /// since the last was measured. `None` while not locked (`lock_state`):
    /// no bound is known.
    pub fn time_uncertainty(&self, now: Time) -> Option<Nanos> {
        if self.lock_state() != ServoState::Locked {
            return None;
        }
        let (_, at) = self.last_offset?;
        let since = (now - at).max(Nanos::ZERO);
        Some((self.largest_recent_offset() * 2).max(Nanos::from_micros(1)) + Nanos(since.0 / 1_000))
    }
    /// Like `time_uncertainty`, and also while the port is unlocked after
    /// having been locked (holdover, a new master being learnt): the bound it
    /// last had, growing at `COAST_DRIFT_PPM`, the worst free-running
    /// oscillator a node may have. `None` if it never locked or has stepped
    /// since. Not what frames are flagged with: a bound for sanity checks
    /// that must not lapse while the master is away.
    pub fn coasting_uncertainty(&self, now: Time) -> Option<Nanos> {
        self.time_uncertainty(now).or_else(|| {
            let (bound, at) = self.last_locked?;
            let since = (now - at).max(Nanos::ZERO);
            Some(bound + Nanos(since.0 / 1_000_000 * COAST_DRIFT_PPM))
        })
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
    /// The port's state, as ptp4l would report it. In holdover the port has
    /// lost its master: ptp4l's FAULTY is the nearest of its names.
    pub fn port_state(&self) -> PortState {
        match (self.master, self.in_holdover, self.servo_state) {
            (_, true, _) => PortState::Faulty,
            (None, false, _) => PortState::Listening,
            (Some(_), false, ServoState::Locked) => PortState::Slave,
            (Some(_), false, _) => PortState::Uncalibrated,
        }
    }

    /// The dataset of the master this port follows, as its Announces state it.
    pub fn parent(&self) -> Option<MasterDataset> {
        self.foreign
            .best()
            .filter(|d| Some(d.sender) == self.master)
    }

    /// TAI − UTC and the pending leap, as the followed master announces them.
    pub fn utc(&self) -> Option<UtcInfo> {
        self.utc
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        [
            self.next_delay_req,
            self.sync_deadline,
            self.foreign
                .next_expiry(self.config.announce_receipt_timeout),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    pub fn handle_timeout(&mut self, now: Time) {
        if self
            .foreign
            .next_expiry(self.config.announce_receipt_timeout)
            .is_some_and(|d| now >= d)
        {
            self.foreign
                .expire(now, self.config.announce_receipt_timeout);
            self.select_master(now);
        }
        if self.sync_deadline.is_some_and(|d| now >= d) {
            self.enter_holdover(now);
        }
        let Some(due) = self.next_delay_req else {
            return;
        };
        if now < due {
            return;
        }
        match self.config.delay_mechanism {
            DelayMechanism::E2E => self.send_delay_req(now),
            DelayMechanism::P2P => self.send_pdelay_req(now),
        }
        let interval = Nanos::from_log2_secs(self.config.log_min_delay_req_interval);
        let mut next = due + interval;
        while next <= now {
            next += interval;
        }
        self.next_delay_req = Some(next);
    }

    pub fn handle_packet(&mut self, now: Time, from: PeerAddr, bytes: &[u8], rx: Time) {
        self.last_rx_base = now;
        let Some(msg) = self.admit(bytes) else {
            return;
        };
        let source = msg.header.source_port_identity;
        match &msg.body {
            MessageBody::Announce(body) => {
                let interval = Nanos::from_log2_secs(msg.header.log_message_interval.clamp(-7, 7));
                self.foreign
                    .record(MasterDataset::from_announce(body, source), interval, now);
                self.select_master(now);
                if self.master == Some(source) && msg.header.flags.current_utc_offset_valid {
                    // UTC bookkeeping only: PTP time is TAI and never jumps,
                    // whatever the leap flags say.
                    self.utc = Some(UtcInfo {
                        offset_s: body.current_utc_offset,
                        leap61: msg.header.flags.leap61,
                        leap59: msg.header.flags.leap59,
                    });
                }
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
            MessageBody::PdelayResp(body)
                if body.requesting_port_identity == self.config.port_identity =>
            {
                self.handle_pdelay_resp(&msg.header, body.request_receipt_timestamp, rx);
            }
            MessageBody::PdelayRespFollowUp(body)
                if body.requesting_port_identity == self.config.port_identity =>
            {
                self.handle_pdelay_resp_follow_up(&msg.header, body.response_origin_timestamp);
            }
            // A foreign master (counted), other slaves' Delay_Req on a
            // multicast network, and what this port does not speak yet.
            _ => {}
        }
    }

    pub fn handle_tx_timestamp(&mut self, token: TxToken, tx: Time) {
        if let Some(req) = &mut self.pdelay_req
            && req.token == token.id()
        {
            req.t1 = Some((self.clock.steered().time_at(tx), tx));
            return;
        }
        if let Some(req) = &mut self.delay_req
            && req.token == token.id()
        {
            req.t3 = Some((self.clock.steered().time_at(tx), tx));
        }
    }

    /// Decodes a packet and applies every rule a message must pass before the
    /// port acts on it: authentication, domain, and for what comes from masters
    /// (Announce, Sync, Follow_Up, our Delay_Resp) the acceptable-master list,
    /// and for Announce, Sync and Follow_Up the replay window. Delay_Resp and
    /// the peer-delay answers are matched to this port's own request by
    /// sequence id instead. Whatever fails is counted, dropped and alerted.
    fn admit(&mut self, bytes: &[u8]) -> Option<PtpMessage> {
        let msg = match decode(self.config.security.as_ref(), bytes) {
            Ok(m) => m,
            Err(AuthError::Malformed(_)) => {
                self.counters.malformed += 1;
                self.drop_and_alert(DropReason::Malformed, AlertKind::Malformed, None);
                return None;
            }
            Err(_) => {
                self.counters.auth_failures += 1;
                let source = Header::decode(bytes).ok().map(|h| h.source_port_identity);
                self.drop_and_alert(
                    DropReason::Unauthenticated,
                    AlertKind::AuthenticationFailed,
                    source,
                );
                return None;
            }
        };
        if msg.header.domain_number != self.config.domain {
            self.counters.wrong_domain += 1;
            self.outputs
                .push_back(Output::Dropped(DropReason::WrongDomain));
            return None;
        }
        let source = msg.header.source_port_identity;
        let answer_to_us = matches!(&msg.body,
            MessageBody::DelayResp(b) if b.requesting_port_identity == self.config.port_identity);
        let to_this_port = answer_to_us
            || matches!(
                &msg.body,
                MessageBody::Announce(_) | MessageBody::Sync(_) | MessageBody::FollowUp(_)
            );
        if !to_this_port {
            return Some(msg);
        }
        let acceptable = &self.config.acceptable_masters;
        if !acceptable.is_empty() && !acceptable.contains(&source.clock_identity) {
            self.counters.not_acceptable += 1;
            self.drop_and_alert(
                DropReason::NotAcceptable,
                AlertKind::UnacceptableMaster,
                Some(source),
            );
            return None;
        }
        // With authentication on, a valid signature is not enough: a captured
        // message sent again must not be taken for a new one.
        // A Delay_Resp's sequenceId is ours, not the master's: it is fresh
        // when it answers the request outstanding, which handling checks and
        // consumes. Judged by the master's window, the answers to a restarted
        // port's requests (numbered from zero again) would look older than a
        // replayed answer to its previous run, and be refused for good.
        if self.config.security.is_some() && !answer_to_us && !self.fresh(&msg) {
            self.counters.replays += 1;
            self.drop_and_alert(DropReason::Replay, AlertKind::Replay, Some(source));
            return None;
        }
        Some(msg)
    }

    /// Whether an authenticated message is new, by its sequenceId and, for
    /// the messages that carry their master's time of sending (Announce,
    /// Follow_Up), by that time:
    /// - a sequenceId before the window's is a replay, unless the message
    ///   was sent after everything accepted from its source: then the
    ///   source restarted, numbering from zero, and its window starts again
    ///   from this message (no minute of silence needed, see
    ///   `RESTART_SILENCE`);
    /// - after a restart, a message sent before it is a replay whatever its
    ///   sequenceId (captured before the restart, numbered past the new run).
    fn fresh(&mut self, msg: &PtpMessage) -> bool {
        let source = msg.header.source_port_identity;
        let sent = sending_time(msg);
        if let (Some(t), Some(&restart)) = (sent, self.restarted_at.get(&source))
            && t < restart
        {
            return false;
        }
        match self.replay.check_header(&msg.header) {
            Ok(()) => {}
            Err(ReplayError::Old { .. })
                if sent.is_some_and(|t| self.newest_sent.get(&source).is_some_and(|&n| t > n)) =>
            {
                self.replay.forget(source);
                self.restarted_at
                    .insert(source, sent.expect("checked above"));
            }
            Err(_) => return false,
        }
        self.replay
            .record(source, msg.header.message_type, msg.header.sequence_id);
        if let Some(t) = sent {
            let newest = self.newest_sent.entry(source).or_insert(t);
            *newest = (*newest).max(t);
        }
        true
    }

    /// Counts a drop; alerts the first time a kind of trouble comes from a
    /// source, so an attack raises one alert, not thousands.
    fn drop_and_alert(
        &mut self,
        reason: DropReason,
        kind: AlertKind,
        source: Option<PortIdentity>,
    ) {
        self.outputs.push_back(Output::Dropped(reason));
        if self.alerted.insert((kind, source)) {
            self.outputs
                .push_back(Output::Alert(Alert { kind, source }));
        }
    }

    fn alert(&mut self, kind: AlertKind, source: Option<PortIdentity>) {
        self.outputs
            .push_back(Output::Alert(Alert { kind, source }));
    }

    fn accept_master(&mut self, source: PortIdentity) -> bool {
        if self.master != Some(source) {
            self.counters.foreign_master += 1;
            return false;
        }
        true
    }

    /// Runs the BMCA over the foreign masters and follows its choice. A new
    /// master's measurements start from nothing; the clock keeps its rate.
    fn select_master(&mut self, now: Time) {
        let best = self.foreign.best().map(|d| d.sender);
        if best == self.master {
            return;
        }
        // What the discipline learnt stays while the port is masterless, and
        // when the master it learnt it from is back within
        // `RESTART_SILENCE`: neither its time nor the path changed. A master
        // lost to three Announces missing in a row (2 % background loss
        // does it now and then) was re-learnt from nothing, a transient
        // over the lock threshold long after every fault (swarm seed 818).
        let long_silence = self
            .masterless_since
            .is_some_and(|since| now - since > RESTART_SILENCE);
        let relearn = best.is_some_and(|new| self.last_master != Some(new) || long_silence);
        if let Some(new) = best {
            if self.last_master.is_some_and(|old| old != new) {
                self.counters.gm_changes += 1;
                self.alert(AlertKind::MasterChanged, Some(new));
            }
            self.last_master = Some(new);
            // A master back after a long silence may have restarted, its
            // sequence numbers from zero: only then is what was accepted
            // from it forgotten. Forgetting on every re-selection would let
            // a message captured before a short outage and replayed after
            // it through as the first one heard.
            if long_silence {
                self.replay.forget(new);
            }
            self.masterless_since = None;
        } else if self.masterless_since.is_none() {
            self.masterless_since = Some(now);
        }
        self.master = best;
        self.utc = None;
        self.servo_state = ServoState::Unlocked;
        self.master_addr = None;
        self.half = None;
        self.measured_seq = None;
        self.delay_req = None;
        self.next_delay_req = None;
        self.recent_offsets.clear();
        if relearn {
            self.discipline.reset(self.clock.frequency_ppb());
        }
        if best.is_none() {
            self.enter_holdover(now);
        }
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
        self.alert(AlertKind::Holdover, self.master);
        match self.discipline.holdover_frequency() {
            Some(ppb) => {
                let _ = self.clock.set_frequency_ppb(now, ppb);
            }
            // Nothing trusted yet: what the discipline gathered before the
            // outage must not start it after. linuxptp's PI keeps its first
            // sample until a second one lands 0.016/ki later (37 s with
            // software stamps); one taken in the turmoil before the master
            // fell silent paired with one after it gives a frequency
            // hundreds of ppm off (swarm seed 344: +503 ppm from a sample
            // 19 ms off under reordering, then 200 s to settle).
            None => self.discipline.reset(self.clock.frequency_ppb()),
        }
    }

    fn handle_sync(&mut self, now: Time, header: &Header, body: &SyncBody, rx: Time) {
        self.counters.syncs += 1;
        if self.measured_seq == Some(header.sequence_id) {
            self.counters.unmatched += 1;
            return;
        }
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
        let t2 = self.clock.steered().time_at(rx);
        let seq = header.sequence_id;
        if !header.flags.two_step {
            let Some(t1) = body.origin_timestamp.to_time() else {
                self.counters.malformed += 1;
                return;
            };
            self.measured_seq = Some(seq);
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
                self.measured_seq = Some(seq);
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
        if self.measured_seq == Some(header.sequence_id) {
            self.counters.unmatched += 1;
            return;
        }
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
                self.measured_seq = Some(seq);
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
            disciplined: self.clock.steered().time_at(base),
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
        let acquiring = self.servo_state != ServoState::Locked;
        self.servo_state = decision.state;
        self.last_offset = Some((update.offset, now));
        if decision.state != ServoState::Unlocked {
            // Disciplines clamp to ptp4l's max_frequency (9e8 ppb), which is
            // what the overlay accepts.
            let _ = self.clock.set_frequency_ppb(now, decision.frequency_ppb);
        }
        // A clock being moved by more than the bound is not within it,
        // whatever the packet says: a model that just jumped (a reordered
        // packet taken for the path, swarm seed 315) steers milliseconds
        // while judging every packet that disagrees as queued.
        // What counts is the clock this port presents: while a graceful
        // resync closes, it trails the disciplined clock by the lag.
        let lag = self.clock.lag_at(now);
        let witness = if (update.steering - lag).abs() > LOCKED_OFFSET_BOUND {
            Some(update.steering - lag)
        } else {
            update.evidence.then_some(update.offset - lag)
        };
        if let Some(offset) = witness {
            if self.recent_offsets.len() == LOCK_WINDOW {
                self.recent_offsets.pop_front();
            }
            self.recent_offsets.push_back(offset);
        }
        if let Some(bound) = self.time_uncertainty(now) {
            self.last_locked = Some((bound, now));
            self.has_locked = true;
        }
        if let Some(step) = decision.step {
            // The step that ends the first acquisition sets the clock: what
            // was measured before it describes a clock never set, and the
            // lock rule starts over. Any later step (a new master, an
            // outlier, a clock gone wrong) keeps its offset in the window.
            if acquiring && !self.has_locked {
                self.recent_offsets.clear();
            }
            self.last_locked = None;
            // Once frames have gone out on this clock, a resync within the
            // limit slews them there instead of jumping.
            let policy = if self.has_locked {
                self.config.resync
            } else {
                ResyncPolicy::Step
            };
            if self.clock.resync(now, step, policy) {
                self.counters.slewed_steps += 1;
            } else {
                self.counters.steps += 1;
            }
            // A request stamped before the step no longer describes this clock.
            self.delay_req = None;
            self.pdelay_req = None;
        }
        self.outputs.push_back(Output::Servo(ServoReport {
            at: self.clock.time_at(now),
            offset: update.offset,
            state: decision.state,
            frequency_ppb: self.clock.frequency_ppb(),
            path_delay: update.path_delay,
        }));
    }

    fn handle_pdelay_resp(&mut self, header: &Header, t2: WireTimestamp, rx: Time) {
        let t4 = (self.clock.steered().time_at(rx), rx);
        let Some(req) = &mut self.pdelay_req else {
            self.counters.unmatched += 1;
            return;
        };
        match t2.to_time() {
            Some(t2) if req.seq == header.sequence_id => {
                req.resp = Some((t2, t4.0, header.correction));
            }
            _ => self.counters.unmatched += 1,
        }
    }

    fn handle_pdelay_resp_follow_up(&mut self, header: &Header, t3: WireTimestamp) {
        let Some(req) = self.pdelay_req else {
            self.counters.unmatched += 1;
            return;
        };
        let (Some((t1, _)), Some((t2, t4, resp_correction)), Some(t3)) =
            (req.t1, req.resp, t3.to_time())
        else {
            self.counters.unmatched += 1;
            return;
        };
        if req.seq != header.sequence_id {
            self.counters.unmatched += 1;
            return;
        }
        self.pdelay_req = None;
        self.counters.delay_resps += 1;
        let sample = PeerDelaySample {
            t1,
            t2,
            t3,
            t4,
            correction: ScaledNanos(resp_correction.scaled() + header.correction.scaled()),
        };
        let now = self.last_rx_base;
        if let Some(update) = self.discipline.peer_delay(self.reading(now), sample) {
            self.apply(now, update);
        }
    }

    /// Peer delay requests go to the link peer: the master in a flat network,
    /// the nearest transparent or boundary clock otherwise.
    fn send_pdelay_req(&mut self, now: Time) {
        let seq = self.delay_req_seq;
        self.delay_req_seq = self.delay_req_seq.wrapping_add(1);
        let header = Header::new(
            MessageType::PdelayReq,
            self.config.domain,
            self.config.port_identity,
            seq,
            self.config.log_min_delay_req_interval,
        );
        let msg = PtpMessage::new(
            header,
            MessageBody::PdelayReq(PdelayReqBody {
                origin_timestamp: WireTimestamp::from_time(self.clock.steered().time_at(now)),
            }),
        );
        let to = match self.master_addr {
            Some(addr) => Destination::Unicast(addr),
            None => Destination::Multicast,
        };
        let token = self.send_event(msg, to);
        self.pdelay_req = Some(PeerDelayRequest {
            seq,
            token,
            t1: None,
            resp: None,
        });
    }

    /// Sends an event message (signed when authentication is on) and returns
    /// the id of the transmit timestamp it is owed.
    fn send_event(&mut self, msg: PtpMessage, to: Destination) -> u64 {
        let token = self.next_token;
        self.next_token += 1;
        let bytes = match &self.config.security {
            Some(sa) => sa.sign(&msg),
            None => msg.to_bytes(),
        };
        self.outputs.push_back(Output::Send {
            port: 1,
            to,
            event: true,
            bytes,
            token: Some(TxToken::new(token)),
        });
        token
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
                origin_timestamp: WireTimestamp::from_time(self.clock.steered().time_at(now)),
            }),
        );
        let to = match self.master_addr {
            Some(addr) if self.config.unicast_delay_req => Destination::Unicast(addr),
            _ => Destination::Multicast,
        };
        let token = self.send_event(msg, to);
        self.delay_req = Some(DelayRequest {
            seq,
            token,
            t3: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ptp::servo::{PiConfig, ServoDecision};
    use crate::ptp::wire::AnnounceBody;

    fn port(id: u8) -> PortIdentity {
        PortIdentity {
            clock_identity: ClockIdentity([id; 8]),
            port_number: 1,
        }
    }

    fn slave(acceptable: Vec<ClockIdentity>) -> PtpSlave {
        PtpSlave::new(SlaveConfig {
            acceptable_masters: acceptable,
            ..SlaveConfig::new(port(9), ServoConfig::Pi(PiConfig::hardware()))
        })
    }

    fn sync_from(master: PortIdentity, seq: u16) -> Vec<u8> {
        let mut header = Header::new(MessageType::Sync, 0, master, seq, 0);
        header.flags.two_step = true;
        PtpMessage::new(
            header,
            MessageBody::Sync(SyncBody {
                origin_timestamp: WireTimestamp::default(),
            }),
        )
        .to_bytes()
    }

    fn announce_from(master: PortIdentity, priority1: u8) -> Vec<u8> {
        PtpMessage::new(
            Header::new(MessageType::Announce, 0, master, 0, 0),
            MessageBody::Announce(AnnounceBody {
                origin_timestamp: WireTimestamp::default(),
                current_utc_offset: 37,
                grandmaster_priority1: priority1,
                grandmaster_clock_quality: Default::default(),
                grandmaster_priority2: 0,
                grandmaster_identity: master.clock_identity,
                steps_removed: 0,
                time_source: 0x20,
            }),
        )
        .to_bytes()
    }

    fn locked_update(offset_ns: i64) -> Update {
        Update {
            decision: ServoDecision {
                state: ServoState::Locked,
                frequency_ppb: 0.0,
                step: None,
            },
            offset: Nanos(offset_ns),
            path_delay: Nanos(10_000),
            evidence: true,
            steering: Nanos(offset_ns),
        }
    }

    #[test]
    fn a_servo_in_s2_with_millisecond_offsets_is_not_locked() {
        let mut s = slave(vec![]);
        let second = |k: i64| Time(k * 1_000_000_000);
        for k in 0..8 {
            s.apply(second(k), locked_update(200));
        }
        assert_eq!(s.lock_state(), ServoState::Locked);
        assert_eq!(s.time_uncertainty(second(7)), Some(Nanos::from_micros(1)));
        // One Sync held back 15 ms by reordering: the servo stays in s2,
        // the port does not claim a lock (nor a bound) for the next 8.
        s.apply(second(8), locked_update(15_000_000));
        assert_eq!(s.servo_state(), ServoState::Locked);
        assert_eq!(s.lock_state(), ServoState::Unlocked);
        assert_eq!(s.time_uncertainty(second(8)), None);
        // The hub's sanity bound coasts on from the last locked update at
        // 100 ppm: 1 µs + 100 µs per second.
        assert_eq!(
            s.coasting_uncertainty(second(9)),
            Some(Nanos::from_micros(1 + 200))
        );
        for k in 9..16 {
            s.apply(second(k), locked_update(-300));
            assert_eq!(s.lock_state(), ServoState::Unlocked, "update {k}");
        }
        s.apply(second(16), locked_update(100));
        assert_eq!(s.lock_state(), ServoState::Locked);
        // Twice the largest of the last eight, not the last one.
        assert_eq!(s.time_uncertainty(second(16)), Some(Nanos::from_micros(1)));
        s.apply(second(17), locked_update(-900_000));
        assert_eq!(
            s.time_uncertainty(second(17)),
            Some(Nanos::from_micros(1_800))
        );
    }

    #[test]
    fn a_model_moving_the_clock_by_milliseconds_is_not_locked() {
        let mut s = slave(vec![]);
        let second = |k: i64| Time(k * 1_000_000_000);
        for k in 0..8 {
            s.apply(second(k), locked_update(200));
        }
        assert_eq!(s.lock_state(), ServoState::Locked);
        // A packet the model judged queued (no evidence) while the model
        // itself just jumped 5 ms: the port stops claiming lock.
        let jumped = Update {
            evidence: false,
            steering: Nanos::from_millis(5),
            ..locked_update(18_000_000)
        };
        s.apply(second(8), jumped);
        assert_eq!(s.lock_state(), ServoState::Unlocked);
        // A queued packet with the model holding still changes nothing.
        let mut s = slave(vec![]);
        for k in 0..8 {
            s.apply(second(k), locked_update(200));
        }
        let queued = Update {
            evidence: false,
            steering: Nanos(3),
            ..locked_update(18_000_000)
        };
        s.apply(second(8), queued);
        assert_eq!(s.lock_state(), ServoState::Locked);
    }

    /// After a lock, a step the discipline asks for reaches the output as a
    /// slew under `ResyncPolicy::Slew`, and the port does not claim lock
    /// until the output has closed on the clock.
    #[test]
    fn a_step_after_lock_is_slewed_out_and_unlocked_meanwhile() {
        let mut s = PtpSlave::new(SlaveConfig {
            resync: ResyncPolicy::Slew {
                rate_ppb: 500_000,
                limit: Nanos::from_millis(100),
            },
            ..SlaveConfig::new(port(9), ServoConfig::Pi(PiConfig::hardware()))
        });
        let second = |k: i64| Time(k * 1_000_000_000);
        for k in 0..8 {
            s.apply(second(k), locked_update(200));
        }
        assert_eq!(s.lock_state(), ServoState::Locked);
        let before = s.clock().time_at(second(8));
        let resync = Update {
            decision: ServoDecision {
                state: ServoState::Jump,
                frequency_ppb: 0.0,
                step: Some(Nanos::from_millis(-30)),
            },
            ..locked_update(30_000_000)
        };
        s.apply(second(8), resync);
        assert_eq!(s.counters().steps, 0);
        assert_eq!(s.counters().slewed_steps, 1);
        assert_eq!(s.clock().time_at(second(8)), before);
        assert_eq!(s.clock().lag_at(second(8)), Nanos::from_millis(-30));
        // The disciplined clock now agrees with the master; the output is
        // still 30 ms ahead of it, closing at 500 ppm: no lock claim.
        s.apply(second(9), locked_update(0));
        assert_eq!(s.lock_state(), ServoState::Unlocked);
        for k in 70..78 {
            s.apply(second(k), locked_update(0));
        }
        assert_eq!(s.clock().lag_at(second(70)), Nanos::ZERO);
        assert_eq!(s.lock_state(), ServoState::Locked);
    }

    #[test]
    fn a_master_off_the_acceptable_list_is_ignored_and_counted() {
        let mut s = slave(vec![port(1).clock_identity]);
        let rogue = port(66);
        // The rogue announces a far better clock, and speaks first.
        s.handle_packet(Time(0), PeerAddr(66), &announce_from(rogue, 0), Time(0));
        s.handle_packet(Time(1), PeerAddr(66), &sync_from(rogue, 1), Time(1));
        assert_eq!(s.counters().not_acceptable, 2);
        assert_eq!(s.counters().syncs, 0);
        let outputs: Vec<_> = std::iter::from_fn(|| s.poll_output()).collect();
        let drops = outputs
            .iter()
            .filter(|o| matches!(o, Output::Dropped(DropReason::NotAcceptable)))
            .count();
        let alerts: Vec<_> = outputs
            .iter()
            .filter_map(|o| match o {
                Output::Alert(a) => Some(*a),
                _ => None,
            })
            .collect();
        assert_eq!((drops, outputs.len()), (2, 3));
        assert_eq!(
            alerts,
            [Alert {
                kind: AlertKind::UnacceptableMaster,
                source: Some(rogue)
            }],
            "one alert per source, not one per packet"
        );
        // The listed master is followed once the BMCA has qualified it.
        s.handle_packet(Time(2), PeerAddr(1), &announce_from(port(1), 128), Time(2));
        s.handle_packet(Time(3), PeerAddr(1), &announce_from(port(1), 128), Time(3));
        s.handle_packet(Time(4), PeerAddr(1), &sync_from(port(1), 1), Time(4));
        assert_eq!(s.counters().syncs, 1);
        assert_eq!(s.poll_timeout(), Some(Time(4)), "asks for a delay at once");
    }

    #[test]
    fn malformed_packets_are_counted_never_a_panic() {
        let mut s = slave(vec![]);
        for bytes in [&[][..], &[0xff; 3][..], &sync_from(port(1), 1)[..20]] {
            s.handle_packet(Time(0), PeerAddr(1), bytes, Time(0));
        }
        assert_eq!(s.counters().malformed, 3);
    }

    fn follow(s: &mut PtpSlave, master: PortIdentity, priority1: u8, at: i64) {
        for k in 0..2 {
            let t = Time(at + k);
            s.handle_packet(t, PeerAddr(1), &announce_from(master, priority1), t);
        }
    }

    #[test]
    fn the_bmca_switches_to_a_better_master_and_back_when_it_falls_silent() {
        let mut s = slave(vec![]);
        follow(&mut s, port(1), 128, 0);
        s.handle_packet(Time(10), PeerAddr(1), &sync_from(port(1), 1), Time(10));
        assert_eq!(s.counters().syncs, 1);
        follow(&mut s, port(2), 100, 20);
        assert_eq!(s.counters().gm_changes, 1);
        s.handle_packet(Time(30), PeerAddr(1), &sync_from(port(1), 2), Time(30));
        assert_eq!(
            s.counters().foreign_master,
            1,
            "the old master is no longer followed"
        );
        // Master 2 falls silent: after 3 announce intervals (1 s each) it is
        // forgotten, and master 1 (which kept announcing) is followed again.
        follow(&mut s, port(1), 128, 2_500_000_000);
        s.handle_timeout(Time(3_000_000_100));
        assert_eq!(s.counters().gm_changes, 2);
    }

    /// One Sync, Delay_Req and Sync again at base time `at` over a 10 µs
    /// path, the clock `offset` ahead, fed straight to the port's discipline:
    /// the last Sync's update.
    fn exchange(s: &mut PtpSlave, at: i64, offset: i64) -> Option<Update> {
        let reading = ClockReading {
            base: Time(at),
            disciplined: Time(at),
        };
        let sync = SyncSample {
            t1: Time(at - offset - 10_000),
            t2: Time(at),
            t2_base: Time(at),
            correction: ScaledNanos(0),
        };
        let _ = s.discipline.sync(reading, sync);
        let delay = DelaySample {
            t3: Time(at + 1_000),
            t3_base: Time(at + 1_000),
            t4: Time(at + 1_000 - offset + 10_000),
            correction: ScaledNanos(0),
        };
        let _ = s.discipline.delay(reading, delay);
        s.discipline.sync(reading, sync)
    }

    /// A master forgotten for missing Announces and heard again soon after
    /// is the same time over the same path: what the discipline learnt is
    /// kept. Another master is learnt afresh.
    #[test]
    fn the_same_master_back_after_a_short_silence_is_not_relearnt() {
        let mut s = slave(vec![]);
        follow(&mut s, port(1), 128, 0);
        for k in 0..3 {
            let _ = exchange(&mut s, k * 1_000_000_000, 0);
        }
        assert!(s.discipline.holdover_frequency().is_some(), "started");
        // No Announce for three intervals: the master is forgotten.
        s.handle_timeout(Time(3_500_000_000));
        assert_eq!(s.port_state(), PortState::Faulty);
        follow(&mut s, port(1), 128, 4_000_000_000);
        assert!(s.discipline.holdover_frequency().is_some(), "kept");
        // A different master: relearnt.
        follow(&mut s, port(2), 100, 4_500_000_000);
        assert!(s.discipline.holdover_frequency().is_none(), "relearnt");
    }

    /// A discipline that has not started when its master falls silent
    /// starts afresh after: linuxptp's PI, holding one sample, would
    /// otherwise pair it with the first one after the outage.
    #[test]
    fn holdover_before_the_first_estimate_starts_the_discipline_afresh() {
        let mut s = slave(vec![]);
        follow(&mut s, port(1), 128, 0);
        // The PI holds its first sample (s0), taken 5 ms off.
        let first = exchange(&mut s, 0, 5_000_000).expect("sampled");
        assert_eq!(first.decision.state, ServoState::Unlocked);
        s.handle_packet(Time(0), PeerAddr(1), &sync_from(port(1), 1), Time(0));
        s.handle_timeout(Time(3_000_000_000));
        assert!(s.in_holdover());
        // After the outage the next sample is a first sample again, not a
        // second one paired with the 5 ms from before.
        let after = exchange(&mut s, 10_000_000_000, 1_000).expect("sampled");
        assert_eq!(after.decision.state, ServoState::Unlocked);
        // Paired with the 5 ms sample the estimate would be 500 ppm off;
        // from the two after the outage it is the PI's correction of 1 µs.
        let second = exchange(&mut s, 11_000_000_000, 1_000).expect("sampled");
        assert_ne!(second.decision.state, ServoState::Unlocked);
        assert!(second.decision.frequency_ppb.abs() < 10_000.0, "{second:?}");
    }

    #[test]
    fn a_silent_master_puts_the_port_in_holdover() {
        let mut s = slave(vec![]);
        follow(&mut s, port(1), 128, 0);
        s.handle_packet(Time(0), PeerAddr(1), &sync_from(port(1), 1), Time(0));
        // Three 1 s intervals without a Sync.
        s.handle_timeout(Time(3_000_000_000));
        assert!(s.in_holdover());
        assert_eq!(s.counters().holdovers, 1);
        s.handle_packet(
            Time(4_000_000_000),
            PeerAddr(1),
            &sync_from(port(1), 2),
            Time(4_000_000_000),
        );
        assert!(!s.in_holdover());
    }
}
