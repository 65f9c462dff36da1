//! camsync's adaptive buffer. What matters is when a whole set is complete —
//! its last camera's arrival — so the buffer learns that joint delay, per set,
//! including the sets that completed only after their release (the late
//! frame tells how long they would have needed).
//!
//! - A forgetting histogram of set completion delays (about a minute of
//!   memory) gives a high quantile; the release delay is that plus a guard.
//! - Two sets late in quick succession mean the delays have moved (a jitter
//!   step, a congestion burst): the delay rises at once to half as much again
//!   as they needed, room for the new regime's tail while it is learned. A
//!   single late set is the tail doing what tails do, and only enters the
//!   histogram.
//! - When half of the last second's sets exceed the histogram's 0.99
//!   quantile, the delays have stepped up; when nine in ten of the last five
//!   seconds' sets sit below its median, they have stepped down. Either way
//!   the histogram restarts from those recent sets, so the quantile reflects
//!   the new regime at once instead of after minutes of forgetting.
//! - The delay comes down at most one frame period per second, and only while
//!   the quantile stays below it, so it never oscillates; the operator's
//!   maximum bounds it. It starts at the maximum and comes down the same
//!   way, so the first seconds are safe while the delays are learned.

use super::ReleaseDelay;
use crate::frame::CameraId;
use crate::time::{Nanos, Time};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptiveConfig {
    /// Never release later than this after the reference instant.
    pub max_latency: Nanos,
    /// Added above the quantile, for the frame that is slightly slower still.
    pub guard: Nanos,
    /// How fast the delay may come down: this much per second (a frame period).
    pub descent_per_second: Nanos,
    /// Histogram resolution.
    pub bucket: Nanos,
    /// The share of sets the delay is chosen to complete.
    pub quantile: f64,
    /// Sets of memory of the histogram (its forgetting: 1 − 1/memory per set).
    pub memory: u32,
}

impl AdaptiveConfig {
    pub fn for_frame_period(period: Nanos, max_latency: Nanos) -> Self {
        let per_second = (1_000_000_000 / period.0.max(1)).max(1) as u32;
        AdaptiveConfig {
            max_latency,
            guard: Nanos::from_millis(1),
            // A twentieth below a frame period per second, so that no one
            // second of releases ever falls by more than a period.
            descent_per_second: Nanos(period.0 - period.0 / 20),
            bucket: Nanos::from_micros(250),
            quantile: 0.9995,
            memory: 300 * per_second,
        }
    }
}

/// How many tail sets the prior on the tail's mean excess is worth.
const PRIOR_SETS: f64 = 14.0;
/// Sets above the 0.99 quantile before the histogram alone may raise the
/// delay (5,000 sets in all, 100 s at 50 fps).
const TRUSTED_TAIL: f64 = 50.0;
/// Two late sets this close (in sets) are a shift, not a tail.
const LATE_PAIR_SPAN: u64 = 50;
/// Recent completion delays kept for step detection: five seconds' worth at
/// 50 fps for a step down, one for a step up.
const RECENT: usize = 250;
const RECENT_UP: usize = 50;
/// A step down: at least this share of the recent sets below the median.
const STEP_DOWN_SHARE: f64 = 0.9;

/// A histogram whose older entries weigh less: each new entry weighs
/// 1/forget times the one before, rescaled now and then.
#[derive(Clone, Debug)]
struct ForgettingHistogram {
    weights: Vec<f64>,
    total: f64,
    next_weight: f64,
    forget: f64,
}

impl ForgettingHistogram {
    fn new(buckets: usize, memory: u32) -> Self {
        ForgettingHistogram {
            weights: vec![0.0; buckets],
            total: 0.0,
            next_weight: 1.0,
            forget: 1.0 - 1.0 / memory.max(2) as f64,
        }
    }

    fn clear(&mut self) {
        self.weights.iter_mut().for_each(|w| *w = 0.0);
        self.total = 0.0;
        self.next_weight = 1.0;
    }

    /// Moves every weight from bucket i to floor + (i − floor)·scale.
    fn rescale(&mut self, floor: f64, scale: f64) {
        let last = self.weights.len() - 1;
        let mut moved = vec![0.0; self.weights.len()];
        for (i, &w) in self.weights.iter().enumerate() {
            if w > 0.0 {
                let x = floor + (i as f64 + 0.5 - floor) * scale;
                moved[(x.max(0.0) as usize).min(last)] += w;
            }
        }
        self.weights = moved;
    }

    fn add(&mut self, bucket: usize) {
        let i = bucket.min(self.weights.len() - 1);
        self.weights[i] += self.next_weight;
        self.total += self.next_weight;
        self.next_weight /= self.forget;
        if self.next_weight > 1e200 {
            let scale = 1.0 / self.next_weight;
            self.weights.iter_mut().for_each(|w| *w *= scale);
            self.total *= scale;
            self.next_weight = 1.0;
        }
    }

    /// The high quantile `q` by peaks over a threshold: above the 0.99
    /// quantile (which a few hundred sets pin down) the tail is taken as
    /// exponential with the observed mean excess, so that one extreme set
    /// moves the estimate by its share of the tail instead of becoming it.
    /// In buckets, with the number of tail sets it stands on.
    fn tail_quantile(&self, q: f64) -> Option<(f64, f64)> {
        const THRESHOLD: f64 = 0.99;
        let u = self.quantile(THRESHOLD)?;
        let (mut mass, mut excess) = (0.0, 0.0);
        for (i, w) in self.weights.iter().enumerate().skip(u) {
            mass += w;
            // Bucket i spans [i, i + 1): its middle is i + 0.5 buckets.
            excess += w * (i as f64 + 0.5 - u as f64);
        }
        let newest = self.next_weight * self.forget;
        let tail_sets = (mass / newest).max(1.0);
        // Just after a restart the tail holds a set or two, whose mean excess
        // says little: it is blended with a prior — the exponential tail
        // through the median and the threshold — worth PRIOR_SETS tail sets.
        let observed = if mass > 0.0 { excess / mass } else { 0.0 };
        let median = self.quantile(0.5)? as f64 - 0.5;
        let prior = (u as f64 - median).max(0.0) / (0.5 / (1.0 - THRESHOLD)).ln();
        let mean_excess = (observed * tail_sets + prior * PRIOR_SETS) / (tail_sets + PRIOR_SETS);
        // An upper bound rather than the estimate: the mean excess of n tail
        // sets is uncertain by about 1/√n of itself, which is large just
        // after a restart and small once minutes of sets are in.
        let margin = 1.0 + 1.0 / tail_sets.sqrt();
        let ratio = ((1.0 - THRESHOLD) / (1.0 - q)).ln();
        Some((u as f64 + mean_excess * margin * ratio, tail_sets))
    }

    /// The upper edge of the bucket holding quantile `q`, in buckets.
    fn quantile(&self, q: f64) -> Option<usize> {
        if self.total <= 0.0 {
            return None;
        }
        // From the top: the tail is short.
        let above = (1.0 - q) * self.total;
        let mut cumulative = 0.0;
        for (i, w) in self.weights.iter().enumerate().rev() {
            cumulative += w;
            if cumulative > above {
                return Some(i + 1);
            }
        }
        Some(1)
    }
}

#[derive(Clone, Debug)]
pub struct AdaptiveBuffer {
    config: AdaptiveConfig,
    sets: ForgettingHistogram,
    recent: VecDeque<Nanos>,
    seen: u64,
    /// When (in sets seen) the last late set was learned, and what it needed.
    last_late: Option<(u64, Nanos)>,
    target: Nanos,
    last_descent: Option<Time>,
    /// Sets released in a row with a delivering camera's frame missing.
    short_releases: u32,
}

impl AdaptiveBuffer {
    pub fn new(config: AdaptiveConfig) -> Self {
        let buckets = (config.max_latency.0 / config.bucket.0.max(1)).max(1) as usize + 1;
        AdaptiveBuffer {
            sets: ForgettingHistogram::new(buckets, config.memory),
            recent: VecDeque::with_capacity(RECENT),
            seen: 0,
            last_late: None,
            // Start at the maximum and come down as the delays are learned.
            target: config.max_latency,
            last_descent: None,
            short_releases: 0,
            config,
        }
    }

    fn bucket_of(&self, delay: Nanos) -> usize {
        (delay.0.max(0) / self.config.bucket.0.max(1)) as usize
    }

    /// The delay the histogram asks for, and whether its tail holds enough
    /// sets to raise the delay on its own.
    fn wanted(&self) -> Option<(Nanos, bool)> {
        let (b, tail_sets) = self.sets.tail_quantile(self.config.quantile)?;
        let delay = Nanos((b * self.config.bucket.0 as f64).round() as i64) + self.config.guard;
        Some((
            delay.min(self.config.max_latency),
            tail_sets >= TRUSTED_TAIL,
        ))
    }

    fn rise_to(&mut self, delay: Nanos, now: Time) {
        let delay = delay.min(self.config.max_latency);
        if delay > self.target {
            self.target = delay;
            self.last_descent = Some(now);
        }
    }

    /// Restarts the histogram from the last `sets` completion delays.
    fn restart_from_recent(&mut self, sets: usize) {
        self.sets.clear();
        for i in self.recent.len().saturating_sub(sets)..self.recent.len() {
            let b = self.bucket_of(self.recent[i]);
            self.sets.add(b);
        }
    }

    /// The median of the last `sets` completion delays, in buckets.
    fn recent_median(&self, sets: usize) -> f64 {
        let mut last: Vec<i64> = self.recent.iter().rev().take(sets).map(|d| d.0).collect();
        last.sort_unstable();
        last.get(last.len() / 2)
            .map_or(0.0, |&d| d as f64 / self.config.bucket.0.max(1) as f64)
    }

    /// The delays stepped up: stretch the histogram about its floor so that its
    /// median lands on the recent sets' median. A change of load scales the
    /// queueing above a fixed floor, so the learned shape — above all its
    /// tail, which takes minutes to learn — carries over to the new regime
    /// at once; what is not a scaling is caught by the late-pair rule and
    /// forgotten with time.
    fn rescale_to(&mut self, recent_median: f64) {
        let (Some(floor), Some(median)) = (self.sets.quantile(0.001), self.sets.quantile(0.5))
        else {
            return;
        };
        let floor = floor as f64 - 1.0;
        let median = median as f64 - 0.5;
        if median - floor <= 0.0 {
            return;
        }
        let scale = ((recent_median - floor) / (median - floor)).clamp(0.05, 20.0);
        self.sets.rescale(floor, scale);
    }

    /// A regime change in the recent sets (odds under steady delays: about
    /// 10^-40 for a step down, 10^-60 for a step up).
    fn detect_step(&mut self, now: Time) {
        if self.recent.len() >= RECENT_UP
            && let Some(high) = self.sets.quantile(0.99)
        {
            let above = self
                .recent
                .iter()
                .rev()
                .take(RECENT_UP)
                .filter(|&&d| self.bucket_of(d) >= high)
                .count();
            if 2 * above >= RECENT_UP {
                // The latest half are the new regime's; up at once to what
                // the stretched histogram asks for.
                let m = self.recent_median(RECENT_UP / 2);
                self.rescale_to(m);
                if let Some((wanted, _)) = self.wanted() {
                    self.rise_to(wanted, now);
                }
                return;
            }
        }
        if self.recent.len() < RECENT || !self.seen.is_multiple_of(RECENT as u64 / 5) {
            return;
        }
        let Some(median) = self.sets.quantile(0.5) else {
            return;
        };
        let below = self
            .recent
            .iter()
            .filter(|&&d| self.bucket_of(d) + 1 < median)
            .count();
        if below as f64 >= STEP_DOWN_SHARE * RECENT as f64 {
            // Down, there is time: the delay descends slowly, and the new
            // regime's own sets make the histogram anew while it does. Nine
            // in ten below the median leaves at most the oldest fifth of the
            // recent sets from before the step: the newest four fifths are
            // the new regime's, tail included.
            self.restart_from_recent(RECENT * 4 / 5);
        }
    }

    /// Moves the delay toward what the sets need: up at once, down no faster
    /// than allowed.
    fn follow(&mut self, now: Time) {
        let Some((wanted, trusted)) = self.wanted() else {
            return;
        };
        if wanted >= self.target {
            // The estimate wobbles as sets come in: only a clear rise (a
            // quarter) from a histogram with a tail to stand on moves the
            // delay up; late sets are guarded against by the late-pair rule,
            // so the release schedule does not bounce after a restart.
            if trusted && wanted > self.target + Nanos(self.target.0 / 4) {
                self.rise_to(wanted, now);
            }
            self.last_descent = Some(now);
            return;
        }
        let since = now - *self.last_descent.get_or_insert(now);
        let step = Nanos(
            (self.config.descent_per_second.0 as i128 * since.0.max(0) as i128 / 1_000_000_000)
                as i64,
        );
        if step > Nanos::ZERO {
            self.target = (self.target - step).max(wanted);
            self.last_descent = Some(now);
        }
    }
}

impl ReleaseDelay for AdaptiveBuffer {
    fn observe(&mut self, _camera: CameraId, _delay: Nanos, _now: Time) {}

    fn observe_set(&mut self, completion: Nanos, now: Time) {
        self.seen += 1;
        if completion > self.target {
            // Late: a second one soon after is a shift.
            let needed = completion + self.config.guard;
            if let Some((at, before)) = self.last_late
                && self.seen - at <= LATE_PAIR_SPAN
            {
                let worst = needed.max(before);
                self.rise_to(worst * 2, now);
            }
            self.last_late = Some((self.seen, needed));
        }
        let b = self.bucket_of(completion);
        self.sets.add(b);
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(completion);
        self.detect_step(now);
        self.follow(now);
    }

    fn observe_release(&mut self, on_time: bool, now: Time) {
        // Two sets in a row released without a frame they awaited: the
        // delays have jumped, and waiting for the late frames to say by how
        // much costs more sets. Up by half at once; the late frames refine it.
        if on_time {
            self.short_releases = 0;
            return;
        }
        self.short_releases += 1;
        if self.short_releases == 2 {
            let up = self.target + Nanos(self.target.0 / 2);
            self.rise_to(up, now);
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

    fn feed(b: &mut AdaptiveBuffer, now: &mut Time, sets: usize, delay: impl Fn(usize) -> i64) {
        for i in 0..sets {
            *now += Nanos::from_millis(20);
            b.observe_set(Nanos(delay(i)), *now);
        }
    }

    #[test]
    fn it_settles_just_above_the_delays_and_comes_down_slowly() {
        let mut b = buffer();
        let mut now = Time(0);
        let mut previous = b.target();
        // 60 s of sets completing 8-12 ms after their instant.
        for i in 0..3_000 {
            feed(&mut b, &mut now, 1, |_| 8_000_000 + (i * 7 % 5) * 1_000_000);
            let t = b.target();
            if i > 50 {
                assert!(previous - t <= Nanos::from_micros(400), "at most 20 ms/s");
            }
            previous = t;
        }
        let settled = b.target();
        assert!(
            settled >= Nanos::from_millis(12) && settled <= Nanos::from_millis(17),
            "{settled}"
        );
    }

    #[test]
    fn one_late_set_is_a_tail_two_are_a_shift_and_a_step_down_is_followed_monotonically() {
        let mut b = buffer();
        let mut now = Time(0);
        let steady = |base: i64| move |i: usize| base + (i as i64 % 3) * 1_000_000;
        feed(&mut b, &mut now, 10_000, steady(30_000_000));
        let settled = b.target();
        // An exponential tail on a bounded spread is conservative.
        assert!(settled <= Nanos::from_millis(35), "{settled}");
        feed(&mut b, &mut now, 1, |_| 80_000_000);
        assert_eq!(b.target(), settled, "a tail");
        feed(&mut b, &mut now, 1, |_| 60_000_000);
        assert_eq!(
            b.target(),
            Nanos::from_millis(162),
            "a shift: twice what it needed"
        );
        feed(&mut b, &mut now, 300, steady(30_000_000));
        // The delays step down to 10-12 ms: the delay follows, never rising,
        // never faster than a frame period (20 ms) per second.
        let mut previous = b.target();
        for i in 0..3_000 {
            feed(&mut b, &mut now, 1, |_| steady(10_000_000)(i));
            let t = b.target();
            assert!(t <= previous, "{t} > {previous}");
            assert!(previous - t <= Nanos::from_micros(400));
            previous = t;
        }
        assert!(b.target() <= Nanos::from_millis(16), "{}", b.target());
    }

    #[test]
    fn it_never_exceeds_the_maximum() {
        let mut b = buffer();
        let mut now = Time(0);
        feed(&mut b, &mut now, 200, |_| 3_000_000_000);
        assert_eq!(b.target(), Nanos::from_millis(500));
    }
}
