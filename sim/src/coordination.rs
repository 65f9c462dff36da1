//! The coordination path inside the world: every camera agent's and the
//! hub's coordination endpoint (the engine's `CameraEndpoint` and
//! `HubEndpoint`) — or, in the distributed topology, every agent's
//! `PeerEndpoint` and no hub's — and the network between them: its own
//! seeded delay,
//! and what faults do to it (partitions cut it; `duplication` and
//! `reordering` strike it as they strike PTP; `coordination-corruption`
//! flips bits, cuts frames short or drops them).
//!
//! The world routes: it hands this module's endpoints their datagrams and
//! timers, and carries what they send. What this module decides is only
//! what the path does to a frame; what counts as applied, who retransmits
//! and how health is judged is the engine's.
//!
//! Its draws come from two streams of its own ("coord/path" for delays,
//! "coord/faults" for what faults do to frames), so that the PTP network's
//! and the fault book's draws are those of a world without it.

use std::collections::{BTreeMap, BTreeSet};

use crate::rng::{Seeds, Stream};
use crate::score::{CoordinationScore, HealthScore, MeshScore};
use camsync_engine::coordination::keys::{IcvAlgorithm, Key};
use camsync_engine::coordination::{
    CameraEndpoint, CommandConfig, Epoch, HubEndpoint, KeyRing, LinkConfig, NodeId, PeerEndpoint,
    Rejection,
};
use camsync_engine::health::{CameraHealth, ClusterId, HealthConfig, HealthMonitor};
use camsync_engine::time::{Nanos, Time};
use rand::RngExt;

/// The path's one-way delay: a LAN hop on the control plane (camera to hub,
/// or agent to agent).
const PATH_DELAY: i64 = 2_000_000;
/// Plus up to this much, uniform: neighbours sent close together may
/// overtake each other.
const PATH_JITTER: i64 = 500_000;
/// How often a camera reports its clock; a camera silent for three
/// reports is lost.
const STATUS_INTERVAL: Nanos = Nanos::from_secs(1);
const LIVENESS_TIMEOUT: Nanos = Nanos::from_secs(3);
/// Locked reports beyond the bound, running, before a camera is degraded.
const DEGRADED_AFTER: u32 = 3;

/// A host's coordination endpoint.
pub enum Endpoint {
    /// The host takes no part (a grandmaster, a boundary clock).
    Absent,
    Camera(Box<CameraEndpoint>),
    Hub(Box<HubEndpoint>),
    /// A camera agent of the distributed topology.
    Peer(Box<PeerEndpoint>),
}

/// Who judges the rig's health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    /// The hub: cameras report to it, it commands them.
    Central,
    /// Every camera agent, from the reports all of them send to all.
    Distributed,
}

/// What the path does to one frame: the copies that arrive, each after its
/// delay, altered or not.
pub struct Arrival {
    pub delay: i64,
    pub bytes: Vec<u8>,
    pub altered: bool,
}

/// The faults striking a frame now, as the world found them.
#[derive(Clone, Copy, Debug, Default)]
pub struct PathFaults {
    /// Cut by a partition or a link down.
    pub cut: bool,
    /// `coordination-corruption`'s probability.
    pub corruption: f64,
    pub duplication: f64,
    /// `reordering`: probability and hold-back.
    pub reordering: (f64, i64),
}

/// Counters the world keeps about the path and its endpoints.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub frames_sent: u64,
    pub frames_lost: u64,
    pub frames_duplicated: u64,
    pub frames_corrupted: u64,
    pub frames_delivered: u64,
    pub accepted: u64,
    pub malformed: u64,
    pub unauthenticated: u64,
    pub replayed: u64,
    pub stale: u64,
    pub duplicate_commands: u64,
    pub misdirected: u64,
    pub corrupted_rejected: u64,
    pub corrupted_accepted: u64,
    pub commands_applied: u64,
    pub applied_twice: u64,
    pub alert_kinds: BTreeMap<String, u64>,
}

impl Tally {
    /// Counts a delivery's outcome.
    pub fn delivered<T>(&mut self, result: &Result<T, Rejection>, altered: bool) {
        self.frames_delivered += 1;
        let counter = match result {
            Ok(_) => &mut self.accepted,
            Err(Rejection::Malformed(_)) => &mut self.malformed,
            Err(Rejection::Unauthenticated(_) | Rejection::Reflected) => &mut self.unauthenticated,
            Err(Rejection::Replayed { .. }) => &mut self.replayed,
            Err(Rejection::Stale { .. }) => &mut self.stale,
            Err(Rejection::AlreadyApplied { .. }) => &mut self.duplicate_commands,
            Err(Rejection::Misdirected { .. }) => &mut self.misdirected,
        };
        *counter += 1;
        if altered {
            match result {
                Ok(_) => self.corrupted_accepted += 1,
                Err(_) => self.corrupted_rejected += 1,
            }
        }
    }
}

/// Health figures of judges that have restarted since: carried into the
/// score.
#[derive(Clone, Copy, Debug, Default)]
struct Carried {
    time_in: [Nanos; 6],
    cluster_time_in: [Nanos; 3],
    transitions: u64,
    reports: u64,
}

pub struct Coordination {
    pub endpoints: Vec<Endpoint>,
    /// Per host: its armed deadline (local time) and timer generation.
    pub armed: Vec<Option<i64>>,
    pub generation: Vec<u64>,
    /// Per host: its boot count, the epoch of its endpoint.
    boots: Vec<u32>,
    hub: usize,
    topology: Topology,
    /// Whose health figures the score reports: the hub's, or in the
    /// distributed topology the first camera's agent's (any agent's board
    /// is the operator's; the mesh section says how far they differ).
    judge: usize,
    /// The judge is down (crashed, restarting): nothing is counted.
    judge_down: bool,
    /// Camera hosts and the cluster each is in.
    cameras: Vec<(usize, ClusterId)>,
    degraded_offset: Nanos,
    path: Stream,
    faults: Stream,
    pub tally: Tally,
    /// (camera host, its boot, command number): each applied once.
    applied: BTreeSet<(usize, u32, u64)>,
    carried: Carried,
    /// Commands the hub sent (carried across its restarts).
    carried_commands: camsync_engine::coordination::CommandStats,
    mesh: MeshTally,
}

/// How far the agents' views differ, in the distributed topology (true
/// time, since agents' clocks differ).
#[derive(Clone, Debug, Default)]
struct MeshTally {
    /// Since when the agents up have disagreed, if they do now.
    disagreeing_since: Option<i64>,
    /// What the views were last compared at: per agent, (up, boot, changes
    /// of its board). Unchanged, they agree or disagree as they did.
    compared: Vec<(bool, u32, u64)>,
    disagreement: i64,
    longest: i64,
    /// Alerts raised by all agents.
    alerts: u64,
}

fn keys() -> KeyRing {
    let key = Key::new(
        IcvAlgorithm::HmacSha256Trunc128,
        b"camsync-sim coordination".to_vec(),
    );
    KeyRing::single(1, key).expect("a valid key")
}

fn link_config(h: usize, epoch: u32) -> LinkConfig {
    LinkConfig {
        node: NodeId(h as u32),
        epoch: Epoch(epoch),
        keys: keys(),
        liveness_timeout: LIVENESS_TIMEOUT,
        heartbeat_interval: STATUS_INTERVAL,
    }
}

impl Coordination {
    /// `cameras`: each camera's host and cluster; `local(h)`: host h's
    /// base-clock reading at the start.
    pub fn new(
        seeds: &Seeds,
        hosts: usize,
        hub: usize,
        topology: Topology,
        cameras: Vec<(usize, ClusterId)>,
        degraded_offset: Nanos,
        local: impl Fn(usize) -> i64,
    ) -> Self {
        let mut c = Coordination {
            endpoints: (0..hosts).map(|_| Endpoint::Absent).collect(),
            armed: vec![None; hosts],
            generation: vec![0; hosts],
            boots: vec![1; hosts],
            hub,
            topology,
            judge: match (topology, cameras.first()) {
                (Topology::Distributed, Some(&(first, _))) => first,
                _ => hub,
            },
            judge_down: false,
            cameras,
            degraded_offset,
            path: seeds.stream("coord/path"),
            faults: seeds.stream("coord/faults"),
            tally: Tally::default(),
            applied: BTreeSet::new(),
            carried: Carried::default(),
            carried_commands: Default::default(),
            mesh: MeshTally::default(),
        };
        if topology == Topology::Central {
            c.endpoints[hub] = Endpoint::Hub(Box::new(c.hub_endpoint(Time(local(hub)))));
        }
        for i in 0..c.cameras.len() {
            let h = c.cameras[i].0;
            c.endpoints[h] = c.camera_endpoint(h, Time(local(h)));
        }
        c
    }

    fn health_config(&self) -> HealthConfig {
        HealthConfig {
            liveness_timeout: LIVENESS_TIMEOUT,
            degraded_offset: self.degraded_offset,
            degraded_after: DEGRADED_AFTER,
        }
    }

    fn hub_endpoint(&self, now: Time) -> HubEndpoint {
        let mut hub = HubEndpoint::new(
            link_config(self.hub, self.boots[self.hub]),
            CommandConfig::default(),
            self.health_config(),
            now,
        )
        .expect("a valid hub endpoint");
        for &(h, cluster) in &self.cameras {
            hub.add_camera(now, NodeId(h as u32), cluster);
        }
        hub
    }

    fn camera_endpoint(&self, h: usize, now: Time) -> Endpoint {
        let link = link_config(h, self.boots[h]);
        match self.topology {
            Topology::Central => Endpoint::Camera(Box::new(
                CameraEndpoint::new(link, STATUS_INTERVAL, now).expect("a valid camera endpoint"),
            )),
            Topology::Distributed => {
                let mut agent = PeerEndpoint::new(link, STATUS_INTERVAL, self.health_config(), now)
                    .expect("a valid agent endpoint");
                for &(peer, cluster) in &self.cameras {
                    agent.add_agent(now, NodeId(peer as u32), cluster);
                }
                Endpoint::Peer(Box::new(agent))
            }
        }
    }

    /// The health board host `h` keeps, if it keeps one.
    fn board(&self, h: usize) -> Option<&HealthMonitor> {
        match &self.endpoints[h] {
            Endpoint::Hub(hub) => Some(hub.health()),
            Endpoint::Peer(agent) => Some(agent.health()),
            Endpoint::Camera(_) | Endpoint::Absent => None,
        }
    }

    pub fn topology(&self) -> Topology {
        self.topology
    }

    /// The host whose health figures the score reports.
    pub fn judge(&self) -> usize {
        self.judge
    }

    pub fn hub(&self) -> usize {
        self.hub
    }

    pub fn hub_endpoint_mut(&mut self) -> Option<&mut HubEndpoint> {
        match &mut self.endpoints[self.hub] {
            Endpoint::Hub(hub) => Some(hub),
            _ => None,
        }
    }

    /// Camera hosts, in order.
    pub fn camera_hosts(&self) -> impl Iterator<Item = usize> + '_ {
        self.cameras.iter().map(|&(h, _)| h)
    }

    /// Host `h` restarted at local time `now`: its endpoint begins afresh
    /// in a new epoch (a persisted boot counter). A hub keeps numbering its
    /// commands where it stopped; the health the judge judged is carried
    /// into the score, then judged afresh.
    pub fn restart(&mut self, h: usize, now: Time) {
        self.boots[h] += 1;
        self.armed[h] = None;
        self.generation[h] += 1;
        if h == self.judge {
            if !self.judge_down {
                self.carry_judge(now);
            }
            self.judge_down = false;
        }
        match &self.endpoints[h] {
            Endpoint::Absent => {}
            Endpoint::Camera(_) | Endpoint::Peer(_) => {
                self.endpoints[h] = self.camera_endpoint(h, now);
            }
            Endpoint::Hub(old) => {
                let stats = old.command_stats();
                let c = &mut self.carried_commands;
                c.submitted += stats.submitted;
                c.retransmissions += stats.retransmissions;
                c.acknowledged += stats.acknowledged;
                c.cancelled += stats.cancelled;
                c.max_ack_latency = c.max_ack_latency.max(stats.max_ack_latency);
                let mut hub = self.hub_endpoint(now);
                hub.resume_numbering(CommandConfig::default(), old);
                self.endpoints[h] = Endpoint::Hub(Box::new(hub));
            }
        }
    }

    /// Host `h` went down at its local time `now`: if it is the judge, what
    /// it judged so far is carried into the score, and nothing more is
    /// counted until it is back (its board is frozen meanwhile, not wrong).
    pub fn host_down(&mut self, h: usize, now: Time) {
        if h == self.judge && !self.judge_down {
            self.carry_judge(now);
            self.judge_down = true;
        }
    }

    fn carry_judge(&mut self, now: Time) {
        let Some(board) = self.board(self.judge) else {
            return;
        };
        let mut carried = self.carried;
        for (_, f) in board.camera_figures(now) {
            for (total, t) in carried.time_in.iter_mut().zip(f.time_in) {
                *total += t;
            }
            carried.transitions += f.transitions;
        }
        for (_, _, t) in board.cluster_figures(now) {
            for (total, t) in carried.cluster_time_in.iter_mut().zip(t) {
                *total += t;
            }
        }
        carried.reports += board.reports();
        self.carried = carried;
    }

    /// Records that camera host `h` applies command `sequence` now; false
    /// if it had applied it before in this boot (which must never be).
    pub fn record_applied(&mut self, h: usize, sequence: u64) -> bool {
        self.tally.commands_applied += 1;
        let fresh = self.applied.insert((h, self.boots[h], sequence));
        if !fresh {
            self.tally.applied_twice += 1;
        }
        fresh
    }

    /// What the path does to a frame sent now under `faults`. Draws for a
    /// fault only while it strikes.
    pub fn fate(&mut self, bytes: Vec<u8>, faults: PathFaults) -> Vec<Arrival> {
        self.tally.frames_sent += 1;
        if faults.cut {
            self.tally.frames_lost += 1;
            return Vec::new();
        }
        let original = bytes;
        let mut bytes = original.clone();
        if faults.corruption > 0.0 && self.faults.random_bool(faults.corruption.min(1.0)) {
            // Half bit-flips, a quarter cut short, a quarter lost.
            match self.faults.random_range(0..4u8) {
                0 | 1 => {
                    let flips = self.faults.random_range(1..=3);
                    for _ in 0..flips {
                        let bit = self.faults.random_range(0..bytes.len() * 8);
                        bytes[bit / 8] ^= 1 << (bit % 8);
                    }
                }
                2 => {
                    let keep = self.faults.random_range(0..bytes.len());
                    bytes.truncate(keep);
                }
                _ => {
                    self.tally.frames_lost += 1;
                    return Vec::new();
                }
            }
        }
        // Two flips of the same bit undo each other: such a frame arrives as
        // sent, and is not counted as altered.
        let altered = bytes != original;
        if altered {
            self.tally.frames_corrupted += 1;
        }
        let copies =
            if faults.duplication > 0.0 && self.faults.random_bool(faults.duplication.min(1.0)) {
                self.tally.frames_duplicated += 1;
                2
            } else {
                1
            };
        (0..copies)
            .map(|_| {
                let mut delay = PATH_DELAY + self.path.random_range(0..PATH_JITTER);
                let (p, by) = faults.reordering;
                if p > 0.0 && self.faults.random_bool(p.min(1.0)) {
                    delay += by.max(0);
                }
                Arrival {
                    delay,
                    bytes: bytes.clone(),
                    altered,
                }
            })
            .collect()
    }

    /// The health section of the score, up to the judge's local time `now`.
    pub fn health_score(&self, now: Time) -> HealthScore {
        let mut time_in = self.carried.time_in;
        let mut cluster_time_in = self.carried.cluster_time_in;
        let mut transitions = self.carried.transitions;
        let mut reports = self.carried.reports;
        let mut locked_at_end = 0;
        if let Some(board) = self.board(self.judge).filter(|_| !self.judge_down) {
            for (_, f) in board.camera_figures(now) {
                for (total, t) in time_in.iter_mut().zip(f.time_in) {
                    *total += t;
                }
                transitions += f.transitions;
                locked_at_end += u64::from(f.state == CameraHealth::Locked);
            }
            for (_, _, t) in board.cluster_figures(now) {
                for (total, t) in cluster_time_in.iter_mut().zip(t) {
                    *total += t;
                }
            }
            reports += board.reports();
        }
        let s = |state: CameraHealth| time_in[state as usize].0 as f64 / 1e9;
        HealthScore {
            acquiring_s: s(CameraHealth::Acquiring),
            locked_s: s(CameraHealth::Locked),
            degraded_s: s(CameraHealth::Degraded),
            holdover_s: s(CameraHealth::Holdover),
            resyncing_s: s(CameraHealth::Resyncing),
            lost_s: s(CameraHealth::Lost),
            cluster_degraded_s: cluster_time_in[1].0 as f64 / 1e9,
            cluster_down_s: cluster_time_in[2].0 as f64 / 1e9,
            transitions,
            cameras_locked_at_end: locked_at_end,
            reports,
            alerts: self.tally.alert_kinds.values().sum(),
            alert_kinds: self.tally.alert_kinds.clone(),
        }
    }

    /// Notes, at true time `now`, whether the agents that are up (`up`) all
    /// hold the same view of every agent (the distributed topology).
    pub fn note_views(&mut self, now: i64, up: impl Fn(usize) -> bool) {
        let basis: Vec<(bool, u32, u64)> = self
            .camera_hosts()
            .map(|h| {
                (
                    up(h),
                    self.boots[h],
                    self.board(h).map_or(0, HealthMonitor::changes),
                )
            })
            .collect();
        if basis == self.mesh.compared {
            return;
        }
        self.mesh.compared = basis;
        let agree = self.views_agree(&up);
        let m = &mut self.mesh;
        match (m.disagreeing_since, agree) {
            (None, false) => m.disagreeing_since = Some(now),
            (Some(since), true) => {
                m.disagreement += now - since;
                m.longest = m.longest.max(now - since);
                m.disagreeing_since = None;
            }
            _ => {}
        }
    }

    fn views_agree(&self, up: &impl Fn(usize) -> bool) -> bool {
        let mut boards = self
            .camera_hosts()
            .filter(|&h| up(h))
            .filter_map(|h| self.board(h));
        let Some(first) = boards.next() else {
            return true;
        };
        // A board begun afresh (its agent restarted) cannot know who had
        // locked before: it says acquiring where the others say resyncing.
        // Both mean "not locked yet"; the other differences a fresh board
        // has (degraded, lost) last one liveness timeout at most.
        let view = |b: &HealthMonitor| {
            self.cameras
                .iter()
                .map(|&(h, _)| match b.camera(NodeId(h as u32)) {
                    Some(CameraHealth::Resyncing) => Some(CameraHealth::Acquiring),
                    state => state,
                })
                .collect::<Vec<_>>()
        };
        let reference = view(first);
        boards.all(|b| view(b) == reference)
    }

    /// An agent raised an alert.
    pub fn count_agent_alert(&mut self) {
        self.mesh.alerts += 1;
    }

    /// The mesh section of the score at true time `end`: `None` in the
    /// central topology.
    pub fn mesh_score(&self, end: i64) -> Option<MeshScore> {
        if self.topology != Topology::Distributed {
            return None;
        }
        let m = &self.mesh;
        let open = m.disagreeing_since.map_or(0, |since| end - since);
        Some(MeshScore {
            agents: self.cameras.len() as u64,
            disagreement_s: (m.disagreement + open) as f64 / 1e9,
            longest_disagreement_s: m.longest.max(open) as f64 / 1e9,
            agree_at_end: u64::from(open == 0),
            disagreeing_at_end_s: open as f64 / 1e9,
            alerts: m.alerts,
        })
    }

    /// The coordination section of the score.
    pub fn score(&self) -> CoordinationScore {
        let mut c = self.carried_commands;
        if let Endpoint::Hub(hub) = &self.endpoints[self.hub] {
            let s = hub.command_stats();
            c.submitted += s.submitted;
            c.retransmissions += s.retransmissions;
            c.acknowledged += s.acknowledged;
            c.cancelled += s.cancelled;
            c.max_ack_latency = c.max_ack_latency.max(s.max_ack_latency);
        }
        let t = &self.tally;
        CoordinationScore {
            frames_sent: t.frames_sent,
            frames_delivered: t.frames_delivered,
            frames_lost: t.frames_lost,
            frames_duplicated: t.frames_duplicated,
            frames_corrupted: t.frames_corrupted,
            rejected_frames: t.frames_delivered - t.accepted,
            malformed_frames: t.malformed,
            unauthenticated_frames: t.unauthenticated,
            replayed_frames: t.replayed + t.stale,
            duplicate_commands: t.duplicate_commands,
            corrupted_rejected: t.corrupted_rejected,
            corrupted_accepted: t.corrupted_accepted,
            commands_sent: c.submitted,
            commands_applied: t.commands_applied,
            commands_acknowledged: c.acknowledged,
            commands_cancelled: c.cancelled,
            retransmissions: c.retransmissions,
            applied_twice: t.applied_twice,
            command_ack_max_ms: c.max_ack_latency.0 as f64 / 1e6,
        }
    }
}
