//! The world kernel: a discrete-event simulator ordered by (true time, sequence).
//!
//! It owns every host's oscillator and the network, drives the engine's nodes
//! through the `Node` interface exactly as the live driver does, stamps packets
//! at their exact true send and arrival times read through each host's oscillator
//! (plus timestamping noise), and scores the run against ground truth.

use crate::buffer_tally::{BufferTally, SetRecord};
use crate::coordination::{Coordination, Endpoint, Topology};
use crate::faults::{FaultBook, FrameFate, Hop};
use crate::latency::LatencySampler;
use crate::oscillator::{Oscillator, OscillatorParams};
use crate::rng::{Seeds, Stream};
use crate::scenario::{
    BufferPolicy, BurstSpec, CoordinationName, DelayMechanismName, DelayRespMode, FaultKind,
    FaultSpec, MissingName, OscillatorSpec, ResyncMode, RuleName, Scenario, ServoKind, SyncMode,
    TimestampingMode, TsprocMode,
};
use crate::score::{AlignScore, BufferScore, ClockScore, PtpScore, Score, SwitchScore, quantile};
use crate::switcher::Switcher;
use crate::timeline::{FaultSpan, RunTimeline};
use crate::trace::Trace;
use crate::truth::FrameTruth;
use crate::visual::hybrid::HybridLoop;
use camsync_engine::boundary_clock::BoundaryClock;
use camsync_engine::buffer::{AdaptiveConfig, BufferConfig};
use camsync_engine::camera_agent::{CameraAgent, CameraConfig, CaptureTiming};
use camsync_engine::coordination::{Adjustment, HubEvent, NodeId};
use camsync_engine::frame::{AccountReason, FrameMeta, FrameSet, RepeatReason, Slot};
use camsync_engine::health::{ClusterId, Subject};
use camsync_engine::hub::{AlignRule, Hub, HubConfig, MissingPolicy};
use camsync_engine::node::DropReason;
use camsync_engine::output_clock::ResyncPolicy;
use camsync_engine::ptp::discipline::{DelayWeighting, KalmanConfig, ServoConfig};
use camsync_engine::ptp::master::LeapSecond;
use camsync_engine::ptp::port_state::PortState;
use camsync_engine::ptp::security::{IcvAlgorithm, Key, SecurityAssociation};
use camsync_engine::ptp::servo::{LinregConfig, PiConfig, ServoState};
use camsync_engine::ptp::slave::DelayMechanism;
use camsync_engine::ptp::summary::ServoSummary;
use camsync_engine::ptp::wire::{ClockIdentity, PortIdentity};
use camsync_engine::ptp::{MasterConfig, PtpMaster, PtpSlave, ServoReport, SlaveConfig};
use camsync_engine::{Destination, FrameRate, Input, Nanos, Node, Output, PeerAddr, Time};
use rand::RngExt;
use rand::distr::Distribution;
use statrs::distribution::Normal;
use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap};
use std::rc::Rc;

/// True time 0 of every run is 2026-01-01T00:00:00 UTC, as PTP (TAI) time.
pub const START_PTP_NS: i64 = (1_767_225_600 + 37) * 1_000_000_000;

const GRANDMASTER: usize = 0;
const HUB: usize = 1;
const FIRST_CAMERA: usize = 2;
/// A camera's stamp error moving more than this between two frames is a
/// jump in its timeline (`align.timeline_jumps`).
const TIMELINE_JUMP_NS: i64 = 100_000;
const DOWNSTREAM_PORT: u16 = camsync_engine::boundary_clock::DOWNSTREAM_PORT;
/// The address an attacker's packets come from.
const ATTACKER: usize = u32::MAX as usize;

enum NodeKind {
    Master(Box<PtpMaster>),
    Camera(Box<CameraAgent>),
    Hub(Box<Hub>),
    Boundary(Box<BoundaryClock>),
}

impl NodeKind {
    fn node(&mut self) -> &mut dyn Node {
        match self {
            NodeKind::Master(m) => m.as_mut(),
            NodeKind::Camera(c) => c.as_mut(),
            NodeKind::Hub(h) => h.as_mut(),
            NodeKind::Boundary(b) => b.as_mut(),
        }
    }
    fn slave(&self) -> Option<&PtpSlave> {
        match self {
            NodeKind::Master(_) => None,
            NodeKind::Camera(c) => Some(c.slave()),
            NodeKind::Hub(h) => Some(h.slave()),
            NodeKind::Boundary(b) => Some(b.slave()),
        }
    }
}

struct Host {
    node: NodeKind,
    osc: Oscillator,
    /// Timestamping noise and stack latency draws.
    nic: Stream,
    /// Network draws for packets from the grandmaster to this host, and back.
    down: Stream,
    up: Stream,
    /// Capture-to-hub transport draws (cameras).
    video: Stream,
    video_latency: LatencySampler,
    /// The armed timer: local deadline and generation (older events are stale).
    armed: Option<i64>,
    generation: u64,
}

enum EventKind {
    Timer {
        host: usize,
        generation: u64,
    },
    Packet {
        to: usize,
        /// The receiver's port it arrives on.
        port: u16,
        from: usize,
        bytes: Rc<[u8]>,
    },
    FrameArrival(FrameMeta),
    FreeRunCapture {
        host: usize,
        rate: FrameRate,
        n: i64,
    },
    Sample,
    /// A scheduled fault begins (index into the scenario's faults).
    FaultStart(usize),
    /// An attacker sends a malformed packet (index of its fault).
    Garbage(usize),
    /// A coordination endpoint's timer (see `Coordination`).
    CoordTimer {
        host: usize,
        generation: u64,
    },
    /// A coordination frame reaches `to`; `altered` if the path changed it.
    CoordFrame {
        to: usize,
        bytes: Rc<[u8]>,
        altered: bool,
    },
    /// A crashed host comes back, its state lost.
    Restart(usize),
    /// A packet that arrived, stamped, while its host's CPU was stalled:
    /// handled now, with the stamp the NIC (or the kernel) took on arrival.
    Received {
        to: usize,
        port: u16,
        from: usize,
        bytes: Rc<[u8]>,
        rx: i64,
    },
}

impl EventKind {
    /// The host whose node handles the event, if one does.
    fn host(&self) -> Option<usize> {
        match self {
            EventKind::Timer { host, .. }
            | EventKind::FreeRunCapture { host, .. }
            | EventKind::CoordTimer { host, .. } => Some(*host),
            EventKind::Packet { to, .. }
            | EventKind::Received { to, .. }
            | EventKind::CoordFrame { to, .. } => Some(*to),
            EventKind::FrameArrival(_) => Some(HUB),
            EventKind::Sample
            | EventKind::FaultStart(_)
            | EventKind::Garbage(_)
            | EventKind::Restart(_) => None,
        }
    }
}

struct Event {
    at: i64,
    seq: u64,
    kind: EventKind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed, so the max-heap pops the earliest (time, sequence) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// One derived knob, printed at start so a run can be read and replayed.
#[derive(Clone, Debug, PartialEq)]
pub struct Knob {
    pub clock: String,
    pub freq_offset_ppb: f64,
    pub initial_offset_ns: i64,
    pub role: String,
}

/// What a run leaves besides its score.
pub struct RunDetail {
    pub score: Score,
    pub series: OffsetSeries,
    /// With `World::record_timeline`.
    pub timeline: Option<RunTimeline>,
    /// ptp4l-style lines for the clock `log_ptp4l` named.
    pub log: Vec<String>,
}

/// ptp4l's `-m` output for one clock.
struct Ptp4lLog {
    host: usize,
    /// Summary interval (ns); none: a line per servo update.
    interval: Option<i64>,
    window: ServoSummary,
    window_end: i64,
    lines: Vec<String>,
    state: Option<PortState>,
}

impl Ptp4lLog {
    fn record(&mut self, now: i64, r: &ServoReport) {
        let stamp = ptp4l_stamp(now);
        let Some(interval) = self.interval else {
            self.lines.push(format!("{stamp}: {}", r.ptp4l_line()));
            return;
        };
        self.window.add(r);
        if now >= self.window_end {
            if let Some(line) = self.window.line() {
                self.lines.push(format!("{stamp}: {line}"));
            }
            self.window.reset();
            while self.window_end <= now {
                self.window_end += interval;
            }
        }
    }
}

/// ptp4l's line prefix: the program and the time in seconds.
fn ptp4l_stamp(now: i64) -> String {
    format!(
        "camsync[{}.{:03}]",
        now / 1_000_000_000,
        now % 1_000_000_000 / 1_000_000
    )
}

/// The true offset of every disciplined clock from the grandmaster, sampled.
#[derive(Clone, Debug, Default)]
pub struct OffsetSeries {
    pub clocks: Vec<String>,
    /// True time of each sample, ns since the start of the run.
    pub times_ns: Vec<i64>,
    /// Per clock, one offset per sample.
    pub offsets_ns: Vec<Vec<i64>>,
}

impl OffsetSeries {
    /// CSV: `time_s,clock,offset_ns`, one row per clock per sample.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("time_s,clock,offset_ns\n");
        for (i, t) in self.times_ns.iter().enumerate() {
            for (c, name) in self.clocks.iter().enumerate() {
                let o = self.offsets_ns[c][i];
                out.push_str(&format!(
                    "{}.{:09},{name},{o}\n",
                    t / 1_000_000_000,
                    t % 1_000_000_000
                ));
            }
        }
        out
    }
}

/// What an oracle holdover holds for one clock: its disciplined offset, base
/// reading and true fractional frequency when the grandmaster fell silent.
#[derive(Clone, Copy, Debug)]
struct OracleHold {
    offset: i64,
    local: i64,
    gm: i64,
    ratio: f64,
}

/// Running tallies for the score.
#[derive(Default)]
struct Tally {
    holdover_max_abs: Option<i64>,
    holdover_oracle_max_abs: Option<i64>,
    /// When another master sent its first Sync after the primary fell silent.
    takeover: Option<i64>,
    /// Messages refused on security grounds.
    rejected: u64,
    alerts: std::collections::BTreeMap<String, u64>,
    offsets: Vec<Vec<i64>>,
    sample_times: Vec<i64>,
    packets_sent: u64,
    packets_lost: u64,
    malformed: u64,
    frames_captured: u64,
    frames_in_sets: u64,
    late: u64,
    dropped: u64,
    superseded: u64,
    sets: u64,
    complete_sets: u64,
    misaligned_sets: u64,
    unlocked_frames: u64,
    max_alignment_error: i64,
    max_stamp_error: i64,
    duplicates: u64,
    wrong_assignments: u64,
    concealed_slots: u64,
    missing_slots: u64,
    /// Frames lost because the hub was down, or held by it when it went.
    lost_at_hub: u64,
    /// A disciplined clock's output (a capture stamp, a sampled reading)
    /// earlier than the one before it.
    time_reversals: u64,
    /// Per camera its last capture stamp, per slave its last sampled
    /// reading; each with whether it was locked then.
    last_capture: Vec<Option<(i64, bool)>>,
    last_reading: Vec<Option<(i64, bool)>>,
    /// Per camera, once it has locked since it (re)started, its last
    /// frame's stamp error: the timeline its frames show.
    timeline: Vec<Option<i64>>,
    max_timeline_jump: i64,
    timeline_jumps: u64,
}

/// Congestion bursts on the video path, drawn as the run goes.
struct Bursts {
    spec: BurstSpec,
    rng: Stream,
    /// The current or next burst.
    start: i64,
    end: i64,
}

impl Bursts {
    fn new(spec: BurstSpec, mut rng: Stream) -> Self {
        let start = Self::gap(&spec, &mut rng);
        Bursts {
            start,
            end: start + spec.length.ns(),
            spec,
            rng,
        }
    }

    fn gap(spec: &BurstSpec, rng: &mut Stream) -> i64 {
        let u: f64 = rng.random();
        (-(1.0 - u).ln() * spec.every.ns() as f64).round() as i64
    }

    /// The extra delay of a frame sent at `t` (times come in order).
    fn extra_at(&mut self, t: i64) -> i64 {
        while t >= self.end {
            self.start = self.end + Self::gap(&self.spec, &mut self.rng);
            self.end = self.start + self.spec.length.ns();
        }
        if t < self.start {
            return 0;
        }
        let share = self.rng.random_range(0.5..=1.0);
        (self.spec.extra.ns() as f64 * share).round() as i64
    }
}

pub struct World {
    scenario_name: String,
    seed: u64,
    duration: i64,
    sample_interval: i64,
    lock_threshold: i64,
    lock_hold: i64,
    hosts: Vec<Host>,
    queue: BinaryHeap<Event>,
    next_seq: u64,
    now: i64,
    timestamping: TimestampingMode,
    hw_noise: Option<Normal>,
    stack_latency: LatencySampler,
    ptp_latency: LatencySampler,
    /// Per host, a cluster leader's own link to the core (a WAN), if any.
    uplinks: Vec<Option<LatencySampler>>,
    asymmetry: i64,
    ptp_loss: f64,
    transparent_clocks: bool,
    reference_rate: FrameRate,
    rule: AlignRule,
    /// How long a master must have been on the air before slaves can have
    /// qualified it: two Announce intervals (IEEE 1588's foreign-master
    /// threshold of two Announces).
    master_qualification: i64,
    buffer_policy: BufferPolicy,
    video_loss: f64,
    video_duplicate: f64,
    bursts: Option<Bursts>,
    /// The hub's hybrid loop, when cameras are steered from the pictures.
    hybrid: Option<HybridLoop>,
    /// The hub's and the cameras' coordination endpoints, and their path.
    coord: Coordination,
    buffers: BufferTally,
    switcher: Switcher,
    faults: Vec<FaultSpec>,
    /// The host each fault strikes.
    fault_targets: Vec<usize>,
    /// When each host joins the network.
    starts: Vec<i64>,
    /// Per host, the network segment its (first) port is on: 0 is the core, a
    /// boundary clock's cluster is its own; and for a boundary clock, the
    /// segment of its master port.
    segment: Vec<usize>,
    bc_segment: Vec<Option<usize>>,
    /// Hosts whose clocks are disciplined (scored), and hosts that are masters.
    slaves: Vec<usize>,
    masters: Vec<usize>,
    /// Per host, its BMCA rank as a master (lower wins).
    master_rank: Vec<(u8, u8, usize)>,
    /// The masters slaves may follow, when the scenario lists them.
    acceptable: Option<Vec<usize>>,
    /// Per slave clock, while a holdover fault runs.
    oracle: Vec<OracleHold>,
    /// Draws of the attackers in fault scenarios.
    attack: Stream,
    /// Per host, its servo's figures over the whole run.
    servo_totals: Vec<ServoSummary>,
    ptp4l: Option<Ptp4lLog>,
    truth: FrameTruth,
    trace: Trace,
    tally: Tally,
    knobs: Vec<Knob>,
    fault_book: FaultBook,
    /// Per host, how to make its node afresh (a restart after a crash).
    factories: Vec<Box<dyn Fn(i64) -> NodeKind>>,
    /// The report's time series, when asked for (`record_timeline`).
    timeline: Option<RunTimeline>,
}

impl World {
    pub fn new(scenario: &Scenario, seed: u64) -> World {
        let seeds = Seeds::new(seed);
        let ts = &scenario.timestamping;
        let mut pi = match ts.mode {
            TimestampingMode::Hardware => PiConfig::hardware(),
            TimestampingMode::Software => PiConfig::software(),
        };
        let p = &scenario.ptp;
        let profile = p.settings();
        if let Some(kp) = p.pi_kp_scale {
            pi.kp_scale = kp.0;
        }
        if let Some(ki) = p.pi_ki_scale {
            pi.ki_scale = ki.0;
        }
        pi.first_step_threshold = p.first_step_threshold.nanos();
        pi.step_threshold = p.step_threshold.nanos();
        let servo = match p.servo {
            ServoKind::Pi => ServoConfig::Pi(pi),
            ServoKind::Linreg => ServoConfig::Linreg(LinregConfig {
                first_step_threshold: p.first_step_threshold.nanos(),
                step_threshold: p.step_threshold.nanos(),
                ..LinregConfig::default()
            }),
            ServoKind::Camsync => ServoConfig::Camsync(KalmanConfig {
                first_step_threshold: p.first_step_threshold.nanos(),
                step_threshold: p.step_threshold.nanos(),
                ..match ts.mode {
                    TimestampingMode::Hardware => KalmanConfig::hardware(),
                    TimestampingMode::Software => KalmanConfig::software(),
                }
            }),
        };
        let unicast = p.delay_resp == DelayRespMode::Unicast;
        let first_extra_master = FIRST_CAMERA + scenario.camera_count();
        let host_index = |name: &str| {
            if name == "grandmaster" {
                Some(GRANDMASTER)
            } else {
                scenario
                    .masters
                    .iter()
                    .position(|m| m.name == name)
                    .map(|i| first_extra_master + i)
            }
        };
        let acceptable: Vec<ClockIdentity> = p
            .acceptable_masters
            .iter()
            .filter_map(|n| host_index(n))
            .map(|i| port_identity(i).clock_identity)
            .collect();
        let security = p.security.as_ref().map(|sec| {
            let algorithm = IcvAlgorithm::from_label(&sec.algorithm).expect("validated");
            let keys = [(sec.key_id, Key::new(algorithm, sec.key.0.as_bytes()))].into();
            SecurityAssociation::new(sec.spp, keys, sec.key_id).expect("validated key")
        });
        let slave_config = |index: usize| SlaveConfig {
            domain: profile.domain,
            port_identity: port_identity(index),
            log_min_delay_req_interval: profile.log_min_delay_req_interval,
            log_sync_interval: profile.log_sync_interval,
            servo,
            delay_filter_length: p.delay_filter_length.0,
            delay_weighting: match p.tsproc_mode {
                TsprocMode::Filter => DelayWeighting::None,
                TsprocMode::FilterWeight => DelayWeighting::FilterRatio,
            },
            sync_receipt_timeout: p.sync_receipt_timeout,
            unicast_delay_req: unicast,
            acceptable_masters: acceptable.clone(),
            security: security.clone(),
            delay_mechanism: match p.delay_mechanism {
                DelayMechanismName::E2e => DelayMechanism::E2E,
                DelayMechanismName::P2p => DelayMechanism::P2P,
            },
            announce_receipt_timeout: profile.announce_receipt_timeout,
            resync: match p.resync {
                ResyncMode::Step => ResyncPolicy::Step,
                ResyncMode::Slew => ResyncPolicy::Slew {
                    rate_ppb: (p.slew_rate_ppm.0 * 1000.0).round() as u64,
                    limit: p.slew_limit.nanos(),
                },
            },
        };

        let mut knobs = Vec::new();
        let mut hosts = Vec::new();
        let mut factories: Vec<Box<dyn Fn(i64) -> NodeKind>> = Vec::new();
        let mut make_host = |name: String,
                             role: &str,
                             spec: &OscillatorSpec,
                             node: Box<dyn Fn(i64) -> NodeKind>,
                             video: &crate::scenario::LatencySpec| {
            let mut draw = seeds.stream(&format!("draw/{name}"));
            let freq_ppb = symmetric(&mut draw, spec.freq_offset_ppm.0 * 1000.0);
            let initial = symmetric(&mut draw, spec.initial_offset.ns() as f64).round() as i64;
            let steps = spec
                .steps
                .iter()
                .filter(|s| s.clock.as_deref().is_none_or(|c| c == name))
                .map(|s| (s.at.ns(), s.by.ns()))
                .collect::<Vec<_>>();
            let mut steps = steps;
            steps.extend(crate::faults::phase_steps(&scenario.faults, &name));
            steps.sort();
            // A frequency fault without a target strikes every disciplined
            // clock, not the masters.
            let frequency_steps =
                crate::faults::frequency_steps(&scenario.faults, |f| match &f.target {
                    Some(t) => *t == name,
                    None => role != "grandmaster" && !role.starts_with("master"),
                });
            let mut osc = Oscillator::new(
                OscillatorParams {
                    initial_local: START_PTP_NS + initial,
                    freq_offset_ppb: freq_ppb,
                    wander_ppb_per_sqrt_s: spec.wander_ppb.0,
                    temperature_ppb: spec.temperature_ppb.0,
                    temperature_period_ns: spec.temperature_period.ns(),
                    steps,
                    frequency_steps,
                },
                seeds.stream(&format!("osc/{name}")),
            );
            let start_local = osc.local_at(0);
            knobs.push(Knob {
                clock: name.clone(),
                freq_offset_ppb: freq_ppb,
                initial_offset_ns: initial,
                role: role.to_string(),
            });
            hosts.push(Host {
                nic: seeds.stream(&format!("nic/{name}")),
                down: seeds.stream(&format!("net/{name}/down")),
                up: seeds.stream(&format!("net/{name}/up")),
                video: seeds.stream(&format!("video/{name}")),
                video_latency: LatencySampler::new(video),
                node: node(start_local),
                osc,
                armed: None,
                generation: 0,
            });
            factories.push(node);
        };

        let master_config = |index: usize, priority1: u8, clock_class: u8| {
            let mut c = MasterConfig::grandmaster(
                port_identity(index).clock_identity,
                profile.domain,
                profile.log_sync_interval,
            );
            c.log_announce_interval = profile.log_announce_interval;
            c.log_min_delay_req_interval = profile.log_min_delay_req_interval;
            c.unicast_delay_resp = unicast;
            c.priority1 = priority1;
            c.clock_quality.clock_class = clock_class;
            c
        };
        // The primary is a dedicated grandmaster: it never yields.
        let gm_config = MasterConfig {
            master_only: true,
            security: security.clone(),
            leap: scenario
                .faults
                .iter()
                .find(|f| f.kind == FaultKind::LeapSecond)
                .map(|f| LeapSecond {
                    at: Time(START_PTP_NS + f.at.ns()),
                    inserted: f.by.ns() >= 0,
                }),
            ..master_config(GRANDMASTER, 128, 6)
        };
        let video = &scenario.video.latency;
        make_host(
            "grandmaster".into(),
            "grandmaster",
            &scenario.grandmaster,
            {
                let config = gm_config.clone();
                Box::new(move |now| {
                    NodeKind::Master(Box::new(PtpMaster::new(config.clone(), Time(now))))
                })
            },
            video,
        );
        let cameras = scenario.camera_count();
        let rule = match scenario.hub.rule {
            RuleName::Nearest => AlignRule::Nearest,
            RuleName::LatestBefore => AlignRule::LatestBefore {
                tolerance: scenario.hub.tolerance.nanos(),
            },
        };
        let hub_config = HubConfig {
            cameras: cameras as u16,
            reference_rate: scenario.hub.reference_rate.0,
            rule,
            missing: match scenario.hub.missing {
                MissingName::Partial => MissingPolicy::Partial,
                MissingName::Wait => MissingPolicy::Wait,
                MissingName::Repeat => MissingPolicy::Repeat,
            },
            max_latency: scenario.hub.max_latency.nanos(),
            buffer: match scenario.hub.policy {
                BufferPolicy::Fixed => BufferConfig::Fixed(scenario.hub.buffer.nanos()),
                BufferPolicy::Neteq => BufferConfig::NetEq {
                    max: scenario.hub.max_latency.nanos(),
                },
                BufferPolicy::Adaptive => BufferConfig::Adaptive(AdaptiveConfig::for_frame_period(
                    scenario.hub.reference_rate.0.period(),
                    scenario.hub.max_latency.nanos(),
                )),
            },
            window: Nanos::from_secs(10),
            ptp: slave_config(HUB),
        };
        make_host(
            "hub".into(),
            "hub",
            &scenario.clocks,
            {
                let config = hub_config.clone();
                Box::new(move |_| NodeKind::Hub(Box::new(Hub::new(config.clone()))))
            },
            video,
        );
        let mut index = FIRST_CAMERA;
        for group in &scenario.cameras {
            for _ in 0..group.count {
                let camera = (index - FIRST_CAMERA) as u16;
                let config = CameraConfig {
                    camera: camsync_engine::frame::CameraId(camera),
                    rate: group.rate.0,
                    timing: match group.sync {
                        SyncMode::PtpLocked => CaptureTiming::PtpLocked,
                        SyncMode::FreeRun => CaptureTiming::FreeRun,
                        SyncMode::Visual => CaptureTiming::Visual,
                    },
                    ptp: slave_config(index),
                };
                make_host(
                    format!("cam{camera}"),
                    &format!(
                        "camera, {} fps, {}",
                        group.rate.0,
                        match group.sync {
                            SyncMode::PtpLocked => "ptp-locked",
                            SyncMode::FreeRun => "free-run",
                            SyncMode::Visual => "no PTP, steered from the pictures",
                        }
                    ),
                    &scenario.clocks,
                    Box::new(move |now| {
                        NodeKind::Camera(Box::new(CameraAgent::new(config.clone(), Time(now))))
                    }),
                    group.video_latency.as_ref().unwrap_or(video),
                );
                index += 1;
            }
        }

        for (i, m) in scenario.masters.iter().enumerate() {
            let mut config = master_config(first_extra_master + i, m.priority1, m.clock_class);
            // Backups hold the key; a rogue (better than the primary) does not.
            if m.priority1 > 128 {
                config.security = security.clone();
            }
            make_host(
                m.name.clone(),
                &format!(
                    "master, priority1 {}, from {} s",
                    m.priority1,
                    m.start.ns() as f64 / 1e9
                ),
                &m.oscillator,
                Box::new(move |now| {
                    NodeKind::Master(Box::new(PtpMaster::new(config.clone(), Time(now))))
                }),
                video,
            );
        }
        let first_bc = first_extra_master + scenario.masters.len();
        for (i, b) in scenario.boundary_clocks.iter().enumerate() {
            let index = first_bc + i;
            let master = MasterConfig {
                master_only: true,
                security: security.clone(),
                ..master_config(index, 128, 6)
            };
            let slave = slave_config(index);
            make_host(
                b.name.clone(),
                "boundary clock",
                &b.oscillator,
                Box::new(move |now| {
                    NodeKind::Boundary(Box::new(BoundaryClock::new(
                        slave.clone(),
                        master.clone(),
                        Time(now),
                    )))
                }),
                video,
            );
        }
        let hosts_total = first_bc + scenario.boundary_clocks.len();
        // Segments: 0 is the core; boundary clock i's cluster is segment i + 1.
        let bc_index = |name: &str| scenario.boundary_clocks.iter().position(|b| b.name == name);
        let mut segment = vec![0usize; hosts_total];
        let mut bc_segment = vec![None; hosts_total];
        let mut camera = FIRST_CAMERA;
        for group in &scenario.cameras {
            for _ in 0..group.count {
                if let Some(i) = group.behind.as_deref().and_then(bc_index) {
                    segment[camera] = i + 1;
                }
                camera += 1;
            }
        }
        for i in 0..scenario.boundary_clocks.len() {
            bc_segment[first_bc + i] = Some(i + 1);
        }
        let mut starts = vec![0i64; first_extra_master];
        starts.extend(scenario.masters.iter().map(|m| m.start.ns()));
        starts.resize(hosts_total, 0);
        let named_targets: Vec<Option<usize>> = scenario
            .faults
            .iter()
            .map(|f| {
                f.target
                    .as_deref()
                    .and_then(|n| knobs.iter().position(|k| k.clock == n))
            })
            .collect();
        // The older fault kinds strike the grandmaster when they name none.
        let fault_targets = named_targets
            .iter()
            .map(|t| t.unwrap_or(GRANDMASTER))
            .collect();
        let slaves: Vec<usize> = (1..first_extra_master)
            .chain(first_bc..hosts_total)
            .collect();
        let mut master_rank = vec![(128u8, 6u8, GRANDMASTER); first_extra_master];
        master_rank.extend(
            scenario
                .masters
                .iter()
                .enumerate()
                .map(|(i, m)| (m.priority1, m.clock_class, first_extra_master + i)),
        );
        master_rank.resize(hosts_total, (255, 255, usize::MAX));
        let acceptable = (!p.acceptable_masters.is_empty()).then(|| {
            p.acceptable_masters
                .iter()
                .filter_map(|n| host_index(n))
                .collect::<Vec<_>>()
        });
        let masters: Vec<usize> = std::iter::once(GRANDMASTER)
            .chain(first_extra_master..first_extra_master + scenario.masters.len())
            .collect();
        let mut world = World {
            scenario_name: scenario.name().to_string(),
            seed,
            duration: scenario.duration.ns(),
            sample_interval: scenario.score.sample_interval.ns(),
            lock_threshold: scenario.score.lock_threshold.ns(),
            lock_hold: scenario.score.lock_hold.ns(),
            queue: BinaryHeap::new(),
            next_seq: 0,
            now: 0,
            timestamping: ts.mode,
            hw_noise: (ts.noise.ns() > 0)
                .then(|| Normal::new(0.0, ts.noise.ns() as f64).expect("sd > 0")),
            stack_latency: LatencySampler::new(&ts.stack_latency),
            ptp_latency: LatencySampler::new(&scenario.network.latency),
            uplinks: (0..hosts_total)
                .map(|h| {
                    h.checked_sub(first_bc)
                        .and_then(|i| scenario.boundary_clocks.get(i))
                        .and_then(|b| b.uplink.as_ref())
                        .map(LatencySampler::new)
                })
                .collect(),
            asymmetry: scenario.network.asymmetry.ns(),
            ptp_loss: scenario.network.loss.0,
            transparent_clocks: scenario.network.transparent_clocks,
            reference_rate: scenario.hub.reference_rate.0,
            rule,
            master_qualification: 2 * Nanos::from_log2_secs(profile.log_announce_interval).0,
            buffer_policy: scenario.hub.policy,
            video_loss: scenario.video.loss.0,
            video_duplicate: scenario.video.duplicate.0,
            bursts: scenario
                .video
                .bursts
                .map(|b| Bursts::new(b, seeds.stream("video/bursts"))),
            hybrid: {
                let steered = scenario.steered_by_pictures();
                match &scenario.visual {
                    Some(spec) if steered.iter().any(|s| *s) => Some(HybridLoop::new(
                        spec,
                        &seeds,
                        &steered,
                        scenario.duration.ns(),
                    )),
                    _ => None,
                }
            },
            coord: {
                let cameras = (FIRST_CAMERA..FIRST_CAMERA + cameras)
                    .map(|h| (h, ClusterId(segment[h] as u32)))
                    .collect();
                let locals: Vec<i64> = hosts.iter_mut().map(|h| h.osc.local_at(0)).collect();
                Coordination::new(
                    &seeds,
                    hosts_total,
                    HUB,
                    match scenario.hub.coordination {
                        CoordinationName::Central => Topology::Central,
                        CoordinationName::Distributed => Topology::Distributed,
                    },
                    cameras,
                    scenario.score.lock_threshold.nanos(),
                    |h| locals[h],
                )
            },
            buffers: BufferTally::new(scenario.hub.reference_rate.0.period().0),
            switcher: Switcher::new(
                scenario.hub.reference_rate.0.as_f64().round() as i64,
                seeds.stream("switcher"),
            ),
            faults: scenario.faults.clone(),
            fault_targets,
            starts,
            oracle: Vec::new(),
            attack: seeds.stream("attack"),
            servo_totals: Vec::new(),
            ptp4l: None,
            timeline: None,
            truth: FrameTruth::new(cameras),
            trace: Trace::default(),
            tally: Tally {
                offsets: vec![Vec::new(); slaves.len()],
                last_capture: vec![None; cameras],
                timeline: vec![None; cameras],
                last_reading: vec![None; slaves.len()],
                ..Tally::default()
            },
            fault_book: FaultBook::new(
                &scenario.faults,
                &named_targets,
                HUB,
                hosts_total,
                seeds.stream("faults"),
            ),
            factories,
            segment,
            bc_segment,
            slaves,
            masters,
            master_rank,
            acceptable,
            hosts,
            knobs,
        };
        world.servo_totals = vec![ServoSummary::default(); world.hosts.len()];
        for h in 0..world.hosts.len() {
            world.reschedule(h);
            world.coord_reschedule(h);
        }
        for (h, group) in world.free_running_cameras(scenario) {
            world.schedule_free_run_capture(h, group, 0);
        }
        world.push(world.sample_interval, EventKind::Sample);
        for (i, f) in scenario.faults.iter().enumerate() {
            world.push(f.at.ns(), EventKind::FaultStart(i));
        }
        for (at, h) in world.fault_book.restarts() {
            if at < world.duration {
                world.push(at, EventKind::Restart(h));
            }
        }
        world
    }

    /// Whether host `h` sends nothing now: not yet started, or silenced.
    fn silent(&self, h: usize) -> bool {
        self.silent_at(h, self.now)
    }

    fn silent_at(&self, h: usize, at: i64) -> bool {
        at < self.starts[h]
            || self.fault_book.silent(h, at)
            || self
                .faults
                .iter()
                .zip(&self.fault_targets)
                .any(|(f, &t)| t == h && f.kind == FaultKind::GrandmasterSilent && f.active(at))
    }

    /// Whether the primary grandmaster is silenced now (holdover scoring).
    fn primary_silent(&self) -> bool {
        self.faults.iter().zip(&self.fault_targets).any(|(f, &t)| {
            t == GRANDMASTER && f.kind == FaultKind::GrandmasterSilent && f.active(self.now)
        })
    }

    /// The sum of the active step faults of a kind.
    fn fault_step(&self, kind: FaultKind) -> i64 {
        self.faults
            .iter()
            .filter(|f| f.kind == kind && f.active(self.now))
            .map(|f| f.by.ns())
            .sum()
    }

    /// A packet of random bytes to every port; sometimes with a plausible PTP
    /// first two bytes, so that decoding goes deeper before it fails.
    fn send_garbage(&mut self, i: usize) {
        let fault = &self.faults[i];
        if !fault.active(self.now) {
            return;
        }
        let period = fault.by.ns();
        let rng = &mut self.attack;
        let len = rng.random_range(0..120usize);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.random::<u8>()).collect();
        if len >= 2 && rng.random_bool(0.5) {
            bytes[0] &= 0x0f;
            bytes[1] = 0x12;
        }
        let bytes: Rc<[u8]> = bytes.into();
        self.trace.record(14, self.now).bytes(&bytes);
        for r in 0..self.hosts.len() {
            self.push(
                self.now + 10_000,
                EventKind::Packet {
                    to: r,
                    port: 1,
                    from: ATTACKER,
                    bytes: bytes.clone(),
                },
            );
        }
        self.push(self.now + period, EventKind::Garbage(i));
    }

    fn start_fault(&mut self, i: usize) {
        let kind = self.faults[i].kind;
        self.trace.record(11, self.now).u64(i as u64);
        let target = self.fault_targets[i];
        if self.fault_book.down(target, self.now) {
            let local = Time(self.hosts[target].osc.local_at(self.now));
            self.coord.host_down(target, local);
            self.coord_note_views();
        }
        if kind == FaultKind::HubRestart {
            // What the hub held is lost with it.
            let held: Vec<FrameMeta> = match &self.hosts[HUB].node {
                NodeKind::Hub(hub) => hub.held_frames().copied().collect(),
                _ => Vec::new(),
            };
            for f in held {
                self.lose_at_hub(f);
            }
        }
        if kind == FaultKind::MalformedPackets {
            self.send_garbage(i);
        }
        if kind == FaultKind::GrandmasterSilent && self.fault_targets[i] == GRANDMASTER {
            let now = self.now;
            let gm = self.hosts[GRANDMASTER].osc.local_at(now);
            let gm_ppb = self.hosts[GRANDMASTER].osc.frequency_ppb_at(now);
            self.oracle = self
                .slaves
                .clone()
                .into_iter()
                .map(|h| {
                    let local = self.hosts[h].osc.local_at(now);
                    let ppb = self.hosts[h].osc.frequency_ppb_at(now);
                    let slave = self.hosts[h].node.slave().expect("a slave");
                    OracleHold {
                        offset: slave.clock().time_at(Time(local)).0 - gm,
                        local,
                        gm,
                        ratio: (1.0 + gm_ppb * 1e-9) / (1.0 + ppb * 1e-9),
                    }
                })
                .collect();
        }
    }

    /// The receive stamp host `h` takes of a packet arriving now.
    fn rx_stamp(&mut self, h: usize) -> i64 {
        self.hosts[h].osc.local_at(self.now) + self.hardware_noise(h)
    }

    /// Host `to` handles a packet stamped `rx` on arrival.
    fn receive(&mut self, to: usize, port: u16, from: usize, bytes: &[u8], rx: i64) {
        let local = self.hosts[to].osc.local_at(self.now);
        self.trace
            .record(2, self.now)
            .u64(to as u64)
            .i64(rx)
            .bytes(bytes);
        self.hosts[to].node.node().handle_input(
            Time(local),
            Input::Packet {
                port,
                from: PeerAddr(from as u32),
                bytes,
                rx: Time(rx),
            },
        );
        self.settle(to);
    }

    /// A frame lost with the hub (it was down, or held the frame when it
    /// went): accounted, never silently gone.
    fn lose_at_hub(&mut self, meta: FrameMeta) {
        if self.truth.take(meta.camera.0 as usize, meta.seq).is_some() {
            self.tally.dropped += 1;
            self.tally.lost_at_hub += 1;
            self.trace
                .record(15, self.now)
                .u64(meta.camera.0 as u64)
                .u64(meta.seq);
        }
    }

    /// A camera's timeline, judged from its first lock: how far its stamp
    /// error moved since its last frame.
    fn follow_timeline(&mut self, camera: usize, error: i64, locked: bool) {
        let t = &mut self.tally;
        let Some(last) = t.timeline[camera].or(locked.then_some(error)) else {
            return;
        };
        let jump = (error - last).abs();
        t.max_timeline_jump = t.max_timeline_jump.max(jump);
        t.timeline_jumps += u64::from(jump > TIMELINE_JUMP_NS);
        t.timeline[camera] = Some(error);
    }

    /// A crashed host comes back: a fresh node, its state lost; a camera
    /// numbers its frames on from where it stopped.
    fn restart(&mut self, h: usize) {
        let local = self.hosts[h].osc.local_at(self.now);
        let mut node = (self.factories[h])(local);
        if let (NodeKind::Camera(old), NodeKind::Camera(new)) = (&self.hosts[h].node, &mut node) {
            new.resume_numbering(old.next_seq());
        }
        self.trace.record(16, self.now).u64(h as u64);
        // A restarted camera starts a new timeline.
        if let Some(t) = h
            .checked_sub(FIRST_CAMERA)
            .and_then(|c| self.tally.timeline.get_mut(c))
        {
            *t = None;
        }
        let host = &mut self.hosts[h];
        host.node = node;
        host.armed = None;
        host.generation += 1;
        self.settle(h);
        self.coord.restart(h, Time(local));
        if let Some(v) = &mut self.hybrid {
            if h == HUB {
                // The commands it had in flight went with it.
                v.cancel_all();
            } else if let Some(camera) = h.checked_sub(FIRST_CAMERA) {
                v.restarted(camera);
            }
        }
        self.coord_settle(h);
    }

    fn free_running_cameras(&self, scenario: &Scenario) -> Vec<(usize, FrameRate)> {
        let mut out = Vec::new();
        let mut index = FIRST_CAMERA;
        for group in &scenario.cameras {
            for _ in 0..group.count {
                if group.sync == SyncMode::FreeRun {
                    out.push((index, group.rate.0));
                }
                index += 1;
            }
        }
        out
    }

    /// The derived values of this seed, for printing before the run.
    pub fn knobs(&self) -> &[Knob] {
        &self.knobs
    }

    fn push(&mut self, at: i64, kind: EventKind) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Event { at, seq, kind });
    }

    pub fn run(self) -> Score {
        self.run_detailed().score
    }

    /// Keeps the time series a run report draws (`RunDetail::timeline`).
    /// Read-only: the score and trace hash are those of a run without it.
    pub fn record_timeline(&mut self) {
        self.timeline = Some(RunTimeline::new(self.duration));
    }

    /// Prints `clock`'s servo updates as ptp4l does with `-m`: one line per
    /// update, or with `summary_log2` a summary line every 2^N seconds.
    pub fn log_ptp4l(&mut self, clock: &str, summary_log2: Option<i8>) -> Result<(), String> {
        let host = self
            .slaves
            .iter()
            .copied()
            .find(|&h| self.knobs[h].clock == clock)
            .ok_or_else(|| {
                let names: Vec<_> = self
                    .slaves
                    .iter()
                    .map(|&h| self.knobs[h].clock.as_str())
                    .collect();
                format!(
                    "no disciplined clock is named `{clock}` (there are: {})",
                    names.join(", ")
                )
            })?;
        let interval = summary_log2.map(|n| Nanos::from_log2_secs(n).0);
        self.ptp4l = Some(Ptp4lLog {
            host,
            interval,
            window: ServoSummary::default(),
            window_end: interval.unwrap_or(0),
            lines: Vec::new(),
            state: None,
        });
        Ok(())
    }

    /// Runs, and also returns every clock's sampled true offset and the ptp4l
    /// log asked for.
    pub fn run_detailed(mut self) -> RunDetail {
        while let Some(event) = self.queue.pop() {
            if event.at > self.duration {
                // Still due: counted at the end (frames on the video path).
                self.queue.push(event);
                break;
            }
            self.now = event.at;
            if let Some(h) = event.kind.host() {
                if let Some(until) = self.fault_book.stalled_until(h, self.now) {
                    // A stalled CPU handles it when it is back, in order; a
                    // packet keeps the stamp it got on arrival.
                    let kind = match event.kind {
                        EventKind::Packet {
                            to,
                            port,
                            from,
                            bytes,
                        } => EventKind::Received {
                            to,
                            port,
                            from,
                            bytes,
                            rx: self.rx_stamp(to),
                        },
                        other => other,
                    };
                    self.push(until, kind);
                    continue;
                }
                if self.fault_book.down(h, self.now) {
                    match event.kind {
                        EventKind::FrameArrival(meta) => self.lose_at_hub(meta),
                        // The sensor counts on while its agent is down.
                        EventKind::FreeRunCapture { host, rate, n } => {
                            self.schedule_free_run_capture(host, rate, n + 1)
                        }
                        EventKind::CoordFrame { .. } => self.coord.tally.frames_lost += 1,
                        _ => {}
                    }
                    continue;
                }
            }
            match event.kind {
                EventKind::Timer { host, generation } => {
                    if self.hosts[host].generation != generation {
                        continue;
                    }
                    self.hosts[host].armed = None;
                    let local = self.hosts[host].osc.local_at(self.now);
                    self.trace.record(1, self.now).u64(host as u64).i64(local);
                    self.hosts[host].node.node().handle_timeout(Time(local));
                    self.settle(host);
                }
                EventKind::Packet {
                    to,
                    port,
                    from,
                    bytes,
                } => {
                    let rx = self.rx_stamp(to);
                    self.receive(to, port, from, &bytes, rx);
                }
                EventKind::Received {
                    to,
                    port,
                    from,
                    bytes,
                    rx,
                } => self.receive(to, port, from, &bytes, rx),
                EventKind::FrameArrival(meta) => {
                    // What the oracle needs: how long after its reference
                    // instant (true PTP time) each set's last frame arrived.
                    let k = self.rule.index(self.reference_rate, meta.capture);
                    let waited = self.reference_time() - self.reference_rate.frame_time(k).0;
                    self.buffers.arrival(k, waited);
                    let local = self.hosts[HUB].osc.local_at(self.now);
                    self.trace
                        .record(3, self.now)
                        .u64(meta.camera.0 as u64)
                        .u64(meta.seq);
                    self.hosts[HUB]
                        .node
                        .node()
                        .handle_input(Time(local), Input::FrameArrived(meta));
                    self.settle(HUB);
                }
                EventKind::FreeRunCapture { host, rate, n } => {
                    let local = self.hosts[host].osc.local_at(self.now);
                    self.hosts[host]
                        .node
                        .node()
                        .handle_input(Time(local), Input::FrameCaptured { raw: Time(local) });
                    self.settle(host);
                    self.schedule_free_run_capture(host, rate, n + 1);
                }
                EventKind::CoordTimer { host, generation } => {
                    if self.coord.generation[host] == generation {
                        self.coord.armed[host] = None;
                        self.coord_timeout(host);
                    }
                }
                EventKind::CoordFrame { to, bytes, altered } => {
                    self.coord_receive(to, &bytes, altered)
                }
                EventKind::Sample => self.sample(),
                EventKind::FaultStart(i) => self.start_fault(i),
                EventKind::Garbage(i) => self.send_garbage(i),
                EventKind::Restart(h) => self.restart(h),
            }
        }
        self.now = self.duration;
        let log = self.ptp4l.take().map(|l| l.lines).unwrap_or_default();
        let series = OffsetSeries {
            clocks: self
                .slaves
                .iter()
                .map(|&h| self.knobs[h].clock.clone())
                .collect(),
            times_ns: self.tally.sample_times.clone(),
            offsets_ns: self.tally.offsets.clone(),
        };
        let faults = self
            .faults
            .iter()
            .map(|f| {
                let (start_ns, end_ns) = f.window();
                FaultSpan {
                    kind: f.kind.name(),
                    start_ns,
                    end_ns: end_ns.min(self.duration),
                    target: f.target.clone(),
                }
            })
            .collect();
        let timeline = self
            .timeline
            .take()
            .map(|t| t.finish(self.duration, faults));
        RunDetail {
            score: self.score(),
            series,
            timeline,
            log,
        }
    }

    /// Drains a host's outputs, then re-arms its timer.
    fn settle(&mut self, h: usize) {
        while let Some(output) = self.hosts[h].node.node().poll_output() {
            self.handle_output(h, output);
        }
        if let Some(log) = self.ptp4l.as_mut().filter(|l| l.host == h)
            && let Some(state) = self.hosts[h].node.slave().map(|s| s.port_state())
            && log.state != Some(state)
        {
            log.lines.push(format!(
                "{}: port 1: {} to {state}",
                ptp4l_stamp(self.now),
                log.state.map_or("INITIALIZING", |s| s.as_str())
            ));
            log.state = Some(state);
        }
        self.reschedule(h);
    }

    fn reschedule(&mut self, h: usize) {
        let deadline = self.hosts[h].node.node().poll_timeout().map(|t| t.0);
        let host = &mut self.hosts[h];
        if deadline == host.armed {
            return;
        }
        host.armed = deadline;
        host.generation += 1;
        if let Some(d) = deadline {
            let at = host.osc.true_at_or_after(d, self.now);
            let generation = host.generation;
            self.push(
                at,
                EventKind::Timer {
                    host: h,
                    generation,
                },
            );
        }
    }

    fn hardware_noise(&mut self, h: usize) -> i64 {
        match (&self.timestamping, &self.hw_noise) {
            (TimestampingMode::Hardware, Some(n)) => {
                n.sample(&mut self.hosts[h].nic).round() as i64
            }
            _ => 0,
        }
    }

    fn handle_output(&mut self, h: usize, output: Output) {
        match output {
            Output::Send {
                port,
                to,
                event: _,
                bytes,
                token,
            } => {
                // Software stamps are taken in the stack before the wire; hardware
                // stamps when the packet leaves.
                let local = self.hosts[h].osc.local_at(self.now);
                let (wire, tx) = match self.timestamping {
                    TimestampingMode::Hardware => (self.now, local + self.hardware_noise(h)),
                    TimestampingMode::Software => {
                        let stack = self.stack_latency.sample(&mut self.hosts[h].nic);
                        (self.now + stack, local)
                    }
                };
                if let Some(token) = token
                    && !self.fault_book.loses_tx_timestamp(h, self.now)
                {
                    self.trace.record(4, self.now).u64(h as u64).i64(tx);
                    self.hosts[h].node.node().handle_input(
                        Time(local),
                        Input::TxTimestamp {
                            token,
                            tx: Time(tx),
                        },
                    );
                }
                self.transmit(h, port, to, wire, bytes.into());
            }
            Output::Servo(r) => {
                self.trace
                    .record(5, self.now)
                    .u64(h as u64)
                    .i64(r.offset.0)
                    .u64(r.state.code() as u64)
                    .f64(r.frequency_ppb);
                self.servo_totals[h].add(&r);
                if let Some(log) = self.ptp4l.as_mut().filter(|l| l.host == h) {
                    log.record(self.now, &r);
                }
            }
            Output::Frame(meta) => {
                let gm = self.reference_time();
                if let Some(v) = &mut self.hybrid {
                    let locked = meta.lock == ServoState::Locked;
                    let commands = v.frame(meta.camera.0 as usize, gm, meta.capture, locked);
                    for (camera, adjustment) in commands {
                        self.coord_command(FIRST_CAMERA + camera, adjustment);
                    }
                }
                self.tally.frames_captured += 1;
                self.truth.captured(meta.camera.0 as usize, meta.seq, gm);
                self.trace
                    .record(6, self.now)
                    .u64(meta.camera.0 as u64)
                    .u64(meta.seq)
                    .i64(meta.capture.0);
                // Before its first lock a camera's stamps may jump back (the
                // servo's first step), flagged unlocked; once it says locked
                // they must only go forward.
                let locked = meta.lock == ServoState::Locked;
                let last = &mut self.tally.last_capture[meta.camera.0 as usize];
                if locked && last.is_some_and(|(l, was_locked)| was_locked && meta.capture.0 <= l) {
                    self.tally.time_reversals += 1;
                }
                *last = Some((meta.capture.0, locked));
                // Judged on one continuous timescale (the primary
                // grandmaster's oscillator), not the reference, which
                // changes with the master followed.
                let steady = self.hosts[GRANDMASTER].osc.local_at(self.now);
                self.follow_timeline(meta.camera.0 as usize, meta.capture.0 - steady, locked);
                let mut meta = meta;
                let mut not_before = self.now;
                match self.fault_book.frame(h, self.now) {
                    FrameFate::Send => {}
                    FrameFate::Drop => {
                        self.tally.dropped += 1;
                        self.truth.take(meta.camera.0 as usize, meta.seq);
                        return;
                    }
                    FrameFate::HoldUntil(until) => not_before = until,
                    FrameFate::Shift(by) => meta.capture += Nanos(by),
                }
                let host = &mut self.hosts[h];
                if self.video_loss > 0.0 && host.video.random_bool(self.video_loss) {
                    self.tally.dropped += 1;
                    self.truth.take(meta.camera.0 as usize, meta.seq);
                    return;
                }
                let copies =
                    if self.video_duplicate > 0.0 && host.video.random_bool(self.video_duplicate) {
                        2
                    } else {
                        1
                    };
                for _ in 0..copies {
                    let delay = self.video_delay(h);
                    self.push(not_before + delay, EventKind::FrameArrival(meta));
                }
            }
            Output::FrameSet(set) => self.score_set(&set),
            Output::FrameAccounted(a) => {
                self.trace
                    .record(7, self.now)
                    .u64(a.frame.camera.0 as u64)
                    .u64(a.frame.seq)
                    .u64(a.reason as u64);
                if a.reason == AccountReason::Duplicate {
                    // A second copy: the first is where the frame is counted.
                    self.tally.duplicates += 1;
                    return;
                }
                self.truth.take(a.frame.camera.0 as usize, a.frame.seq);
                match a.reason {
                    AccountReason::Duplicate => {}
                    AccountReason::Late => {
                        tracing::trace!(at_s = self.now as f64 / 1e9, "late frame");
                        self.tally.late += 1;
                        if let Some(t) = &mut self.timeline {
                            t.late_frame(self.now);
                        }
                    }
                    AccountReason::Superseded => self.tally.superseded += 1,
                    AccountReason::OutOfWindow
                    | AccountReason::UnknownCamera
                    | AccountReason::FromTheFuture => self.tally.dropped += 1,
                }
            }
            Output::Dropped(reason) => match reason {
                DropReason::Malformed => self.tally.malformed += 1,
                DropReason::NotAcceptable | DropReason::Unauthenticated | DropReason::Replay => {
                    self.tally.rejected += 1
                }
                DropReason::WrongDomain | DropReason::Unexpected => {}
            },
            Output::Alert(alert) => {
                self.trace
                    .record(13, self.now)
                    .u64(h as u64)
                    .u64(alert.kind as u64);
                *self
                    .tally
                    .alerts
                    .entry(alert.kind.as_str().to_string())
                    .or_default() += 1;
                if let Some(t) = &mut self.timeline {
                    t.alert(self.now, &self.knobs[h].clock, alert.kind.as_str());
                }
            }
        }
    }

    /// Puts a packet on the network: one copy per receiver, each with its own
    /// link delay and loss draw.
    /// The network segment host `h` reaches through its port `port`: the core,
    /// or a boundary clock's cluster.
    fn segment_of(&self, h: usize, port: u16) -> usize {
        if port == DOWNSTREAM_PORT {
            self.bc_segment[h].unwrap_or(self.segment[h])
        } else {
            self.segment[h]
        }
    }

    /// The port through which host `r` hears segment `seg`.
    fn port_on(&self, r: usize, seg: usize) -> Option<u16> {
        if self.segment[r] == seg {
            Some(1)
        } else if self.bc_segment[r] == Some(seg) {
            Some(DOWNSTREAM_PORT)
        } else {
            None
        }
    }

    fn transmit(&mut self, from: usize, port: u16, to: Destination, wire: i64, bytes: Rc<[u8]>) {
        if self.silent(from) {
            self.trace.record(12, self.now);
            return;
        }
        let is_sync = bytes.first().is_some_and(|b| b & 0x0f == 0);
        if is_sync
            && from != GRANDMASTER
            && self.masters.contains(&from)
            && self.primary_silent()
            && self.tally.takeover.is_none()
        {
            self.tally.takeover = Some(self.now);
        }
        let path_step = self.fault_step(FaultKind::PathDelayStep);
        let replay_after = self.fault_step(FaultKind::ReplayAttack);
        let asymmetry = self.asymmetry + self.fault_step(FaultKind::AsymmetryStep);
        let seg = self.segment_of(from, port);
        let receivers: Vec<(usize, u16)> = match to {
            Destination::Multicast => (0..self.hosts.len())
                .filter(|&r| r != from)
                .filter_map(|r| self.port_on(r, seg).map(|p| (r, p)))
                .collect(),
            Destination::Unicast(PeerAddr(a)) => {
                let a = a as usize;
                (a < self.hosts.len())
                    .then(|| self.port_on(a, seg).map(|p| (a, p)))
                    .flatten()
                    .into_iter()
                    .collect()
            }
        };
        for (r, rx_port) in receivers {
            self.tally.packets_sent += 1;
            // Master-to-slave: from a master, or from a boundary clock's master port.
            let downstream = self.masters.contains(&from) || self.bc_segment[from] == Some(seg);
            let hop = Hop {
                from,
                from_port: port,
                to: r,
                to_port: rx_port,
                multicast: matches!(to, Destination::Multicast),
                link: if from == GRANDMASTER { r } else { from },
            };
            let lost_to_faults =
                self.fault_book.down(r, self.now) || self.fault_book.cuts(hop, self.now);
            let link = if from == GRANDMASTER {
                &mut self.hosts[r].down
            } else {
                &mut self.hosts[from].up
            };
            if lost_to_faults || (self.ptp_loss > 0.0 && link.random_bool(self.ptp_loss)) {
                self.tally.packets_lost += 1;
                self.trace
                    .record(8, self.now)
                    .u64(from as u64)
                    .u64(r as u64);
                continue;
            }
            // A leader's uplink port crosses its own link to the core.
            let uplink = [(from, port), (r, rx_port)]
                .into_iter()
                .filter(|&(h, p)| p != DOWNSTREAM_PORT && self.bc_segment[h].is_some())
                .find_map(|(h, _)| self.uplinks[h].as_ref());
            let path = uplink.unwrap_or(&self.ptp_latency);
            let sampled = path.sample(link);
            // What a transparent clock would see: time in queues, not on wires.
            let queued = sampled - path.floor();
            let mut delay = sampled + path_step;
            if downstream && asymmetry > 0 {
                delay += asymmetry;
            } else if !downstream && asymmetry < 0 {
                delay -= asymmetry;
            }
            let delay = delay.max(0);
            let bytes = if self.transparent_clocks {
                with_residence_time(&bytes, queued)
            } else {
                bytes.clone()
            };
            let fate = self.fault_book.fate(self.now);
            let mut arrival = wire + delay + fate.extra;
            if self.timestamping == TimestampingMode::Software {
                arrival += self.stack_latency.sample(&mut self.hosts[r].nic);
            }
            if let Some(after) = fate.duplicate_after {
                self.push(
                    arrival + after,
                    EventKind::Packet {
                        to: r,
                        port: rx_port,
                        from,
                        bytes: bytes.clone(),
                    },
                );
            }
            if from == GRANDMASTER && replay_after > 0 {
                self.push(
                    arrival + replay_after,
                    EventKind::Packet {
                        to: r,
                        port: rx_port,
                        from,
                        bytes: bytes.clone(),
                    },
                );
            }
            self.push(
                arrival,
                EventKind::Packet {
                    to: r,
                    port: rx_port,
                    from,
                    bytes: bytes.clone(),
                },
            );
        }
    }

    /// A free-running sensor counts frames on its own oscillator from power-on and
    /// tells its agent of each one.
    fn schedule_free_run_capture(&mut self, h: usize, rate: FrameRate, n: i64) {
        let local = self.hosts[h].osc.params().initial_local + rate.frame_time(n).0;
        let at = self.hosts[h].osc.true_at_or_after(local, self.now);
        self.push(at, EventKind::FreeRunCapture { host: h, rate, n });
    }

    /// How long a frame sent now by host `h` takes to reach the hub: its
    /// path's draw, its queueing scaled by any jitter step, plus any burst.
    fn video_delay(&mut self, h: usize) -> i64 {
        let factor: f64 = self
            .faults
            .iter()
            .filter(|f| f.kind == FaultKind::VideoJitter && f.active(self.now))
            .map(|f| f.factor)
            .product();
        let host = &mut self.hosts[h];
        let mut delay = host.video_latency.sample(&mut host.video);
        if factor != 1.0 {
            let floor = host.video_latency.floor().min(delay);
            delay = floor + ((delay - floor) as f64 * factor).round() as i64;
        }
        if let Some(b) = &mut self.bursts {
            delay += b.extra_at(self.now);
        }
        delay
    }

    fn score_set(&mut self, set: &FrameSet) {
        let gm = self.reference_time();
        let latency = gm - set.reference.0;
        self.trace
            .record(9, self.now)
            .i64(set.index)
            .u64(set.placed().count() as u64);
        self.tally.sets += 1;
        let complete = set.is_complete();
        tracing::trace!(
            at_s = self.now as f64 / 1e9,
            latency_ms = latency as f64 / 1e6,
            complete,
            "frame set"
        );
        if complete {
            self.tally.complete_sets += 1;
        }
        if let Some(t) = &mut self.timeline {
            t.set_released(self.now, latency, complete);
        }
        self.buffers.released(
            set.index,
            SetRecord {
                released: self.now,
                latency,
                complete,
            },
        );
        let mut misaligned = false;
        let mut truths = vec![None; set.slots.len()];
        for (c, slot) in set.slots.iter().enumerate() {
            let frame = match slot {
                Slot::Frame(f) => f,
                Slot::Repeat(_, RepeatReason::Concealment) => {
                    self.tally.concealed_slots += 1;
                    continue;
                }
                Slot::Repeat(_, RepeatReason::RateConversion) => continue,
                Slot::Missing(_) => {
                    self.tally.missing_slots += 1;
                    continue;
                }
            };
            self.tally.frames_in_sets += 1;
            self.trace.u64(frame.seq);
            let Some(truth) = self.truth.take(frame.camera.0 as usize, frame.seq) else {
                continue;
            };
            truths[c] = Some(truth);
            let error = (truth - set.reference.0).abs();
            self.tally.max_alignment_error = self.tally.max_alignment_error.max(error);
            self.tally.max_stamp_error = self
                .tally
                .max_stamp_error
                .max((frame.capture.0 - truth).abs());
            // More than half a frame period off — the camera's, or the
            // cadence's when that is longer (a faster camera's nearest frame
            // can be half the cadence away): exactly, 2|e|·num > den·1e9.
            let rate = if frame.rate.period() >= self.reference_rate.period() {
                frame.rate
            } else {
                self.reference_rate
            };
            // Beyond the stamp's stated uncertainty (a lost frame leaves its
            // neighbour exactly half a period away, give or take the noise).
            let beyond = (error - frame.uncertainty.map_or(0, |u| u.0)).max(0);
            // A frame its camera flags as unlocked (before its first lock,
            // or while it has lost it) is placed as flagged, not misaligned.
            let flagged = frame.lock != ServoState::Locked;
            self.tally.unlocked_frames += flagged as u64;
            let off = match self.rule {
                AlignRule::Nearest => {
                    2 * beyond as i128 * rate.num() as i128 > rate.den() as i128 * 1_000_000_000
                }
                // The latest frame before the instant may be up to a period
                // before it (a capture delayed off the cadence shows at the
                // next instant): misaligned when more than half a period
                // after the instant, as with `nearest`, or more than a whole
                // period before it.
                AlignRule::LatestBefore { .. } => {
                    let slack = frame.uncertainty.map_or(0, |u| u.0);
                    let after = truth - set.reference.0;
                    let period = rate.period().0;
                    2 * (after - slack) > period || -after - slack > period
                }
            };
            if !flagged && off {
                misaligned = true;
            }
            // Wrong: no instant the stamp's stated uncertainty allows is this
            // set's, by the hub's own rule applied to the true capture.
            if let Some(u) = frame.uncertainty {
                let lo = self.rule.index(self.reference_rate, Time(truth - u.0));
                let hi = self.rule.index(self.reference_rate, Time(truth + u.0));
                if !(lo..=hi).contains(&set.index) {
                    self.tally.wrong_assignments += 1;
                }
            }
        }
        if misaligned {
            self.tally.misaligned_sets += 1;
        }
        self.switcher.on_set(set, |c| truths[c]);
    }

    /// The grandmaster the slaves are meant to follow now: the best master that
    /// is on the air (started, not silenced, not passive) and acceptable to
    /// them; the primary when there is none (its timescale is what holdover
    /// is measured against). A master back on the air counts once slaves can
    /// have qualified it: until then they rightly follow the one before (a
    /// primary returning to a backup 30 ms off judged the frames still
    /// stamped on the backup's time misaligned; scenario graceful-resync).
    fn reference_master(&self) -> usize {
        let qualified_since = self.now - self.master_qualification;
        self.masters
            .iter()
            .copied()
            .filter(|&m| {
                !self.silent(m)
                    && !self.silent_at(m, qualified_since)
                    && self.acceptable.as_ref().is_none_or(|a| a.contains(&m))
                    && match &self.hosts[m].node {
                        NodeKind::Master(node) => !node.is_passive(),
                        _ => false,
                    }
            })
            .min_by_key(|&m| self.master_rank[m])
            .unwrap_or(GRANDMASTER)
    }

    /// True PTP time: the reference grandmaster's clock, now.
    fn reference_time(&mut self) -> i64 {
        let m = self.reference_master();
        self.hosts[m].osc.local_at(self.now)
    }

    fn sample(&mut self) {
        let now = self.now;
        let gm = self.reference_time();
        self.hosts[GRANDMASTER].osc.forget_before(now);
        self.tally.sample_times.push(now);
        self.trace.record(10, now);
        for h in 1..self.hosts.len() {
            self.hosts[h].osc.forget_before(now);
        }
        for (i, &h) in self.slaves.iter().enumerate() {
            let local = self.hosts[h].osc.local_at(now);
            let slave = self.hosts[h].node.slave().expect("listed as a slave");
            let reading = slave.clock().time_at(Time(local)).0;
            let offset = reading - gm;
            let locked = slave.servo_state() == ServoState::Locked;
            let last = &mut self.tally.last_reading[i];
            if locked && last.is_some_and(|(l, was_locked)| was_locked && reading < l) {
                self.tally.time_reversals += 1;
            }
            *last = Some((reading, locked));
            self.tally.offsets[i].push(offset);
            self.trace.i64(offset);
        }
        if let Some(t) = &mut self.timeline
            && let NodeKind::Hub(hub) = &self.hosts[HUB].node
        {
            t.buffer_sample(now, hub.buffer_target().0, hub.held_frames().count() as u64);
        }
        // Holdover is scored when the primary is silent and no other master
        // could take over.
        if self.primary_silent() && self.masters.len() == 1 && !self.oracle.is_empty() {
            for (i, &h) in self.slaves.iter().enumerate() {
                let o = self.oracle[i];
                let local = self.hosts[h].osc.local_at(now);
                let held = o.offset + o.gm + ((local - o.local) as f64 * o.ratio).round() as i64;
                let oracle = (held - gm).abs();
                let actual = self.tally.offsets[i].last().copied().unwrap_or(0).abs();
                let t = &mut self.tally;
                t.holdover_oracle_max_abs =
                    Some(t.holdover_oracle_max_abs.unwrap_or(0).max(oracle));
                t.holdover_max_abs = Some(t.holdover_max_abs.unwrap_or(0).max(actual));
            }
        }
        self.push(now + self.sample_interval, EventKind::Sample);
    }

    fn score(mut self) -> Score {
        let t = &self.tally;
        let hold = (self.lock_hold / self.sample_interval).max(1) as usize;
        let lock_index: Vec<Option<usize>> = t
            .offsets
            .iter()
            .map(|series| lock_index(series, self.lock_threshold, hold))
            .collect();
        let all_locked = lock_index.iter().all(Option::is_some);
        let from = if all_locked {
            lock_index.iter().flatten().copied().max().unwrap_or(0)
        } else {
            0
        };
        let mut abs: Vec<f64> = t
            .offsets
            .iter()
            .flat_map(|s| s.iter().skip(from))
            .map(|&o| (o as f64).abs())
            .collect();
        abs.sort_by(f64::total_cmp);
        let rms = if abs.is_empty() {
            0.0
        } else {
            (abs.iter().map(|v| v * v).sum::<f64>() / abs.len() as f64).sqrt()
        };
        let mut slaves = self.hosts.iter().filter_map(|h| h.node.slave());
        let (mut updates, mut steps, mut slewed, mut delay_sum, mut delay_n) = (0, 0, 0, 0i64, 0);
        let (mut holdovers, mut gm_changes) = (0, 0);
        for s in slaves.by_ref() {
            let c = s.counters();
            gm_changes += c.gm_changes;
            updates += c.servo_updates;
            steps += c.steps;
            slewed += c.slewed_steps;
            holdovers += c.holdovers;
            if let Some(d) = s.path_delay() {
                delay_sum += d.0;
                delay_n += 1;
            }
        }
        let mut latency: Vec<f64> = self
            .buffers
            .sets
            .iter()
            .map(|s| s.latency as f64 / 1e6)
            .collect();
        latency.sort_by(f64::total_cmp);
        // Every frame not yet in a set or accounted is somewhere when the run
        // ends: held in the hub's open sets, or on the video path (an
        // arrival still due). Whatever is in neither was lost silently.
        let mut somewhere: BTreeSet<(u16, u64)> = self
            .queue
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::FrameArrival(m) => Some((m.camera.0, m.seq)),
                _ => None,
            })
            .collect();
        if let NodeKind::Hub(hub) = &self.hosts[HUB].node {
            somewhere.extend(hub.held_frames().map(|m| (m.camera.0, m.seq)));
        }
        let somewhere = somewhere
            .into_iter()
            .filter(|&(c, seq)| self.truth.pending(c as usize, seq))
            .count() as u64;
        let accounted = t.frames_in_sets + t.late + t.dropped + t.superseded + somewhere;
        let ptp = PtpScore {
            offset_rms_ns: rms,
            offset_p99_abs_ns: quantile(&abs, 0.99),
            offset_max_abs_ns: abs.last().copied().unwrap_or(0.0),
            offset_pp_ns: t
                .offsets
                .iter()
                .filter_map(|s| {
                    let after = s.get(from..)?;
                    Some(after.iter().max()? - after.iter().min()?)
                })
                .max()
                .unwrap_or(0) as f64,
            time_to_lock_s: all_locked
                .then(|| t.sample_times.get(from).map_or(0.0, |&x| x as f64 / 1e9)),
            clocks: t.offsets.len() as u64,
            locked_clocks: lock_index.iter().flatten().count() as u64,
            lock_threshold_ns: self.lock_threshold as f64,
            servo_updates: updates,
            clock_steps: steps,
            slewed_resyncs: slewed,
            packets_sent: t.packets_sent,
            packets_lost: t.packets_lost,
            malformed_packets: t.malformed,
            rejected_messages: t.rejected,
            mean_path_delay_ns: if delay_n > 0 {
                delay_sum as f64 / delay_n as f64
            } else {
                0.0
            },
            holdover_max_abs_ns: t.holdover_max_abs.map(|v| v as f64),
            holdover_oracle_max_abs_ns: t.holdover_oracle_max_abs.map(|v| v as f64),
            recover_s: self.recovery(),
            holdovers,
            gm_changes,
            time_reversals: t.time_reversals,
            utc_offset_s: self.hosts[HUB]
                .node
                .slave()
                .and_then(|s| s.utc())
                .map(|u| u.offset_s as f64),
            alerts: t.alerts.values().sum(),
            alert_kinds: t.alerts.clone(),
            per_clock: self
                .slaves
                .iter()
                .enumerate()
                .map(|(i, &h)| {
                    let s = &t.offsets[i];
                    let after = s.get(from..).unwrap_or(&[]);
                    ClockScore {
                        clock: self.knobs[h].clock.clone(),
                        port_state: self.hosts[h]
                            .node
                            .slave()
                            .map_or("-".into(), |s| s.port_state().to_string()),
                        true_offset_rms_ns: rms_of(after),
                        locked_at_s: lock_index[i]
                            .and_then(|k| t.sample_times.get(k))
                            .map(|&x| x as f64 / 1e9),
                        servo: self.servo_totals[h].figures(),
                    }
                })
                .collect(),
        };
        let align = AlignScore {
            frame_sets: t.sets,
            complete_sets: t.complete_sets,
            complete_ratio: if t.sets > 0 {
                t.complete_sets as f64 / t.sets as f64
            } else {
                0.0
            },
            misaligned_frame_sets: t.misaligned_sets,
            unlocked_frames: t.unlocked_frames,
            max_alignment_error_ns: t.max_alignment_error as f64,
            max_stamp_error_ns: t.max_stamp_error as f64,
            max_timeline_jump_ns: t.max_timeline_jump as f64,
            timeline_jumps: t.timeline_jumps,
            frames_captured: t.frames_captured,
            frames_in_sets: t.frames_in_sets,
            late_frames: t.late,
            dropped_frames: t.dropped,
            frames_lost_at_hub: t.lost_at_hub,
            superseded_frames: t.superseded,
            frames_in_flight_at_end: somewhere,
            unaccounted_frames: t.frames_captured.abs_diff(accounted),
            duplicate_frames: t.duplicates,
            wrong_assignments: t.wrong_assignments,
            missing_slots: t.missing_slots,
            concealed_slots: t.concealed_slots,
            added_latency_p50_ms: quantile(&latency, 0.5),
            added_latency_p99_ms: quantile(&latency, 0.99),
        };
        let buffer = self.buffer_score(&latency);
        Score {
            buffer,
            switch: SwitchScore {
                cuts: self.switcher.cuts,
                bad_cuts: self.switcher.bad_cuts,
            },
            visual: self.hybrid.as_ref().map(HybridLoop::score),
            health: self.coord.health_score(Time(
                self.hosts[self.coord.judge()].osc.local_at(self.duration),
            )),
            coordination: self.coord.score(),
            mesh: self.coord.mesh_score(self.duration),
            scenario: self.scenario_name,
            seed: self.seed,
            duration_s: self.duration as f64 / 1e9,
            events: self.trace.events(),
            trace_hash: self.trace.finish(),
            ptp,
            align,
            expect: Default::default(),
        }
    }
}

/// The coordination path: the world routes frames and timers between the
/// hub's and the cameras' endpoints, or between the agents' in the
/// distributed topology (see `coordination.rs`).
impl World {
    /// Hands `adjustment` (from the hybrid loop) to the hub's endpoint to
    /// send to camera host `h`.
    fn coord_command(&mut self, h: usize, adjustment: Adjustment) {
        let local = self.hosts[HUB].osc.local_at(self.now);
        let Some(hub) = self.coord.hub_endpoint_mut() else {
            return;
        };
        let Ok(sequence) = hub.command(
            Time(local),
            NodeId(h as u32),
            adjustment.step,
            adjustment.frequency_ppb,
        ) else {
            // A rate the wire cannot carry: never sent, so never applied.
            if let Some(v) = &mut self.hybrid {
                v.cancelled(h - FIRST_CAMERA);
            }
            return;
        };
        self.trace
            .record(20, self.now)
            .u64(h as u64)
            .u64(sequence)
            .i64(adjustment.step.0);
        self.coord_settle(HUB);
    }

    fn coord_timeout(&mut self, h: usize) {
        let local = Time(self.hosts[h].osc.local_at(self.now));
        self.trace.record(21, self.now).u64(h as u64);
        let report = match &self.hosts[h].node {
            NodeKind::Camera(c) => Some(c.clock_report(local)),
            _ => None,
        };
        match (&mut self.coord.endpoints[h], report) {
            (Endpoint::Camera(c), Some(report)) => c.handle_timeout(local, report),
            (Endpoint::Peer(agent), Some(report)) => agent.handle_timeout(local, report),
            (Endpoint::Hub(hub), _) => hub.handle_timeout(local),
            _ => {}
        }
        self.coord_settle(h);
    }

    /// A coordination frame reaches host `h`.
    fn coord_receive(&mut self, h: usize, bytes: &[u8], altered: bool) {
        let local = Time(self.hosts[h].osc.local_at(self.now));
        let mut apply = None;
        let accepted = match &mut self.coord.endpoints[h] {
            Endpoint::Camera(c) => {
                let got = c.receive(local, bytes);
                self.coord.tally.delivered(&got, altered);
                if let Ok(Some(a)) = got {
                    apply = Some(a.adjustment);
                }
                got.is_ok()
            }
            Endpoint::Hub(hub) => {
                let got = hub.receive(local, bytes);
                self.coord.tally.delivered(&got, altered);
                got.is_ok()
            }
            Endpoint::Peer(agent) => {
                let got = agent.receive(local, bytes);
                self.coord.tally.delivered(&got, altered);
                got.is_ok()
            }
            Endpoint::Absent => false,
        };
        self.trace
            .record(22, self.now)
            .u64(h as u64)
            .u64(bytes.len() as u64)
            .u64(u64::from(accepted));
        if let Some(adjustment) = apply {
            self.apply_adjustment(h, local, adjustment);
        }
        self.coord_settle(h);
    }

    /// Camera host `h`'s endpoint accepted a command: its agent applies it.
    fn apply_adjustment(&mut self, h: usize, local: Time, adjustment: Adjustment) {
        self.coord.record_applied(h, adjustment.sequence);
        self.trace
            .record(10, self.now)
            .u64(h as u64)
            .i64(adjustment.step.0)
            .f64(adjustment.frequency_ppb);
        self.hosts[h]
            .node
            .node()
            .handle_input(local, Input::Adjust(adjustment));
        // Slewed, the step reaches the camera's stamps only when its lag
        // has closed (true time).
        let closes = match &self.hosts[h].node {
            NodeKind::Camera(c) => c.slew_closes_at(local),
            _ => None,
        };
        // A slew closing after the run (a slow rate, a long limit) is never
        // looked past: the oscillator is not extended far beyond the run for
        // it. (Local clocks run within 0.2 % of true time.)
        let remaining = self.duration - self.now;
        let settles_in = closes.map_or(0, |base| {
            if (base.0 - local.0) as f64 > remaining as f64 * 1.002 {
                remaining + 1
            } else {
                self.hosts[h].osc.true_at_or_after(base.0, self.now) - self.now
            }
        });
        self.settle(h);
        // The hybrid loop keeps grandmaster time, as the stamps it compares.
        let gm = self.reference_time();
        if let Some(v) = &mut self.hybrid {
            v.applied(h - FIRST_CAMERA, gm, gm + settles_in, adjustment);
        }
    }

    /// Sends what host `h`'s endpoint has to send, reports its events, and
    /// re-arms its timer.
    fn coord_settle(&mut self, h: usize) {
        let mut sends: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut events = Vec::new();
        let cameras: Vec<usize> = self.coord.camera_hosts().collect();
        let judge = self.coord.judge();
        let mut agent_alerts = 0;
        match &mut self.coord.endpoints[h] {
            Endpoint::Camera(c) => {
                while let Some(bytes) = c.poll_transmit() {
                    sends.push((HUB, bytes));
                }
            }
            Endpoint::Hub(hub) => {
                while let Some(t) = hub.poll_transmit() {
                    match t.to {
                        Some(NodeId(to)) => sends.push((to as usize, t.bytes)),
                        None => {
                            for &to in &cameras {
                                sends.push((to, t.bytes.clone()));
                            }
                        }
                    }
                }
                while let Some(e) = hub.poll_event() {
                    events.push(e);
                }
            }
            Endpoint::Peer(agent) => {
                while let Some(bytes) = agent.poll_transmit() {
                    for &to in cameras.iter().filter(|&&to| to != h) {
                        sends.push((to, bytes.clone()));
                    }
                }
                // Every agent raises its own; the operator hears the judge's.
                while let Some(alert) = agent.poll_alert() {
                    agent_alerts += 1;
                    if h == judge {
                        events.push(HubEvent::Alert(alert));
                    }
                }
            }
            Endpoint::Absent => {}
        }
        for _ in 0..agent_alerts {
            self.coord.count_agent_alert();
        }
        for (to, bytes) in sends {
            self.coord_send(h, to, bytes);
        }
        for event in events {
            self.coord_event(event);
        }
        self.coord_reschedule(h);
        self.coord_note_views();
    }

    /// The distributed topology: whether the agents up agree now.
    fn coord_note_views(&mut self) {
        if self.coord.topology() == Topology::Distributed {
            let up: Vec<bool> = (0..self.hosts.len()).map(|x| !self.silent(x)).collect();
            self.coord.note_views(self.now, |x| up[x]);
        }
    }

    fn coord_event(&mut self, event: HubEvent) {
        match event {
            HubEvent::Acknowledged(_) => {}
            HubEvent::Cancelled { camera, .. } => {
                if let Some(v) = &mut self.hybrid {
                    v.cancelled(camera.0 as usize - FIRST_CAMERA);
                }
            }
            HubEvent::Alert(alert) => {
                let (subject, name) = match alert.subject {
                    Subject::Camera(NodeId(h)) => (h as u64, self.knobs[h as usize].clock.clone()),
                    Subject::Cluster(ClusterId(c)) => (1 << 32 | c as u64, format!("cluster {c}")),
                };
                self.trace
                    .record(23, self.now)
                    .u64(alert.kind as u64)
                    .u64(subject);
                *self
                    .coord
                    .tally
                    .alert_kinds
                    .entry(alert.kind.as_str().to_string())
                    .or_default() += 1;
                if let Some(t) = &mut self.timeline {
                    t.alert(self.now, &name, alert.kind.as_str());
                }
            }
        }
    }

    /// Puts a coordination frame on the path from `from` to `to`.
    fn coord_send(&mut self, from: usize, to: usize, bytes: Vec<u8>) {
        if self.silent(from) {
            return;
        }
        let faults = self.fault_book.coordination(from, to, self.now);
        for arrival in self.coord.fate(bytes, faults) {
            self.push(
                self.now + arrival.delay,
                EventKind::CoordFrame {
                    to,
                    bytes: arrival.bytes.into(),
                    altered: arrival.altered,
                },
            );
        }
    }

    fn coord_reschedule(&mut self, h: usize) {
        let deadline = match &self.coord.endpoints[h] {
            Endpoint::Camera(c) => c.poll_timeout(),
            Endpoint::Hub(hub) => hub.poll_timeout(),
            Endpoint::Peer(agent) => agent.poll_timeout(),
            Endpoint::Absent => None,
        }
        .map(|t| t.0);
        if deadline == self.coord.armed[h] {
            return;
        }
        self.coord.armed[h] = deadline;
        self.coord.generation[h] += 1;
        if let Some(d) = deadline {
            let at = self.hosts[h].osc.true_at_or_after(d, self.now);
            let generation = self.coord.generation[h];
            self.push(
                at,
                EventKind::CoordTimer {
                    host: h,
                    generation,
                },
            );
        }
    }

    /// The buffer against its oracle (see `BufferTally`), and how it met the
    /// jitter steps of the run.
    fn buffer_score(&mut self, latency_ms: &[f64]) -> BufferScore {
        let p50 = quantile(latency_ms, 0.5);
        let oracle_p50 = self.buffers.oracle_p50_ms();
        // A step up is a jitter fault starting with factor > 1 or ending with
        // factor < 1; a step down the other way round.
        let mut ups = Vec::new();
        let mut downs = Vec::new();
        for f in self
            .faults
            .iter()
            .filter(|f| f.kind == FaultKind::VideoJitter)
        {
            let (start, end) = f.window();
            let (at_start, at_end) = if f.factor > 1.0 {
                (&mut ups, &mut downs)
            } else {
                (&mut downs, &mut ups)
            };
            // A fault from the first instant is the run's starting regime,
            // not a step.
            if start > 0 {
                at_start.push(start);
            }
            if end < self.duration {
                at_end.push(end);
            }
        }
        let descent = downs.iter().map(|&d| self.buffers.descent_after(d)).fold(
            None,
            |acc: Option<(f64, u64)>, (f, r)| {
                Some(acc.map_or((f, r), |(af, ar)| (af.max(f), ar + r)))
            },
        );
        BufferScore {
            policy: format!("{:?}", self.buffer_policy).to_lowercase(),
            added_latency_p50_ms: p50,
            added_latency_p99_ms: quantile(latency_ms, 0.99),
            oracle_latency_p50_ms: oracle_p50,
            latency_vs_oracle: if oracle_p50 > 0.0 {
                p50 / oracle_p50
            } else {
                0.0
            },
            reconverge_s: self.buffers.reconverge_s(&ups),
            max_descent_ms_per_s: descent.map(|d| d.0),
            rises_after_step_down: descent.map(|d| d.1),
        }
    }

    /// Seconds from the end of the last fault until every clock stays below the
    /// lock threshold to the end of the run.
    fn recovery(&self) -> Option<f64> {
        // From the end of the last fault; when the primary grandmaster went
        // silent for good and another master took over, from that master's
        // first Sync.
        // A fault with an end counts from its end; one that lasts to the end
        // of the run from its start.
        let end = self
            .faults
            .iter()
            .map(|f| {
                let (start, end) = f.window();
                if end < self.duration { end } else { start }
            })
            .max()?;
        let end = self.tally.takeover.map_or(end, |t| t.max(end));
        let t = &self.tally;
        let mut first_good = None;
        for (i, &at) in t.sample_times.iter().enumerate().rev() {
            let good = t.offsets.iter().all(|s| s[i].abs() < self.lock_threshold);
            if !good {
                break;
            }
            first_good = Some(at);
        }
        first_good.map(|at| (at - end).max(0) as f64 / 1e9)
    }
}

/// The first sample index from which |offset| stays below `threshold` for at
/// least `hold` samples (and the run lasts that long).
fn lock_index(series: &[i64], threshold: i64, hold: usize) -> Option<usize> {
    let mut run_start = None;
    for (i, &o) in series.iter().enumerate() {
        if o.abs() < threshold {
            let start = *run_start.get_or_insert(i);
            if i + 1 - start >= hold {
                return Some(start);
            }
        } else {
            run_start = None;
        }
    }
    None
}

/// A transparent clock's work: an event message's queueing time added to its
/// correctionField. Other messages, and what does not decode, pass unchanged.
fn with_residence_time(bytes: &Rc<[u8]>, residence_ns: i64) -> Rc<[u8]> {
    use camsync_engine::ptp::wire::PtpMessage;
    match PtpMessage::decode(bytes) {
        Ok(mut msg) if msg.is_event() => {
            let add = residence_ns.saturating_mul(1 << 16);
            msg.header.correction.0 = msg.header.correction.0.saturating_add(add);
            msg.to_bytes().into()
        }
        _ => bytes.clone(),
    }
}

fn rms_of(values: &[i64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    (values.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / values.len() as f64).sqrt()
}

fn symmetric(rng: &mut Stream, half_width: f64) -> f64 {
    if half_width <= 0.0 {
        return 0.0;
    }
    rng.random_range(-half_width..=half_width)
}

fn port_identity(host: usize) -> PortIdentity {
    let h = host as u32;
    let b = h.to_be_bytes();
    PortIdentity {
        clock_identity: ClockIdentity([0xca, 0x5c, 0x00, 0xff, 0xfe, b[1], b[2], b[3]]),
        port_number: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_needs_the_hold_period() {
        let s = [5000, 900, 800, 2000, 10, 20, 30, 40];
        assert_eq!(lock_index(&s, 1000, 3), Some(4));
        assert_eq!(lock_index(&s, 1000, 5), None);
        assert_eq!(lock_index(&s, 10_000, 8), Some(0));
    }
}
