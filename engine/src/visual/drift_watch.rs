//! A steered camera's offset over the long run: the trend of its estimates
//! since its last correction, fitted robustly, and how sure the fit is.
//!
//! One estimate errs by a few hundred microseconds and now and then by
//! milliseconds (a wrong correlation peak); acting on each would keep the
//! camera's clock moving. Over tens of seconds the estimates pin its offset
//! and its drift far better: the scheduled resync acts on this trend.
//!
//! The line is Theil–Sen's (the median of the pairwise slopes, then the
//! median intercept): up to about three in ten wild estimates do not move
//! it, where least squares would follow them. Its uncertainty counts the
//! estimates as independent only `independent_every` apart, since the
//! estimator's windows overlap.

use crate::time::{Nanos, Time};

/// Samples kept at most (a few minutes of one-second estimates).
const KEEP: usize = 400;

#[derive(Clone, Debug, Default)]
pub struct DriftWatch {
    /// (reference time, offset ns), oldest first.
    samples: Vec<(i64, f64)>,
}

/// The fitted trend at the latest sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    /// The offset the line gives at the latest sample (ns).
    pub offset_ns: f64,
    /// Its slope: ns per ms, i.e. ppm.
    pub drift_ppm: f64,
    /// The standard uncertainty of `offset_ns` (ns).
    pub sigma_ns: f64,
}

impl DriftWatch {
    pub fn push(&mut self, at: Time, offset_ns: f64) {
        if self.samples.len() == KEEP {
            self.samples.remove(0);
        }
        self.samples.push((at.0, offset_ns));
    }

    pub fn clear(&mut self) {
        self.samples.clear();
    }

    /// The robust line through the samples, once there are at least four.
    pub fn trend(&self, independent_every: Nanos) -> Option<Trend> {
        let n = self.samples.len();
        if n < 4 {
            return None;
        }
        let (t0, _) = self.samples[0];
        let (latest, _) = self.samples[n - 1];
        // Times relative to the first sample, in ms: slopes come out in ppm.
        let points: Vec<(f64, f64)> = self
            .samples
            .iter()
            .map(|&(t, o)| ((t - t0) as f64 / 1e6, o))
            .collect();
        let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
        for (i, a) in points.iter().enumerate() {
            for b in &points[i + 1..] {
                if b.0 > a.0 {
                    slopes.push((b.1 - a.1) / (b.0 - a.0));
                }
            }
        }
        let slope = median(&mut slopes)?;
        let mut intercepts: Vec<f64> = points.iter().map(|p| p.1 - slope * p.0).collect();
        let intercept = median(&mut intercepts)?;
        let mut deviations: Vec<f64> = points
            .iter()
            .map(|p| (p.1 - intercept - slope * p.0).abs())
            .collect();
        // The median absolute deviation, as a normal σ.
        let scatter = 1.4826 * median(&mut deviations)?;
        let span = latest - t0;
        let independent = (span as f64 / independent_every.0.max(1) as f64).max(1.0);
        let at_latest = (latest - t0) as f64 / 1e6;
        Some(Trend {
            offset_ns: intercept + slope * at_latest,
            drift_ppm: slope,
            // The line's end is known about as well as its middle, twice
            // less well than a mean: 2σ/√n.
            sigma_ns: 2.0 * scatter / independent.sqrt(),
        })
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    /// A camera 1.2 ms off, drifting 3 ppm, estimated every second with
    /// ±0.4 ms of error and one wild estimate in five: the line finds its
    /// offset within 0.1 ms and its drift within 1 ppm.
    #[test]
    fn the_trend_ignores_wild_estimates_and_pins_offset_and_drift() {
        let mut w = DriftWatch::default();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut noise = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 1_000_000) as f64 / 1e6 - 0.5
        };
        for k in 0..60 {
            let truth = 1.2e6 + 3.0 * (k * 1_000) as f64;
            let wild = k % 5 == 2;
            let offset = if wild {
                truth + 7e6 * noise().signum()
            } else {
                truth + 0.8e6 * noise()
            };
            w.push(Time(k * SECOND), offset);
        }
        let t = w.trend(Nanos(6 * SECOND)).unwrap();
        let truth_now = 1.2e6 + 3.0 * 59_000.0;
        assert!((t.offset_ns - truth_now).abs() < 0.1e6, "{t:?}");
        assert!((t.drift_ppm - 3.0).abs() < 1.0, "{t:?}");
        assert!(t.sigma_ns < 0.3e6, "{t:?}");
    }

    #[test]
    fn too_few_samples_give_no_trend() {
        let mut w = DriftWatch::default();
        for k in 0..3 {
            w.push(Time(k * SECOND), 1e6);
        }
        assert_eq!(w.trend(Nanos(SECOND)), None);
        w.push(Time(3 * SECOND), 1e6);
        let t = w.trend(Nanos(SECOND)).unwrap();
        assert_eq!((t.offset_ns, t.drift_ppm, t.sigma_ns), (1e6, 0.0, 0.0));
    }
}
