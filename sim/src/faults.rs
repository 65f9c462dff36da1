//! The fault schedule as the world consults it: which packets a fault cuts,
//! delays, repeats or reorders; which hosts are down, stalled or silent;
//! what happens to a camera's frames; what it does to an oscillator. Every
//! random draw comes from one stream of the seed, drawn only while a fault
//! that needs it is active, so that a scenario without faults draws
//! nothing here.

use crate::coordination::PathFaults;
use crate::rng::Stream;
use crate::scenario::{FaultKind, FaultSpec};
use rand::RngExt;

/// One scheduled fault and the host it strikes (none: every host it can).
struct Scheduled {
    spec: FaultSpec,
    target: Option<usize>,
}

impl Scheduled {
    fn active(&self, now: i64) -> bool {
        self.spec.active(now)
    }

    fn strikes(&self, h: usize) -> bool {
        self.target.is_none_or(|t| t == h)
    }

    /// A flapping fault's down half: the first half of each period.
    fn down_phase(&self, now: i64) -> bool {
        let period = self.spec.period.map_or(1, |p| p.ns().max(2));
        let (start, _) = self.spec.window();
        (now - start).rem_euclid(period) < period / 2
    }
}

/// A PTP packet on its way: who sends it through which port, who hears it
/// on which port.
#[derive(Clone, Copy, Debug)]
pub struct Hop {
    pub from: usize,
    pub from_port: u16,
    pub to: usize,
    pub to_port: u16,
    pub multicast: bool,
    /// The link's own index (the non-grandmaster end), for burst states.
    pub link: usize,
}

/// What happens to a packet the faults let through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketFate {
    /// Added to its delay.
    pub extra: i64,
    /// A second copy arrives this much after the first.
    pub duplicate_after: Option<i64>,
}

/// What happens to a frame a camera has just captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameFate {
    Send,
    /// Lost before it left the camera.
    Drop,
    /// Held in the camera until this true time.
    HoldUntil(i64),
    /// Its stamp is this far off.
    Shift(i64),
}

pub struct FaultBook {
    faults: Vec<Scheduled>,
    rng: Stream,
    /// Per link, whether its Gilbert–Elliott chain is in the bad state.
    bursting: Vec<bool>,
}

/// The boundary clock's port toward the core.
const UPSTREAM_PORT: u16 = 1;

impl FaultBook {
    /// `targets[i]`: the host fault `i` strikes, if it names one; `hub`:
    /// the hub's index (what `hub-restart` strikes by default).
    pub fn new(
        faults: &[FaultSpec],
        targets: &[Option<usize>],
        hub: usize,
        hosts: usize,
        rng: Stream,
    ) -> Self {
        FaultBook {
            faults: faults
                .iter()
                .zip(targets)
                .map(|(spec, &target)| Scheduled {
                    target: match spec.kind {
                        FaultKind::HubRestart => Some(hub),
                        _ => target,
                    },
                    spec: spec.clone(),
                })
                .collect(),
            rng,
            bursting: vec![false; hosts],
        }
    }

    fn active(&self, kind: FaultKind, now: i64) -> impl Iterator<Item = &Scheduled> {
        self.faults
            .iter()
            .filter(move |f| f.spec.kind == kind && f.active(now))
    }

    /// Whether a partition or a link down cuts `from` off from `to` now.
    /// Draws nothing: the coordination path asks it too, and must not move
    /// the PTP network's draws.
    pub fn isolates(&self, from: usize, to: usize, now: i64) -> bool {
        let down = |f: &Scheduled| f.strikes(from) || f.strikes(to);
        self.active(FaultKind::Partition, now).any(down)
            || self
                .active(FaultKind::PartitionOneWay, now)
                .any(|f| f.strikes(to))
            || self
                .active(FaultKind::LinkFlap, now)
                .any(|f| down(f) && f.down_phase(now))
    }

    /// Whether the faults lose this packet. Draws only for the faults that
    /// are active and strike its link.
    pub fn cuts(&mut self, hop: Hop, now: i64) -> bool {
        let down = |f: &Scheduled| f.strikes(hop.from) || f.strikes(hop.to);
        if self.active(FaultKind::Partition, now).any(down)
            || self
                .active(FaultKind::PartitionOneWay, now)
                .any(|f| f.strikes(hop.to))
            || self
                .active(FaultKind::LinkFlap, now)
                .any(|f| down(f) && f.down_phase(now))
        {
            return true;
        }
        // A cluster leader's WAN link: its port toward the core.
        let wan = |f: &Scheduled| {
            (f.target == Some(hop.from) && hop.from_port == UPSTREAM_PORT)
                || (f.target == Some(hop.to) && hop.to_port == UPSTREAM_PORT)
        };
        if self.active(FaultKind::WanPartition, now).any(wan) {
            return true;
        }
        let multicast_loss: f64 = if hop.multicast {
            self.active(FaultKind::MulticastLoss, now)
                .map(|f| f.spec.probability)
                .fold(0.0, f64::max)
        } else {
            0.0
        };
        if multicast_loss > 0.0 && self.rng.random_bool(multicast_loss) {
            return true;
        }
        let burst = self
            .active(FaultKind::BurstyLoss, now)
            .find(|f| down(f))
            .map(|f| (f.spec.probability, f.spec.burst));
        if let Some((loss, length)) = burst {
            // Gilbert–Elliott: leave a burst with 1/length per packet; enter
            // one so that the long-run loss is `loss`.
            let leave = 1.0 / length;
            let enter = (leave * loss / (1.0 - loss).max(1e-9)).min(1.0);
            let bad = &mut self.bursting[hop.link];
            *bad = if *bad {
                !self.rng.random_bool(leave)
            } else {
                self.rng.random_bool(enter)
            };
            return *bad;
        }
        false
    }

    /// What the faults do now to coordination frames between `from` and
    /// `to`. Draws nothing: the coordination path draws from its own stream.
    pub fn coordination(&self, from: usize, to: usize, now: i64) -> PathFaults {
        let either = |f: &&Scheduled| f.strikes(from) || f.strikes(to);
        let most = |kind| {
            self.active(kind, now)
                .filter(either)
                .map(|f| f.spec.probability)
                .fold(0.0, f64::max)
        };
        PathFaults {
            cut: self.isolates(from, to, now),
            corruption: most(FaultKind::CoordinationCorruption),
            // As for PTP packets: the first active one of each.
            duplication: self
                .active(FaultKind::Duplication, now)
                .map(|f| f.spec.probability)
                .next()
                .unwrap_or(0.0),
            reordering: self
                .active(FaultKind::Reordering, now)
                .map(|f| (f.spec.probability, f.spec.by.ns().max(0)))
                .next()
                .unwrap_or((0.0, 0)),
        }
    }

    /// Extra delay and copies for a packet the faults let through.
    pub fn fate(&mut self, now: i64) -> PacketFate {
        let mut fate = PacketFate::default();
        let pdv: i64 = self
            .active(FaultKind::PdvBurst, now)
            .map(|f| f.spec.by.ns().max(0))
            .max()
            .unwrap_or(0);
        if pdv > 0 {
            fate.extra += self.rng.random_range(0..=pdv);
        }
        let reorder = self
            .active(FaultKind::Reordering, now)
            .map(|f| (f.spec.probability, f.spec.by.ns().max(0)))
            .next();
        if let Some((p, by)) = reorder
            && self.rng.random_bool(p)
        {
            fate.extra += by;
        }
        let duplicate = self
            .active(FaultKind::Duplication, now)
            .map(|f| f.spec.probability)
            .next();
        if let Some(p) = duplicate
            && self.rng.random_bool(p)
        {
            fate.duplicate_after = Some(self.rng.random_range(1_000..=100_000));
        }
        fate
    }

    /// Whether host `h` is down (crashed: it neither hears nor sends, and
    /// its state is lost).
    pub fn down(&self, h: usize, now: i64) -> bool {
        [
            FaultKind::CameraCrash,
            FaultKind::ClusterLeaderLoss,
            FaultKind::HubRestart,
        ]
        .into_iter()
        .any(|kind| self.active(kind, now).any(|f| f.target == Some(h)))
    }

    /// Whether host `h` sends nothing now for a fault's sake (besides being
    /// down): a grandmaster fallen silent or flapping, a rogue master off
    /// the network outside its window.
    pub fn silent(&self, h: usize, now: i64) -> bool {
        self.down(h, now)
            || self
                .active(FaultKind::GrandmasterSilent, now)
                .any(|f| f.target == Some(h))
            || self
                .active(FaultKind::GrandmasterFlapping, now)
                .any(|f| f.target == Some(h) && f.down_phase(now))
            || self.faults.iter().any(|f| {
                f.spec.kind == FaultKind::RogueMaster && f.target == Some(h) && !f.active(now)
            })
    }

    /// Until when host `h`'s CPU is stalled, if it is now.
    pub fn stalled_until(&self, h: usize, now: i64) -> Option<i64> {
        self.active(FaultKind::CpuStall, now)
            .filter(|f| f.target == Some(h))
            .map(|f| f.spec.window().1)
            .max()
    }

    /// Whether host `h` loses this transmit timestamp.
    pub fn loses_tx_timestamp(&mut self, h: usize, now: i64) -> bool {
        let p = self
            .active(FaultKind::NicTimestampLoss, now)
            .filter(|f| f.strikes(h))
            .map(|f| f.spec.probability)
            .fold(0.0, f64::max);
        p > 0.0 && self.rng.random_bool(p)
    }

    /// What becomes of a frame camera host `h` captured now.
    pub fn frame(&mut self, h: usize, now: i64) -> FrameFate {
        if let Some(until) = self
            .active(FaultKind::CameraStall, now)
            .filter(|f| f.target == Some(h))
            .map(|f| f.spec.window().1)
            .max()
        {
            return FrameFate::HoldUntil(until);
        }
        if let Some(by) = self
            .active(FaultKind::BufferOverflow, now)
            .find(|f| f.target == Some(h))
            .map(|f| f.spec.by.ns())
        {
            return FrameFate::Shift(by);
        }
        let p = self
            .active(FaultKind::CameraFrameDrops, now)
            .filter(|f| f.strikes(h))
            .map(|f| f.spec.probability)
            .fold(0.0, f64::max);
        if p > 0.0 && self.rng.random_bool(p) {
            return FrameFate::Drop;
        }
        FrameFate::Send
    }

    /// The faults whose end restarts their host, by index: (true time,
    /// host).
    pub fn restarts(&self) -> Vec<(i64, usize)> {
        self.faults
            .iter()
            .filter(|f| {
                matches!(
                    f.spec.kind,
                    FaultKind::CameraCrash | FaultKind::ClusterLeaderLoss | FaultKind::HubRestart
                )
            })
            .filter_map(|f| Some((f.spec.window().1, f.target?)))
            .collect()
    }
}

/// The phase steps the faults make on the oscillator named `name`: (true
/// time, ns).
pub fn phase_steps(faults: &[FaultSpec], name: &str) -> Vec<(i64, i64)> {
    faults
        .iter()
        .filter(|f| f.kind == FaultKind::PhaseStep && f.target.as_deref() == Some(name))
        .map(|f| (f.at.ns(), f.by.ns()))
        .collect()
}

/// The frequency changes (true time, Δppb) that the frequency-step and
/// temperature-swing faults make on an oscillator: `named` says whether a
/// fault strikes it (by its target, or its role when the fault has none).
/// A swing is followed second by second: ±`ppb` as a sine over `period`.
pub fn frequency_steps(
    faults: &[FaultSpec],
    strikes: impl Fn(&FaultSpec) -> bool,
) -> Vec<(i64, f64)> {
    let mut steps = Vec::new();
    for f in faults.iter().filter(|f| strikes(f)) {
        let (start, end) = f.window();
        match f.kind {
            FaultKind::FrequencyStep => {
                steps.push((start, f.ppb));
                if end < i64::MAX {
                    steps.push((end, -f.ppb));
                }
            }
            FaultKind::TemperatureSwing => {
                let period = f.period.map_or(1, |p| p.ns().max(1)) as f64;
                let last = end.min(start.saturating_add(86_400_000_000_000));
                let mut now_ppb = 0.0;
                let mut t = start;
                while t < last {
                    let phase = (t - start) as f64 / period * std::f64::consts::TAU;
                    let want = f.ppb * phase.sin();
                    steps.push((t, want - now_ppb));
                    now_ppb = want;
                    t += 1_000_000_000;
                }
                if end < i64::MAX {
                    steps.push((end, -now_ppb));
                }
            }
            _ => {}
        }
    }
    steps.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Seeds;

    fn fault(text: &str) -> FaultSpec {
        toml::from_str(text).unwrap()
    }

    fn hop(from: usize, to: usize) -> Hop {
        Hop {
            from,
            from_port: 1,
            to,
            to_port: 1,
            multicast: true,
            link: to,
        }
    }

    #[test]
    fn bursty_loss_loses_its_share_in_bursts() {
        let f = fault("kind = 'bursty-loss'\nat = '0s'\nprobability = 0.1\nburst = 10");
        let mut book = FaultBook::new(&[f], &[None], 1, 4, Seeds::new(1).stream("faults"));
        let lost: Vec<bool> = (0..200_000).map(|_| book.cuts(hop(0, 2), 1)).collect();
        let share = lost.iter().filter(|l| **l).count() as f64 / lost.len() as f64;
        let bursts = lost.windows(2).filter(|w| !w[0] && w[1]).count();
        let mean_burst = lost.iter().filter(|l| **l).count() as f64 / bursts as f64;
        assert!((share - 0.1).abs() < 0.01, "share {share}");
        assert!((mean_burst - 10.0).abs() < 1.0, "mean burst {mean_burst}");
    }

    #[test]
    fn a_partition_cuts_both_ways_and_a_one_way_partition_one() {
        let two = fault("kind = 'partition'\nat = '1s'\nduration = '1s'\ntarget = 'cam0'");
        let one = fault("kind = 'partition-one-way'\nat = '1s'\ntarget = 'cam0'");
        let mut book = FaultBook::new(&[two], &[Some(2)], 1, 4, Seeds::new(1).stream("f"));
        assert!(book.cuts(hop(0, 2), 1_500_000_000) && book.cuts(hop(2, 0), 1_500_000_000));
        assert!(!book.cuts(hop(0, 2), 2_000_000_000), "healed at the end");
        assert!(!book.cuts(hop(0, 3), 1_500_000_000), "others unharmed");
        let mut book = FaultBook::new(&[one], &[Some(2)], 1, 4, Seeds::new(1).stream("f"));
        assert!(book.cuts(hop(0, 2), 1_500_000_000) && !book.cuts(hop(2, 0), 1_500_000_000));
    }

    #[test]
    fn a_temperature_swing_returns_to_where_it_started() {
        let f = fault(
            "kind = 'temperature-swing'\nat = '10s'\nduration = '60s'\nppb = 200.0\nperiod = '20s'",
        );
        let steps = frequency_steps(&[f], |_| true);
        let total: f64 = steps.iter().map(|s| s.1).sum();
        assert!(total.abs() < 1e-6, "{total}");
        let mut level: f64 = 0.0;
        let peak = steps.iter().map(|s| {
            level += s.1;
            level.abs()
        });
        let peak = peak.fold(0.0, f64::max);
        assert!((peak - 200.0).abs() < 2.0, "{peak}");
    }
}
