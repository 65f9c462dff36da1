//! Exact time. Every timestamp and interval is an integer number of nanoseconds;
//! PTP's correction field keeps its 2^-16 ns resolution. Floating point never
//! carries a time: it appears only inside filters and servos.

use core::fmt;
use core::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// A signed span of time in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nanos(pub i64);

impl Nanos {
    pub const ZERO: Nanos = Nanos(0);
    pub const fn from_micros(us: i64) -> Self {
        Nanos(us * 1_000)
    }
    pub const fn from_millis(ms: i64) -> Self {
        Nanos(ms * 1_000_000)
    }
    pub const fn from_secs(s: i64) -> Self {
        Nanos(s * 1_000_000_000)
    }
    /// 2^log2 seconds, the way PTP message intervals are given.
    pub const fn from_log2_secs(log2: i8) -> Self {
        if log2 >= 0 {
            Nanos(1_000_000_000i64 << log2)
        } else {
            Nanos(1_000_000_000i64 >> (-log2))
        }
    }
    pub const fn as_nanos(self) -> i64 {
        self.0
    }
    pub const fn abs(self) -> Nanos {
        Nanos(self.0.abs())
    }
    /// Seconds as a float, for filters and human output only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 * 1e-9
    }
}

impl Add for Nanos {
    type Output = Nanos;
    fn add(self, rhs: Nanos) -> Nanos {
        Nanos(self.0 + rhs.0)
    }
}
impl Sub for Nanos {
    type Output = Nanos;
    fn sub(self, rhs: Nanos) -> Nanos {
        Nanos(self.0 - rhs.0)
    }
}
impl Neg for Nanos {
    type Output = Nanos;
    fn neg(self) -> Nanos {
        Nanos(-self.0)
    }
}
impl AddAssign for Nanos {
    fn add_assign(&mut self, rhs: Nanos) {
        self.0 += rhs.0;
    }
}
impl SubAssign for Nanos {
    fn sub_assign(&mut self, rhs: Nanos) {
        self.0 -= rhs.0;
    }
}

impl core::ops::Mul<i64> for Nanos {
    type Output = Nanos;
    fn mul(self, rhs: i64) -> Nanos {
        Nanos(self.0 * rhs)
    }
}

impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ns", self.0)
    }
}

/// A reading of some clock: nanoseconds since that clock's epoch. For PTP time the
/// epoch is the PTP epoch (1970-01-01 TAI); for a free-running base clock it is
/// whatever the hardware counts from. The type does not say which clock: the field
/// or variable name does (`raw`, `ptp`, `true_time`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

impl Time {
    pub const ZERO: Time = Time(0);
    pub const fn from_nanos(ns: i64) -> Self {
        Time(ns)
    }
    pub const fn as_nanos(self) -> i64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 * 1e-9
    }
}

impl Add<Nanos> for Time {
    type Output = Time;
    fn add(self, rhs: Nanos) -> Time {
        Time(self.0 + rhs.0)
    }
}
impl Sub<Nanos> for Time {
    type Output = Time;
    fn sub(self, rhs: Nanos) -> Time {
        Time(self.0 - rhs.0)
    }
}
impl Sub for Time {
    type Output = Nanos;
    fn sub(self, rhs: Time) -> Nanos {
        Nanos(self.0 - rhs.0)
    }
}
impl AddAssign<Nanos> for Time {
    fn add_assign(&mut self, rhs: Nanos) {
        self.0 += rhs.0;
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.div_euclid(1_000_000_000);
        let ns = self.0.rem_euclid(1_000_000_000);
        write!(f, "{s}.{ns:09}")
    }
}

/// PTP's on-wire timestamp: 48-bit seconds and 32-bit nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WireTimestamp {
    pub seconds: u64,
    pub nanoseconds: u32,
}

impl WireTimestamp {
    pub const MAX_SECONDS: u64 = (1 << 48) - 1;

    /// PTP time before the epoch cannot be sent; it is clamped to zero.
    pub fn from_time(t: Time) -> Self {
        let ns = t.0.max(0);
        WireTimestamp {
            seconds: (ns / 1_000_000_000) as u64,
            nanoseconds: (ns % 1_000_000_000) as u32,
        }
    }

    /// `None` when the value does not fit an i64 of nanoseconds (year 2262) or the
    /// nanoseconds field is out of range.
    pub fn to_time(self) -> Option<Time> {
        if self.nanoseconds >= 1_000_000_000 {
            return None;
        }
        let s = i64::try_from(self.seconds).ok()?;
        s.checked_mul(1_000_000_000)?
            .checked_add(self.nanoseconds as i64)
            .map(Time)
    }
}

/// PTP's correctionField / TimeInterval: nanoseconds scaled by 2^16.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeInterval(pub i64);

impl TimeInterval {
    pub const ZERO: TimeInterval = TimeInterval(0);
    pub fn from_nanos(n: Nanos) -> Self {
        TimeInterval(n.0.saturating_mul(1 << 16))
    }
    /// The value in units of 2^-16 ns, widened so that sums cannot overflow.
    pub fn scaled(self) -> i128 {
        self.0 as i128
    }
}

/// A time difference in 2^-16 ns, used where PTP arithmetic keeps sub-nanosecond
/// corrections. Converted to whole nanoseconds (rounded to nearest) at the edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScaledNanos(pub i128);

impl ScaledNanos {
    pub fn from_nanos(n: Nanos) -> Self {
        ScaledNanos((n.0 as i128) << 16)
    }
    pub fn rounded(self) -> Nanos {
        let half = 1i128 << 15;
        Nanos(((self.0 + half) >> 16) as i64)
    }
    pub fn as_f64_nanos(self) -> f64 {
        self.0 as f64 / 65536.0
    }
    /// Halves, rounding toward negative infinity in 2^-16 ns units.
    pub fn half(self) -> Self {
        ScaledNanos(self.0 >> 1)
    }
}

impl Add for ScaledNanos {
    type Output = ScaledNanos;
    fn add(self, rhs: ScaledNanos) -> ScaledNanos {
        ScaledNanos(self.0 + rhs.0)
    }
}
impl Sub for ScaledNanos {
    type Output = ScaledNanos;
    fn sub(self, rhs: ScaledNanos) -> ScaledNanos {
        ScaledNanos(self.0 - rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_timestamp_round_trips_and_rejects_bad_nanoseconds() {
        let t = Time(1_767_225_637_123_456_789);
        let w = WireTimestamp::from_time(t);
        assert_eq!(w.seconds, 1_767_225_637);
        assert_eq!(w.nanoseconds, 123_456_789);
        assert_eq!(w.to_time(), Some(t));
        let bad = WireTimestamp {
            seconds: 1,
            nanoseconds: 1_000_000_000,
        };
        assert_eq!(bad.to_time(), None);
        let far = WireTimestamp {
            seconds: WireTimestamp::MAX_SECONDS,
            nanoseconds: 0,
        };
        assert_eq!(far.to_time(), None);
    }

    #[test]
    fn log2_intervals() {
        assert_eq!(Nanos::from_log2_secs(-3), Nanos(125_000_000));
        assert_eq!(Nanos::from_log2_secs(1), Nanos(2_000_000_000));
    }

    #[test]
    fn scaled_rounding_is_to_nearest() {
        assert_eq!(ScaledNanos((5 << 16) + (1 << 15)).rounded(), Nanos(6));
        assert_eq!(ScaledNanos((5 << 16) + (1 << 15) - 1).rounded(), Nanos(5));
        assert_eq!(ScaledNanos(-(5 << 16) - 1).rounded(), Nanos(-5));
    }

    #[test]
    fn display_of_negative_time() {
        assert_eq!(Time(-1).to_string(), "-1.999999999");
    }
}
