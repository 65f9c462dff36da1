//! The overlay clock: disciplined time as an exact affine map of a free-running base.
//!
//! `time = overlay_ref + (base - base_ref) + (base - base_ref) * freq / (1e9 * 2^16)`
//! with the frequency correction held as an integer in 2^-16 ppb (the resolution of
//! Linux's scaled-ppm adjtimex interface, 1000x finer). Every reading is integer
//! arithmetic, so a disciplined clock never accumulates floating-point error.

use crate::clock::SteerError;
use crate::time::{Nanos, Time};

const PPB_SCALE: i128 = 1 << 16;
const DENOM: i128 = 1_000_000_000 * PPB_SCALE;
/// ptp4l's max_frequency default: 900,000,000 ppb.
pub const MAX_FREQUENCY_PPB: f64 = 9e8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverlayClock {
    base_ref: Time,
    overlay_ref: Time,
    /// Frequency correction in 2^-16 ppb.
    freq_scaled: i64,
}

impl OverlayClock {
    /// A clock that reads `overlay` when the base reads `base`, running at the
    /// base's rate.
    pub fn new(base: Time, overlay: Time) -> Self {
        OverlayClock {
            base_ref: base,
            overlay_ref: overlay,
            freq_scaled: 0,
        }
    }

    /// The identity map: disciplined time equals base time until adjusted.
    pub fn identity() -> Self {
        Self::new(Time::ZERO, Time::ZERO)
    }

    /// Disciplined time at base reading `base`.
    pub fn time_at(&self, base: Time) -> Time {
        let elapsed = (base - self.base_ref).0 as i128;
        let correction = (elapsed * self.freq_scaled as i128).div_euclid(DENOM);
        Time(self.overlay_ref.0 + (elapsed + correction) as i64)
    }

    /// The earliest base reading at which disciplined time has reached `target`.
    pub fn base_at(&self, target: Time) -> Time {
        let want = (target - self.overlay_ref).0 as i128;
        // Invert the linear part, then settle the rounding by stepping.
        let mut elapsed = (want * DENOM).div_euclid(DENOM + self.freq_scaled as i128);
        let reading = |e: i128| e + (e * self.freq_scaled as i128).div_euclid(DENOM);
        while reading(elapsed) < want {
            elapsed += 1;
        }
        while reading(elapsed - 1) >= want {
            elapsed -= 1;
        }
        Time(self.base_ref.0 + elapsed as i64)
    }

    pub fn frequency_ppb(&self) -> f64 {
        self.freq_scaled as f64 / PPB_SCALE as f64
    }

    /// Changes the rate from base reading `now` on, keeping time continuous.
    pub fn set_frequency_ppb(&mut self, now: Time, ppb: f64) -> Result<(), SteerError> {
        if !ppb.is_finite() || ppb.abs() > MAX_FREQUENCY_PPB {
            return Err(SteerError::FrequencyOutOfRange {
                ppb: if ppb.is_finite() { ppb as i64 } else { i64::MAX },
                max: MAX_FREQUENCY_PPB as i64,
            });
        }
        self.rebase(now);
        self.freq_scaled = (ppb * PPB_SCALE as f64).round() as i64;
        Ok(())
    }

    /// Jumps disciplined time by `delta` at base reading `now`.
    pub fn step(&mut self, now: Time, delta: Nanos) {
        self.rebase(now);
        self.overlay_ref += delta;
    }

    fn rebase(&mut self, now: Time) {
        self.overlay_ref = self.time_at(now);
        self.base_ref = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency_applies_exactly() {
        let mut c = OverlayClock::new(Time(0), Time(100));
        c.set_frequency_ppb(Time(0), 10_000.0).unwrap(); // +10 ppm
        assert_eq!(c.time_at(Time(1_000_000_000)), Time(100 + 1_000_000_000 + 10_000));
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
                assert!(c.time_at(b - Nanos(1)) < target, "ppb {ppb} target {target}");
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
