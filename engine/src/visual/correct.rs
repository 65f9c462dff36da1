//! The hybrid correction loop: cameras whose clocks PTP does not discipline
//! (free-running, or with a broken clock) are steered from the offsets the
//! pictures reveal, against the PTP-locked reference. A camera is stepped
//! only when its offset leaves a dead band wider than the estimate's own
//! uncertainty, and its rate is trimmed only when the fitted drift leaves
//! one of its own: inside the bands nothing is sent, so corrections do not
//! chatter around zero. A step waits for two estimates running that agree,
//! so that one wrong correlation peak moves no camera; a drift beyond what
//! any camera oscillator does is not believed. (The estimator's window
//! restarts after each command, a hold-off of one window.)

use super::estimator::OffsetEstimate;
use crate::coordination::Adjustment;
use crate::time::Nanos;

#[derive(Clone, Debug, PartialEq)]
pub struct CorrectorConfig {
    /// Step a camera when its offset exceeds this, and…
    pub step_band: Nanos,
    /// …this many of the estimate's standard uncertainties.
    pub step_sigmas: f64,
    /// Trim a camera's rate when its fitted drift exceeds this (ppm)…
    pub drift_band_ppm: f64,
    /// …and is below this.
    pub drift_max_ppm: f64,
    /// Two estimates agree within this (or 4 of their uncertainties).
    pub agree: Nanos,
}

impl Default for CorrectorConfig {
    fn default() -> Self {
        CorrectorConfig {
            step_band: Nanos::from_millis(2),
            step_sigmas: 4.0,
            drift_band_ppm: 0.5,
            drift_max_ppm: 200.0,
            agree: Nanos::from_millis(2),
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Steered {
    frequency_ppb: f64,
    sequence: u64,
    /// The previous estimate's offset and uncertainty, since the last
    /// command.
    previous: Option<(f64, f64)>,
}

pub struct HybridCorrector {
    config: CorrectorConfig,
    /// Per camera: `Some` for the cameras the pictures steer.
    cameras: Vec<Option<Steered>>,
    commands: u64,
}

impl HybridCorrector {
    /// `steered[c]`: camera c is disciplined by the pictures.
    pub fn new(config: CorrectorConfig, steered: &[bool]) -> Self {
        HybridCorrector {
            config,
            cameras: steered.iter().map(|&s| s.then(Steered::default)).collect(),
            commands: 0,
        }
    }

    /// Commands sent so far.
    pub fn commands(&self) -> u64 {
        self.commands
    }

    /// An estimate of a camera's offset: the command to send it, if any.
    /// The camera captured `offset` later than its stamps said: its clock
    /// is behind by that much and is stepped forward; a positive drift
    /// means it runs slow.
    pub fn on_estimate(&mut self, e: &OffsetEstimate) -> Option<Adjustment> {
        let config = &self.config;
        let steered = self.cameras.get_mut(e.camera)?.as_mut()?;
        let offset = e.offset_ns?;
        let band = (config.step_band.0 as f64).max(config.step_sigmas * e.uncertainty_ns);
        let agrees = steered.previous.is_some_and(|(o, sigma)| {
            let tolerance = (config.agree.0 as f64).max(4.0 * sigma.max(e.uncertainty_ns));
            (offset - o).abs() <= tolerance
        });
        steered.previous = Some((offset, e.uncertainty_ns));
        let step = if offset.abs() > band && agrees {
            Nanos(offset.round() as i64)
        } else {
            Nanos::ZERO
        };
        let frequency_ppb = match e.drift_ppm {
            Some(d) if d.abs() > config.drift_band_ppm && d.abs() < config.drift_max_ppm => {
                steered.frequency_ppb + d * 1000.0
            }
            _ => steered.frequency_ppb,
        };
        if step == Nanos::ZERO && frequency_ppb == steered.frequency_ppb {
            return None;
        }
        steered.previous = None;
        steered.sequence += 1;
        steered.frequency_ppb = frequency_ppb;
        self.commands += 1;
        Some(Adjustment {
            sequence: steered.sequence,
            step,
            frequency_ppb,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Time;

    fn estimate(camera: usize, offset_ms: f64, drift_ppm: Option<f64>) -> OffsetEstimate {
        OffsetEstimate {
            camera,
            at: Time(0),
            offset_ns: Some(offset_ms * 1e6),
            uncertainty_ns: 0.2e6,
            pairs: 8,
            flashes: 0,
            drift_ppm,
        }
    }

    #[test]
    fn steps_outside_the_band_and_trims_drift_but_leaves_small_offsets_alone() {
        let mut c = HybridCorrector::new(CorrectorConfig::default(), &[false, true]);
        // The PTP-locked reference is never steered.
        assert_eq!(c.on_estimate(&estimate(0, 9.0, None)), None);
        // One estimate moves nothing: a second that agrees does.
        assert_eq!(c.on_estimate(&estimate(1, 9.0, None)), None);
        let a = c.on_estimate(&estimate(1, 9.4, None)).unwrap();
        assert_eq!(
            (a.sequence, a.step, a.frequency_ppb),
            (1, Nanos(9_400_000), 0.0)
        );
        // A lone wild estimate, then a sane one: no step.
        assert_eq!(c.on_estimate(&estimate(1, -700.0, None)), None);
        assert_eq!(c.on_estimate(&estimate(1, 0.3, None)), None);
        // Inside the band: nothing, however often asked.
        for _ in 0..10 {
            assert_eq!(c.on_estimate(&estimate(1, 1.2, Some(0.3))), None);
        }
        // Drift beyond its band: the rate is trimmed, cumulatively.
        let a = c.on_estimate(&estimate(1, 0.5, Some(20.0))).unwrap();
        assert_eq!((a.step, a.frequency_ppb), (Nanos::ZERO, 20_000.0));
        let a = c.on_estimate(&estimate(1, 0.5, Some(-1.0))).unwrap();
        assert_eq!((a.sequence, a.frequency_ppb), (3, 19_000.0));
        assert_eq!(c.commands(), 3);
        // No camera oscillator drifts 500 ppm: not believed.
        assert_eq!(c.on_estimate(&estimate(1, 0.5, Some(500.0))), None);
        // An uncertain estimate widens the band.
        let mut vague = estimate(1, 3.0, None);
        vague.uncertainty_ns = 1e6;
        assert_eq!(c.on_estimate(&vague), None);
    }
}
