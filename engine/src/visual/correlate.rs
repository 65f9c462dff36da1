//! Cross-correlation of two sampled signals over a continuous lag: the
//! second signal is interpolated (Catmull-Rom) at the first one's instants plus
//! the lag, Pearson's correlation is taken at every lag of a grid, and the
//! peak is refined by a parabola through its neighbours.

use super::pearson::Pearson;

/// One signal: sample instants (ns, in order) and values.
#[derive(Clone, Copy, Debug)]
pub struct Signal<'a> {
    pub times: &'a [i64],
    pub values: &'a [f32],
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Peak {
    /// The lag τ (ns) at which b(t + τ) best matches a(t).
    pub lag: f64,
    /// Correlation at the peak, −1..1.
    pub correlation: f64,
}

impl Signal<'_> {
    /// Interpolation at `t`; `None` outside the samples.
    pub fn at(&self, t: f64, hint: &mut usize) -> Option<f64> {
        let n = self.times.len();
        if n < 2 || t < self.times[0] as f64 || t > self.times[n - 1] as f64 {
            return None;
        }
        while *hint + 2 < n && (self.times[*hint + 1] as f64) < t {
            *hint += 1;
        }
        while *hint > 0 && (self.times[*hint] as f64) > t {
            *hint -= 1;
        }
        let i = *hint;
        let (t0, t1) = (self.times[i] as f64, self.times[i + 1] as f64);
        let (v0, v1) = (self.values[i] as f64, self.values[i + 1] as f64);
        let f = if t1 > t0 { (t - t0) / (t1 - t0) } else { 0.0 };
        // Catmull-Rom through the neighbours: a straight line between
        // samples would pull the correlation peak toward whole samples.
        let before = if i > 0 {
            self.values[i - 1] as f64
        } else {
            2.0 * v0 - v1
        };
        let after = if i + 2 < n {
            self.values[i + 2] as f64
        } else {
            2.0 * v1 - v0
        };
        let (f2, f3) = (f * f, f * f * f);
        Some(
            0.5 * (2.0 * v0
                + (v1 - before) * f
                + (2.0 * before - 5.0 * v0 + 4.0 * v1 - after) * f2
                + (3.0 * v0 - before - 3.0 * v1 + after) * f3),
        )
    }
}

/// Pearson correlation of a(t) with b(t + lag) over a's samples where both
/// exist; `None` with fewer than `min_samples` or no variance.
pub fn correlation_at(a: Signal<'_>, b: Signal<'_>, lag: f64, min_samples: usize) -> Option<f64> {
    let mut p = Pearson::default();
    let mut hint = 0;
    for (&t, &va) in a.times.iter().zip(a.values) {
        if let Some(vb) = b.at(t as f64 + lag, &mut hint) {
            p.add(va as f64, vb);
        }
    }
    if p.count() < min_samples.max(3) {
        return None;
    }
    p.correlation()
}

/// The best lag in [−range, range] on a grid of `step`, refined to a
/// fraction of the step.
pub fn best_lag(
    a: Signal<'_>,
    b: Signal<'_>,
    range: f64,
    step: f64,
    min_samples: usize,
) -> Option<Peak> {
    best_lag_around(a, b, 0.0, range, step, min_samples)
}

/// Coarse to fine, for searches far wider than the fine step (recordings
/// started seconds apart): the best lag in [−range, range] on a grid of
/// `coarse` (a frame period: the signals' own sampling, so nothing falls
/// between grid points), then on the grid of `step` within one coarse step
/// of it, refined to a fraction of the step.
pub fn best_lag_coarse_to_fine(
    a: Signal<'_>,
    b: Signal<'_>,
    range: f64,
    coarse: f64,
    step: f64,
    min_samples: usize,
) -> Option<Peak> {
    let rough = best_lag_around(a, b, 0.0, range, coarse, min_samples)?;
    let centre = (rough.lag / step).round() * step;
    best_lag_around(a, b, centre, coarse, step, min_samples)
}

/// The best lag in [centre − range, centre + range] on a grid of `step`
/// (centred on `centre`), refined to a fraction of the step.
fn best_lag_around(
    a: Signal<'_>,
    b: Signal<'_>,
    centre: f64,
    range: f64,
    step: f64,
    min_samples: usize,
) -> Option<Peak> {
    let steps = (range / step).ceil() as i64;
    let curve: Vec<Option<f64>> = (-steps..=steps)
        .map(|k| correlation_at(a, b, centre + k as f64 * step, min_samples))
        .collect();
    let (i, &best) = curve
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
        .max_by(|x, y| x.1.total_cmp(y.1))?;
    let mut lag = centre + (i as i64 - steps) as f64 * step;
    // A parabola through the peak and its neighbours.
    if i > 0
        && let (Some(l), Some(r)) = (curve[i - 1], curve.get(i + 1).copied().flatten())
    {
        let denominator = l - 2.0 * best + r;
        if denominator < 0.0 {
            lag += step * 0.5 * (l - r) / denominator;
        }
    }
    Some(Peak {
        lag,
        correlation: best,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_smooth_signal_is_found_to_a_fraction_of_a_sample() {
        // 30 fps samples of a smooth signal; b lags a by 7.3 ms.
        let period = 33_366_667i64;
        let shift = 7_300_000.0;
        let f = |t: f64| (t / 1.1e8).sin() + 0.5 * (t / 2.9e8 + 1.0).sin();
        let times: Vec<i64> = (0..200).map(|k| k * period).collect();
        let a: Vec<f32> = times.iter().map(|&t| f(t as f64) as f32).collect();
        let b: Vec<f32> = times.iter().map(|&t| f(t as f64 - shift) as f32).collect();
        let peak = best_lag(
            Signal {
                times: &times,
                values: &a,
            },
            Signal {
                times: &times,
                values: &b,
            },
            50e6,
            1e6,
            20,
        )
        .unwrap();
        assert!((peak.lag - shift).abs() < 0.3e6, "{peak:?}");
        assert!(peak.correlation > 0.99);
    }

    #[test]
    fn a_shift_of_many_frames_is_found_coarse_then_fine() {
        // An irregular signal (no period to alias onto); b lags a by 7 frames
        // and 4.1 ms, searched over ±2 s on a frame grid, then per ms.
        let period = 33_366_667i64;
        let shift = 7.0 * period as f64 + 4.1e6;
        let f = |t: f64| (t / 7.3e7).sin() * (t / 3.1e8).cos() + 0.6 * (t / 1.7e8 + 0.3).sin();
        let times: Vec<i64> = (0..300).map(|k| k * period).collect();
        let a: Vec<f32> = times.iter().map(|&t| f(t as f64) as f32).collect();
        let b: Vec<f32> = times.iter().map(|&t| f(t as f64 - shift) as f32).collect();
        let signal = |values| Signal {
            times: &times,
            values,
        };
        let peak =
            best_lag_coarse_to_fine(signal(&a), signal(&b), 2e9, period as f64, 1e6, 100).unwrap();
        assert!((peak.lag - shift).abs() < 0.3e6, "{peak:?}");
        assert!(peak.correlation > 0.99);
    }
}
