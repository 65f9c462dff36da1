//! What happened when: the time series a run report draws (the hub's buffer,
//! frame-set completeness and latency, late frames, alerts, faults).
//!
//! Recorded only when asked for (`World::record_timeline`), and only ever
//! read from the world: recording draws nothing and touches no trace, so a
//! run with a timeline has the same score and trace hash as one without.
//! Per-set figures are folded into fixed bins so a day-long run stays small;
//! every time is integer nanoseconds since the start of the run.

use serde::{Deserialize, Serialize};

/// The longest a timeline's alert list grows; the rest are only counted.
const MAX_ALERTS: usize = 10_000;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunTimeline {
    /// The hub's buffer, sampled with the true offsets.
    pub buffer: BufferSeries,
    /// Frame sets and late frames, per bin of `bin_ns`.
    pub sets: SetBins,
    pub alerts: Vec<AlertMark>,
    /// Alerts past `MAX_ALERTS`, not listed.
    pub alerts_not_listed: u64,
    pub faults: Vec<FaultSpan>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BufferSeries {
    pub times_ns: Vec<i64>,
    /// The release delay the buffer policy asked for then.
    pub target_ns: Vec<i64>,
    /// Frames held in open sets then: the buffer's depth.
    pub held_frames: Vec<u64>,
}

/// Frame sets released in each bin `[start, start + bin)`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SetBins {
    pub bin_ns: i64,
    pub start_ns: Vec<i64>,
    pub sets: Vec<u64>,
    pub complete: Vec<u64>,
    /// Added latency (release − reference instant, true PTP time) of the
    /// bin's sets: the largest, and the sum (mean = sum / sets).
    pub latency_max_ns: Vec<i64>,
    pub latency_sum_ns: Vec<i64>,
    /// Frames the hub accounted as late in the bin.
    pub late_frames: Vec<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AlertMark {
    pub at_ns: i64,
    pub clock: String,
    pub kind: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultSpan {
    pub kind: String,
    pub start_ns: i64,
    pub end_ns: i64,
    pub target: Option<String>,
}

impl RunTimeline {
    /// Bins of a second, or wider so a run has at most 2,000 of them.
    pub fn new(duration_ns: i64) -> Self {
        let bin_ns = (duration_ns / 2_000).max(1_000_000_000);
        RunTimeline {
            sets: SetBins {
                bin_ns,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    pub fn buffer_sample(&mut self, now: i64, target_ns: i64, held_frames: u64) {
        let b = &mut self.buffer;
        b.times_ns.push(now);
        b.target_ns.push(target_ns);
        b.held_frames.push(held_frames);
    }

    pub fn set_released(&mut self, now: i64, latency_ns: i64, complete: bool) {
        let i = self.bin(now);
        let s = &mut self.sets;
        s.sets[i] += 1;
        s.complete[i] += complete as u64;
        s.latency_max_ns[i] = s.latency_max_ns[i].max(latency_ns);
        s.latency_sum_ns[i] += latency_ns;
    }

    pub fn late_frame(&mut self, now: i64) {
        let i = self.bin(now);
        self.sets.late_frames[i] += 1;
    }

    pub fn alert(&mut self, now: i64, clock: &str, kind: &str) {
        if self.alerts.len() < MAX_ALERTS {
            self.alerts.push(AlertMark {
                at_ns: now,
                clock: clock.to_string(),
                kind: kind.to_string(),
            });
        } else {
            self.alerts_not_listed += 1;
        }
    }

    /// The bin holding `now`, with every bin before it (empty ones too).
    fn bin(&mut self, now: i64) -> usize {
        let s = &mut self.sets;
        let i = (now.max(0) / s.bin_ns) as usize;
        while s.start_ns.len() <= i {
            s.start_ns.push(s.start_ns.len() as i64 * s.bin_ns);
            s.sets.push(0);
            s.complete.push(0);
            s.latency_max_ns.push(i64::MIN);
            s.latency_sum_ns.push(0);
            s.late_frames.push(0);
        }
        i
    }

    /// Closes the record: empty bins carry no latency (0, not −∞).
    pub fn finish(mut self, duration_ns: i64, faults: Vec<FaultSpan>) -> Self {
        if duration_ns > 0 {
            self.bin(duration_ns - 1);
        }
        for (max, n) in self.sets.latency_max_ns.iter_mut().zip(&self.sets.sets) {
            if *n == 0 {
                *max = 0;
            }
        }
        self.faults = faults;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_fall_in_their_bins_and_empty_bins_are_zero() {
        let mut t = RunTimeline::new(3_000_000_000);
        t.set_released(100, 5, true);
        t.set_released(2_500_000_000, 7, false);
        t.set_released(2_600_000_000, 9, true);
        t.late_frame(2_700_000_000);
        let t = t.finish(3_000_000_000, Vec::new());
        let s = &t.sets;
        assert_eq!(s.start_ns, vec![0, 1_000_000_000, 2_000_000_000]);
        assert_eq!(s.sets, vec![1, 0, 2]);
        assert_eq!(s.complete, vec![1, 0, 1]);
        assert_eq!(s.latency_max_ns, vec![5, 0, 9]);
        assert_eq!(s.latency_sum_ns, vec![5, 0, 16]);
        assert_eq!(s.late_frames, vec![0, 0, 1]);
    }

    #[test]
    fn day_long_runs_get_wider_bins() {
        assert_eq!(
            RunTimeline::new(86_400_000_000_000).sets.bin_ns,
            43_200_000_000
        );
    }
}
