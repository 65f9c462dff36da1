//! The fault schedule a seed draws: one recipe per `FaultKind`, in ONE match
//! (`recipe`). A new kind in `scenario.rs` stops this file compiling until it
//! has its row here: how long one lasts, how big it is, whom it strikes, and
//! how to make it smaller when shrinking.
//!
//! Each kind draws from its own named stream (`swarm/fault/<kind>`), so
//! choosing fewer kinds with `--faults` leaves the chosen kinds' draws as
//! they were, and a new kind reshuffles no other kind's faults.

use super::knobs::Topology;
use crate::rng::{Seeds, Stream};
use crate::scenario::FaultKind;
use rand::RngExt;
use serde::Deserialize;

/// Every kind the swarm knows. `every_kind_is_listed` checks this list
/// against the variants serde knows, so a new variant cannot be forgotten.
pub const ALL_KINDS: [FaultKind; 30] = [
    FaultKind::GrandmasterSilent,
    FaultKind::PathDelayStep,
    FaultKind::AsymmetryStep,
    FaultKind::ReplayAttack,
    FaultKind::MalformedPackets,
    FaultKind::FrequencyStep,
    FaultKind::LeapSecond,
    FaultKind::VideoJitter,
    FaultKind::Partition,
    FaultKind::PartitionOneWay,
    FaultKind::LinkFlap,
    FaultKind::BurstyLoss,
    FaultKind::Duplication,
    FaultKind::Reordering,
    FaultKind::PdvBurst,
    FaultKind::MulticastLoss,
    FaultKind::WanPartition,
    FaultKind::CameraCrash,
    FaultKind::CameraStall,
    FaultKind::CameraFrameDrops,
    FaultKind::NicTimestampLoss,
    FaultKind::CpuStall,
    FaultKind::HubRestart,
    FaultKind::ClusterLeaderLoss,
    FaultKind::GrandmasterFlapping,
    FaultKind::RogueMaster,
    FaultKind::PhaseStep,
    FaultKind::TemperatureSwing,
    FaultKind::BufferOverflow,
    FaultKind::CoordinationCorruption,
];

/// At most this many faults of one kind per run.
const MAX_PER_KIND: usize = 3;
/// Each kind's chance per try is drawn per seed in [0, this): some seeds are
/// quiet, some are storms, as VOPR's swarm testing has it.
const MAX_PROBABILITY: f64 = 0.45;

/// One scheduled fault as the swarm drew it (times in ns, exact).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultDraw {
    pub kind: FaultKind,
    pub at: i64,
    /// None: an instant (a leap second).
    pub duration: Option<i64>,
    /// Step size (path delay, asymmetry), replay delay, garbage period or
    /// leap direction, by kind.
    pub by: i64,
    pub target: Option<String>,
    pub ppb: f64,
    pub factor: f64,
    /// The share of packets, frames or timestamps struck (0: unused).
    pub probability: f64,
    /// Gilbert–Elliott mean burst length, packets (0: unused).
    pub burst: f64,
    /// A flap's or a swing's cycle, ns.
    pub period: Option<i64>,
}

impl FaultDraw {
    fn new(kind: FaultKind, at: i64, duration: Option<i64>) -> Self {
        FaultDraw {
            kind,
            at,
            duration,
            by: 0,
            target: None,
            ppb: 0.0,
            factor: 1.0,
            probability: 0.0,
            burst: 0.0,
            period: None,
        }
    }

    /// When it is over: its end, or its instant.
    pub fn heals_at(&self) -> i64 {
        self.at + self.duration.unwrap_or(0)
    }
}

/// A kind's row: its name in scenario files, how long one lasts, and its
/// size, target and shrink rules.
pub struct Recipe {
    pub name: &'static str,
    /// How long one lasts, ms (min, max); None: an instant.
    lasts_ms: Option<(i64, i64)>,
    /// The world honours only the first of this kind (the leap second).
    once: bool,
    /// Needs the PTP messages authenticated (a replay is only refused then).
    pub needs_security: bool,
    /// Whether the topology has what it strikes (a cluster leader, ...).
    fits: fn(&Topology) -> bool,
    /// Fills in size and target.
    size: fn(&mut Stream, &Topology, &mut FaultDraw),
    /// One step smaller (None: already the smallest worth trying).
    smaller: fn(&FaultDraw) -> Option<FaultDraw>,
}

/// THE table: one row per kind.
pub fn recipe(kind: FaultKind) -> Recipe {
    match kind {
        // Silence of a grandmaster: holdover without a backup, failover and
        // fallback with one.
        FaultKind::GrandmasterSilent => Recipe {
            name: "grandmaster-silent",
            lasts_ms: Some((1_000, 30_000)),
            once: false,
            needs_security: false,
            fits: |_| true,
            size: |rng, topo, f| {
                let backup = topo.backup && rng.random_bool(0.25);
                f.target = Some(if backup { "backup" } else { "grandmaster" }.into());
            },
            smaller: |_| None,
        },
        // A reroute: every PTP path longer (or shorter, down to half the
        // network's floor) for a while.
        FaultKind::PathDelayStep => Recipe {
            name: "path-delay-step",
            lasts_ms: Some((1_000, 60_000)),
            once: false,
            needs_security: false,
            fits: |_| true,
            size: |rng, topo, f| {
                let shorter = topo.network_floor_ns / 2;
                f.by = if shorter > 0 && rng.random_bool(0.3) {
                    -rng.random_range(1..=shorter)
                } else {
                    rng.random_range(1_000..=200_000)
                };
            },
            smaller: |f| halve_by(f, 100),
        },
        // An asymmetric reroute: PTP cannot see it, so offsets are off by
        // half of it while it lasts (a safety-phase fault only).
        FaultKind::AsymmetryStep => Recipe {
            name: "asymmetry-step",
            lasts_ms: Some((1_000, 60_000)),
            once: false,
            needs_security: false,
            fits: |_| true,
            size: |rng, _, f| {
                let size = rng.random_range(100..=20_000);
                f.by = if rng.random_bool(0.5) { size } else { -size };
            },
            smaller: |f| halve_by(f, 100),
        },
        FaultKind::ReplayAttack => Recipe {
            name: "replay-attack",
            lasts_ms: Some((1_000, 60_000)),
            once: false,
            needs_security: true,
            fits: |_| true,
            size: |rng, _, f| f.by = rng.random_range(1..=3_000) * 1_000_000,
            smaller: |f| halve_by(f, 1_000_000),
        },
        // Random bytes to every port, one packet every `by`.
        FaultKind::MalformedPackets => Recipe {
            name: "malformed-packets",
            lasts_ms: Some((1_000, 30_000)),
            once: false,
            needs_security: false,
            fits: |_| true,
            size: |rng, _, f| f.by = rng.random_range(1..=20) * 1_000_000,
            // Smaller is sparser: the period doubles, up to a second.
            smaller: |f| {
                (f.by < 1_000_000_000).then(|| FaultDraw {
                    by: (f.by * 2).min(1_000_000_000),
                    ..f.clone()
                })
            },
        },
        // A temperature shock: every disciplined clock, or one.
        FaultKind::FrequencyStep => Recipe {
            name: "frequency-step",
            lasts_ms: Some((1_000, 60_000)),
            once: false,
            needs_security: false,
            fits: |_| true,
            size: |rng, topo, f| {
                let ppb = rng.random_range(20.0..=2_000.0_f64).round();
                f.ppb = if rng.random_bool(0.5) { ppb } else { -ppb };
                if rng.random_bool(0.5) {
                    let i = rng.random_range(0..topo.disciplined.len());
                    f.target = Some(topo.disciplined[i].clone());
                }
            },
            smaller: |f| {
                (f.ppb.abs() >= 2.0).then(|| FaultDraw {
                    ppb: (f.ppb / 2.0).trunc(),
                    ..f.clone()
                })
            },
        },
        // Inserted, or now and then deleted (`by = -1s`).
        FaultKind::LeapSecond => Recipe {
            name: "leap-second",
            lasts_ms: None,
            once: true,
            needs_security: false,
            fits: |_| true,
            size: |rng, _, f| {
                f.by = if rng.random_bool(0.2) {
                    -1_000_000_000
                } else {
                    0
                };
            },
            smaller: |_| None,
        },
        // The video path's queueing times `factor`: up (x1.5–5) or down.
        FaultKind::VideoJitter => Recipe {
            name: "video-jitter",
            lasts_ms: Some((2_000, 60_000)),
            once: false,
            needs_security: false,
            fits: |_| true,
            size: |rng, _, f| {
                let up = rng.random_range(1.5..=5.0_f64);
                let factor = if rng.random_bool(0.7) { up } else { 1.0 / up };
                f.factor = (factor * 100.0).round() / 100.0;
            },
            // Smaller is nearer 1: the square root, to two decimals.
            smaller: |f| {
                let next = (f.factor.sqrt() * 100.0).round() / 100.0;
                (next != f.factor && (next - 1.0).abs() >= 0.05).then(|| FaultDraw {
                    factor: next,
                    ..f.clone()
                })
            },
        },
        // A host cut off both ways, or deaf one way; a link going down and
        // up: its clock holds over and re-locks.
        FaultKind::Partition => Recipe {
            name: "partition",
            ..cut_off(|rng, topo, f| f.target = Some(any_of(rng, &topo.disciplined)))
        },
        FaultKind::PartitionOneWay => Recipe {
            name: "partition-one-way",
            ..cut_off(|rng, topo, f| f.target = Some(any_of(rng, &topo.disciplined)))
        },
        FaultKind::LinkFlap => Recipe {
            name: "link-flap",
            lasts_ms: Some((2_000, 30_000)),
            ..cut_off(|rng, topo, f| {
                f.target = Some(any_of(rng, &topo.disciplined));
                f.period = Some(rng.random_range(500..=8_000) * 1_000_000);
            })
        },
        FaultKind::WanPartition => Recipe {
            name: "wan-partition",
            fits: |topo| !topo.boundary_clocks.is_empty(),
            ..cut_off(|rng, topo, f| f.target = Some(any_of(rng, &topo.boundary_clocks)))
        },
        // Packets struck at random: lost in bursts, lost if multicast,
        // doubled, held back.
        FaultKind::BurstyLoss => Recipe {
            name: "bursty-loss",
            ..struck(|rng, topo, f| {
                f.probability = share(rng, 0.3);
                f.burst = rng.random_range(1..=30) as f64;
                if rng.random_bool(0.5) {
                    f.target = Some(any_of(rng, &topo.disciplined));
                }
            })
        },
        FaultKind::MulticastLoss => Recipe {
            name: "multicast-loss",
            ..struck(|rng, _, f| f.probability = share(rng, 0.5))
        },
        FaultKind::Duplication => Recipe {
            name: "duplication",
            ..struck(|rng, _, f| f.probability = share(rng, 0.5))
        },
        // The coordination path: frames between the hub and the cameras
        // flipped, cut short or lost (all of them, or one camera's).
        FaultKind::CoordinationCorruption => Recipe {
            name: "coordination-corruption",
            ..struck(|rng, topo, f| {
                f.probability = share(rng, 0.8);
                if rng.random_bool(0.5) {
                    f.target = Some(any_of(rng, &topo.cameras));
                }
            })
        },
        FaultKind::Reordering => Recipe {
            name: "reordering",
            ..struck(|rng, _, f| {
                f.probability = share(rng, 0.5);
                f.by = rng.random_range(100..=20_000) * 1_000;
            })
        },
        FaultKind::PdvBurst => Recipe {
            name: "pdv-burst",
            lasts_ms: Some((1_000, 60_000)),
            once: false,
            needs_security: false,
            fits: |_| true,
            size: |rng, _, f| f.by = rng.random_range(1..=500) * 1_000,
            smaller: |f| halve_by(f, 1_000),
        },
        FaultKind::NicTimestampLoss => Recipe {
            name: "nic-timestamp-loss",
            ..struck(|rng, topo, f| {
                f.probability = share(rng, 0.3);
                if rng.random_bool(0.5) {
                    f.target = Some(any_of(rng, &topo.disciplined));
                }
            })
        },
        // Cameras: crashed and restarted cold, stalled, dropping frames,
        // stamping far ahead (beyond the hub's 10 s window, which it must
        // refuse).
        FaultKind::CameraCrash => Recipe {
            name: "camera-crash",
            ..cut_off(|rng, topo, f| f.target = Some(any_of(rng, &topo.cameras)))
        },
        FaultKind::CameraStall => Recipe {
            name: "camera-stall",
            lasts_ms: Some((100, 5_000)),
            ..cut_off(|rng, topo, f| f.target = Some(any_of(rng, &topo.cameras)))
        },
        FaultKind::CameraFrameDrops => Recipe {
            name: "camera-frame-drops",
            ..struck(|rng, topo, f| {
                f.probability = share(rng, 0.2);
                if rng.random_bool(0.5) {
                    f.target = Some(any_of(rng, &topo.cameras));
                }
            })
        },
        FaultKind::BufferOverflow => Recipe {
            name: "buffer-overflow",
            lasts_ms: Some((500, 10_000)),
            once: false,
            needs_security: false,
            fits: |_| true,
            size: |rng, topo, f| {
                f.target = Some(any_of(rng, &topo.cameras));
                f.by = rng.random_range(11..=60) * 1_000_000_000;
            },
            smaller: |_| None,
        },
        // Hosts: a CPU stall, the hub restarting, a cluster leader lost.
        FaultKind::CpuStall => Recipe {
            name: "cpu-stall",
            lasts_ms: Some((50, 3_000)),
            ..cut_off(|rng, topo, f| f.target = Some(any_of(rng, &topo.disciplined)))
        },
        FaultKind::HubRestart => Recipe {
            name: "hub-restart",
            lasts_ms: Some((500, 10_000)),
            ..cut_off(|_, _, f| f.target = Some("hub".into()))
        },
        FaultKind::ClusterLeaderLoss => Recipe {
            name: "cluster-leader-loss",
            fits: |topo| !topo.boundary_clocks.is_empty(),
            ..cut_off(|rng, topo, f| f.target = Some(any_of(rng, &topo.boundary_clocks)))
        },
        // The grandmaster flapping: failover and back with a backup,
        // holdover and back without.
        FaultKind::GrandmasterFlapping => Recipe {
            name: "grandmaster-flapping",
            lasts_ms: Some((4_000, 60_000)),
            ..cut_off(|rng, _, f| {
                f.target = Some("grandmaster".into());
                f.period = Some(rng.random_range(2_000..=40_000) * 1_000_000);
            })
        },
        // A rogue needs a master of its own and an acceptable-masters list:
        // the library's rogue-master scenario covers it; the swarm's
        // topologies have none.
        FaultKind::RogueMaster => Recipe {
            name: "rogue-master",
            fits: |_| false,
            ..cut_off(|_, _, _| {})
        },
        // Clocks: a phase jump, a temperature cycle.
        FaultKind::PhaseStep => Recipe {
            name: "phase-step",
            lasts_ms: None,
            once: false,
            needs_security: false,
            fits: |_| true,
            size: |rng, topo, f| {
                f.target = Some(any_of(rng, &topo.disciplined));
                let size = rng.random_range(1..=100) * 1_000;
                f.by = if rng.random_bool(0.5) { size } else { -size };
            },
            smaller: |f| halve_by(f, 1_000),
        },
        FaultKind::TemperatureSwing => Recipe {
            name: "temperature-swing",
            lasts_ms: Some((5_000, 60_000)),
            once: false,
            needs_security: false,
            fits: |_| true,
            size: |rng, topo, f| {
                f.ppb = rng.random_range(10.0..=500.0_f64).round();
                f.period = Some(rng.random_range(10..=120) * 1_000_000_000);
                if rng.random_bool(0.5) {
                    f.target = Some(any_of(rng, &topo.disciplined));
                }
            },
            smaller: |f| {
                (f.ppb >= 2.0).then(|| FaultDraw {
                    ppb: (f.ppb / 2.0).trunc(),
                    ..f.clone()
                })
            },
        },
    }
}

/// A row for a fault that takes something away for a while (a host, a
/// link): 1–20 s; smaller is shorter, which the shrinker does itself.
fn cut_off(size: fn(&mut Stream, &Topology, &mut FaultDraw)) -> Recipe {
    Recipe {
        name: "",
        lasts_ms: Some((1_000, 20_000)),
        once: false,
        needs_security: false,
        fits: |_| true,
        size,
        smaller: |_| None,
    }
}

/// A row for a fault that strikes a share of packets or frames: smaller
/// is half the share.
fn struck(size: fn(&mut Stream, &Topology, &mut FaultDraw)) -> Recipe {
    Recipe {
        name: "",
        lasts_ms: Some((1_000, 60_000)),
        once: false,
        needs_security: false,
        fits: |_| true,
        size,
        smaller: |f| {
            (f.probability >= 0.01).then(|| FaultDraw {
                probability: ((f.probability / 2.0) * 1000.0).round() / 1000.0,
                ..f.clone()
            })
        },
    }
}

/// A share in (0, `max`], to three decimals.
fn share(rng: &mut Stream, max: f64) -> f64 {
    (rng.random_range(0.001..=max) * 1000.0).round() / 1000.0
}

fn any_of(rng: &mut Stream, names: &[String]) -> String {
    names[rng.random_range(0..names.len())].clone()
}

/// Half the step, while it stays above `floor` in size.
fn halve_by(f: &FaultDraw, floor: i64) -> Option<FaultDraw> {
    (f.by.abs() / 2 >= floor).then(|| FaultDraw {
        by: f.by / 2,
        ..f.clone()
    })
}

/// A kind by its scenario-file name, through the scenario parser's own
/// serde names; the error lists the kinds there are.
pub fn parse_kind(name: &str) -> Result<FaultKind, String> {
    use serde::de::IntoDeserializer;
    let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
        name.into_deserializer();
    FaultKind::deserialize(de).map_err(|e| format!("unknown fault kind `{name}`: {e}"))
}

pub fn kind_name(kind: FaultKind) -> &'static str {
    recipe(kind).name
}

/// The faults of one seed, for the kinds allowed, in time order. Every one
/// starts at or after `from` and is over by `until` (ns).
pub fn draw_schedule(
    seeds: &Seeds,
    allowed: &[FaultKind],
    topo: &Topology,
    from: i64,
    until: i64,
) -> Vec<FaultDraw> {
    let mut faults = Vec::new();
    for &kind in allowed {
        let r = recipe(kind);
        if !(r.fits)(topo) {
            continue;
        }
        let mut rng = seeds.stream(&format!("swarm/fault/{}", r.name));
        let p = rng.random_range(0.0..MAX_PROBABILITY);
        let tries = if r.once { 1 } else { MAX_PER_KIND };
        for _ in 0..tries {
            if !rng.random_bool(p) {
                continue;
            }
            // Whole milliseconds: a repro file reads as a person would write it.
            let lasts = r.lasts_ms.map(|(lo, hi)| {
                let room = ((until - from) / 1_000_000).max(lo + 1);
                rng.random_range(lo..=hi.min(room - 1)) * 1_000_000
            });
            let latest = until - lasts.unwrap_or(0);
            let at = rng
                .random_range(from / 1_000_000..=(latest / 1_000_000).max(from / 1_000_000))
                * 1_000_000;
            let mut f = FaultDraw::new(kind, at, lasts);
            (r.size)(&mut rng, topo, &mut f);
            faults.push(f);
        }
    }
    faults.sort_by(|a, b| a.at.cmp(&b.at).then(a.kind_index().cmp(&b.kind_index())));
    faults
}

impl FaultDraw {
    fn kind_index(&self) -> usize {
        ALL_KINDS.iter().position(|k| *k == self.kind).unwrap_or(0)
    }

    /// The same fault made one step smaller, by its kind's rule.
    pub fn smaller(&self) -> Option<FaultDraw> {
        (recipe(self.kind).smaller)(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed() {
        // serde names every variant when it refuses an unknown one.
        let err = parse_kind("no-such-kind").unwrap_err();
        let listed = err.matches('`').count() / 2 - 2;
        assert_eq!(listed, ALL_KINDS.len(), "{err}");
        for kind in ALL_KINDS {
            assert_eq!(parse_kind(kind_name(kind)), Ok(kind));
            assert!(err.contains(&format!("`{}`", kind_name(kind))), "{err}");
        }
    }

    #[test]
    fn schedules_stay_in_their_window_and_repeat() {
        let topo = Topology {
            backup: true,
            network_floor_ns: 10_000,
            disciplined: vec!["hub".into(), "cam0".into(), "bc0".into()],
            cameras: vec!["cam0".into()],
            boundary_clocks: vec!["bc0".into()],
        };
        for seed in 0..50 {
            let s = Seeds::new(seed);
            let a = draw_schedule(&s, &ALL_KINDS, &topo, 10_000_000_000, 60_000_000_000);
            let b = draw_schedule(&s, &ALL_KINDS, &topo, 10_000_000_000, 60_000_000_000);
            assert_eq!(a, b);
            for f in &a {
                assert!(f.at >= 10_000_000_000, "{f:?}");
                assert!(f.heals_at() <= 60_000_000_000, "{f:?}");
            }
        }
    }

    #[test]
    fn shrinking_a_fault_ends() {
        let mut f = FaultDraw::new(FaultKind::VideoJitter, 0, Some(1));
        f.factor = 5.0;
        let mut steps = 0;
        while let Some(g) = f.smaller() {
            f = g;
            steps += 1;
            assert!(steps < 20);
        }
        assert!((f.factor - 1.0).abs() < 0.2, "{f:?}");
    }
}
