//! A NetEq-style delay estimator, as WebRTC's audio jitter buffer does it:
//! delays relative to the fastest recent frame go into a histogram whose
//! probabilities decay by a forget factor of 0.983 per observation; the target
//! is the 0.95 quantile above that floor.

use super::ReleaseDelay;
use crate::frame::CameraId;
use crate::time::{Nanos, Time};
use std::collections::VecDeque;

const BUCKETS: usize = 100;
const FORGET: f64 = 0.983;
const QUANTILE: f64 = 0.95;
/// Frames over which the fastest delay (the floor) is taken.
const FLOOR_WINDOW: usize = 512;

#[derive(Clone, Debug)]
pub struct NetEqBuffer {
    bucket: Nanos,
    histogram: [f64; BUCKETS],
    recent: VecDeque<i64>,
    floor: i64,
    target: Nanos,
}

impl NetEqBuffer {
    /// Buckets cover `max` (NetEq uses 100 × 20 ms for audio packets; video
    /// frames want finer buckets over the operator's maximum latency).
    pub fn new(max: Nanos) -> Self {
        NetEqBuffer {
            bucket: Nanos((max.0 / BUCKETS as i64).max(1)),
            histogram: [0.0; BUCKETS],
            recent: VecDeque::new(),
            floor: 0,
            target: max,
        }
    }
}

impl ReleaseDelay for NetEqBuffer {
    fn observe(&mut self, _camera: CameraId, delay: Nanos, _now: Time) {
        if self.recent.len() == FLOOR_WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(delay.0);
        self.floor = self.recent.iter().copied().min().unwrap_or(0);
        let relative = (delay.0 - self.floor).max(0);
        let index = ((relative / self.bucket.0) as usize).min(BUCKETS - 1);
        for p in &mut self.histogram {
            *p *= FORGET;
        }
        self.histogram[index] += 1.0 - FORGET;
        let total: f64 = self.histogram.iter().sum();
        let mut cumulative = 0.0;
        let mut quantile_bucket = BUCKETS - 1;
        for (i, p) in self.histogram.iter().enumerate() {
            cumulative += p;
            if cumulative >= QUANTILE * total {
                quantile_bucket = i;
                break;
            }
        }
        self.target = Nanos(self.floor + (quantile_bucket as i64 + 1) * self.bucket.0);
    }

    fn target(&self) -> Nanos {
        self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_follows_the_95th_percentile_above_the_floor() {
        let mut b = NetEqBuffer::new(Nanos::from_millis(100));
        for i in 0..2_000 {
            // 10 ms floor, and one frame in ten 20 ms later.
            let extra = if i % 10 == 0 { 20 } else { i % 5 };
            b.observe(CameraId(0), Nanos::from_millis(10 + extra), Time(0));
        }
        let t = b.target();
        assert!(
            t >= Nanos::from_millis(14) && t <= Nanos::from_millis(32),
            "{t}"
        );
    }
}
