//! The path-delay filter: a moving median over the last N measurements, as ptp4l's
//! default `delay_filter moving_median` with `delay_filter_length 10`.

use crate::time::ScaledNanos;
use std::collections::VecDeque;

#[derive(Clone, Debug)]
pub struct MovingMedian {
    window: VecDeque<ScaledNanos>,
    length: usize,
    scratch: Vec<ScaledNanos>,
}

impl MovingMedian {
    pub fn new(length: usize) -> Self {
        let length = length.max(1);
        MovingMedian {
            window: VecDeque::with_capacity(length),
            length,
            scratch: Vec::with_capacity(length),
        }
    }

    /// Adds a measurement and returns the filtered delay.
    pub fn push(&mut self, sample: ScaledNanos) -> ScaledNanos {
        if self.window.len() == self.length {
            self.window.pop_front();
        }
        self.window.push_back(sample);
        self.median().expect("window holds the sample just pushed")
    }

    /// The median of the window; the mean of the middle two for an even count.
    pub fn median(&self) -> Option<ScaledNanos> {
        if self.window.is_empty() {
            return None;
        }
        let mut s = self.scratch.clone();
        s.clear();
        s.extend(self.window.iter().copied());
        s.sort_unstable();
        let n = s.len();
        Some(if n % 2 == 1 {
            s[n / 2]
        } else {
            ScaledNanos((s[n / 2 - 1].0 + s[n / 2].0) >> 1)
        })
    }

    pub fn reset(&mut self) {
        self.window.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(v: i64) -> ScaledNanos {
        ScaledNanos((v as i128) << 16)
    }

    #[test]
    fn median_ignores_outliers_and_forgets_old_samples() {
        let mut f = MovingMedian::new(3);
        assert_eq!(f.push(ns(100)), ns(100));
        assert_eq!(f.push(ns(104)), ns(102));
        assert_eq!(f.push(ns(90_000)), ns(104));
        assert_eq!(f.push(ns(101)), ns(104));
        assert_eq!(f.push(ns(102)), ns(102));
    }
}
