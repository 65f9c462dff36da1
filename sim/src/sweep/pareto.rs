//! The trade-off between two objectives: each point's mean over its seeds,
//! the Pareto front (the points no other point beats on both), the
//! recommended setting, and each parameter's marginal effect.
//!
//! The recommended setting: with a `target` in the sweep's objectives, the
//! point meeting it (mean over seeds) that is best on the front's first
//! objective (ties: the second, then the lower point); without a target, or
//! when no point meets it, the knee of the front — the front point nearest
//! the ideal corner once both objectives are scaled to [0, 1] over the front.

use super::file::{Objective, Target};
use super::rows::Row;
use crate::units::parse_duration;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub struct PointSummary {
    pub point: u64,
    pub params: BTreeMap<String, Value>,
    pub seeds: usize,
    /// Per objective key, the mean over the point's seeds; absent when a
    /// seed has no value (a clock that never locked has no lock time).
    pub means: BTreeMap<String, f64>,
}

impl PointSummary {
    /// The objective oriented so that lower is better.
    pub fn cost(&self, o: &Objective) -> Option<f64> {
        self.means
            .get(&o.key)
            .map(|v| if o.maximise { -v } else { *v })
    }
}

/// Groups rows by point (rows sorted by point, as results files are).
pub fn summarise(rows: &[Row], keys: &[String]) -> Vec<PointSummary> {
    let mut by_point: BTreeMap<u64, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        by_point.entry(r.point).or_default().push(r);
    }
    by_point
        .into_iter()
        .map(|(point, runs)| {
            let mut means = BTreeMap::new();
            for k in keys {
                let values: Option<Vec<f64>> = runs.iter().map(|r| r.score(k)).collect();
                if let Some(v) = values.filter(|v| !v.is_empty()) {
                    means.insert(k.clone(), v.iter().sum::<f64>() / v.len() as f64);
                }
            }
            PointSummary {
                point,
                params: runs[0].params.clone(),
                seeds: runs.len(),
                means,
            }
        })
        .collect()
}

/// Indices (into `points`) of the Pareto front of `x` and `y`, by rising
/// `x`. A point with the same pair as a front point already taken is left
/// off (it is equal, not better); points missing either value are not
/// candidates.
pub fn front(points: &[PointSummary], x: &Objective, y: &Objective) -> Vec<usize> {
    let mut candidates: Vec<(f64, f64, u64, usize)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((p.cost(x)?, p.cost(y)?, p.point, i)))
        .collect();
    candidates.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(a.2.cmp(&b.2))
    });
    let mut out = Vec::new();
    let mut best_y = f64::INFINITY;
    for (_, cy, _, i) in candidates {
        if cy < best_y {
            best_y = cy;
            out.push(i);
        }
    }
    out
}

/// Why the recommended point was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Best first objective among the points meeting the target.
    MeetsTarget,
    /// No target (or none met it): the knee of the front.
    Knee,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recommendation {
    /// Index into the summaries.
    pub index: usize,
    pub reason: Reason,
}

pub fn recommend(
    points: &[PointSummary],
    pareto: &[Objective; 2],
    target: Option<&Target>,
) -> Option<Recommendation> {
    let [x, y] = pareto;
    if let Some(t) = target {
        let best = points
            .iter()
            .enumerate()
            .filter(|(_, p)| p.means.get(&t.key).is_some_and(|v| t.holds(*v)))
            .filter_map(|(i, p)| Some((p.cost(x)?, p.cost(y)?, p.point, i)))
            .min_by(|a, b| {
                a.0.total_cmp(&b.0)
                    .then(a.1.total_cmp(&b.1))
                    .then(a.2.cmp(&b.2))
            });
        if let Some((.., i)) = best {
            return Some(Recommendation {
                index: i,
                reason: Reason::MeetsTarget,
            });
        }
    }
    let f = front(points, x, y);
    let xs: Vec<f64> = f.iter().filter_map(|&i| points[i].cost(x)).collect();
    let ys: Vec<f64> = f.iter().filter_map(|&i| points[i].cost(y)).collect();
    let scale = |v: f64, all: &[f64]| {
        let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if hi > lo { (v - lo) / (hi - lo) } else { 0.0 }
    };
    f.iter()
        .enumerate()
        .map(|(k, &i)| {
            let d = scale(xs[k], &xs).powi(2) + scale(ys[k], &ys).powi(2);
            (d, points[i].point, i)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
        .map(|(.., i)| Recommendation {
            index: i,
            reason: Reason::Knee,
        })
}

/// One level of a parameter and the objective's mean over the points there.
#[derive(Clone, Debug, PartialEq)]
pub struct Level {
    pub value: Value,
    /// The value on a numeric axis (durations in ms); `None` for texts.
    pub numeric: Option<f64>,
    pub mean: f64,
    pub points: usize,
}

/// A parameter's marginal effect on an objective: the objective's mean at
/// each of the parameter's values, over every point with that value.
pub fn sensitivity(points: &[PointSummary], param: &str, objective: &str) -> Vec<Level> {
    let mut groups: BTreeMap<String, (Value, Vec<f64>)> = BTreeMap::new();
    for p in points {
        let (Some(v), Some(m)) = (p.params.get(param), p.means.get(objective)) else {
            continue;
        };
        groups
            .entry(v.to_string())
            .or_insert_with(|| (v.clone(), Vec::new()))
            .1
            .push(*m);
    }
    let mut levels: Vec<Level> = groups
        .into_values()
        .map(|(value, ms)| Level {
            numeric: numeric(&value),
            mean: ms.iter().sum::<f64>() / ms.len() as f64,
            points: ms.len(),
            value,
        })
        .collect();
    levels.sort_by(|a, b| match (a.numeric, b.numeric) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => a.value.to_string().cmp(&b.value.to_string()),
    });
    levels
}

/// A parameter value on a numeric axis: numbers as they are, durations in
/// milliseconds, booleans as 0/1; texts have none.
pub fn numeric(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => parse_duration(s).ok().map(|d| d.0 as f64 / 1e6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(key: &str) -> Objective {
        Objective {
            key: key.into(),
            maximise: false,
        }
    }

    fn summary(point: u64, x: f64, y: f64) -> PointSummary {
        PointSummary {
            point,
            params: [("p".to_string(), Value::from(point))].into(),
            seeds: 1,
            means: [("x".to_string(), x), ("y".to_string(), y)].into(),
        }
    }

    fn dominates(a: &PointSummary, b: &PointSummary) -> bool {
        let (ax, ay, bx, by) = (a.means["x"], a.means["y"], b.means["x"], b.means["y"]);
        ax <= bx && ay <= by && (ax < bx || ay < by)
    }

    #[test]
    fn the_front_is_non_dominated_and_dominates_the_rest() {
        // A pseudo-random cloud (a fixed LCG: no dependence on the rng crate).
        let mut s = 12345u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f64 / (1u64 << 24) as f64
        };
        let pts: Vec<PointSummary> = (0..300).map(|i| summary(i, next(), next())).collect();
        let f = front(&pts, &o("x"), &o("y"));
        assert!(f.len() >= 3);
        for &i in &f {
            assert!(pts.iter().all(|q| !dominates(q, &pts[i])));
        }
        for (j, p) in pts.iter().enumerate() {
            if !f.contains(&j) {
                assert!(
                    f.iter()
                        .any(|&i| dominates(&pts[i], p) || pts[i].means == p.means)
                );
            }
        }
    }

    #[test]
    fn the_recommendation_meets_the_target_else_takes_the_knee() {
        let pts = vec![
            summary(0, 1.0, 10.0),
            summary(1, 2.0, 2.0),
            summary(2, 3.0, 0.0),
            summary(3, 10.0, 0.0),
        ];
        let pareto = [o("x"), o("y")];
        let target = Target {
            key: "y".into(),
            max: Some(0.0),
            min: None,
        };
        let r = recommend(&pts, &pareto, Some(&target)).unwrap();
        assert_eq!((r.index, r.reason), (2, Reason::MeetsTarget));
        let knee = recommend(&pts, &pareto, None).unwrap();
        assert_eq!((knee.index, knee.reason), (1, Reason::Knee));
        let impossible = Target {
            max: Some(-1.0),
            ..target
        };
        assert_eq!(
            recommend(&pts, &pareto, Some(&impossible)).unwrap().reason,
            Reason::Knee
        );
    }

    #[test]
    fn maximised_objectives_turn_the_front_around() {
        let pts = vec![summary(0, 1.0, 1.0), summary(1, 2.0, 2.0)];
        let f = front(
            &pts,
            &o("x"),
            &Objective {
                key: "y".into(),
                maximise: true,
            },
        );
        assert_eq!(f, vec![0, 1]);
    }

    #[test]
    fn sensitivity_averages_over_each_level() {
        let mut pts = vec![
            summary(0, 1.0, 0.0),
            summary(1, 3.0, 0.0),
            summary(2, 5.0, 0.0),
        ];
        pts[0].params.insert("b".into(), Value::from("10ms"));
        pts[1].params.insert("b".into(), Value::from("10ms"));
        pts[2].params.insert("b".into(), Value::from("5ms"));
        let levels = sensitivity(&pts, "b", "x");
        assert_eq!(levels.len(), 2);
        assert_eq!((levels[0].numeric, levels[0].mean), (Some(5.0), 5.0));
        assert_eq!(
            (levels[1].numeric, levels[1].mean, levels[1].points),
            (Some(10.0), 2.0, 2)
        );
    }
}
