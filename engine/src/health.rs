//! Camera and cluster health as a hub judges it from its cameras' status
//! reports (or, in the distributed topology, as every camera's agent judges
//! all of them from the same reports), sans-IO: one state per camera, one per cluster (the cameras
//! behind one boundary clock, or all of a central hub's), and an alert on
//! every transition an operator must hear.
//!
//! The states of a camera, from its latest [`SyncStatus`] report:
//!
//! - [`CameraHealth::Acquiring`]: not locked yet since the hub has known it
//!   (unlocked, stepping or free-running, and never reported locked). The
//!   state every camera starts in; not an alarm.
//! - [`CameraHealth::Locked`]: it reports itself locked, with an offset
//!   within `degraded_offset` (or not yet `degraded_after` reports running
//!   beyond it).
//! - [`CameraHealth::Degraded`]: locked, but its last `degraded_after`
//!   reports all had an offset beyond `degraded_offset`: it follows its
//!   master, worse than the production needs.
//! - [`CameraHealth::Holdover`]: its reference fell silent and it holds its
//!   last frequency.
//! - [`CameraHealth::Resyncing`]: unlocked, stepping or undisciplined after
//!   having been locked: re-acquiring (a new master, a restart, a step).
//! - [`CameraHealth::Lost`]: no report within `liveness_timeout` (on the
//!   hub's clock). Heartbeats do not count: a camera that cannot say how
//!   its clock stands is as good as gone for synchronisation.
//!
//! A cluster is [`ClusterHealth::Down`] when every camera in it is lost,
//! [`ClusterHealth::Degraded`] when any camera in it is lost, degraded, in
//! holdover or resyncing, and [`ClusterHealth::Healthy`] otherwise.
//!
//! Alerts: `camera_lost`, `camera_degraded`, `camera_holdover`,
//! `camera_resyncing` on entering those states; `camera_recovered` on
//! entering `Locked` from any of them (a first lock is not news);
//! `cluster_degraded`, `cluster_down`, `cluster_recovered` likewise.

use std::collections::{BTreeMap, VecDeque};

use crate::coordination::{LockState, NodeId, SyncStatus};
use crate::node::AlertKind;
use crate::time::{Nanos, Time};

/// A camera's state, as the hub judges it (see the module's doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CameraHealth {
    Acquiring,
    Locked,
    Degraded,
    Holdover,
    Resyncing,
    Lost,
}

impl CameraHealth {
    pub const ALL: [CameraHealth; 6] = [
        CameraHealth::Acquiring,
        CameraHealth::Locked,
        CameraHealth::Degraded,
        CameraHealth::Holdover,
        CameraHealth::Resyncing,
        CameraHealth::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CameraHealth::Acquiring => "acquiring",
            CameraHealth::Locked => "locked",
            CameraHealth::Degraded => "degraded",
            CameraHealth::Holdover => "holdover",
            CameraHealth::Resyncing => "resyncing",
            CameraHealth::Lost => "lost",
        }
    }

    /// A state an operator must hear of.
    fn in_trouble(self) -> bool {
        !matches!(self, CameraHealth::Acquiring | CameraHealth::Locked)
    }

    fn alert(self) -> Option<AlertKind> {
        match self {
            CameraHealth::Acquiring | CameraHealth::Locked => None,
            CameraHealth::Degraded => Some(AlertKind::CameraDegraded),
            CameraHealth::Holdover => Some(AlertKind::CameraHoldover),
            CameraHealth::Resyncing => Some(AlertKind::CameraResyncing),
            CameraHealth::Lost => Some(AlertKind::CameraLost),
        }
    }
}

/// A cluster's state (see the module's doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClusterHealth {
    Healthy,
    Degraded,
    Down,
}

impl ClusterHealth {
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterHealth::Healthy => "healthy",
            ClusterHealth::Degraded => "degraded",
            ClusterHealth::Down => "down",
        }
    }
}

/// A group of cameras judged together: those behind one boundary clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterId(pub u32);

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Camera(NodeId),
    Cluster(ClusterId),
}

/// A transition an operator must hear of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthAlert {
    pub kind: AlertKind,
    pub subject: Subject,
    pub at: Time,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthConfig {
    /// A camera not reporting for this long is lost.
    pub liveness_timeout: Nanos,
    /// A locked camera's reported |offset| beyond this counts against it…
    pub degraded_offset: Nanos,
    /// …and this many such reports running make it degraded (at least 1),
    /// so that one noisy measurement raises no alarm.
    pub degraded_after: u32,
}

#[derive(Clone, Copy, Debug)]
struct CameraRecord {
    cluster: ClusterId,
    state: CameraHealth,
    since: Time,
    /// When it is lost unless it reports.
    deadline: Time,
    ever_locked: bool,
    /// Reports running, locked and beyond `degraded_offset`.
    beyond: u32,
    time_in: [Nanos; 6],
    transitions: u64,
}

#[derive(Clone, Copy, Debug)]
struct ClusterRecord {
    state: ClusterHealth,
    since: Time,
    time_in: [Nanos; 3],
}

/// A camera's figures since it was added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CameraFigures {
    pub state: CameraHealth,
    pub cluster: ClusterId,
    /// Time in each state, indexed as [`CameraHealth::ALL`].
    pub time_in: [Nanos; 6],
    pub transitions: u64,
}

/// The health of every camera a hub knows.
#[derive(Clone, Debug)]
pub struct HealthMonitor {
    config: HealthConfig,
    cameras: BTreeMap<NodeId, CameraRecord>,
    clusters: BTreeMap<ClusterId, ClusterRecord>,
    alerts: VecDeque<HealthAlert>,
    reports: u64,
    /// Reports about nodes this monitor was not told of: counted, ignored.
    unknown_reports: u64,
    /// Camera state changes, all cameras together.
    changes: u64,
}

impl HealthMonitor {
    pub fn new(config: HealthConfig) -> Self {
        HealthMonitor {
            config: HealthConfig {
                degraded_after: config.degraded_after.max(1),
                ..config
            },
            cameras: BTreeMap::new(),
            clusters: BTreeMap::new(),
            alerts: VecDeque::new(),
            reports: 0,
            unknown_reports: 0,
            changes: 0,
        }
    }

    /// Starts watching `camera`, of `cluster`, at base time `now`: acquiring,
    /// and lost unless it reports within the liveness timeout.
    pub fn add_camera(&mut self, now: Time, camera: NodeId, cluster: ClusterId) {
        self.cameras.insert(
            camera,
            CameraRecord {
                cluster,
                state: CameraHealth::Acquiring,
                since: now,
                deadline: after(now, self.config.liveness_timeout),
                ever_locked: false,
                beyond: 0,
                time_in: [Nanos::ZERO; 6],
                transitions: 0,
            },
        );
        self.clusters.entry(cluster).or_insert(ClusterRecord {
            state: ClusterHealth::Healthy,
            since: now,
            time_in: [Nanos::ZERO; 3],
        });
        self.judge_cluster(now, cluster);
    }

    pub fn reports(&self) -> u64 {
        self.reports
    }

    pub fn unknown_reports(&self) -> u64 {
        self.unknown_reports
    }

    /// Camera state changes so far, all cameras together: a view that has
    /// not changed since it was last looked at need not be compared again.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    pub fn camera(&self, camera: NodeId) -> Option<CameraHealth> {
        self.cameras.get(&camera).map(|c| c.state)
    }

    pub fn cluster(&self, cluster: ClusterId) -> Option<ClusterHealth> {
        self.clusters.get(&cluster).map(|c| c.state)
    }

    /// Every camera's figures up to base time `now`, by id.
    pub fn camera_figures(&self, now: Time) -> impl Iterator<Item = (NodeId, CameraFigures)> + '_ {
        self.cameras.iter().map(move |(&id, c)| {
            let mut time_in = c.time_in;
            time_in[c.state as usize] += (now - c.since).max(Nanos::ZERO);
            (
                id,
                CameraFigures {
                    state: c.state,
                    cluster: c.cluster,
                    time_in,
                    transitions: c.transitions,
                },
            )
        })
    }

    /// Every cluster's time in each state (indexed healthy, degraded, down)
    /// up to base time `now`, by id.
    pub fn cluster_figures(
        &self,
        now: Time,
    ) -> impl Iterator<Item = (ClusterId, ClusterHealth, [Nanos; 3])> + '_ {
        self.clusters.iter().map(move |(&id, c)| {
            let mut time_in = c.time_in;
            time_in[c.state as usize] += (now - c.since).max(Nanos::ZERO);
            (id, c.state, time_in)
        })
    }

    /// A status report received at base time `now` (from an authenticated,
    /// fresh frame: the link's business).
    pub fn on_report(&mut self, now: Time, status: &SyncStatus) {
        let config = self.config;
        let Some(c) = self.cameras.get_mut(&status.node) else {
            self.unknown_reports += 1;
            return;
        };
        self.reports += 1;
        c.deadline = after(now, config.liveness_timeout);
        let locked = status.lock == LockState::Locked;
        c.beyond = if locked && status.offset.abs() > config.degraded_offset {
            c.beyond.saturating_add(1)
        } else {
            0
        };
        let next = match status.lock {
            LockState::Locked if c.beyond >= config.degraded_after => CameraHealth::Degraded,
            LockState::Locked => CameraHealth::Locked,
            LockState::Holdover => CameraHealth::Holdover,
            LockState::Unlocked | LockState::Stepping | LockState::FreeRunning if c.ever_locked => {
                CameraHealth::Resyncing
            }
            LockState::Unlocked | LockState::Stepping | LockState::FreeRunning => {
                CameraHealth::Acquiring
            }
        };
        c.ever_locked |= locked;
        self.move_camera(now, status.node, next);
    }

    fn move_camera(&mut self, now: Time, camera: NodeId, next: CameraHealth) {
        let Some(c) = self.cameras.get_mut(&camera) else {
            return;
        };
        let previous = c.state;
        if previous == next {
            return;
        }
        c.time_in[previous as usize] += (now - c.since).max(Nanos::ZERO);
        c.state = next;
        c.since = now;
        c.transitions += 1;
        self.changes += 1;
        let cluster = c.cluster;
        let kind = match next.alert() {
            Some(kind) => Some(kind),
            None if next == CameraHealth::Locked && previous.in_trouble() => {
                Some(AlertKind::CameraRecovered)
            }
            None => None,
        };
        if let Some(kind) = kind {
            self.alerts.push_back(HealthAlert {
                kind,
                subject: Subject::Camera(camera),
                at: now,
            });
        }
        self.judge_cluster(now, cluster);
    }

    fn judge_cluster(&mut self, now: Time, cluster: ClusterId) {
        let members = || self.cameras.values().filter(|c| c.cluster == cluster);
        let next = if members().all(|c| c.state == CameraHealth::Lost) {
            ClusterHealth::Down
        } else if members().any(|c| c.state.in_trouble()) {
            ClusterHealth::Degraded
        } else {
            ClusterHealth::Healthy
        };
        let Some(k) = self.clusters.get_mut(&cluster) else {
            return;
        };
        if k.state == next {
            return;
        }
        k.time_in[k.state as usize] += (now - k.since).max(Nanos::ZERO);
        let previous = k.state;
        k.state = next;
        k.since = now;
        let kind = match (previous, next) {
            (_, ClusterHealth::Down) => AlertKind::ClusterDown,
            (ClusterHealth::Healthy, ClusterHealth::Degraded) => AlertKind::ClusterDegraded,
            // From down to degraded: some camera is back, not yet all.
            (_, ClusterHealth::Degraded) => return,
            (_, ClusterHealth::Healthy) => AlertKind::ClusterRecovered,
        };
        self.alerts.push_back(HealthAlert {
            kind,
            subject: Subject::Cluster(cluster),
            at: now,
        });
    }

    /// The next instant a camera is lost unless it reports.
    pub fn poll_timeout(&self) -> Option<Time> {
        self.cameras
            .values()
            .filter(|c| c.state != CameraHealth::Lost)
            .map(|c| c.deadline)
            .min()
    }

    /// Declares lost every camera whose report is overdue at base time `now`.
    pub fn handle_timeout(&mut self, now: Time) {
        let overdue: Vec<NodeId> = self
            .cameras
            .iter()
            .filter(|(_, c)| c.state != CameraHealth::Lost && now >= c.deadline)
            .map(|(&id, _)| id)
            .collect();
        for camera in overdue {
            // Lost since its deadline, not since the timer happened to fire.
            let at = self.cameras[&camera].deadline.min(now);
            self.move_camera(at, camera, CameraHealth::Lost);
        }
    }

    pub fn poll_alert(&mut self) -> Option<HealthAlert> {
        self.alerts.pop_front()
    }
}

fn after(t: Time, d: Nanos) -> Time {
    Time(t.0.saturating_add(d.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    fn monitor() -> HealthMonitor {
        let mut m = HealthMonitor::new(HealthConfig {
            liveness_timeout: Nanos::from_secs(3),
            degraded_offset: Nanos::from_micros(1),
            degraded_after: 2,
        });
        m.add_camera(Time(0), NodeId(10), ClusterId(0));
        m.add_camera(Time(0), NodeId(11), ClusterId(0));
        m.add_camera(Time(0), NodeId(20), ClusterId(1));
        m
    }

    fn report(m: &mut HealthMonitor, t_s: i64, node: u32, lock: LockState, offset_ns: i64) {
        m.on_report(
            Time(t_s * SECOND),
            &SyncStatus {
                node: NodeId(node),
                lock,
                offset: Nanos(offset_ns),
                frequency_ppb: 0.0,
                at: Time(0),
            },
        );
    }

    fn alerts(m: &mut HealthMonitor) -> Vec<&'static str> {
        std::iter::from_fn(|| m.poll_alert())
            .map(|a| a.kind.as_str())
            .collect()
    }

    #[test]
    fn a_first_lock_is_quiet_and_noisy_offsets_degrade_only_when_they_persist() {
        let mut m = monitor();
        report(&mut m, 1, 10, LockState::Unlocked, 0);
        assert_eq!(m.camera(NodeId(10)), Some(CameraHealth::Acquiring));
        report(&mut m, 2, 10, LockState::Locked, 30);
        assert_eq!(m.camera(NodeId(10)), Some(CameraHealth::Locked));
        // One report beyond the bound is noise; two running are a fault.
        report(&mut m, 3, 10, LockState::Locked, 5_000);
        assert_eq!(m.camera(NodeId(10)), Some(CameraHealth::Locked));
        report(&mut m, 4, 10, LockState::Locked, -5_000);
        assert_eq!(m.camera(NodeId(10)), Some(CameraHealth::Degraded));
        assert_eq!(alerts(&mut m), ["camera_degraded", "cluster_degraded"]);
        report(&mut m, 5, 10, LockState::Locked, 10);
        assert_eq!(alerts(&mut m), ["camera_recovered", "cluster_recovered"]);
        // Stepping after a lock is resyncing, holdover is its own state.
        report(&mut m, 6, 10, LockState::Stepping, 0);
        report(&mut m, 7, 10, LockState::Holdover, 0);
        assert_eq!(
            alerts(&mut m),
            ["camera_resyncing", "cluster_degraded", "camera_holdover"]
        );
    }

    #[test]
    fn a_silent_camera_is_lost_at_its_deadline_and_recovers_when_it_reports_locked() {
        let mut m = monitor();
        for t in 1..=3 {
            report(&mut m, t, 10, LockState::Locked, 0);
            report(&mut m, t, 11, LockState::Locked, 0);
            report(&mut m, t, 20, LockState::Locked, 0);
        }
        assert!(alerts(&mut m).is_empty());
        // Camera 11 falls silent after 3 s: lost at 6 s, not before.
        for t in 4..=9 {
            report(&mut m, t, 10, LockState::Locked, 0);
            report(&mut m, t, 20, LockState::Locked, 0);
            let now = Time(t * SECOND);
            while m.poll_timeout().is_some_and(|d| d <= now) {
                m.handle_timeout(now);
            }
            let expected = if t < 6 {
                CameraHealth::Locked
            } else {
                CameraHealth::Lost
            };
            assert_eq!(m.camera(NodeId(11)), Some(expected), "at {t} s");
        }
        assert_eq!(alerts(&mut m), ["camera_lost", "cluster_degraded"]);
        assert_eq!(m.cluster(ClusterId(1)), Some(ClusterHealth::Healthy));
        // Back after a restart: acquiring counts as resyncing now.
        report(&mut m, 10, 11, LockState::Unlocked, 0);
        report(&mut m, 12, 11, LockState::Locked, 0);
        assert_eq!(
            alerts(&mut m),
            ["camera_resyncing", "camera_recovered", "cluster_recovered"]
        );
        let (_, figures) = m
            .camera_figures(Time(12 * SECOND))
            .find(|(id, _)| *id == NodeId(11))
            .unwrap();
        assert_eq!(figures.transitions, 4);
        assert_eq!(
            figures.time_in[CameraHealth::Lost as usize],
            Nanos::from_secs(4)
        );
        assert_eq!(
            figures.time_in[CameraHealth::Resyncing as usize],
            Nanos::from_secs(2)
        );
        assert_eq!(
            figures.time_in[CameraHealth::Locked as usize],
            Nanos::from_secs(5)
        );
        // Every nanosecond since it was added is in exactly one state.
        let total: i64 = figures.time_in.iter().map(|t| t.0).sum();
        assert_eq!(total, 12 * SECOND);
    }

    #[test]
    fn a_cluster_whose_every_camera_is_lost_is_down() {
        let mut m = monitor();
        m.handle_timeout(Time(3 * SECOND));
        assert_eq!(m.cluster(ClusterId(0)), Some(ClusterHealth::Down));
        assert_eq!(m.cluster(ClusterId(1)), Some(ClusterHealth::Down));
        let got = alerts(&mut m);
        assert_eq!(got.iter().filter(|k| **k == "camera_lost").count(), 3);
        assert_eq!(got.iter().filter(|k| **k == "cluster_down").count(), 2);
        // Reports about cameras it was not told of change nothing.
        report(&mut m, 4, 99, LockState::Locked, 0);
        assert_eq!(m.unknown_reports(), 1);
        assert_eq!(m.poll_timeout(), None);
    }
}
