//! The linear-regression servo, following linuxptp's documented behaviour
//! (`linreg.c`, by Miroslav Lichvar): no tuning knobs.
//!
//! Points are (uncorrected local time, estimated master time). Regressions over
//! the newest 4, 8, 16, 32 and 64 points run on every sample; each size keeps an
//! exponential moving average (smoothing 0.02, the first 10 updates averaged
//! plainly) of how far its previous fit missed the newest point. The largest size
//! whose error is within 5 % of the best is used: its slope sets the frequency,
//! and its intercept is corrected over one update interval (up to 16 points) or
//! size/2 intervals (above).

use super::{Servo, ServoDecision, ServoState};
use crate::time::{Nanos, Time};

const MIN_SIZE: u32 = 2;
const MAX_SIZE: u32 = 6;
const MAX_POINTS: usize = 1 << MAX_SIZE;
const ERR_SMOOTH: f64 = 0.02;
const ERR_INITIAL_UPDATES: u32 = 10;
const ERR_EQUALS: f64 = 1.05;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinregConfig {
    pub first_step_threshold: Nanos,
    pub step_threshold: Nanos,
    pub max_frequency_ppb: f64,
}

impl Default for LinregConfig {
    fn default() -> Self {
        LinregConfig {
            first_step_threshold: Nanos::from_micros(20),
            step_threshold: Nanos::ZERO,
            max_frequency_ppb: 9e8,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Fit {
    slope: f64,
    intercept: f64,
    err: f64,
    err_updates: u32,
}

#[derive(Clone, Debug)]
pub struct LinregServo {
    config: LinregConfig,
    /// (uncorrected local, master) pairs, newest at `last`.
    points: [(i64, i64); MAX_POINTS],
    count: usize,
    last: usize,
    /// "Now" in both coordinates.
    reference: (i64, i64),
    x_remainder: f64,
    last_update: Option<i64>,
    fits: [Fit; (MAX_SIZE - MIN_SIZE + 1) as usize],
    /// The frequency correction set on the clock, in ppb.
    clock_freq: f64,
    update_interval: f64,
    first_update: bool,
}

impl LinregServo {
    pub fn new(config: LinregConfig, sync_interval: Nanos) -> Self {
        LinregServo {
            config,
            points: [(0, 0); MAX_POINTS],
            count: 0,
            last: 0,
            reference: (0, 0),
            x_remainder: 0.0,
            last_update: None,
            fits: Default::default(),
            clock_freq: 0.0,
            update_interval: sync_interval.as_secs_f64().max(1e-9),
            first_update: true,
        }
    }

    fn move_reference(&mut self, x: i64, y: i64) {
        self.reference.0 += x;
        self.reference.1 += y;
        for f in &mut self.fits {
            f.intercept += x as f64 * f.slope - y as f64;
        }
    }

    fn update_reference(&mut self, local: i64) {
        if let Some(last) = self.last_update {
            let y_interval = local - last;
            // Take the clock's own frequency correction out of the interval.
            let x = y_interval as f64 / (1.0 + self.clock_freq / 1e9) + self.x_remainder;
            self.x_remainder = x - x.trunc();
            self.move_reference(x.trunc() as i64, y_interval);
        }
        self.last_update = Some(local);
    }

    fn add_point(&mut self, offset: i64) {
        self.last = (self.last + 1) % MAX_POINTS;
        self.points[self.last] = (self.reference.0, self.reference.1 - offset);
        self.count = (self.count + 1).min(MAX_POINTS);
    }

    fn regress(&mut self) {
        let (mut xs, mut ys, mut xys, mut x2s) = (0.0, 0.0, 0.0, 0.0);
        let newest = (self.points[self.last].1 - self.reference.1) as f64;
        let mut used = 0usize;
        for size in MIN_SIZE..=MAX_SIZE {
            let n = 1usize << size;
            if n > self.count {
                break;
            }
            let fit = &mut self.fits[(size - MIN_SIZE) as usize];
            if fit.slope != 0.0 {
                let e = (fit.intercept - newest).abs();
                if fit.err_updates < ERR_INITIAL_UPDATES {
                    fit.err = (fit.err * fit.err_updates as f64 + e) / (fit.err_updates + 1) as f64;
                    fit.err_updates += 1;
                } else {
                    fit.err += ERR_SMOOTH * (e - fit.err);
                }
            }
            while used < n {
                let p = self.points[(MAX_POINTS + self.last - used) % MAX_POINTS];
                let x = (p.0 - self.reference.0) as f64;
                let y = (p.1 - self.reference.1) as f64;
                xs += x;
                ys += y;
                xys += x * y;
                x2s += x * x;
                used += 1;
            }
            let nf = n as f64;
            fit.slope = (xys - xs * ys / nf) / (x2s - xs * xs / nf);
            fit.intercept = (ys - fit.slope * xs) / nf;
        }
    }

    /// The largest size whose prediction error is within 5 % of the best.
    fn best_size(&self) -> Option<u32> {
        let mut best: Option<(u32, f64)> = None;
        for size in MIN_SIZE..=MAX_SIZE {
            let fit = &self.fits[(size - MIN_SIZE) as usize];
            let better = match best {
                None => fit.slope != 0.0,
                Some((_, err)) => {
                    err * ERR_EQUALS > fit.err && fit.err_updates >= ERR_INITIAL_UPDATES
                }
            };
            if better {
                best = Some((size, fit.err));
            }
        }
        best.map(|(s, _)| s)
    }
}

fn exceeds(threshold: Nanos, value: f64) -> bool {
    threshold.0 > 0 && value.abs() > threshold.0 as f64
}

impl Servo for LinregServo {
    fn sample(&mut self, offset: Nanos, local: Time, _weight: f64) -> ServoDecision {
        self.update_reference(local.0);
        self.add_point(offset.0);
        self.regress();
        let Some(size) = self.best_size() else {
            return ServoDecision {
                state: ServoState::Unlocked,
                frequency_ppb: self.clock_freq,
                step: None,
            };
        };
        let fit = self.fits[(size - MIN_SIZE) as usize];
        let jump = (self.first_update && exceeds(self.config.first_step_threshold, fit.intercept))
            || exceeds(self.config.step_threshold, fit.intercept);
        let state = if jump {
            // The clock is about to be stepped by -offset: move with it.
            self.move_reference(0, -offset.0);
            if let Some(l) = &mut self.last_update {
                *l -= offset.0;
            }
            ServoState::Jump
        } else {
            ServoState::Locked
        };
        self.first_update = false;
        self.clock_freq = 1e9 * (fit.slope - 1.0);
        let correction_intervals = if size <= 4 { 1.0 } else { size as f64 / 2.0 };
        self.clock_freq += fit.intercept / self.update_interval / correction_intervals;
        let max = self.config.max_frequency_ppb;
        self.clock_freq = self.clock_freq.clamp(-max, max);
        ServoDecision {
            state,
            frequency_ppb: self.clock_freq,
            step: jump.then_some(Nanos(-offset.0)),
        }
    }

    fn set_sync_interval(&mut self, interval: Nanos) {
        self.update_interval = interval.as_secs_f64().max(1e-9);
    }

    fn reset(&mut self, frequency_ppb: f64) {
        self.count = 0;
        self.last_update = None;
        self.fits = Default::default();
        self.clock_freq = frequency_ppb;
        self.first_update = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Closed loop against a clock with a fixed frequency error and noisy
    /// offset measurements.
    fn run(true_ppb: f64, noise: &[f64]) -> (f64, f64) {
        let mut s = LinregServo::new(LinregConfig::default(), Nanos::from_millis(125));
        let (mut offset, mut applied) = (0.0f64, 0.0);
        let mut worst_late = 0.0f64;
        for (k, n) in noise.iter().enumerate() {
            let local = Time(k as i64 * 125_000_000 + offset as i64);
            let d = s.sample(Nanos((offset + n).round() as i64), local, 1.0);
            if let Some(step) = d.step {
                offset += step.0 as f64;
            }
            applied = d.frequency_ppb;
            offset += (true_ppb + applied) * 0.125;
            if k > noise.len() / 2 {
                worst_late = worst_late.max(offset.abs());
            }
        }
        (worst_late, applied)
    }

    #[test]
    fn converges_on_a_frequency_error() {
        let (worst, freq) = run(25_000.0, &[0.0; 400]);
        assert!(worst < 2.0, "offset {worst}");
        assert!((freq + 25_000.0).abs() < 1.0, "freq {freq}");
    }

    #[test]
    fn corrects_an_offset_below_the_step_threshold() {
        // 10 µs off at start: not stepped (threshold 20 µs), slewed out.
        let mut s = LinregServo::new(LinregConfig::default(), Nanos::from_millis(125));
        let (mut offset, mut applied) = (10_000.0f64, 0.0);
        for k in 0..400 {
            let d = s.sample(Nanos(offset.round() as i64), Time(k * 125_000_000), 1.0);
            assert_eq!(d.step, None);
            applied = d.frequency_ppb;
            offset += (2_000.0 + applied) * 0.125;
        }
        assert!(offset.abs() < 5.0, "offset {offset}");
        assert!((applied + 2_000.0).abs() < 1.0, "freq {applied}");
    }

    #[test]
    fn averages_noise_with_long_windows() {
        // Alternating ±50 ns noise: a long window averages it away.
        let noise: Vec<f64> = (0..800)
            .map(|k| if k % 2 == 0 { 50.0 } else { -50.0 })
            .collect();
        let (worst, _) = run(1_000.0, &noise);
        assert!(worst < 20.0, "offset {worst}");
    }

    #[test]
    fn steps_at_start_when_far_off() {
        let mut s = LinregServo::new(LinregConfig::default(), Nanos::from_millis(125));
        let mut state = ServoState::Unlocked;
        let mut k = 0;
        while state == ServoState::Unlocked {
            state = s.sample(Nanos(1_000_000), Time(k * 125_000_000), 1.0).state;
            k += 1;
        }
        assert_eq!(state, ServoState::Jump);
        assert_eq!(k, 4, "a fit needs 4 points");
    }
}
