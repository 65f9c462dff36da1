//! Frame slips made on a schedule, and the alerts raised scored against
//! them: a slip is found when an alert names its camera and direction
//! within three reference frame periods of its first slipped frame; an
//! alert that names no slip is a false alarm.

use crate::rng::Seeds;
use crate::scenario::SlipSpec;
use camsync_engine::frame_rate::FrameRate;
use camsync_engine::visual::{AlertKind, VisualAlert};
use rand::RngExt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlipTruth {
    pub camera: usize,
    /// Stamp of the camera's first frame shown a frame off.
    pub from: i64,
    pub frames: i32,
}

/// Every camera's slips over `duration` (camera 0, the reference, none),
/// each at a frame of the camera's own grid, in stamp order per camera.
pub fn schedule(
    spec: &SlipSpec,
    seeds: &Seeds,
    rates: &[FrameRate],
    duration: i64,
) -> Vec<Vec<SlipTruth>> {
    let mean = spec.every.ns() as f64;
    let gap = spec.min_gap.ns();
    rates
        .iter()
        .enumerate()
        .map(|(c, rate)| {
            let mut out = Vec::new();
            if c == 0 {
                return out;
            }
            let mut rng = seeds.stream(&format!("visual/slips/cam{c}"));
            let mut t = spec.warmup.ns() - gap;
            // A camera whose clock wanders about its genlock drops a frame,
            // and later repeats one: its slips alternate, the first either way.
            let mut frames = if rng.random_bool(0.5) { 1 } else { -1 };
            loop {
                let u: f64 = rng.random_range(f64::EPSILON..1.0);
                t += gap.max((-u.ln() * mean) as i64);
                frames = -frames;
                let from = rate
                    .frame_time(rate.index_at_or_after(camsync_engine::time::Time(t)))
                    .0;
                if from >= duration {
                    break;
                }
                out.push(SlipTruth {
                    camera: c,
                    from,
                    frames,
                });
            }
            out
        })
        .collect()
}

/// How far, in whole frames, camera slips have moved a camera's pictures
/// by its stamp `stamp`.
pub fn slipped_by(slips: &[SlipTruth], stamp: i64) -> i32 {
    slips
        .iter()
        .take_while(|s| s.from <= stamp)
        .map(|s| s.frames)
        .sum()
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SlipTally {
    pub made: u64,
    pub found: u64,
    /// Alerts that named no slip made.
    pub false_alarms: u64,
    /// Alerts that named a slip but later than three frame periods.
    pub late: u64,
}

/// Matches alerts to slips; `rate` is the reference's.
pub fn tally(truth: &[Vec<SlipTruth>], alerts: &[VisualAlert], rate: FrameRate) -> SlipTally {
    // Within n frame periods, exactly: (at − from)·num ≤ n·den·10⁹.
    let within = |at: i64, from: i64, n: i128| {
        (at - from) as i128 * rate.num() as i128 <= n * rate.den() as i128 * 1_000_000_000
    };
    let mut t = SlipTally {
        made: truth.iter().map(|s| s.len() as u64).sum(),
        ..SlipTally::default()
    };
    let mut used = vec![false; alerts.len()];
    for slip in truth.iter().flatten() {
        let named = |a: &VisualAlert| {
            matches!(a.kind, AlertKind::Slip { frames, .. } if frames == slip.frames)
                && a.camera == slip.camera
                && a.at.0 >= slip.from
        };
        if let Some(i) = (0..alerts.len())
            .find(|&i| !used[i] && named(&alerts[i]) && within(alerts[i].at.0, slip.from, 3))
        {
            used[i] = true;
            t.found += 1;
        } else if let Some(i) = (0..alerts.len())
            .find(|&i| !used[i] && named(&alerts[i]) && within(alerts[i].at.0, slip.from, 100))
        {
            used[i] = true;
            t.late += 1;
        }
    }
    t.false_alarms = used.iter().filter(|u| !**u).count() as u64;
    t
}
