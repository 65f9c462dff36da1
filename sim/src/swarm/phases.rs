//! The two phases of a swarm run, decided by the scenario alone (so a shrunk
//! schedule or a repro file is judged by the same rule):
//!
//! - safety, from the start until the last fault heals: frames must be
//!   accounted and frame sets aligned, whatever the faults do;
//! - liveness, from then on: within `bound` every disciplined clock is locked
//!   again and the sets are complete, and they stay so to the end.

use crate::scenario::{FaultKind, ResyncMode, Scenario, ServoKind, TimestampingMode};

/// How long the engine gets to converge after the faults heal (and after
/// power-on): hardware timestamps with Sync at 8 Hz lock in seconds; software
/// timestamps and slower Sync take longer. With software gains linuxptp's PI
/// waits 0.016/ki (about 37 s) before its first update, and a camera behind
/// a boundary clock only starts once the boundary clock has locked: 45 s
/// more for that hop (seed 76 of the first swarm locked at 75 s with no
/// fault at all).
///
/// linuxptp's PI with its software gains is slower still: its slow pole is
/// ki/kp per Sync (0.000435/0.187 at 8 Hz), a time constant of 54 s (100 s
/// at 1 Hz), so an error of 500 µs left by a frequency estimate taken
/// across a disturbance needs 90 s more to fall below the lock threshold
/// (seeds 1004, 1007 and 1057 of `--seeds 1000..1100`, as ptp4l itself would).
/// Its first sample can itself be taken in the last of a disturbance: in
/// seed 344 the hub's, 9.7 ms off under 20 ms reordering just before the
/// faults healed, paired with one 37 s later gave a frequency 450 ppm off
/// and a 2.4 ms error, which at that time constant falls below the lock
/// threshold about 200 s after the heal; hence 240 s.
///
/// With graceful resync a port that relocks slews its output the rest of the
/// way, up to `slew_ns` (its slew limit at its rate), once per level.
pub fn liveness_bound_ns(
    software: bool,
    pi: bool,
    log_sync_interval: i8,
    behind_boundary: bool,
    slew_ns: i64,
) -> i64 {
    let base_s = match (software, pi) {
        (true, true) => 240,
        (true, false) => 60,
        (false, _) => 30,
    };
    let slow = if log_sync_interval > -3 { 2 } else { 1 };
    // A camera behind a boundary clock converges only once its master has:
    // a second level of the same convergence. With hardware stamps that is
    // the base bound again (seed 590: 20 s of 17.7 ms reordering threw both
    // leaders' linreg servos off by milliseconds, as ptp4l's would be; the
    // leaders relocked 23 s after the fault and their cameras 43 s later).
    let hop_s = match (behind_boundary, software) {
        (false, _) => 0,
        (true, true) => 45,
        (true, false) => base_s * slow,
    };
    let levels = 1 + i64::from(behind_boundary);
    (base_s * slow + hop_s) * 1_000_000_000 + levels * slew_ns
}

/// How long a scenario's slowest graceful resync takes: its slew limit at
/// its slew rate (0 when ports step).
pub fn slew_ns(scenario: &Scenario) -> i64 {
    let p = &scenario.ptp;
    match p.resync {
        ResyncMode::Step => 0,
        ResyncMode::Slew => {
            let rate_ppb = (p.slew_rate_ppm.0 * 1000.0).max(1.0);
            (p.slew_limit.ns() as f64 / rate_ppb * 1e9).ceil() as i64
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phases {
    /// When the last fault is over (0 without faults), ns.
    pub heal: i64,
    /// Convergence allowed after `heal`, ns.
    pub bound: i64,
    /// The end of the run, ns.
    pub end: i64,
}

impl Phases {
    pub fn of(scenario: &Scenario) -> Phases {
        // The coordination path's faults touch neither PTP nor video: they
        // do not put off the liveness window of clocks and frame sets.
        let heal = scenario
            .faults
            .iter()
            .filter(|f| f.kind != FaultKind::CoordinationCorruption)
            .map(|f| match f.duration {
                Some(d) => f.at.ns().saturating_add(d.ns()),
                None => f.at.ns(),
            })
            .max()
            .unwrap_or(0);
        let software = scenario.timestamping.mode == TimestampingMode::Software;
        Phases {
            heal,
            bound: liveness_bound_ns(
                software,
                scenario.ptp.servo == ServoKind::Pi,
                scenario.ptp.settings().log_sync_interval,
                scenario.cameras.iter().any(|g| g.behind.is_some()),
                slew_ns(scenario),
            ),
            end: scenario.duration.ns(),
        }
    }

    /// From here on the liveness invariants must hold.
    pub fn converged_by(&self) -> i64 {
        self.heal.saturating_add(self.bound)
    }

    /// Whether a liveness window is left to judge (the run outlasts the bound).
    pub fn has_liveness_window(&self) -> bool {
        self.converged_by() < self.end
    }
}
