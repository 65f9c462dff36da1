//! Rational frame rates. 29.97 fps is 30000/1001, never 29.97: the time of frame n
//! is computed as an exact quotient, so a day of frames accumulates no error.

use crate::time::{Nanos, Time};
use core::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameRate {
    num: u32,
    den: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameRateError {
    #[error("a frame rate needs a non-zero numerator and denominator")]
    Zero,
    #[error("`{0}` is not a frame rate: use e.g. 50, 59.94, 29.97, 23.976 or 60000/1001")]
    Unparsable(String),
    #[error("frame rate {0} is outside 1..=1000 fps")]
    OutOfRange(String),
}

impl FrameRate {
    pub fn new(num: u32, den: u32) -> Result<Self, FrameRateError> {
        if num == 0 || den == 0 {
            return Err(FrameRateError::Zero);
        }
        let g = gcd(num, den);
        let r = FrameRate {
            num: num / g,
            den: den / g,
        };
        let fps = r.num as f64 / r.den as f64;
        if !(1.0..=1000.0).contains(&fps) {
            return Err(FrameRateError::OutOfRange(r.to_string()));
        }
        Ok(r)
    }

    pub fn num(self) -> u32 {
        self.num
    }
    pub fn den(self) -> u32 {
        self.den
    }
    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// Start of frame `n` on the grid anchored at the epoch, rounded down to the
    /// nanosecond: floor(n * den * 1e9 / num).
    pub fn frame_time(self, n: i64) -> Time {
        // Split n = q*num + r so both products fit in i64 for any time an i64
        // of nanoseconds can hold: q*den*1e9 is whole, r*den*1e9/num is the rest.
        let num = self.num as i64;
        let (q, r) = (n.div_euclid(num), n.rem_euclid(num));
        let unit = self.den as i64 * 1_000_000_000;
        Time(q * unit + (r * unit) / num)
    }

    /// The grid index nearest to `t` (ties go to the later frame).
    pub fn nearest_index(self, t: Time) -> i64 {
        // round(t * num / unit) with unit = den * 1e9, split as t = q*unit + r so
        // every product fits in i64.
        let unit = self.den as i64 * 1_000_000_000;
        let (q, r) = (t.0.div_euclid(unit), t.0.rem_euclid(unit));
        let num = self.num as i64;
        q * num + (2 * r * num + unit) / (2 * unit)
    }

    /// The first grid index whose instant is at or after `t`.
    pub fn index_at_or_after(self, t: Time) -> i64 {
        let unit = self.den as i64 * 1_000_000_000;
        let (q, r) = (t.0.div_euclid(unit), t.0.rem_euclid(unit));
        let mut n = q * self.num as i64 + r * self.num as i64 / unit;
        while self.frame_time(n) < t {
            n += 1;
        }
        while self.frame_time(n - 1) >= t {
            n -= 1;
        }
        n
    }

    /// The nominal period, rounded down. Use `frame_time` differences for exact spans.
    pub fn period(self) -> Nanos {
        Nanos((self.den as i64 * 1_000_000_000) / self.num as i64)
    }
}

impl core::str::FromStr for FrameRate {
    type Err = FrameRateError;

    /// Accepts `N/D`, integers, and the NTSC-family decimals by their exact meaning
    /// (23.976, 29.97, 47.952, 59.94, 119.88 are N*1000/1001).
    fn from_str(s: &str) -> Result<Self, FrameRateError> {
        let s = s.trim();
        let bad = || FrameRateError::Unparsable(s.to_string());
        if let Some((n, d)) = s.split_once('/') {
            let n = n.trim().parse().map_err(|_| bad())?;
            let d = d.trim().parse().map_err(|_| bad())?;
            return FrameRate::new(n, d);
        }
        match s {
            "23.976" | "23.98" => return FrameRate::new(24_000, 1001),
            "29.97" => return FrameRate::new(30_000, 1001),
            "47.952" => return FrameRate::new(48_000, 1001),
            "59.94" => return FrameRate::new(60_000, 1001),
            "119.88" => return FrameRate::new(120_000, 1001),
            _ => {}
        }
        if let Ok(n) = s.parse::<u32>() {
            return FrameRate::new(n, 1);
        }
        // Other decimals: exact as written (12.5 -> 25/2).
        let (int, frac) = s.split_once('.').ok_or_else(bad)?;
        if frac.is_empty() || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let den = 10u32.pow(frac.len() as u32);
        let int: u32 = int.parse().map_err(|_| bad())?;
        let frac: u32 = frac.parse().map_err(|_| bad())?;
        let num = int
            .checked_mul(den)
            .and_then(|v| v.checked_add(frac))
            .ok_or_else(bad)?;
        FrameRate::new(num, den)
    }
}

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else if self.den == 1001 {
            write!(f, "{:.2}", self.as_f64())
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates_exactly() {
        assert_eq!("59.94".parse(), FrameRate::new(60_000, 1001));
        assert_eq!("30000/1001".parse(), FrameRate::new(30_000, 1001));
        assert_eq!("50".parse(), FrameRate::new(50, 1));
        assert_eq!("12.5".parse(), FrameRate::new(25, 2));
        assert!("fast".parse::<FrameRate>().is_err());
        assert!("0/1".parse::<FrameRate>().is_err());
        assert!("5000".parse::<FrameRate>().is_err());
    }

    #[test]
    fn a_day_at_29_97_has_no_accumulated_error() {
        let r = FrameRate::new(30_000, 1001).unwrap();
        // Every 30000 frames is exactly 1001 s; 86 of those is just over 23.9 h.
        let n = 30_000 * 86;
        assert_eq!(r.frame_time(n), Time(86 * 1001 * 1_000_000_000));
        assert_eq!(r.frame_time(1), Time(33_366_666));
        assert_eq!(r.frame_time(-1), Time(-33_366_667));
    }

    #[test]
    fn nearest_and_next_index() {
        let r = FrameRate::new(50, 1).unwrap();
        assert_eq!(r.nearest_index(Time(9_999_999)), 0);
        assert_eq!(r.nearest_index(Time(10_000_000)), 1);
        assert_eq!(r.nearest_index(Time(-10_000_001)), -1);
        assert_eq!(r.index_at_or_after(Time(20_000_000)), 1);
        assert_eq!(r.index_at_or_after(Time(20_000_001)), 2);
        let ntsc = FrameRate::new(60_000, 1001).unwrap();
        for n in [-5, 0, 1, 2, 1_000_003] {
            let t = ntsc.frame_time(n);
            assert_eq!(ntsc.index_at_or_after(t), n);
            assert_eq!(ntsc.nearest_index(t), n);
            assert_eq!(ntsc.index_at_or_after(t + Nanos(1)), n + 1);
        }
    }
}
