//! The sweep file (TOML):
//!
//! ```toml
//! base = "../buffer/gauss.toml"   # the scenario every point starts from
//! seed = 7                        # random parameters draw from this seed
//! seeds = 2                       # per point: the base's seed and the next; or a list [41, 42]
//!
//! [set]                           # fixed changes to the base, as in a scenario file
//! duration = "10s"
//! hub.policy = "fixed"
//!
//! [[param]]
//! key = "hub.buffer"
//! log = { from = "5ms", to = "80ms", steps = 8 }      # or linear = { … }
//! [[param]]
//! key = "ptp.pi_kp_scale"
//! values = [0.25, 0.5, 1.0]
//! [[param]]
//! key = "ptp.pi_ki_scale"
//! random = { from = 0.1, to = 10.0, count = 4, log = true }
//!
//! [objectives]
//! pareto = ["align.added_latency_p99_ms", "align.late_frames"]   # "max:key" to maximise
//! target = { key = "align.late_frames", max = 0 }
//! report = ["ptp.offset_rms_ns", "ptp.alerts"]
//! ```
//!
//! A mistake is reported as `file:line:col: message`, as scenario files do.

use super::values::{Bound, ParamValue, ValueSpec};
use crate::rng::Seeds;
use crate::scenario::{Scenario, ScenarioError, locate};
use crate::score::Score;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A sweep problem, located in its file (the scenario files' error type).
pub type SweepError = ScenarioError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    base: Spanned<String>,
    name: Option<String>,
    #[serde(default)]
    seed: u64,
    seeds: Option<Spanned<RawSeeds>>,
    #[serde(default)]
    set: toml::Table,
    #[serde(default, rename = "param")]
    params: Vec<RawParam>,
    objectives: Spanned<RawObjectives>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawSeeds {
    Count(u64),
    List(Vec<u64>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    key: Spanned<String>,
    values: Option<Vec<toml::Value>>,
    linear: Option<RawRange>,
    log: Option<RawRange>,
    random: Option<RawRandom>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    from: toml::Value,
    to: toml::Value,
    steps: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRandom {
    from: toml::Value,
    to: toml::Value,
    count: u32,
    #[serde(default)]
    log: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObjectives {
    pareto: Vec<Spanned<String>>,
    target: Option<Spanned<RawTarget>>,
    #[serde(default)]
    report: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    key: String,
    max: Option<f64>,
    min: Option<f64>,
}

/// A score key to report, and whether more is better.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Objective {
    pub key: String,
    pub maximise: bool,
}

impl Objective {
    /// "key" is minimised, "max:key" maximised.
    fn parse(text: &str) -> Objective {
        match text.strip_prefix("max:") {
            Some(key) => Objective {
                key: key.trim().to_string(),
                maximise: true,
            },
            None => Objective {
                key: text.trim().to_string(),
                maximise: false,
            },
        }
    }

    /// "max:key" or "key", as written.
    pub fn label(&self) -> String {
        if self.maximise {
            format!("max:{}", self.key)
        } else {
            self.key.clone()
        }
    }
}

/// The bound the recommended setting must meet (mean over its seeds).
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub key: String,
    pub max: Option<f64>,
    pub min: Option<f64>,
}

impl Target {
    pub fn holds(&self, value: f64) -> bool {
        self.max.is_none_or(|m| value <= m) && self.min.is_none_or(|m| value >= m)
    }
}

/// One varied parameter: its dotted key in the scenario and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub key: String,
    pub values: Vec<ParamValue>,
}

#[derive(Clone, Debug)]
pub struct SweepFile {
    pub name: String,
    /// The file as written (kept beside the results, so a report or a merge
    /// knows the objectives without the base scenario).
    pub text: String,
    pub path: String,
    pub base_path: PathBuf,
    /// The base scenario with `[set]` applied.
    pub base: toml::Table,
    pub params: Vec<Param>,
    /// Sorted, without repeats: a run's place is (point, seed).
    pub seeds: Vec<u64>,
    /// Two objectives for the front; the recommendation minimises the first.
    pub pareto: [Objective; 2],
    pub target: Option<Target>,
    pub report: Vec<Objective>,
}

impl SweepFile {
    pub fn from_file(path: &Path) -> Result<SweepFile, SweepError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| unreadable(&display, e))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let stem = path
            .file_stem()
            .map_or("sweep".to_string(), |s| s.to_string_lossy().into_owned());
        Self::parse(&text, &display, dir, &stem, true)
    }

    /// Parses the sweep; with `load_base`, reads the base scenario (relative
    /// to `dir`) and expands the parameters. Without it (a report or a merge
    /// reading the copy kept with the results), only the objectives and the
    /// parameter keys are known.
    pub fn parse(
        text: &str,
        file: &str,
        dir: &Path,
        stem: &str,
        load_base: bool,
    ) -> Result<SweepFile, SweepError> {
        let at = |offset: usize, message: String| locate(text, file, offset, message);
        let raw: RawSweep = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            at(span.start, e.message().trim().to_string())
        })?;

        let pareto_keys = raw.objectives.get_ref();
        if pareto_keys.pareto.len() != 2 {
            return Err(at(
                raw.objectives.span().start,
                format!(
                    "`pareto` names two objectives (the axes of the front), not {}",
                    pareto_keys.pareto.len()
                ),
            ));
        }
        let mut check_key = |key: &Spanned<String>| -> Result<Objective, SweepError> {
            let o = Objective::parse(key.get_ref());
            if Score::known_key(&o.key) {
                Ok(o)
            } else {
                Err(at(
                    key.span().start,
                    format!(
                        "`{}` is not a numeric score key (e.g. align.late_frames)",
                        o.key
                    ),
                ))
            }
        };
        let pareto = [
            check_key(&pareto_keys.pareto[0])?,
            check_key(&pareto_keys.pareto[1])?,
        ];
        let report = pareto_keys
            .report
            .iter()
            .map(&mut check_key)
            .collect::<Result<Vec<_>, _>>()?;
        let target = match &pareto_keys.target {
            None => None,
            Some(t) => {
                let r = t.get_ref();
                if !Score::known_key(&r.key) {
                    return Err(at(
                        t.span().start,
                        format!("`{}` is not a numeric score key", r.key),
                    ));
                }
                if r.max.is_none() && r.min.is_none() {
                    return Err(at(t.span().start, "a target needs `max` or `min`".into()));
                }
                Some(Target {
                    key: r.key.clone(),
                    max: r.max,
                    min: r.min,
                })
            }
        };

        let mut keys = std::collections::BTreeSet::new();
        let mut params = Vec::new();
        for p in &raw.params {
            let key = p.key.get_ref().trim().to_string();
            let here = p.key.span().start;
            if key.is_empty() || key.split('.').any(str::is_empty) {
                return Err(at(here, format!("`{key}` is not a dotted scenario key")));
            }
            if !keys.insert(key.clone()) {
                return Err(at(here, format!("`{key}` is varied twice")));
            }
            let spec = value_spec(p).map_err(|m| at(here, format!("{key}: {m}")))?;
            spec.check().map_err(|m| at(here, format!("{key}: {m}")))?;
            let mut rng = Seeds::new(raw.seed).stream(&format!("sweep/{key}"));
            params.push(Param {
                values: spec.values(&mut rng),
                key,
            });
        }

        let base_path = dir.join(raw.base.get_ref());
        let mut base = toml::Table::new();
        let mut seeds = Vec::new();
        if load_base {
            let base_display = base_path.display().to_string();
            let base_text = std::fs::read_to_string(&base_path).map_err(|e| SweepError {
                message: format!("base scenario {base_display}: cannot read: {e}"),
                ..at(raw.base.span().start, String::new())
            })?;
            // The base must be a valid scenario by itself: its own errors
            // point into its own file.
            Scenario::parse(&base_text, &base_display, &Score::known_key)?;
            base = toml::from_str(&base_text)
                .map_err(|e| locate(&base_text, &base_display, 0, e.message().to_string()))?;
            if !base.contains_key("name") {
                let stem = base_path
                    .file_stem()
                    .map_or("base".to_string(), |s| s.to_string_lossy().into_owned());
                base.insert("name".into(), toml::Value::String(stem));
            }
            merge(&mut base, &raw.set);
            let base_seed = base
                .get("seed")
                .and_then(toml::Value::as_integer)
                .unwrap_or(0);
            seeds = match raw.seeds.as_ref().map(Spanned::get_ref) {
                None => vec![base_seed as u64],
                Some(RawSeeds::Count(n)) => (0..*n).map(|k| base_seed as u64 + k).collect(),
                Some(RawSeeds::List(list)) => list.clone(),
            };
            seeds.sort_unstable();
            seeds.dedup();
            if seeds.is_empty() {
                let offset = raw.seeds.as_ref().map_or(0, |s| s.span().start);
                return Err(at(
                    offset,
                    "a sweep needs at least one seed per point".into(),
                ));
            }
        }
        Ok(SweepFile {
            name: raw.name.clone().unwrap_or_else(|| stem.to_string()),
            text: text.to_string(),
            path: file.to_string(),
            base_path,
            base,
            params,
            seeds,
            pareto,
            target,
            report,
        })
    }

    /// Every objective, the front's first, without repeats.
    pub fn objectives(&self) -> Vec<Objective> {
        let mut all: Vec<Objective> = self.pareto.to_vec();
        if let Some(t) = &self.target {
            all.push(Objective {
                key: t.key.clone(),
                maximise: false,
            });
        }
        all.extend(self.report.iter().cloned());
        let mut seen = std::collections::BTreeSet::new();
        all.retain(|o| seen.insert(o.key.clone()));
        all
    }
}

fn unreadable(file: &str, e: std::io::Error) -> SweepError {
    SweepError {
        file: file.to_string(),
        line: 0,
        column: 0,
        field: None,
        message: format!("cannot read: {e}"),
    }
}

fn value_spec(p: &RawParam) -> Result<ValueSpec, String> {
    let given = [
        p.values.is_some(),
        p.linear.is_some(),
        p.log.is_some(),
        p.random.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err("give exactly one of `values`, `linear`, `log` or `random`".into());
    }
    if let Some(v) = &p.values {
        return v
            .iter()
            .map(ParamValue::from_toml)
            .collect::<Result<_, _>>()
            .map(ValueSpec::List);
    }
    if let Some(r) = &p.linear {
        return Ok(ValueSpec::Linear {
            from: Bound::from_toml(&r.from)?,
            to: Bound::from_toml(&r.to)?,
            steps: r.steps,
        });
    }
    if let Some(r) = &p.log {
        return Ok(ValueSpec::Log {
            from: Bound::from_toml(&r.from)?,
            to: Bound::from_toml(&r.to)?,
            steps: r.steps,
        });
    }
    let r = p.random.as_ref().expect("one spec given");
    Ok(ValueSpec::Random {
        from: Bound::from_toml(&r.from)?,
        to: Bound::from_toml(&r.to)?,
        count: r.count,
        log: r.log,
    })
}

/// Deep-merges `over` into `base`: tables merge, anything else replaces.
fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SweepFile, SweepError> {
        SweepFile::parse(text, "s.toml", Path::new("."), "s", false)
    }

    const OBJ: &str =
        "[objectives]\npareto = [\"align.added_latency_p99_ms\", \"align.late_frames\"]\n";

    #[test]
    fn errors_name_line_and_column() {
        let e = parse(&format!("base = \"b.toml\"\n[[param]]\nkey = \"hub.buffer\"\nlog = {{ from = \"5ms\", to = 3, steps = 2 }}\n{OBJ}")).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("s.toml", 3), "{e}");
        assert!(e.message.contains("both"), "{e}");

        let e = parse(
            "base = \"b.toml\"\n[objectives]\npareto = [\"align.late\", \"align.late_frames\"]\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (3, 11), "{e}");

        let e = parse(&format!("base = 3\n{OBJ}")).unwrap_err();
        assert_eq!(e.line, 1, "{e}");

        let e = parse(&format!("base = \"b\"\nbogus = 1\n{OBJ}")).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn objectives_parse_with_their_direction() {
        let s = parse(
            "base = \"b\"\n[objectives]\npareto = [\"align.added_latency_p99_ms\", \"max:align.complete_ratio\"]\nreport = [\"ptp.alerts\", \"align.added_latency_p99_ms\"]\n",
        )
        .unwrap();
        assert!(!s.pareto[0].maximise);
        assert!(s.pareto[1].maximise);
        let keys: Vec<String> = s.objectives().into_iter().map(|o| o.key).collect();
        assert_eq!(
            keys,
            [
                "align.added_latency_p99_ms",
                "align.complete_ratio",
                "ptp.alerts"
            ]
        );
    }
}
