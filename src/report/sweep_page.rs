//! The report of a sweep (its output directory): the Pareto front of the
//! two objectives the sweep file names, the recommended setting (defined in
//! `camsync_sim::sweep::pareto`), and each parameter's marginal effect on the
//! two objectives.

use super::html::{self, escape};
use super::plot::{self, Front, Line};
use camsync_sim::sweep::pareto::{self, Reason};
use camsync_sim::sweep::values::round_significant;
use camsync_sim::sweep::{Row, SweepFile};

pub fn render(sweep: &SweepFile, rows: &[Row]) -> Result<String, String> {
    let objectives = sweep.objectives();
    let keys: Vec<String> = objectives.iter().map(|o| o.key.clone()).collect();
    let points = pareto::summarise(rows, &keys);
    let [x, y] = &sweep.pareto;
    let front = pareto::front(&points, x, y);
    let rec = pareto::recommend(&points, &sweep.pareto, sweep.target.as_ref());
    let setting = |i: usize| -> String {
        points[i]
            .params
            .iter()
            .map(|(k, v)| format!("{k} = {}", html::value_text(Some(v))))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let pair = |i: usize| -> Option<(f64, f64)> {
        Some((*points[i].means.get(&x.key)?, *points[i].means.get(&y.key)?))
    };

    let mut body = String::new();
    let seeds: std::collections::BTreeSet<u64> = rows.iter().map(|r| r.seed).collect();
    body.push_str(&format!(
        "<p>{} runs: {} points, {} seed(s) ({}). Objectives are means over each point's seeds.</p>\n",
        rows.len(),
        points.len(),
        seeds.len(),
        seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    ));

    body.push_str("<h2>Recommended setting</h2>\n");
    match rec {
        Some(r) => {
            let p = &points[r.index];
            let why = match (r.reason, &sweep.target) {
                (Reason::MeetsTarget, Some(t)) => format!(
                    "the lowest {} among the points whose mean {} is{}{}",
                    x.label(),
                    t.key,
                    t.max.map(|m| format!(" ≤ {m}")).unwrap_or_default(),
                    t.min.map(|m| format!(" ≥ {m}")).unwrap_or_default()
                ),
                (_, Some(_)) => "no point meets the target: the knee of the front (nearest the ideal corner, both objectives scaled over the front)".into(),
                _ => "the knee of the front (nearest the ideal corner, both objectives scaled over the front)".into(),
            };
            body.push_str(&format!(
                "<p id=\"recommended\">Point {}: <strong>{}</strong> — {}.</p>\n",
                p.point,
                escape(&setting(r.index)),
                escape(&why)
            ));
            let mut table: Vec<(String, String)> = vec![("point".into(), p.point.to_string())];
            for (k, v) in &p.params {
                table.push((format!("param.{k}"), html::value_text(Some(v))));
            }
            for k in &keys {
                let v = p.means.get(k).map_or("–".to_string(), |v| format!("{v}"));
                table.push((k.clone(), v));
            }
            body.push_str(&html::key_table(&table));
        }
        None => body.push_str("<p>No point has both objectives: nothing to recommend.</p>\n"),
    }

    let all: Vec<(f64, f64)> = (0..points.len()).filter_map(pair).collect();
    let front_xy: Vec<(f64, f64)> = front.iter().filter_map(|&i| pair(i)).collect();
    let front_svg = plot::front(&Front {
        title: &format!("Pareto front: {} against {}", x.label(), y.label()),
        x_desc: &x.label(),
        y_desc: &y.label(),
        all,
        front: front_xy,
        chosen: rec.and_then(|r| Some((pair(r.index)?, setting(r.index)))),
    })?;
    body.push_str("<h2>Trade-off</h2>\n");
    body.push_str(&html::figure(
        "pareto",
        &front_svg,
        "Every point (grey), the points no other point beats on both objectives (blue, joined), and the recommended setting (red ring).",
    ));
    let mut header = vec!["point".to_string()];
    header.extend(sweep.params.iter().map(|p| p.key.clone()));
    header.push(x.label());
    header.push(y.label());
    let front_rows: Vec<Vec<String>> = front
        .iter()
        .map(|&i| {
            let p = &points[i];
            let mut r = vec![p.point.to_string()];
            r.extend(
                sweep
                    .params
                    .iter()
                    .map(|k| html::value_text(p.params.get(&k.key))),
            );
            r.push(p.means.get(&x.key).map_or("–".into(), |v| format!("{v}")));
            r.push(p.means.get(&y.key).map_or("–".into(), |v| format!("{v}")));
            r
        })
        .collect();
    body.push_str("<p>The front, by rising first objective:</p>\n");
    body.push_str(&html::table(&header, &front_rows));

    body.push_str("<h2>Parameter sensitivity</h2>\n<p class=\"note\">Each objective's mean over all the points where the parameter has that value (durations in ms; the tables' means to five significant digits).</p>\n");
    for p in &sweep.params {
        let lx = pareto::sensitivity(&points, &p.key, &x.key);
        let numeric = lx.iter().all(|l| l.numeric.is_some());
        let at = |i: usize, l: &pareto::Level| l.numeric.unwrap_or(i as f64);
        // Every objective as its change from its mean over the whole sweep,
        // so objectives in different units share one axis (an objective
        // whose sweep mean is 0 has no such change and is left out).
        let lines: Vec<Line> = objectives
            .iter()
            .filter_map(|o| {
                let all: Vec<f64> = points
                    .iter()
                    .filter_map(|q| q.means.get(&o.key))
                    .copied()
                    .collect();
                let mean = all.iter().sum::<f64>() / all.len().max(1) as f64;
                (mean != 0.0 && mean.is_finite()).then(|| Line {
                    name: o.key.clone(),
                    points: pareto::sensitivity(&points, &p.key, &o.key)
                        .iter()
                        .enumerate()
                        .map(|(i, l)| (at(i, l), 100.0 * (l.mean / mean - 1.0)))
                        .collect(),
                })
            })
            .collect();
        let x_desc = if numeric {
            p.key.clone()
        } else {
            let names: Vec<String> = lx
                .iter()
                .enumerate()
                .map(|(i, l)| format!("{i} = {}", html::value_text(Some(&l.value))))
                .collect();
            format!("{} ({})", p.key, names.join(", "))
        };
        let svg = plot::lines(
            &format!("{}: effect on the objectives", p.key),
            &x_desc,
            ("change from the sweep's mean (%)", &lines),
            None,
        )?;
        body.push_str(&html::figure(
            &format!("sensitivity-{}", p.key),
            &svg,
            &format!(
                "Each objective's mean at each value of {} (over the other parameters), as a change from its mean over the whole sweep.",
                p.key
            ),
        ));
        // Every objective, by level of this parameter.
        let per_objective: Vec<Vec<pareto::Level>> = keys
            .iter()
            .map(|k| pareto::sensitivity(&points, &p.key, k))
            .collect();
        let mut header = vec![p.key.clone(), "points".to_string()];
        header.extend(keys.iter().cloned());
        let table_rows: Vec<Vec<String>> = lx
            .iter()
            .map(|level| {
                let mut r = vec![
                    html::value_text(Some(&level.value)),
                    level.points.to_string(),
                ];
                r.extend(per_objective.iter().map(|levels| {
                    levels
                        .iter()
                        .find(|l| l.value == level.value)
                        .map_or("–".to_string(), |l| {
                            format!("{}", round_significant(l.mean, 5))
                        })
                }));
                r
            })
            .collect();
        body.push_str(&html::table(&header, &table_rows));
    }
    Ok(html::page(
        &format!("camsync sweep report: {}", sweep.name),
        &body,
    ))
}
