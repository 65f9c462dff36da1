//! The overlay clock: disciplined time as an exact affine map of a free-running base.
//!
//! `time = overlay_ref + (base - base_ref) + round((base - base_ref) * freq / 2^48)`
//! with the fractional frequency correction held as an integer in units of 2^-48
//! (3.6e-6 ppb, far finer than any servo asks for). Every reading is integer
//! arithmetic — a multiply and a shift — so a disciplined clock never accumulates
//! floating-point error and reading it is cheap.

use crate::clock::SteerError;
use crate::time::{Nanos, Time};

const FRAC_BITS: u32 = 48;
const ONE: i128 = 1 << FRAC_BITS;
/// Units of 2^-48 per ppb.
const PER_PPB: f64 = (1u64 << FRAC_BITS) as f64 / 1e9;
/// ptp4l's max_frequency default: 900,000,000 ppb.
pub const MAX_FREQUENCY_PPB: f64 = 9e8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverlayClock {
    base_ref: Time,
    overlay_ref: Time,
    /// Fractional frequency correction in units of 2^-48.
    freq_scaled: i64,
    /// Counts adjustments, so that callers can cache values derived from the map.
    version: u64,
}

impl OverlayClock {
    /// A clock that reads `overlay` when the base reads `base`, running at the
    /// base's rate.
    pub fn new(base: Time, overlay: Time) -> Self {
        OverlayClock {
            base_ref: base,
            overlay_ref: overlay,
            freq_scaled: 0,
            version: 0,
        }
    }

    /// The identity map: disciplined time equals base time until adjusted.
    pub fn identity() -> Self {
        Self::new(Time::ZERO, Time::ZERO)
    }

    /// Disciplined time at base reading `base`.
    pub fn time_at(&self, base: Time) -> Time {
        let elapsed = (base - self.base_ref).0;
        Time(self.overlay_ref.0 + elapsed + scale(elapsed as i128, self.freq_scaled) as i64)
    }

    /// The earliest base reading at which disciplined time has reached `target`.
    pub fn base_at(&self, target: Time) -> Time {
        let want = (target - self.overlay_ref).0 as i128;
        // Invert the linear part, then settle the rounding by stepping.
        let mut elapsed = (want << FRAC_BITS).div_euclid(ONE + self.freq_scaled as i128);
        let reading = |e: i128| e + scale(e, self.freq_scaled);
        while reading(elapsed) < want {
            elapsed += 1;
        }
        while reading(elapsed - 1) >= want {
            elapsed -= 1;
        }
        Time(self.base_ref.0 + elapsed as i64)
    }

    pub fn frequency_ppb(&self) -> f64 {
        self.freq_scaled as f64 / PER_PPB
    }

    /// Changes the rate from base reading `now` on, keeping time continuous.
    pub fn set_frequency_ppb(&mut self, now: Time, ppb: f64) -> Result<(), SteerError> {
        if !ppb.is_finite() || ppb.abs() > MAX_FREQUENCY_PPB {
            return Err(SteerError::FrequencyOutOfRange {
                ppb: if ppb.is_finite() {
                    ppb as i64
                } else {
                    i64::MAX
                },
                max: MAX_FREQUENCY_PPB as i64,
            });
        }
        self.rebase(now);
        self.freq_scaled = (ppb * PER_PPB).round() as i64;
        Ok(())
    }

    /// Jumps disciplined time by `delta` at base reading `now`.
    pub fn step(&mut self, now: Time, delta: Nanos) {
        self.rebase(now);
        self.overlay_ref += delta;
    }

    /// Changes whenever the clock is adjusted.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn rebase(&mut self, now: Time) {
        self.version += 1;
        self.overlay_ref = self.time_at(now);
        self.base_ref = now;
    }
}

/// round(elapsed * freq / 2^48), rounding halves up.
fn scale(elapsed: i128, freq: i64) -> i128 {
    (elapsed * freq as i128 + (ONE >> 1)) >> FRAC_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency_applies_exactly() {
        let mut c = OverlayClock::new(Time(0), Time(100));
        c.set_frequency_ppb(Time(0), 10_000.0).unwrap(); // +10 ppm
        assert_eq!(
            c.time_at(Time(1_000_000_000)),
            Time(100 + 1_000_000_000 + 10_000)
        );
        // A day at -3.5 ppb: exact integer rounding down.
        c.set_frequency_ppb(Time(0), -3.5).unwrap();
        let day = 86_400_000_000_000i64;
        assert_eq!(c.time_at(Time(day)), Time(100 + day - 302_400));
    }

    #[test]
    fn time_is_continuous_across_frequency_changes() {
        let mut c = OverlayClock::identity();
        c.set_frequency_ppb(Time(0), 50_000.0).unwrap();
        let before = c.time_at(Time(777_777_777));
        c.set_frequency_ppb(Time(777_777_777), -20_000.0).unwrap();
        assert_eq!(c.time_at(Time(777_777_777)), before);
    }

    #[test]
    fn base_at_inverts_time_at() {
        for ppb in [-123_456.7, -1.0, 0.0, 0.3, 99_999.0] {
            let mut c = OverlayClock::new(Time(5_000), Time(-42));
            c.set_frequency_ppb(Time(5_000), ppb).unwrap();
            for target in [Time(0), Time(1), Time(999_999_937), Time(3_600_000_000_123)] {
                let b = c.base_at(target);
                assert!(c.time_at(b) >= target, "ppb {ppb} target {target}");
                assert!(
                    c.time_at(b - Nanos(1)) < target,
                    "ppb {ppb} target {target}"
                );
            }
        }
    }

    #[test]
    fn step_moves_time() {
        let mut c = OverlayClock::identity();
        c.step(Time(10), Nanos(-3));
        assert_eq!(c.time_at(Time(10)), Time(7));
        assert_eq!(c.time_at(Time(20)), Time(17));
    }

    #[test]
    fn rejects_impossible_frequencies() {
        let mut c = OverlayClock::identity();
        assert!(c.set_frequency_ppb(Time(0), 9.5e8).is_err());
        assert!(c.set_frequency_ppb(Time(0), f64::NAN).is_err());
        assert_eq!(c.frequency_ppb(), 0.0);
    }
}
