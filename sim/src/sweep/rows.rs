//! Result rows: one per run (a point and a seed), holding the point's
//! parameters, the seed and every score key (dotted, as `[expect]` names
//! them; lists such as the per-clock table are left out).
//!
//! A row is a pure function of its run: no wall clock, host or timing, keys
//! in sorted order, floats as serde_json writes them (shortest round-trip
//! form). So rows are byte-identical whichever machine, thread or shard made
//! them, and a file's rows sorted by (point, seed) are the sweep's result.

use super::points::Point;
use crate::score::Score;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub point: u64,
    pub seed: u64,
    pub params: BTreeMap<String, Value>,
    pub scores: BTreeMap<String, Value>,
}

/// What makes a run the same run: its parameters (as JSON) and its seed.
pub type Identity = (String, u64);

impl Row {
    pub fn new(point: &Point, seed: u64, score: &Score) -> Row {
        let mut scores = BTreeMap::new();
        flatten(&score.to_json(), "", &mut scores);
        Row {
            point: point.index,
            seed,
            params: params_json(point),
            scores,
        }
    }

    /// The JSON Lines line (without the newline).
    pub fn line(&self) -> String {
        serde_json::to_string(self).expect("rows serialise")
    }

    pub fn identity(&self) -> Identity {
        (
            serde_json::to_string(&self.params).expect("params serialise"),
            self.seed,
        )
    }

    /// A score as a number (booleans as 0/1); `None` for null or absent.
    pub fn score(&self, key: &str) -> Option<f64> {
        match self.scores.get(key)? {
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            v => v.as_f64(),
        }
    }
}

/// A point's parameters as the rows hold them.
pub fn params_json(point: &Point) -> BTreeMap<String, Value> {
    point
        .values
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::to_value(v).expect("values serialise"),
            )
        })
        .collect()
}

pub fn identity_of(point: &Point, seed: u64) -> Identity {
    (
        serde_json::to_string(&params_json(point)).expect("params serialise"),
        seed,
    )
}

/// Numbers, texts, booleans and nulls under dotted keys; lists left out.
fn flatten(v: &Value, prefix: &str, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(child, &key, out);
            }
        }
        Value::Array(_) => {}
        scalar => {
            out.insert(prefix.to_string(), scalar.clone());
        }
    }
}

/// A results file's rows, each with its line as written. Lines that do not
/// parse (the last one of a sweep killed mid-write) are counted, not kept.
pub fn read_rows(text: &str) -> (Vec<(Row, String)>, usize) {
    let mut rows = Vec::new();
    let mut bad = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Row>(line) {
            Ok(row) => rows.push((row, line.to_string())),
            Err(_) => bad += 1,
        }
    }
    (rows, bad)
}

/// Sorts rows by (point, seed) and drops exact repeats; two different rows for
/// one run (shards of different sweeps, or of different builds) are an error.
pub fn sort_and_dedupe(mut rows: Vec<(Row, String)>) -> Result<Vec<(Row, String)>, String> {
    rows.sort_by(|a, b| (a.0.point, a.0.seed, &a.1).cmp(&(b.0.point, b.0.seed, &b.1)));
    let mut out: Vec<(Row, String)> = Vec::with_capacity(rows.len());
    for (row, line) in rows {
        if let Some((last, last_line)) = out.last() {
            if last.identity() == row.identity() {
                if *last_line == line {
                    continue;
                }
                return Err(format!(
                    "two different results for point {} seed {}: the outputs come from different sweeps or builds",
                    row.point, row.seed
                ));
            }
            if (last.point, last.seed) == (row.point, row.seed) {
                return Err(format!(
                    "point {} seed {} has different parameters in two outputs: they come from different sweep files",
                    row.point, row.seed
                ));
            }
        }
        out.push((row, line));
    }
    Ok(out)
}

/// JSON Lines: the rows' lines, each ended by a newline.
pub fn to_jsonl(rows: &[(Row, String)]) -> String {
    let mut out = String::new();
    for (_, line) in rows {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// CSV: `point,seed`, then `param.KEY` for each parameter, then every score
/// key any row has (sorted); nulls are empty cells.
pub fn to_csv(rows: &[(Row, String)]) -> String {
    let mut params = std::collections::BTreeSet::new();
    let mut scores = std::collections::BTreeSet::new();
    for (row, _) in rows {
        params.extend(row.params.keys().cloned());
        scores.extend(row.scores.keys().cloned());
    }
    let mut out = String::from("point,seed");
    for p in &params {
        out.push(',');
        out.push_str(&csv_cell(&format!("param.{p}")));
    }
    for s in &scores {
        out.push(',');
        out.push_str(&csv_cell(s));
    }
    out.push('\n');
    for (row, _) in rows {
        out.push_str(&format!("{},{}", row.point, row.seed));
        for p in &params {
            out.push(',');
            out.push_str(&cell(row.params.get(p)));
        }
        for s in &scores {
            out.push(',');
            out.push_str(&cell(row.scores.get(s)));
        }
        out.push('\n');
    }
    out
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => csv_cell(s),
        Some(other) => other.to_string(),
    }
}

/// Quotes a cell holding a comma, a quote or a line break (RFC 4180).
fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::ParamValue;

    fn row(point: u64, seed: u64, late: u64) -> (Row, String) {
        let p = Point {
            index: point,
            values: [(
                "hub.buffer".to_string(),
                ParamValue::Duration(point as i64 * 1_000_000 + 1_000_000),
            )]
            .into(),
        };
        let mut score = Score::default();
        score.align.late_frames = late;
        score.align.added_latency_p99_ms = 0.1 + point as f64 / 3.0;
        let r = Row::new(&p, seed, &score);
        let line = r.line();
        (r, line)
    }

    #[test]
    fn rows_round_trip_exactly() {
        let (r, line) = row(7, 2, 5);
        assert!(
            line.starts_with("{\"point\":7,\"seed\":2,\"params\":{\"hub.buffer\":\"8ms\"}"),
            "{line}"
        );
        let (back, bad) = read_rows(&format!("{line}\n{{\"point\": 3, \"se"));
        assert_eq!(bad, 1);
        assert_eq!(back[0].0, r);
        assert_eq!(back[0].0.line(), line);
        assert_eq!(r.score("align.late_frames"), Some(5.0));
        assert_eq!(r.score("ptp.time_to_lock_s"), None);
    }

    #[test]
    fn merging_sorts_dedupes_and_refuses_conflicts() {
        let rows = vec![row(2, 1, 0), row(1, 1, 0), row(2, 1, 0), row(1, 0, 0)];
        let merged = sort_and_dedupe(rows).unwrap();
        let order: Vec<(u64, u64)> = merged.iter().map(|(r, _)| (r.point, r.seed)).collect();
        assert_eq!(order, vec![(1, 0), (1, 1), (2, 1)]);
        assert!(sort_and_dedupe(vec![row(1, 1, 0), row(1, 1, 3)]).is_err());
    }

    #[test]
    fn csv_has_a_column_per_parameter_and_score() {
        let csv = to_csv(&[row(1, 0, 4)]);
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(&header[..3], &["point", "seed", "param.hub.buffer"]);
        let values: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(header.len(), values.len());
        let late = header
            .iter()
            .position(|h| *h == "align.late_frames")
            .unwrap();
        assert_eq!(values[late], "4");
        let lock = header
            .iter()
            .position(|h| *h == "ptp.time_to_lock_s")
            .unwrap();
        assert_eq!(values[lock], "");
    }
}
