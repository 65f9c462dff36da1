//! Agents in a mesh, no hub: each judges all from the reports they all
//! send. Whatever happens to one of them — a crash, a partition — every
//! agent that can still hear the others holds the same view, and once the
//! fault is over all of them do again.

use std::collections::BTreeMap;

use super::keys::{IcvAlgorithm, Key};
use super::*;
use crate::health::{CameraHealth, ClusterId, HealthConfig, Subject};
use crate::node::AlertKind;
use crate::time::{Nanos, Time};

const MS: i64 = 1_000_000;
const AGENTS: u32 = 4;

fn agent(node: u32, epoch: u32, now: Time) -> PeerEndpoint {
    let link = LinkConfig {
        node: NodeId(node),
        epoch: Epoch(epoch),
        keys: KeyRing::single(1, Key::new(IcvAlgorithm::HmacSha256, b"k".to_vec())).unwrap(),
        liveness_timeout: Nanos::from_secs(3),
        heartbeat_interval: Nanos::from_secs(1),
    };
    let health = HealthConfig {
        liveness_timeout: Nanos::from_secs(3),
        degraded_offset: Nanos::from_micros(1),
        degraded_after: 2,
    };
    let mut a = PeerEndpoint::new(link, Nanos::from_secs(1), health, now).unwrap();
    for n in 0..AGENTS {
        a.add_agent(now, NodeId(n), ClusterId(0));
    }
    a
}

const LOCKED: ClockReport = ClockReport {
    lock: LockState::Locked,
    offset: Nanos(20),
    frequency_ppb: 3.0,
};

/// The mesh, stepped in milliseconds: agents that are up, the frames in
/// flight (arrival, order → to, bytes), and who cannot hear whom.
struct Mesh {
    agents: Vec<Option<PeerEndpoint>>,
    epochs: Vec<u32>,
    in_flight: BTreeMap<(i64, u64), (usize, Vec<u8>)>,
    sent: u64,
    now: i64,
    /// An agent cut off from the others, both ways.
    isolated: Option<usize>,
    /// Per agent, the alerts it raised: (kind, subject node).
    alerts: Vec<Vec<(AlertKind, u32)>>,
}

impl Mesh {
    fn new() -> Mesh {
        Mesh {
            agents: (0..AGENTS).map(|n| Some(agent(n, 1, Time::ZERO))).collect(),
            epochs: vec![1; AGENTS as usize],
            in_flight: BTreeMap::new(),
            sent: 0,
            now: 0,
            isolated: None,
            alerts: vec![Vec::new(); AGENTS as usize],
        }
    }

    fn run_until(&mut self, end: i64) {
        loop {
            let next_timer = self
                .agents
                .iter()
                .flatten()
                .filter_map(|a| a.poll_timeout())
                .map(|t| t.0)
                .min();
            let next_frame = self.in_flight.keys().next().map(|k| k.0);
            let now = match (next_timer, next_frame) {
                (Some(t), Some(f)) => t.min(f),
                (Some(t), None) => t,
                (None, Some(f)) => f,
                (None, None) => break,
            }
            .max(self.now);
            if now > end {
                break;
            }
            self.now = now;
            while let Some(entry) = self.in_flight.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let (to, bytes) = entry.remove();
                if let Some(a) = &mut self.agents[to] {
                    a.receive(Time(now), &bytes).unwrap();
                }
            }
            for i in 0..self.agents.len() {
                let Some(a) = &mut self.agents[i] else {
                    continue;
                };
                if a.poll_timeout().is_some_and(|t| t.0 <= now) {
                    a.handle_timeout(Time(now), LOCKED);
                }
                self.flush(i, now);
            }
        }
    }

    fn flush(&mut self, from: usize, now: i64) {
        let Some(a) = &mut self.agents[from] else {
            return;
        };
        while let Some(bytes) = a.poll_transmit() {
            for to in 0..AGENTS as usize {
                let cut = self.isolated.is_some_and(|i| i == from || i == to);
                if to == from || cut {
                    continue;
                }
                self.sent += 1;
                // 2 to 4 ms, as neighbours on a LAN.
                let delay = 2 * MS + (self.sent % 3) as i64 * MS;
                self.in_flight
                    .insert((now + delay, self.sent), (to, bytes.clone()));
            }
        }
        while let Some(alert) = a.poll_alert() {
            if let Subject::Camera(NodeId(n)) = alert.subject {
                self.alerts[from].push((alert.kind, n));
            }
        }
    }

    /// Each agent's view of every agent, for the agents that are up.
    fn views(&self) -> Vec<Vec<CameraHealth>> {
        self.agents
            .iter()
            .flatten()
            .map(|a| {
                (0..AGENTS)
                    .map(|n| a.health().camera(NodeId(n)).unwrap())
                    .collect()
            })
            .collect()
    }
}

fn all(state: CameraHealth) -> Vec<CameraHealth> {
    vec![state; AGENTS as usize]
}

#[test]
fn every_agent_sees_every_agent_locked_and_a_crash_alike() {
    let mut mesh = Mesh::new();
    mesh.run_until(5_000 * MS);
    assert_eq!(mesh.views(), vec![all(CameraHealth::Locked); 4]);

    // Agent 2 crashes: the three others see it lost, and nothing else.
    mesh.agents[2] = None;
    mesh.run_until(12_000 * MS);
    let mut expected = all(CameraHealth::Locked);
    expected[2] = CameraHealth::Lost;
    assert_eq!(mesh.views(), vec![expected; 3]);
    for n in [0, 1, 3] {
        assert_eq!(
            mesh.alerts[n],
            vec![(AlertKind::CameraLost, 2)],
            "agent {n}"
        );
    }

    // It comes back in a new epoch: it judges everyone afresh, and all
    // four agree again; the others hear it recover.
    mesh.epochs[2] += 1;
    mesh.agents[2] = Some(agent(2, mesh.epochs[2], Time(12_000 * MS)));
    mesh.run_until(16_000 * MS);
    assert_eq!(mesh.views(), vec![all(CameraHealth::Locked); 4]);
    for n in [0, 1, 3] {
        assert_eq!(
            mesh.alerts[n].last(),
            Some(&(AlertKind::CameraRecovered, 2))
        );
    }
}

#[test]
fn a_partitioned_agent_and_the_rest_see_each_other_lost_then_agree() {
    let mut mesh = Mesh::new();
    mesh.run_until(5_000 * MS);
    mesh.isolated = Some(3);
    mesh.run_until(10_000 * MS);
    let views = mesh.views();
    let mut seen_by_rest = all(CameraHealth::Locked);
    seen_by_rest[3] = CameraHealth::Lost;
    assert_eq!(&views[..3], &vec![seen_by_rest; 3][..]);
    // The cut-off agent still hears itself: it is the others that are gone.
    let mut seen_by_3 = all(CameraHealth::Lost);
    seen_by_3[3] = CameraHealth::Locked;
    assert_eq!(views[3], seen_by_3);

    mesh.isolated = None;
    mesh.run_until(13_000 * MS);
    assert_eq!(mesh.views(), vec![all(CameraHealth::Locked); 4]);
    // Agent 3 heard each of the three recover; each of them heard 3 do.
    let recovered = |n: usize, about: u32| {
        mesh.alerts[n]
            .iter()
            .filter(|a| **a == (AlertKind::CameraRecovered, about))
            .count()
    };
    for n in 0..3 {
        assert_eq!(recovered(3, n as u32), 1);
        assert_eq!(recovered(n, 3), 1);
    }
}

#[test]
fn commands_and_reports_for_another_from_a_peer_are_ignored() {
    let mut a = agent(0, 1, Time::ZERO);
    let mut b = agent(1, 1, Time::ZERO);
    // A peer's link can seal a command; no agent obeys one.
    let command = Message::Command(AdjustmentCommand {
        target: NodeId(0),
        adjustment: Adjustment {
            sequence: 1,
            step: Nanos(5 * MS),
            frequency_ppb: 0.0,
        },
    });
    let mut link = CoordinationLink::new(
        LinkConfig {
            node: NodeId(2),
            epoch: Epoch(1),
            keys: KeyRing::single(1, Key::new(IcvAlgorithm::HmacSha256, b"k".to_vec())).unwrap(),
            liveness_timeout: Nanos::from_secs(3),
            heartbeat_interval: Nanos::from_secs(1),
        },
        Time::ZERO,
    )
    .unwrap();
    let bytes = link.encode(&command).unwrap();
    assert_eq!(a.receive(Time(MS), &bytes), Ok(()));
    assert_eq!(a.stats().ignored, 1);
    // Nor may a peer speak for another: node 2 saying node 1 is locked is
    // not believed.
    let forged = Message::SyncStatus(LOCKED.status(NodeId(1), Time(MS)));
    let bytes = link.encode(&forged).unwrap();
    assert_eq!(a.receive(Time(MS), &bytes), Ok(()));
    assert_eq!(a.stats().misattributed, 1);
    assert_eq!(a.health().camera(NodeId(1)), Some(CameraHealth::Acquiring));
    // And reports are judged: b's report makes it locked in a's view.
    b.handle_timeout(Time(MS), LOCKED);
    let report = b.poll_transmit().unwrap();
    a.receive(Time(2 * MS), &report).unwrap();
    assert_eq!(a.health().camera(NodeId(1)), Some(CameraHealth::Locked));
    assert_eq!(a.health().camera(NodeId(0)), Some(CameraHealth::Acquiring));
}
