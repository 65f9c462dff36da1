//! A simulated oscillator: maps true time (TAI, ns since the start of the run) to
//! the host's local clock reading.
//!
//! Frequency is piecewise constant over one-second segments: a fixed offset, a
//! random walk (wander), and a sinusoidal temperature term, evaluated at each
//! segment's start. Phase steps split segments. Readings are exact integers:
//! local = start_local + dt + round(dt * rate / 2^60), with the fractional
//! frequency error held in units of 2^-60 (8.7e-19).

use crate::rng::Stream;
use rand::distr::Distribution;
use statrs::distribution::Normal;
use std::collections::VecDeque;

const SEGMENT_NS: i64 = 1_000_000_000;
const FRAC_BITS: u32 = 60;
const ONE: i128 = 1 << FRAC_BITS;

#[derive(Clone, Debug, PartialEq)]
pub struct OscillatorParams {
    /// Local reading at true time 0.
    pub initial_local: i64,
    pub freq_offset_ppb: f64,
    pub wander_ppb_per_sqrt_s: f64,
    pub temperature_ppb: f64,
    pub temperature_period_ns: i64,
    /// (true time, phase jump), sorted by time.
    pub steps: Vec<(i64, i64)>,
    /// (true time, frequency change in ppb), sorted by time: temperature
    /// shocks and the like.
    pub frequency_steps: Vec<(i64, f64)>,
}

#[derive(Clone, Copy, Debug)]
struct Segment {
    start_true: i64,
    end_true: i64,
    start_local: i64,
    /// Fractional frequency error in units of 2^-60.
    rate: i64,
}

impl Segment {
    fn local_at(&self, t: i64) -> i64 {
        let dt = t - self.start_true;
        self.start_local + dt + ((dt as i128 * self.rate as i128 + (ONE >> 1)) >> FRAC_BITS) as i64
    }
    fn local_end(&self) -> i64 {
        self.local_at(self.end_true)
    }
}

pub struct Oscillator {
    params: OscillatorParams,
    rng: Stream,
    wander_step: Option<Normal>,
    wander_ppb: f64,
    next_step: usize,
    next_frequency_step: usize,
    /// The sum of the frequency steps applied so far (ppb).
    stepped_ppb: f64,
    /// Segments from the current time onward; older ones are dropped.
    segments: VecDeque<Segment>,
}

impl Oscillator {
    pub fn new(params: OscillatorParams, rng: Stream) -> Self {
        let sd = params.wander_ppb_per_sqrt_s * (SEGMENT_NS as f64 / 1e9).sqrt();
        let wander_step = (sd > 0.0).then(|| Normal::new(0.0, sd).expect("sd > 0"));
        let mut o = Oscillator {
            params,
            rng,
            wander_step,
            wander_ppb: 0.0,
            next_step: 0,
            next_frequency_step: 0,
            stepped_ppb: 0.0,
            segments: VecDeque::new(),
        };
        let first = o.make_segment(0, o.params.initial_local);
        o.segments.push_back(first);
        o
    }

    pub fn params(&self) -> &OscillatorParams {
        &self.params
    }

    fn make_segment(&mut self, start_true: i64, mut start_local: i64) -> Segment {
        let mut end_true = start_true + SEGMENT_NS;
        // Apply any phase step at this boundary, and end the segment at the next.
        while let Some(&(at, by)) = self.params.steps.get(self.next_step) {
            if at <= start_true {
                start_local += by;
                self.next_step += 1;
            } else {
                end_true = end_true.min(at);
                break;
            }
        }
        while let Some(&(at, ppb)) = self.params.frequency_steps.get(self.next_frequency_step) {
            if at <= start_true {
                self.stepped_ppb += ppb;
                self.next_frequency_step += 1;
            } else {
                end_true = end_true.min(at);
                break;
            }
        }
        let temperature = if self.params.temperature_ppb > 0.0 {
            let phase = start_true as f64 / self.params.temperature_period_ns.max(1) as f64;
            self.params.temperature_ppb * (std::f64::consts::TAU * phase).sin()
        } else {
            0.0
        };
        let ppb = self.params.freq_offset_ppb + self.wander_ppb + temperature + self.stepped_ppb;
        if let Some(step) = &self.wander_step {
            self.wander_ppb += step.sample(&mut self.rng);
        }
        Segment {
            start_true,
            end_true,
            start_local,
            rate: (ppb * 1e-9 * ONE as f64).round() as i64,
        }
    }

    fn extend(&mut self) {
        let last = *self.segments.back().expect("never empty");
        let next = self.make_segment(last.end_true, last.local_end());
        self.segments.push_back(next);
    }

    /// Drops segments wholly before `t`: no reading before `t` is asked for again.
    pub fn forget_before(&mut self, t: i64) {
        while self.segments.len() > 1 && self.segments[0].end_true <= t {
            self.segments.pop_front();
        }
    }

    /// The local reading at true time `t` (not before the last `forget_before`).
    pub fn local_at(&mut self, t: i64) -> i64 {
        debug_assert!(t >= self.segments[0].start_true, "asked for forgotten time");
        let mut i = 0;
        loop {
            if i == self.segments.len() {
                self.extend();
            }
            let s = self.segments[i];
            if t < s.end_true {
                return s.local_at(t);
            }
            i += 1;
        }
    }

    /// The earliest true time at or after `from` at which the local reading has
    /// reached `target`. A backward phase step can make a reading recur; the
    /// first time from `from` on is meant.
    pub fn true_at_or_after(&mut self, target: i64, from: i64) -> i64 {
        let mut i = 0;
        loop {
            if i == self.segments.len() {
                self.extend();
            }
            let s = self.segments[i];
            i += 1;
            if s.end_true <= from {
                continue;
            }
            let lo = from.max(s.start_true);
            if s.local_at(lo) >= target {
                return lo;
            }
            if s.local_end() <= target {
                continue;
            }
            // Within this segment: invert to first order (want - want*rate; the
            // error is rate^2 * want, under a nanosecond), then settle the rounding.
            let want = target - s.start_local;
            let mut dt = want - ((want as i128 * s.rate as i128) >> FRAC_BITS) as i64;
            let reading = |dt: i64| s.local_at(s.start_true + dt);
            while reading(dt) < target {
                dt += 1;
            }
            while dt > 0 && reading(dt - 1) >= target {
                dt -= 1;
            }
            return (s.start_true + dt).max(lo);
        }
    }

    /// The frequency error (ppb) at true time `t`, for reports.
    pub fn frequency_ppb_at(&mut self, t: i64) -> f64 {
        self.local_at(t);
        let s = self
            .segments
            .iter()
            .find(|s| t < s.end_true)
            .expect("local_at extended past t");
        s.rate as f64 / ONE as f64 * 1e9
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Seeds;

    fn params(ppb: f64) -> OscillatorParams {
        OscillatorParams {
            initial_local: 1_000,
            freq_offset_ppb: ppb,
            wander_ppb_per_sqrt_s: 0.0,
            temperature_ppb: 0.0,
            temperature_period_ns: 1,
            steps: vec![],
            frequency_steps: vec![],
        }
    }

    #[test]
    fn a_fixed_offset_accumulates_exactly() {
        let mut o = Oscillator::new(params(10_000.0), Seeds::new(1).stream("t"));
        assert_eq!(o.local_at(0), 1_000);
        assert_eq!(
            o.local_at(3_600_000_000_000),
            1_000 + 3_600_000_000_000 + 36_000_000
        );
    }

    #[test]
    fn inverse_finds_the_first_instant() {
        let mut p = params(-25_000.0);
        p.wander_ppb_per_sqrt_s = 50.0;
        p.steps = vec![(2_500_000_000, 400), (4_000_000_000, -1_000_000)];
        let mut o = Oscillator::new(p, Seeds::new(3).stream("t"));
        for target in [
            1_000,
            5_000,
            999_999_999,
            2_499_999_000,
            3_000_000_000,
            3_999_000_000,
        ] {
            let t = o.true_at_or_after(target, 0);
            assert!(o.local_at(t) >= target);
            if t > 0 {
                assert!(o.local_at(t - 1) < target, "target {target} t {t}");
            }
        }
        // After the backward step, a reading recurs; from 4 s on it is found again.
        // The reading 3.999 s was passed before the -1 ms step at 4 s, and recurs
        // about 0.1 ms after it.
        let t = o.true_at_or_after(3_999_000_000, 4_000_000_000);
        assert!(t > 4_000_000_000);
        assert!(o.local_at(t) >= 3_999_000_000 && o.local_at(t - 1) < 3_999_000_000);
    }

    #[test]
    fn phase_steps_apply_at_their_time() {
        let mut p = params(0.0);
        p.steps = vec![(1_500_000_000, -300)];
        let mut o = Oscillator::new(p, Seeds::new(1).stream("t"));
        assert_eq!(o.local_at(1_499_999_999), 1_000 + 1_499_999_999);
        assert_eq!(o.local_at(1_500_000_000), 1_000 + 1_500_000_000 - 300);
    }

    #[test]
    fn frequency_steps_apply_at_their_time() {
        let mut p = params(0.0);
        p.frequency_steps = vec![(1_500_000_000, 1_000.0)];
        let mut o = Oscillator::new(p, Seeds::new(1).stream("t"));
        assert_eq!(o.local_at(1_500_000_000), 1_000 + 1_500_000_000);
        // 1 ppm from 1.5 s on: 1 µs more per second.
        assert_eq!(o.local_at(2_500_000_000), 1_000 + 2_500_000_000 + 1_000);
        assert!((o.frequency_ppb_at(3_000_000_000) - 1_000.0).abs() < 1e-6);
    }

    #[test]
    fn wander_is_seeded() {
        let mut p = params(0.0);
        p.wander_ppb_per_sqrt_s = 10.0;
        let mut a = Oscillator::new(p.clone(), Seeds::new(5).stream("o"));
        let mut b = Oscillator::new(p.clone(), Seeds::new(5).stream("o"));
        let mut c = Oscillator::new(p, Seeds::new(6).stream("o"));
        let t = 100_000_000_000;
        assert_eq!(a.local_at(t), b.local_at(t));
        assert_ne!(a.local_at(t), c.local_at(t));
    }
}
