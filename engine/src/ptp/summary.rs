//! ptp4l's summary statistics: over a summary interval, the RMS and maximum of
//! the offsets the servo acted on, and the mean and deviation of its frequency
//! and of the path delay.

use super::servo::ServoReport;

#[derive(Clone, Debug, Default)]
pub struct ServoSummary {
    count: u64,
    offset_sq: f64,
    offset_max: f64,
    freq: Moments,
    delay: Moments,
}

#[derive(Clone, Copy, Debug, Default)]
struct Moments {
    sum: f64,
    sum_sq: f64,
}

impl Moments {
    fn add(&mut self, v: f64) {
        self.sum += v;
        self.sum_sq += v * v;
    }
    fn mean_sd(&self, n: f64) -> (f64, f64) {
        let mean = self.sum / n;
        (mean, (self.sum_sq / n - mean * mean).max(0.0).sqrt())
    }
}

/// One summary's figures.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct SummaryFigures {
    pub count: u64,
    pub offset_rms_ns: f64,
    pub offset_max_abs_ns: f64,
    /// ptp4l's sign: the servo output, the negated clock correction.
    pub freq_mean_ppb: f64,
    pub freq_sd_ppb: f64,
    pub delay_mean_ns: f64,
    pub delay_sd_ns: f64,
}

impl ServoSummary {
    pub fn add(&mut self, r: &ServoReport) {
        let offset = r.offset.0 as f64;
        self.count += 1;
        self.offset_sq += offset * offset;
        self.offset_max = self.offset_max.max(offset.abs());
        self.freq.add(-r.frequency_ppb);
        self.delay.add(r.path_delay.0 as f64);
    }

    pub fn figures(&self) -> Option<SummaryFigures> {
        if self.count == 0 {
            return None;
        }
        let n = self.count as f64;
        let (freq_mean_ppb, freq_sd_ppb) = self.freq.mean_sd(n);
        let (delay_mean_ns, delay_sd_ns) = self.delay.mean_sd(n);
        Some(SummaryFigures {
            count: self.count,
            offset_rms_ns: (self.offset_sq / n).sqrt(),
            offset_max_abs_ns: self.offset_max,
            freq_mean_ppb,
            freq_sd_ppb,
            delay_mean_ns,
            delay_sd_ns,
        })
    }

    /// ptp4l's line: `rms N max N freq +N +/- N delay N +/- N`.
    pub fn line(&self) -> Option<String> {
        let f = self.figures()?;
        Some(format!(
            "rms {:4.0} max {:4.0} freq {:+6.0} +/- {:3.0} delay {:5.0} +/- {:3.0}",
            f.offset_rms_ns,
            f.offset_max_abs_ns,
            f.freq_mean_ppb,
            f.freq_sd_ppb,
            f.delay_mean_ns,
            f.delay_sd_ns
        ))
    }

    pub fn reset(&mut self) {
        *self = ServoSummary::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ptp::servo::ServoState;
    use crate::time::{Nanos, Time};

    fn report(offset: i64, ppb: f64, delay: i64) -> ServoReport {
        ServoReport {
            at: Time(0),
            offset: Nanos(offset),
            state: ServoState::Locked,
            frequency_ppb: ppb,
            path_delay: Nanos(delay),
        }
    }

    #[test]
    fn summary_matches_ptp4l_figures() {
        let mut s = ServoSummary::default();
        assert_eq!(s.line(), None);
        for (o, f, d) in [(3, 100.0, 500), (-4, 102.0, 502), (0, 98.0, 504)] {
            s.add(&report(o, f, d));
        }
        let f = s.figures().unwrap();
        assert!((f.offset_rms_ns - (25.0f64 / 3.0).sqrt()).abs() < 1e-9);
        assert_eq!(f.offset_max_abs_ns, 4.0);
        assert!((f.freq_mean_ppb + 100.0).abs() < 1e-9, "ptp4l's sign");
        assert_eq!(
            s.line().unwrap(),
            "rms    3 max    4 freq   -100 +/-   2 delay   502 +/-   2"
        );
    }
}
