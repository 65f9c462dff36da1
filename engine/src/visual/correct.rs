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
//!
//! Inside the band, the camera's long-term drift is watched instead
//! ([`DriftWatch`]): every `resync_every` after its last command the
//! robust trend of its estimates since then is judged, and a resync is
//! scheduled — the trend's offset corrected — when
//! the offset is beyond `resync_band` and beyond three of its own
//! uncertainties. The trend of tens of estimates is known to a fraction of
//! what one estimate is, so these corrections are small and right, and
//! come on a schedule rather than whenever noise crosses a line.

use super::drift_watch::DriftWatch;
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
    /// How long after a camera's last command its trend is judged, and
    /// then again every time as long.
    pub resync_every: Nanos,
    /// A trend offset within this is left alone.
    pub resync_band: Nanos,
    /// Estimates closer than this share frames (the estimator's window):
    /// they count as one in the trend's uncertainty.
    pub independent_every: Nanos,
}

impl Default for CorrectorConfig {
    fn default() -> Self {
        CorrectorConfig {
            step_band: Nanos::from_millis(2),
            step_sigmas: 4.0,
            drift_band_ppm: 0.5,
            drift_max_ppm: 200.0,
            agree: Nanos::from_millis(2),
            resync_every: Nanos::from_secs(30),
            resync_band: Nanos::from_micros(250),
            independent_every: Nanos::from_secs(6),
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Steered {
    frequency_ppb: f64,
    sequence: u64,
    /// The previous estimate's offset and uncertainty, since the last
    /// command.
    previous: Option<(f64, f64)>,
    /// Its estimates since the last command.
    watch: DriftWatch,
    /// When its trend is next judged (reference time): `resync_every`
    /// after its first estimate since the last command.
    judge_at: Option<i64>,
}

impl Steered {
    /// After a command (or a restart) its estimates speak of another clock.
    fn forget_estimates(&mut self) {
        self.previous = None;
        self.watch.clear();
        self.judge_at = None;
    }
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

    /// The camera restarted: its clock runs at its own rate again, and
    /// nothing measured before says anything of it. Its commands go on
    /// numbering where they were.
    pub fn restarted(&mut self, camera: usize) {
        if let Some(Some(s)) = self.cameras.get_mut(camera) {
            s.frequency_ppb = 0.0;
            s.forget_estimates();
        }
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
        steered.watch.push(e.at, offset);
        let judge_at = *steered
            .judge_at
            .get_or_insert(e.at.0.saturating_add(config.resync_every.0));
        let mut step = if offset.abs() > band && agrees {
            Nanos(offset.round() as i64)
        } else {
            Nanos::ZERO
        };
        if step == Nanos::ZERO && e.at.0 >= judge_at {
            // The schedule: judge the trend since the last command.
            steered.judge_at = Some(e.at.0.saturating_add(config.resync_every.0));
            if let Some(trend) = steered.watch.trend(config.independent_every) {
                let band = (config.resync_band.0 as f64).max(3.0 * trend.sigma_ns);
                // (Its slope over half a minute is known to ppm at best:
                // the rate is the estimator's minutes-long fit's to trim.)
                if trend.offset_ns.abs() > band {
                    step = Nanos(trend.offset_ns.round() as i64);
                }
            }
        }
        let frequency_ppb = match e.drift_ppm {
            Some(d) if d.abs() > config.drift_band_ppm && d.abs() < config.drift_max_ppm => {
                steered.frequency_ppb + d * 1000.0
            }
            _ => steered.frequency_ppb,
        };
        if step == Nanos::ZERO && frequency_ppb == steered.frequency_ppb {
            return None;
        }
        steered.forget_estimates();
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

    /// Inside the step band the estimates' trend is judged on a schedule:
    /// a camera 0.8 ms off, estimated every second within ±0.25 ms, is
    /// corrected once, 30 s after its first estimate, by its trend's
    /// offset; one 0.1 ms off, within the resync band, never is.
    #[test]
    fn offsets_inside_the_band_are_resynced_from_their_trend_on_schedule() {
        let mut c = HybridCorrector::new(CorrectorConfig::default(), &[false, true, true]);
        let second = 1_000_000_000;
        let noise = |k: i64| ((k * 7_919) % 11 - 5) as f64 * 0.05;
        let at = |camera, k: i64, offset_ms: f64| OffsetEstimate {
            at: Time(k * second),
            ..estimate(camera, offset_ms, None)
        };
        let mut commands = Vec::new();
        let mut offset_ms = 0.8;
        for k in 0..75 {
            if let Some(a) = c.on_estimate(&at(1, k, offset_ms + noise(k))) {
                // Applied at once: the camera is that much nearer.
                offset_ms -= a.step.0 as f64 / 1e6;
                commands.push((k, a));
            }
            assert_eq!(c.on_estimate(&at(2, k, 0.1 + noise(k))), None, "{k}");
        }
        assert_eq!(commands.len(), 1, "{commands:?}");
        let (k, a) = commands[0];
        assert_eq!(k, 30);
        assert!((a.step.0 - 800_000).abs() < 150_000, "{a:?}");
        assert_eq!(a.frequency_ppb, 0.0);
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
