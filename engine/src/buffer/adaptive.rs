//! camsync's adaptive buffer. A forgetting histogram of how long after their
//! instant sets became complete (the joint delay: the last camera's) gives a
//! high quantile; the release delay is that plus a guard. A frame later than
//! the current delay raises it at once (a set must not go out without it
//! twice); the delay comes down only slowly — at most one frame period per
//! second — and only while the quantile stays below it, so it never
//! oscillates. It starts at the operator's maximum and, once a warm-up of sets
//! has been seen, drops straight to what they need. The maximum bounds it.

use super::ReleaseDelay;
use crate::frame::CameraId;
use crate::time::{Nanos, Time};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveConfig {
    /// Never release later than this after the reference instant.
    pub max_latency: Nanos,
    /// Added above the quantile, for the frame that is slightly slower still.
    pub guard: Nanos,
    /// How fast the delay may come down: this much per second (a frame period).
    pub descent_per_second: Nanos,
    /// Histogram resolution.
    pub bucket: Nanos,
}

impl AdaptiveConfig {
    pub fn for_frame_period(period: Nanos, max_latency: Nanos) -> Self {
        AdaptiveConfig {
            max_latency,
            guard: Nanos::from_millis(1),
            descent_per_second: period,
            bucket: Nanos::from_micros(250),
        }
    }
}

/// Forgetting per observation: an effective memory of about 2,000 sets.
const FORGET: f64 = 0.9995;
/// Sets seen before the first jump down from the maximum.
const WARM_UP: u32 = 200;
/// The share of frames the delay is chosen to cover.
const QUANTILE: f64 = 0.999;

#[derive(Clone, Debug)]
struct DelayHistogram {
    histogram: Vec<f64>,
    total: f64,
}

impl DelayHistogram {
    fn quantile(&self, q: f64, bucket: Nanos) -> Option<Nanos> {
        if self.total <= 0.0 {
            return None;
        }
        let mut cumulative = 0.0;
        for (i, p) in self.histogram.iter().enumerate() {
            cumulative += p;
            if cumulative >= q * self.total {
                return Some(Nanos((i as i64 + 1) * bucket.0));
            }
        }
        Some(Nanos(self.histogram.len() as i64 * bucket.0))
    }
}

#[derive(Clone, Debug)]
pub struct AdaptiveBuffer {
    config: AdaptiveConfig,
    /// Completion delays of sets (one histogram: the joint delay).
    sets: DelayHistogram,
    seen: u32,
    target: Nanos,
    last_descent: Option<Time>,
}

impl AdaptiveBuffer {
    pub fn new(config: AdaptiveConfig) -> Self {
        let buckets = (config.max_latency.0 / config.bucket.0.max(1)).max(1) as usize;
        AdaptiveBuffer {
            sets: DelayHistogram {
                histogram: vec![0.0; buckets],
                total: 0.0,
            },
            seen: 0,
            // Start at the maximum and come down as the delays are learned.
            target: config.max_latency,
            last_descent: None,
            config,
        }
    }

    fn wanted(&self) -> Option<Nanos> {
        self.sets
            .quantile(QUANTILE, self.config.bucket)
            .map(|q| (q + self.config.guard).min(self.config.max_latency))
    }

    /// Moves the delay down toward what the sets need, no faster than allowed.
    fn descend(&mut self, now: Time) {
        let Some(wanted) = self.wanted() else { return };
        if self.seen == WARM_UP {
            // The first estimate: leave the maximum at once.
            self.target = self.target.min(wanted);
            self.last_descent = Some(now);
            return;
        }
        let since = self.last_descent.map_or(Nanos::ZERO, |t| now - t);
        if wanted < self.target && since > Nanos::ZERO {
            let step = Nanos(
                (self.config.descent_per_second.0 as i128 * since.0 as i128 / 1_000_000_000) as i64,
            );
            if step > Nanos::ZERO {
                self.target = (self.target - step).max(wanted);
                self.last_descent = Some(now);
            }
        } else if self.last_descent.is_none() || wanted >= self.target {
            self.last_descent = Some(now);
        }
    }
}

impl ReleaseDelay for AdaptiveBuffer {
    fn observe(&mut self, _camera: CameraId, delay: Nanos, now: Time) {
        // A frame later than the delay: rise at once.
        let needed = (delay + self.config.guard).min(self.config.max_latency);
        if needed > self.target {
            self.target = needed;
            self.last_descent = Some(now);
        }
    }

    fn observe_set(&mut self, completion: Nanos, now: Time) {
        let c = &mut self.sets;
        let last = c.histogram.len() - 1;
        let index = ((completion.0.max(0) / self.config.bucket.0.max(1)) as usize).min(last);
        for p in &mut c.histogram {
            *p *= FORGET;
        }
        c.total = c.total * FORGET + 1.0;
        c.histogram[index] += 1.0;
        self.seen = self.seen.saturating_add(1);
        if self.seen >= WARM_UP {
            self.descend(now);
        }
    }

    fn target(&self) -> Nanos {
        self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer() -> AdaptiveBuffer {
        AdaptiveBuffer::new(AdaptiveConfig::for_frame_period(
            Nanos::from_millis(20),
            Nanos::from_millis(500),
        ))
    }

    #[test]
    fn it_comes_down_to_the_delays_slowly_and_rises_at_once() {
        let mut b = buffer();
        let mut now = Time(0);
        let frame = Nanos::from_millis(20);
        // 60 s of frames arriving 8-12 ms after capture.
        for i in 0..3_000 {
            now += frame;
            let d = Nanos::from_millis(8 + (i * 7 % 5));
            b.observe(CameraId((i % 2) as u16), d, now);
            b.observe_set(d, now);
        }
        let settled = b.target();
        assert!(settled <= Nanos::from_millis(14), "{settled}");
        // The descent never went faster than a frame period per second: from
        // 500 ms that takes 24 s; it got there within the minute.
        let mut c = buffer();
        let mut t = Time(0);
        let mut previous = c.target();
        for _ in 0..250 {
            t += Nanos::from_millis(20);
            c.observe(CameraId(0), Nanos::from_millis(10), t);
            let now_target = c.target();
            assert!(
                previous - now_target <= Nanos::from_millis(1),
                "at most 20 ms/s, per 20 ms frame"
            );
            previous = now_target;
        }
        // One late frame: up at once.
        b.observe(CameraId(1), Nanos::from_millis(80), now + frame);
        assert_eq!(b.target(), Nanos::from_millis(81));
    }

    #[test]
    fn it_never_exceeds_the_maximum() {
        let mut b = buffer();
        b.observe(CameraId(0), Nanos::from_secs(3), Time(0));
        assert_eq!(b.target(), Nanos::from_millis(500));
    }
}
