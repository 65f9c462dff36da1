//! Points and runs. The points are every combination of the parameters'
//! values, the first parameter changing slowest; a run is a point and one of
//! the sweep's seeds, numbered point-major (`point × seeds + seed's place`).

use super::file::{SweepError, SweepFile};
use super::values::ParamValue;
use crate::scenario::Scenario;
use crate::score::Score;
use std::collections::BTreeMap;

/// The most points a sweep may have (a typo in `steps` should not plan a
/// year of runs).
pub const MAX_POINTS: u64 = 10_000_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub index: u64,
    /// The parameters' values here, by key.
    pub values: BTreeMap<String, ParamValue>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepRun {
    /// Its place in the whole sweep.
    pub index: u64,
    pub point: u64,
    pub seed: u64,
}

impl SweepFile {
    pub fn point_count(&self) -> u64 {
        self.params
            .iter()
            .map(|p| p.values.len() as u64)
            .fold(1u64, u64::saturating_mul)
    }

    pub fn run_count(&self) -> u64 {
        self.point_count().saturating_mul(self.seeds.len() as u64)
    }

    /// The point at `index`: its digits in the mixed radix of the value
    /// counts, the last parameter changing fastest.
    pub fn point(&self, index: u64) -> Point {
        let mut rest = index;
        let mut values = BTreeMap::new();
        for p in self.params.iter().rev() {
            let n = p.values.len() as u64;
            values.insert(p.key.clone(), p.values[(rest % n) as usize].clone());
            rest /= n;
        }
        Point { index, values }
    }

    pub fn runs(&self) -> impl Iterator<Item = SweepRun> + '_ {
        let per_point = self.seeds.len() as u64;
        (0..self.run_count()).map(move |index| SweepRun {
            index,
            point: index / per_point,
            seed: self.seeds[(index % per_point) as usize],
        })
    }

    /// The scenario a point plays: the base with the point's values set.
    pub fn scenario(&self, point: &Point) -> Result<Scenario, SweepError> {
        let mut table = self.base.clone();
        for (key, value) in &point.values {
            set_dotted(&mut table, key, value.to_toml()).map_err(|m| self.error_at(key, m))?;
        }
        let text = toml::to_string(&table).map_err(|e| self.error_at("base", e.to_string()))?;
        let label = format!("{} point {}", self.base_path.display(), point.index);
        Scenario::parse(&text, &label, &Score::known_key).map_err(|e| {
            let key = point
                .values
                .keys()
                .find(|k| e.field.as_deref().is_some_and(|f| k.ends_with(f)))
                .cloned()
                .unwrap_or_else(|| "base".to_string());
            let setting: Vec<String> = point
                .values
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            self.error_at(
                &key,
                format!(
                    "point {} ({}) is not a valid scenario: {}{}",
                    point.index,
                    setting.join(", "),
                    e.message,
                    e.field
                        .map(|f| format!(" (field `{f}`)"))
                        .unwrap_or_default()
                ),
            )
        })
    }

    /// Checks the sweep before anything runs: its size, and that every
    /// point is a valid scenario.
    pub fn check_points(&self) -> Result<(), SweepError> {
        let n = self.point_count();
        if n > MAX_POINTS {
            return Err(self.error_at(
                "param",
                format!("{n} points: a sweep is limited to {MAX_POINTS}"),
            ));
        }
        for i in 0..n {
            self.scenario(&self.point(i))?;
        }
        Ok(())
    }

    /// An error at the line that sets `key` in the sweep file (a parameter's
    /// `key = "…"`, or a top-level key), else at the start.
    fn error_at(&self, key: &str, message: String) -> SweepError {
        let quoted = format!("\"{key}\"");
        let mut offset = 0;
        let mut found = None;
        for line in self.text.split_inclusive('\n') {
            let t = line.trim_start();
            let indent = line.len() - t.len();
            if (t.starts_with("key") && t.contains(&quoted)) || t.starts_with(key) {
                found = Some(offset + indent);
                break;
            }
            offset += line.len();
        }
        crate::scenario::locate(&self.text, &self.path, found.unwrap_or(0), message)
    }
}

/// Sets `a.b.c = value` in a TOML table, making the tables on the way.
fn set_dotted(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let mut parts = key.split('.').peekable();
    let mut here = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            here.insert(part.to_string(), value);
            return Ok(());
        }
        let next = here
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        here = match next {
            toml::Value::Table(t) => t,
            other => {
                return Err(format!(
                    "`{key}`: `{part}` is a {} in the scenario, not a table",
                    other.type_str()
                ));
            }
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const SWEEP: &str = r#"
base = "studio-4cam.toml"
seeds = [3, 1, 3]
[set]
duration = "2s"
[[param]]
key = "hub.buffer"
values = ["10ms", "20ms", "30ms"]
[[param]]
key = "ptp.servo"
values = ["pi", "linreg"]
[objectives]
pareto = ["align.added_latency_p99_ms", "align.late_frames"]
"#;

    fn sweep() -> SweepFile {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        SweepFile::parse(SWEEP, "t.toml", &dir, "t", true).unwrap()
    }

    #[test]
    fn points_are_the_product_last_parameter_fastest() {
        let s = sweep();
        assert_eq!(s.point_count(), 6);
        assert_eq!(s.seeds, vec![1, 3]);
        assert_eq!(s.run_count(), 12);
        let p = s.point(3);
        assert_eq!(p.values["hub.buffer"], ParamValue::Duration(20_000_000));
        assert_eq!(p.values["ptp.servo"], ParamValue::Text("linreg".into()));
        let runs: Vec<SweepRun> = s.runs().collect();
        assert_eq!(
            runs[7],
            SweepRun {
                index: 7,
                point: 3,
                seed: 3
            }
        );
    }

    #[test]
    fn a_point_plays_the_base_with_its_values() {
        let s = sweep();
        let sc = s.scenario(&s.point(5)).unwrap();
        assert_eq!(sc.hub.buffer.ns(), 30_000_000);
        assert_eq!(sc.ptp.servo, crate::scenario::ServoKind::Linreg);
        assert_eq!(sc.duration.ns(), 2_000_000_000);
        assert_eq!(sc.name(), "studio-4cam");
        s.check_points().unwrap();
    }

    #[test]
    fn an_invalid_point_is_a_located_error() {
        let text = SWEEP.replace("\"pi\", \"linreg\"", "\"pi\", \"kalman\"");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let s = SweepFile::parse(&text, "t.toml", &dir, "t", true).unwrap();
        let e = s.check_points().unwrap_err();
        assert_eq!(e.file, "t.toml");
        assert!(e.message.contains("point 1"), "{e}");
        assert!(e.message.contains("kalman"), "{e}");
    }
}
