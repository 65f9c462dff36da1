//! Value types of scenario files that validate themselves while they are read, so
//! a bad value is reported at its own line and column.

use camsync_engine::{FrameRate, Nanos};
use serde::{Deserialize, Deserializer, de};

/// A duration written with its unit: "125ms", "1.5us", "20 ns", "-3us", "0".
/// Parsed exactly into integer nanoseconds (no floating point).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub Nanos);

impl Dur {
    pub fn ns(self) -> i64 {
        self.0.0
    }
    pub fn nanos(self) -> Nanos {
        self.0
    }
}

pub fn parse_duration(text: &str) -> Result<Nanos, String> {
    let s = text.trim();
    let err = || {
        format!(
            "`{text}` is not a duration: write a number and a unit, e.g. \"125ms\", \"20us\", \"5ns\", \"60s\""
        )
    };
    if s == "0" {
        return Ok(Nanos::ZERO);
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .ok_or_else(err)?;
    let (number, unit) = s.split_at(split);
    let scale: i128 = match unit.trim() {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(err()),
    };
    let (negative, digits) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return Err(err());
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let int: i128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| err())?
    };
    let mut value = int.checked_mul(scale).ok_or_else(err)?;
    let mut place = scale;
    for d in frac.bytes() {
        if place % 10 != 0 {
            return Err(format!("`{text}` is finer than a nanosecond"));
        }
        place /= 10;
        value += (d - b'0') as i128 * place;
    }
    let value = if negative { -value } else { value };
    i64::try_from(value)
        .map(Nanos)
        .map_err(|_| format!("`{text}` is too long"))
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i64),
        }
        match Raw::deserialize(d)? {
            Raw::Text(s) => parse_duration(&s).map(Dur).map_err(de::Error::custom),
            Raw::Int(0) => Ok(Dur(Nanos::ZERO)),
            Raw::Int(n) => Err(de::Error::custom(format!(
                "durations need a unit: write \"{n}ns\", \"{n}us\" or \"{n}ms\""
            ))),
        }
    }
}

/// A duration that must not be negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct PosDur(pub Nanos);

impl PosDur {
    pub fn ns(self) -> i64 {
        self.0.0
    }
    pub fn nanos(self) -> Nanos {
        self.0
    }
}

impl<'de> Deserialize<'de> for PosDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Dur(n) = Dur::deserialize(d)?;
        if n.0 < 0 {
            return Err(de::Error::custom(format!("must not be negative (got {n})")));
        }
        Ok(PosDur(n))
    }
}

/// A frame rate: "59.94", "50", "30000/1001".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate(pub FrameRate);

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(u32),
            Float(f64),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Text(s) => s,
            Raw::Int(n) => n.to_string(),
            Raw::Float(f) => format!("{f}"),
        };
        text.parse().map(Rate).map_err(de::Error::custom)
    }
}

/// A probability in [0, 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = f64::deserialize(d)?;
        if !(0.0..1.0).contains(&p) {
            return Err(de::Error::custom(format!(
                "a probability must be in [0, 1), got {p}"
            )));
        }
        Ok(Probability(p))
    }
}

/// A finite, non-negative number (ppm, ppb, shape parameters).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct NonNeg(pub f64);

impl<'de> Deserialize<'de> for NonNeg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if !v.is_finite() || v < 0.0 {
            return Err(de::Error::custom(format!(
                "must be a finite number ≥ 0, got {v}"
            )));
        }
        Ok(NonNeg(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_exactly() {
        assert_eq!(parse_duration("125ms"), Ok(Nanos(125_000_000)));
        assert_eq!(parse_duration("1.5us"), Ok(Nanos(1_500)));
        assert_eq!(parse_duration("-3 us"), Ok(Nanos(-3_000)));
        assert_eq!(parse_duration("0.000000001s"), Ok(Nanos(1)));
        assert_eq!(parse_duration("2h"), Ok(Nanos(7_200_000_000_000)));
        assert!(parse_duration("1.5ns").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("1e3ms").is_err());
        assert!(parse_duration("99999999999999h").is_err());
    }
}

/// A finite number > 0.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Positive(pub f64);

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if !v.is_finite() || v <= 0.0 {
            return Err(de::Error::custom(format!(
                "must be a finite number > 0, got {v}"
            )));
        }
        Ok(Positive(v))
    }
}
