//! A hub and a camera endpoint over a hostile path: frames lost,
//! duplicated, reordered and bit-flipped. Whatever the path does, every
//! command is applied exactly once and in order, nothing altered is
//! applied, and the hub's health follows the camera's reports.

use std::collections::{BTreeMap, BTreeSet};

use super::keys::{IcvAlgorithm, Key};
use super::*;
use crate::health::{CameraHealth, ClusterId, HealthConfig};
use crate::time::{Nanos, Time};

const HUB: NodeId = NodeId(100);
const CAM: NodeId = NodeId(1);
const MS: i64 = 1_000_000;

fn link_config(node: NodeId, epoch: u32) -> LinkConfig {
    LinkConfig {
        node,
        epoch: Epoch(epoch),
        keys: KeyRing::single(1, Key::new(IcvAlgorithm::HmacSha256, b"k".to_vec())).unwrap(),
        liveness_timeout: Nanos::from_secs(3),
        heartbeat_interval: Nanos::from_secs(1),
    }
}

fn hub() -> HubEndpoint {
    let health = HealthConfig {
        liveness_timeout: Nanos::from_secs(3),
        degraded_offset: Nanos::from_micros(1),
        degraded_after: 2,
    };
    let mut hub = HubEndpoint::new(
        link_config(HUB, 1),
        CommandConfig::default(),
        health,
        Time::ZERO,
    )
    .unwrap();
    hub.add_camera(Time::ZERO, CAM, ClusterId(0));
    hub
}

fn camera(epoch: u32, now: Time) -> CameraEndpoint {
    CameraEndpoint::new(link_config(CAM, epoch), Nanos::from_secs(1), now).unwrap()
}

const LOCKED: ClockReport = ClockReport {
    lock: LockState::Locked,
    offset: Nanos(20),
    frequency_ppb: 3.0,
};

/// A small deterministic generator (xorshift64*), so that the engine
/// needs no random crate to test against a random path.
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Frames in flight: (arrival, order of sending) → (to the camera?, bytes,
/// altered on the way?).
type InFlight = BTreeMap<(i64, u64), (bool, Vec<u8>, bool)>;

struct Path {
    draws: Draws,
    in_flight: InFlight,
    sent: u64,
    /// Percent of frames lost, duplicated, flipped or cut.
    loss: u64,
    duplication: u64,
    corruption: u64,
    /// No frame arrives while this is set (a camera cut off)…
    cut: bool,
    /// …or, while this is, none from the hub to the camera.
    cut_to_camera: bool,
}

impl Path {
    /// A path that loses, copies and alters nothing, drawing from `seed`.
    fn quiet(seed: u64) -> Path {
        Path {
            draws: Draws(seed),
            in_flight: InFlight::new(),
            sent: 0,
            loss: 0,
            duplication: 0,
            corruption: 0,
            cut: false,
            cut_to_camera: false,
        }
    }

    fn send(&mut self, now: i64, to_camera: bool, bytes: Vec<u8>) {
        if self.cut || (to_camera && self.cut_to_camera) || self.draws.chance(self.loss) {
            return;
        }
        let copies = if self.draws.chance(self.duplication) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            // 1 to 40 ms: copies and neighbours overtake each other.
            let delay = MS + (self.draws.next() % 40) as i64 * MS;
            let mut b = bytes.clone();
            let altered = self.draws.chance(self.corruption);
            if altered {
                if self.draws.chance(50) {
                    let bit = (self.draws.next() % (b.len() as u64 * 8)) as usize;
                    b[bit / 8] ^= 1 << (bit % 8);
                } else {
                    b.truncate((self.draws.next() % b.len() as u64) as usize);
                }
            }
            self.sent += 1;
            self.in_flight
                .insert((now + delay, self.sent), (to_camera, b, altered));
        }
    }
}

/// What the camera did.
#[derive(Default)]
struct Applied {
    sequences: Vec<u64>,
    /// The steps applied (each command's step is its submission time).
    steps_ms: Vec<i64>,
    altered_applied: u64,
}

/// Runs both endpoints until `until_ms`, the hub submitting a command at
/// each of `commands_at_ms`.
fn run(
    hub: &mut HubEndpoint,
    cam: &mut CameraEndpoint,
    path: &mut Path,
    from_ms: i64,
    until_ms: i64,
    commands_at_ms: &[i64],
    report: ClockReport,
) -> Applied {
    let mut applied = Applied::default();
    let mut now = from_ms * MS;
    let mut pending: BTreeSet<i64> = commands_at_ms.iter().map(|t| t * MS).collect();
    while now < until_ms * MS {
        let next = [
            hub.poll_timeout().map(|t| t.0),
            cam.poll_timeout().map(|t| t.0),
            path.in_flight.keys().next().map(|k| k.0),
            pending.first().copied(),
            Some(until_ms * MS),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap();
        now = next.max(now);
        if pending.first() == Some(&now) {
            pending.pop_first();
            hub.command(Time(now), CAM, Nanos(now), 1.0).unwrap();
        }
        if hub.poll_timeout().is_some_and(|t| t.0 <= now) {
            hub.handle_timeout(Time(now));
        }
        if cam.poll_timeout().is_some_and(|t| t.0 <= now) {
            cam.handle_timeout(Time(now), report);
        }
        while let Some(entry) = path.in_flight.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (to_camera, bytes, altered) = entry.remove();
            if to_camera {
                if let Ok(Some(a)) = cam.receive(Time(now), &bytes) {
                    applied.sequences.push(a.adjustment.sequence);
                    applied.steps_ms.push(a.adjustment.step.0 / MS);
                    applied.altered_applied += u64::from(altered);
                }
            } else {
                let _ = hub.receive(Time(now), &bytes);
            }
        }
        while let Some(t) = hub.poll_transmit() {
            assert!(t.to.is_none_or(|to| to == CAM));
            path.send(now, true, t.bytes);
        }
        while let Some(bytes) = cam.poll_transmit() {
            path.send(now, false, bytes);
        }
    }
    applied
}

#[test]
fn commands_are_applied_exactly_once_in_order_over_a_hostile_path() {
    for seed in 1..=20u64 {
        let mut hub = hub();
        let mut cam = camera(1, Time::ZERO);
        let mut path = Path {
            loss: 20,
            duplication: 30,
            corruption: 20,
            ..Path::quiet(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        };
        // Bursts of commands, closer together than a round trip.
        let at: Vec<i64> = (0..30).map(|i| 100 + i * 7 + (i / 10) * 500).collect();
        let applied = run(&mut hub, &mut cam, &mut path, 0, 20_000, &at, LOCKED);
        assert_eq!(
            applied.sequences,
            (1..=30).collect::<Vec<u64>>(),
            "seed {seed}"
        );
        assert_eq!(applied.steps_ms, at, "seed {seed}");
        assert_eq!(applied.altered_applied, 0);
        let stats = hub.command_stats();
        assert_eq!(
            (stats.submitted, stats.acknowledged),
            (30, 30),
            "seed {seed}"
        );
        assert!(stats.retransmissions > 0, "a path this bad needs some");
        // What the path altered was refused, and counted.
        let rejected = cam.link_stats().malformed + cam.link_stats().unauthenticated;
        assert!(rejected > 0, "seed {seed}");
        assert!(cam.link_stats().duplicate_commands + cam.link_stats().replayed > 0);
        assert!(hub.health().reports() > 0);
    }
}

#[test]
fn a_silenced_camera_is_lost_within_the_timeout_and_locked_again_after() {
    let mut hub = hub();
    let mut cam = camera(1, Time::ZERO);
    let mut path = Path::quiet(7);
    run(&mut hub, &mut cam, &mut path, 0, 5_000, &[], LOCKED);
    assert_eq!(hub.health().camera(CAM), Some(CameraHealth::Locked));
    // Cut off after its report of 5 s, which arrives by 5.04 s: lost 3 s
    // later, not before.
    path.cut = true;
    run(&mut hub, &mut cam, &mut path, 5_000, 7_999, &[], LOCKED);
    assert_eq!(hub.health().camera(CAM), Some(CameraHealth::Locked));
    run(&mut hub, &mut cam, &mut path, 7_999, 8_050, &[], LOCKED);
    assert_eq!(hub.health().camera(CAM), Some(CameraHealth::Lost));
    // It comes back restarted, acquiring, then locks.
    path.cut = false;
    let mut cam = camera(2, Time(10_000 * MS));
    let acquiring = ClockReport {
        lock: LockState::Unlocked,
        ..LOCKED
    };
    run(
        &mut hub,
        &mut cam,
        &mut path,
        10_000,
        11_500,
        &[],
        acquiring,
    );
    assert_eq!(hub.health().camera(CAM), Some(CameraHealth::Resyncing));
    run(&mut hub, &mut cam, &mut path, 11_500, 13_000, &[], LOCKED);
    assert_eq!(hub.health().camera(CAM), Some(CameraHealth::Locked));
    let kinds: Vec<&str> = std::iter::from_fn(|| hub.poll_event())
        .filter_map(|e| match e {
            HubEvent::Alert(a) => Some(a.kind.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "camera_lost",
            "cluster_down",
            // Down to degraded (one camera of one back) is not news.
            "camera_resyncing",
            "camera_recovered",
            "cluster_recovered"
        ]
    );
}

#[test]
fn a_non_finite_rate_is_refused_before_it_is_numbered() {
    let mut hub = hub();
    assert!(hub.command(Time(0), CAM, Nanos(1), f64::NAN).is_err());
    assert_eq!(hub.command(Time(0), CAM, Nanos(1), 2.0), Ok(1));
    assert_eq!(hub.command_stats().submitted, 1);
}

#[test]
fn a_camera_that_restarted_is_not_sent_the_commands_meant_for_its_old_clock() {
    let mut hub = hub();
    let mut cam = camera(1, Time::ZERO);
    let mut path = Path {
        cut_to_camera: true,
        ..Path::quiet(11)
    };
    // Two commands the camera never hears, retransmitted meanwhile.
    let applied = run(&mut hub, &mut cam, &mut path, 0, 2_000, &[100, 150], LOCKED);
    assert!(applied.sequences.is_empty());
    assert!(hub.command_pending(CAM));
    assert!(hub.command_stats().retransmissions > 0);
    // It restarts; its first report tells the hub so, before any
    // retransmission can reach it: both commands are dropped.
    let mut cam = camera(2, Time(2_000 * MS));
    run(&mut hub, &mut cam, &mut path, 2_000, 2_100, &[], LOCKED);
    let events: Vec<HubEvent> = std::iter::from_fn(|| hub.poll_event()).collect();
    assert!(events.contains(&HubEvent::Cancelled {
        camera: CAM,
        count: 2
    }));
    assert!(!hub.command_pending(CAM));
    // The path heals: nothing old is applied; the next command is, with
    // the next number.
    path.cut_to_camera = false;
    let applied = run(
        &mut hub,
        &mut cam,
        &mut path,
        2_100,
        4_000,
        &[3_000],
        LOCKED,
    );
    assert_eq!(applied.sequences, [3]);
    assert_eq!(applied.steps_ms, [3_000]);
    assert_eq!(hub.command_stats().cancelled, 2);
}
