//! The PI servo, following linuxptp's documented behaviour (ptp4l(8), `pi.c`).
//!
//! Gains come from the sync interval s: kp = min(kp_scale * s^kp_exponent,
//! kp_norm_max / s), ki likewise. Start-up: the first sample is stored (s0); once
//! at least 0.016/ki seconds have passed, the frequency is estimated from two
//! samples and the clock may be stepped when |offset| exceeds the first-step
//! threshold (s1); from then on a PI loop runs (s2). Signs are internal to ptp4l's
//! convention (its output is negated before it reaches the clock); `ServoDecision`
//! carries the correction to apply.

use super::{Servo, ServoDecision, ServoState};
use crate::time::{Nanos, Time};

/// ptp4l's margin on the frequency-estimation interval.
const FREQ_EST_MARGIN: f64 = 0.001;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PiConfig {
    pub kp_scale: f64,
    pub kp_exponent: f64,
    pub kp_norm_max: f64,
    pub ki_scale: f64,
    pub ki_exponent: f64,
    pub ki_norm_max: f64,
    /// Step at start-up when |offset| exceeds this (ptp4l: 20 µs). Zero disables.
    pub first_step_threshold: Nanos,
    /// Step whenever |offset| exceeds this (ptp4l default 0: never).
    pub step_threshold: Nanos,
    pub max_frequency_ppb: f64,
}

impl PiConfig {
    /// ptp4l's defaults with hardware timestamping.
    pub fn hardware() -> Self {
        PiConfig {
            kp_scale: 0.7,
            kp_exponent: -0.3,
            kp_norm_max: 0.7,
            ki_scale: 0.3,
            ki_exponent: 0.4,
            ki_norm_max: 0.3,
            first_step_threshold: Nanos::from_micros(20),
            step_threshold: Nanos::ZERO,
            max_frequency_ppb: 9e8,
        }
    }

    /// ptp4l's defaults with software timestamping.
    pub fn software() -> Self {
        PiConfig {
            kp_scale: 0.1,
            ki_scale: 0.001,
            ..Self::hardware()
        }
    }

    /// (kp, ki) for a sync interval of `s` seconds.
    pub fn gains(&self, s: f64) -> (f64, f64) {
        let kp = (self.kp_scale * s.powf(self.kp_exponent)).min(self.kp_norm_max / s);
        let ki = (self.ki_scale * s.powf(self.ki_exponent)).min(self.ki_norm_max / s);
        (kp, ki)
    }
}

#[derive(Clone, Debug)]
pub struct PiServo {
    config: PiConfig,
    kp: f64,
    ki: f64,
    /// Accumulated frequency, in ptp4l's sign convention (ppb).
    drift: f64,
    count: u8,
    first: (f64, i64),
    first_update: bool,
}

impl PiServo {
    pub fn new(config: PiConfig, sync_interval: Nanos) -> Self {
        let mut s = PiServo {
            config,
            kp: 0.0,
            ki: 0.0,
            drift: 0.0,
            count: 0,
            first: (0.0, 0),
            first_update: true,
        };
        s.set_sync_interval(sync_interval);
        s
    }

    pub fn gains(&self) -> (f64, f64) {
        (self.kp, self.ki)
    }

    fn clamp(&self, ppb: f64) -> f64 {
        ppb.clamp(
            -self.config.max_frequency_ppb,
            self.config.max_frequency_ppb,
        )
    }

    fn exceeds(threshold: Nanos, offset: f64) -> bool {
        threshold.0 > 0 && offset.abs() > threshold.0 as f64
    }
}

impl Servo for PiServo {
    fn sample(&mut self, offset: Nanos, local: Time, weight: f64) -> ServoDecision {
        let offset = offset.0 as f64;
        let local = local.0;
        let mut ppb = self.drift;
        let mut state = ServoState::Unlocked;
        match self.count {
            0 => {
                self.first = (offset, local);
                self.count = 1;
            }
            1 => {
                let (off0, local0) = self.first;
                if local0 >= local {
                    self.count = 0;
                } else {
                    let span = (local - local0) as f64;
                    let elapsed_s = span / 1e9 * (1.0 + FREQ_EST_MARGIN);
                    let needed_s = (0.016 / self.ki).min(1000.0);
                    if elapsed_s >= needed_s {
                        self.drift += (1e9 - self.drift) * (offset - off0) / span;
                        self.drift = self.clamp(self.drift);
                        let jump = (self.first_update
                            && Self::exceeds(self.config.first_step_threshold, offset))
                            || Self::exceeds(self.config.step_threshold, offset);
                        state = if jump {
                            ServoState::Jump
                        } else {
                            ServoState::Locked
                        };
                        ppb = self.drift;
                        self.count = 2;
                    }
                }
            }
            _ => {
                if Self::exceeds(self.config.step_threshold, offset) {
                    // Start over; the step happens in s1 after a fresh estimate.
                    self.count = 0;
                } else {
                    let ki_term = self.ki * offset * weight;
                    let raw = self.kp * offset * weight + self.drift + ki_term;
                    ppb = self.clamp(raw);
                    if ppb == raw {
                        self.drift += ki_term;
                    }
                    state = ServoState::Locked;
                }
            }
        }
        if state != ServoState::Unlocked {
            self.first_update = false;
        }
        ServoDecision {
            state,
            frequency_ppb: -ppb,
            step: (state == ServoState::Jump).then_some(Nanos(-(offset.round() as i64))),
        }
    }

    fn set_sync_interval(&mut self, interval: Nanos) {
        let s = interval.as_secs_f64().max(1e-9);
        (self.kp, self.ki) = self.config.gains(s);
    }

    fn reset(&mut self, frequency_ppb: f64) {
        self.drift = -frequency_ppb;
        self.count = 0;
        self.first_update = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gains_match_ptp4l_worked_examples() {
        let (kp, ki) = PiConfig::hardware().gains(1.0);
        assert!((kp - 0.7).abs() < 1e-12 && (ki - 0.3).abs() < 1e-12);
        let (kp, ki) = PiConfig::hardware().gains(0.125);
        assert!((kp - 1.3064).abs() < 1e-3, "kp {kp}");
        assert!((ki - 0.1306).abs() < 1e-3, "ki {ki}");
        let (kp, ki) = PiConfig::software().gains(1.0);
        assert!((kp - 0.1).abs() < 1e-12 && (ki - 0.001).abs() < 1e-12);
    }

    #[test]
    fn start_up_waits_for_the_estimation_interval_then_steps() {
        // Hardware, 8 Hz: ki ≈ 0.1306, so the estimate needs ≈ 0.1225 s.
        let mut s = PiServo::new(PiConfig::hardware(), Nanos::from_millis(125));
        let d = s.sample(Nanos(50_000), Time(0), 1.0);
        assert_eq!(d.state, ServoState::Unlocked);
        let d = s.sample(Nanos(50_010), Time(100_000_000), 1.0);
        assert_eq!(d.state, ServoState::Unlocked, "100 ms is too soon");
        // 10 ns gained over 125 ms: the slave runs 80 ppb fast.
        let d = s.sample(Nanos(50_010), Time(125_000_000), 1.0);
        assert_eq!(d.state, ServoState::Jump);
        assert!((d.frequency_ppb + 80.0).abs() < 0.01, "{}", d.frequency_ppb);
        assert_eq!(d.step, Some(Nanos(-50_010)));
        // After the first update, large offsets no longer step (step_threshold 0).
        let d = s.sample(Nanos(30_000), Time(250_000_000), 1.0);
        assert_eq!(d.state, ServoState::Locked);
        assert_eq!(d.step, None);
    }

    #[test]
    fn small_offset_at_start_locks_without_step() {
        let mut s = PiServo::new(PiConfig::hardware(), Nanos::from_millis(125));
        s.sample(Nanos(100), Time(0), 1.0);
        let d = s.sample(Nanos(100), Time(125_000_000), 1.0);
        assert_eq!(d.state, ServoState::Locked);
        assert_eq!(d.step, None);
    }

    #[test]
    fn pi_loop_converges_on_a_simulated_frequency_error() {
        // A clock 10 ppm fast, sampled at 8 Hz with perfect measurements.
        let mut s = PiServo::new(PiConfig::hardware(), Nanos::from_millis(125));
        let true_ppb = 10_000.0;
        let mut offset = 0.0f64;
        let mut applied = 0.0;
        for k in 0..400 {
            let d = s.sample(Nanos(offset.round() as i64), Time(k * 125_000_000), 1.0);
            if let Some(step) = d.step {
                offset += step.0 as f64;
            }
            if d.state != ServoState::Unlocked {
                applied = d.frequency_ppb;
            }
            offset += (true_ppb + applied) * 0.125;
        }
        assert!(offset.abs() < 1.0, "offset {offset}");
        assert!((applied + true_ppb).abs() < 0.1, "freq {applied}");
    }
}
