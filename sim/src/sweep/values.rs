//! One parameter's values: a list written out, a linear grid, a log-spaced
//! grid, or seeded random draws from a range (uniform, or log-uniform).
//!
//! A range is written in numbers or in durations ("5ms"); durations stay
//! integer nanoseconds throughout. Computed values (grids and draws) are
//! rounded to four significant digits: a sweep's settings are meant to be read
//! and typed back by people, and the rounding also absorbs the last-bit
//! differences of `powf` between machines that run shards of one sweep.

use crate::rng::Stream;
use crate::units::parse_duration;
use rand::Rng;
use serde::Serialize;

/// A value a parameter takes at a point.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    Int(i64),
    Float(f64),
    /// Written in the scenario (and the rows) as text, e.g. "12.5ms".
    #[serde(serialize_with = "serialize_duration")]
    Duration(i64),
    Text(String),
    Bool(bool),
}

fn serialize_duration<S: serde::Serializer>(ns: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*ns))
}

impl ParamValue {
    /// The value as the scenario file takes it.
    pub fn to_toml(&self) -> toml::Value {
        match self {
            ParamValue::Int(i) => toml::Value::Integer(*i),
            ParamValue::Float(f) => toml::Value::Float(*f),
            ParamValue::Duration(ns) => toml::Value::String(format_duration(*ns)),
            ParamValue::Text(t) => toml::Value::String(t.clone()),
            ParamValue::Bool(b) => toml::Value::Boolean(*b),
        }
    }

    /// A list entry as written in the sweep file; a text that reads as a
    /// duration is one.
    pub fn from_toml(v: &toml::Value) -> Result<ParamValue, String> {
        Ok(match v {
            toml::Value::Integer(i) => ParamValue::Int(*i),
            toml::Value::Float(f) => ParamValue::Float(*f),
            toml::Value::Boolean(b) => ParamValue::Bool(*b),
            toml::Value::String(s) => match parse_duration(s) {
                Ok(ns) if s.trim() != "0" => ParamValue::Duration(ns.0),
                _ => ParamValue::Text(s.clone()),
            },
            other => {
                return Err(format!(
                    "a parameter value is a number, a duration, a text or a boolean, not {}",
                    other.type_str()
                ));
            }
        })
    }
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Duration(ns) => write!(f, "{}", format_duration(*ns)),
            ParamValue::Text(t) => write!(f, "{t}"),
            ParamValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A duration in the largest unit that writes it exactly: "2s", "12.5ms",
/// "750us", "42ns" (what `parse_duration` reads back to the same ns).
pub fn format_duration(ns: i64) -> String {
    let (sign, n) = if ns < 0 {
        ("-", -(ns as i128))
    } else {
        ("", ns as i128)
    };
    if n == 0 {
        return "0ns".to_string();
    }
    let (scale, unit) = if n % 1_000_000_000 == 0 {
        (1_000_000_000, "s")
    } else if n >= 1_000_000 {
        (1_000_000, "ms")
    } else if n >= 1_000 {
        (1_000, "us")
    } else {
        (1, "ns")
    };
    let int = n / scale;
    let frac = n % scale;
    if frac == 0 {
        return format!("{sign}{int}{unit}");
    }
    let digits = (scale as f64).log10().round() as usize;
    let frac = format!("{frac:0digits$}");
    format!("{sign}{int}.{}{unit}", frac.trim_end_matches('0'))
}

/// The end of a range: a number or a duration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    Number(f64),
    Duration(i64),
}

impl Bound {
    pub fn from_toml(v: &toml::Value) -> Result<Bound, String> {
        match v {
            toml::Value::Integer(i) => Ok(Bound::Number(*i as f64)),
            toml::Value::Float(f) if f.is_finite() => Ok(Bound::Number(*f)),
            toml::Value::String(s) => parse_duration(s).map(|d| Bound::Duration(d.0)),
            _ => Err("a range's end is a finite number or a duration (\"5ms\")".into()),
        }
    }

    fn value(self) -> f64 {
        match self {
            Bound::Number(x) => x,
            Bound::Duration(ns) => ns as f64,
        }
    }
}

/// How a parameter's values are made.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueSpec {
    List(Vec<ParamValue>),
    Linear {
        from: Bound,
        to: Bound,
        steps: u32,
    },
    Log {
        from: Bound,
        to: Bound,
        steps: u32,
    },
    Random {
        from: Bound,
        to: Bound,
        count: u32,
        log: bool,
    },
}

impl ValueSpec {
    /// Checks what a file can get wrong: mixed units, empty or inverted
    /// ranges, a log range through zero.
    pub fn check(&self) -> Result<(), String> {
        let (from, to, n, log) = match self {
            ValueSpec::List(v) if v.is_empty() => return Err("the list of values is empty".into()),
            ValueSpec::List(_) => return Ok(()),
            ValueSpec::Linear { from, to, steps } => (from, to, *steps, false),
            ValueSpec::Log { from, to, steps } => (from, to, *steps, true),
            ValueSpec::Random {
                from,
                to,
                count,
                log,
            } => (from, to, *count, *log),
        };
        if std::mem::discriminant(from) != std::mem::discriminant(to) {
            return Err("`from` and `to` must both be numbers or both durations".into());
        }
        if n == 0 {
            return Err("a range needs at least one value (steps or count ≥ 1)".into());
        }
        if from.value() > to.value() {
            return Err("`from` must not be above `to`".into());
        }
        if log && from.value() <= 0.0 {
            return Err("a log-spaced range must stay above 0".into());
        }
        Ok(())
    }

    /// The values, in order; random draws come from `rng`.
    pub fn values(&self, rng: &mut Stream) -> Vec<ParamValue> {
        match self {
            ValueSpec::List(v) => v.clone(),
            ValueSpec::Linear { from, to, steps } => (0..*steps)
                .map(|i| make(*from, lerp(from.value(), to.value(), fraction(i, *steps))))
                .collect(),
            ValueSpec::Log { from, to, steps } => (0..*steps)
                .map(|i| {
                    make(
                        *from,
                        loglerp(from.value(), to.value(), fraction(i, *steps)),
                    )
                })
                .collect(),
            ValueSpec::Random {
                from,
                to,
                count,
                log,
            } => (0..*count)
                .map(|_| {
                    let u = unit(rng);
                    let x = if *log {
                        loglerp(from.value(), to.value(), u)
                    } else {
                        lerp(from.value(), to.value(), u)
                    };
                    make(*from, x)
                })
                .collect(),
        }
    }
}

/// The i-th of n evenly spaced fractions from 0 to 1 (both ends in).
fn fraction(i: u32, n: u32) -> f64 {
    if n <= 1 {
        0.0
    } else {
        f64::from(i) / f64::from(n - 1)
    }
}

fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + (b - a) * t
}

fn loglerp(a: f64, b: f64, t: f64) -> f64 {
    (a.ln() + (b.ln() - a.ln()) * t).exp()
}

/// A uniform draw in [0, 1) from the top 53 bits of the stream.
fn unit(rng: &mut Stream) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn make(kind: Bound, x: f64) -> ParamValue {
    let x = round_significant(x, 4);
    match kind {
        Bound::Number(_) => ParamValue::Float(x),
        Bound::Duration(_) => ParamValue::Duration(x.round() as i64),
    }
}

/// `x` to `digits` significant digits, via its decimal text so the result
/// is the nearest double to the rounded decimal.
pub fn round_significant(x: f64, digits: usize) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{:.*e}", digits.saturating_sub(1), x)
        .parse()
        .unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Seeds;

    fn rng() -> Stream {
        Seeds::new(1).stream("test")
    }

    #[test]
    fn durations_print_exactly_and_read_back() {
        for ns in [
            1,
            999,
            1_000,
            12_500_000,
            2_000_000_000,
            1_500_000_001,
            -3_000,
        ] {
            let text = format_duration(ns);
            assert_eq!(parse_duration(&text).unwrap().0, ns, "{text}");
        }
        assert_eq!(format_duration(12_500_000), "12.5ms");
        assert_eq!(format_duration(2_000_000_000), "2s");
        assert_eq!(format_duration(750_000), "750us");
    }

    #[test]
    fn log_grids_hit_both_ends_and_round_to_four_digits() {
        let spec = ValueSpec::Log {
            from: Bound::Duration(5_000_000),
            to: Bound::Duration(80_000_000),
            steps: 5,
        };
        let v = spec.values(&mut rng());
        assert_eq!(
            v,
            vec![
                ParamValue::Duration(5_000_000),
                ParamValue::Duration(10_000_000),
                ParamValue::Duration(20_000_000),
                ParamValue::Duration(40_000_000),
                ParamValue::Duration(80_000_000),
            ]
        );
        let lin = ValueSpec::Linear {
            from: Bound::Number(0.0),
            to: Bound::Number(1.0),
            steps: 3,
        };
        assert_eq!(
            lin.values(&mut rng()),
            vec![
                ParamValue::Float(0.0),
                ParamValue::Float(0.5),
                ParamValue::Float(1.0)
            ]
        );
    }

    #[test]
    fn random_draws_are_seeded_and_inside_the_range() {
        let spec = ValueSpec::Random {
            from: Bound::Number(0.1),
            to: Bound::Number(10.0),
            count: 50,
            log: true,
        };
        let a = spec.values(&mut rng());
        assert_eq!(a, spec.values(&mut rng()));
        assert_ne!(a, spec.values(&mut Seeds::new(2).stream("test")));
        for v in &a {
            let ParamValue::Float(x) = v else { panic!() };
            assert!((0.1..=10.0).contains(x), "{x}");
        }
        // Log-uniform: about half the draws below the geometric middle (1).
        let below = a
            .iter()
            .filter(|v| matches!(v, ParamValue::Float(x) if *x < 1.0))
            .count();
        assert!((15..=35).contains(&below), "{below}");
    }

    #[test]
    fn bad_ranges_are_refused() {
        let mixed = ValueSpec::Linear {
            from: Bound::Number(1.0),
            to: Bound::Duration(5),
            steps: 2,
        };
        assert!(mixed.check().is_err());
        let through_zero = ValueSpec::Log {
            from: Bound::Number(0.0),
            to: Bound::Number(1.0),
            steps: 2,
        };
        assert!(through_zero.check().is_err());
        assert!(ValueSpec::List(vec![]).check().is_err());
    }
}
