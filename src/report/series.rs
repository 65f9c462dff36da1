//! The time series `camsync run --json` writes under `series` (beside the
//! score's keys, which stay as they were): each clock's true offset from the
//! grandmaster and the hub's buffer, sampled, and the run's timeline
//! (frame-set bins, late frames, alerts, faults). Long runs keep every
//! `stride`-th sample so the file stays small; the report draws exactly
//! these numbers.

use camsync_sim::timeline::{BufferSeries, RunTimeline};
use camsync_sim::world::OffsetSeries;
use serde::{Deserialize, Serialize};

/// At most this many samples of each series are written.
pub const MAX_SAMPLES: usize = 2_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunSeries {
    /// Every `stride`-th sample of the run is kept.
    pub stride: usize,
    /// The disciplined clocks, in the order of `offsets_ns`.
    pub clocks: Vec<String>,
    pub times_ns: Vec<i64>,
    /// Per clock, its true offset from the grandmaster at each time.
    pub offsets_ns: Vec<Vec<i64>>,
    #[serde(flatten)]
    pub timeline: RunTimeline,
}

impl RunSeries {
    pub fn new(offsets: &OffsetSeries, mut timeline: RunTimeline) -> RunSeries {
        let stride = offsets.times_ns.len().div_ceil(MAX_SAMPLES).max(1);
        let keep = |v: &[i64]| v.iter().step_by(stride).copied().collect::<Vec<i64>>();
        let b = &timeline.buffer;
        timeline.buffer = BufferSeries {
            times_ns: keep(&b.times_ns),
            target_ns: keep(&b.target_ns),
            held_frames: b.held_frames.iter().step_by(stride).copied().collect(),
        };
        RunSeries {
            stride,
            clocks: offsets.clocks.clone(),
            times_ns: keep(&offsets.times_ns),
            offsets_ns: offsets.offsets_ns.iter().map(|o| keep(o)).collect(),
            timeline,
        }
    }
}
