//! The report of one run (`camsync run --json` output): its score's headline
//! numbers, and plots of the true PTP offset of every clock, the hub's
//! buffer and added latency, frame-set completeness and late frames, and the
//! faults and alerts on one timeline.

use super::html::{self, escape};
use super::plot::{self, Line, Track};
use super::series::RunSeries;
use serde_json::Value;
use std::collections::BTreeMap;

/// The headline numbers, as dotted keys of the run JSON.
pub const SUMMARY_KEYS: &[&str] = &[
    "scenario",
    "seed",
    "duration_s",
    "trace_hash",
    "ptp.offset_rms_ns",
    "ptp.offset_p99_abs_ns",
    "ptp.offset_max_abs_ns",
    "ptp.time_to_lock_s",
    "ptp.locked_clocks",
    "ptp.alerts",
    "align.frame_sets",
    "align.complete_ratio",
    "align.late_frames",
    "align.misaligned_frame_sets",
    "align.added_latency_p50_ms",
    "align.added_latency_p99_ms",
    "buffer.policy",
    "expect.passed",
];

/// A value of the run JSON by dotted key.
pub fn lookup<'a>(json: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.').try_fold(json, |v, part| v.get(part))
}

const NS_PER_S: f64 = 1e9;

pub fn render(json: &Value) -> Result<String, String> {
    let series: RunSeries = serde_json::from_value(
        json.get("series")
            .cloned()
            .ok_or("the run JSON has no `series`: write it with this camsync's `run --json`")?,
    )
    .map_err(|e| format!("the run JSON's `series` is not readable: {e}"))?;
    let t = &series.timeline;
    let secs = |ns: i64| ns as f64 / NS_PER_S;
    let duration = json
        .get("duration_s")
        .and_then(Value::as_f64)
        .unwrap_or_else(|| series.times_ns.last().map_or(1.0, |&n| secs(n)));

    let offsets: Vec<Line> = series
        .clocks
        .iter()
        .zip(&series.offsets_ns)
        .map(|(clock, o)| Line {
            name: clock.clone(),
            points: series
                .times_ns
                .iter()
                .zip(o)
                .map(|(&t, &v)| (secs(t), v as f64))
                .collect(),
        })
        .collect();
    let offset_svg = plot::log_lines(
        "True PTP offset from the grandmaster, per clock",
        "time (s)",
        "|true offset| (ns)",
        &offsets,
        1.0,
    )?;

    let s = &t.sets;
    let bins: Vec<usize> = (0..s.start_ns.len()).filter(|&i| s.sets[i] > 0).collect();
    let mid = |i: usize| secs(s.start_ns[i] + s.bin_ns / 2);
    let ms = |ns: i64| ns as f64 / 1e6;
    let buffer_lines = vec![
        Line {
            name: "buffer target (ms)".into(),
            points: t
                .buffer
                .times_ns
                .iter()
                .zip(&t.buffer.target_ns)
                .map(|(&x, &y)| (secs(x), ms(y)))
                .collect(),
        },
        Line {
            name: "added latency, bin max (ms)".into(),
            points: bins
                .iter()
                .map(|&i| (mid(i), ms(s.latency_max_ns[i])))
                .collect(),
        },
        Line {
            name: "added latency, bin mean (ms)".into(),
            points: bins
                .iter()
                .map(|&i| (mid(i), ms(s.latency_sum_ns[i]) / s.sets[i] as f64))
                .collect(),
        },
    ];
    let depth = vec![Line {
        name: "frames held".into(),
        points: t
            .buffer
            .times_ns
            .iter()
            .zip(&t.buffer.held_frames)
            .map(|(&x, &y)| (secs(x), y as f64))
            .collect(),
    }];
    let buffer_svg = plot::lines(
        "Hub buffer: release delay, added latency and depth",
        "time (s)",
        ("ms", &buffer_lines),
        Some(("frames held in open sets", &depth)),
    )?;

    let complete = vec![Line {
        name: "complete sets (share of the bin's sets)".into(),
        points: bins
            .iter()
            .map(|&i| (mid(i), s.complete[i] as f64 / s.sets[i] as f64))
            .collect(),
    }];
    let late = vec![Line {
        name: "late frames".into(),
        points: (0..s.start_ns.len())
            .map(|i| (mid(i), s.late_frames[i] as f64))
            .collect(),
    }];
    let sets_svg = plot::lines(
        &format!("Frame-set completeness per {} s", secs(s.bin_ns)),
        "time (s)",
        ("complete share", &complete),
        Some(("late frames per bin", &late)),
    )?;

    let mut tracks: BTreeMap<String, Track> = BTreeMap::new();
    for f in &t.faults {
        let name = match &f.target {
            Some(target) => format!("fault {} ({target})", f.kind),
            None => format!("fault {}", f.kind),
        };
        tracks
            .entry(name.clone())
            .or_insert_with(|| Track {
                name,
                spans: Vec::new(),
                marks: Vec::new(),
            })
            .spans
            .push((secs(f.start_ns), secs(f.end_ns)));
    }
    for a in &t.alerts {
        let name = format!("alert {}", a.kind);
        tracks
            .entry(name.clone())
            .or_insert_with(|| Track {
                name,
                spans: Vec::new(),
                marks: Vec::new(),
            })
            .marks
            .push(secs(a.at_ns));
    }
    let tracks: Vec<Track> = tracks.into_values().collect();
    let timeline_svg = plot::timeline(
        "Faults (spans) and alerts (dots)",
        "time (s)",
        duration,
        &tracks,
    )?;

    let summary: Vec<(String, String)> = SUMMARY_KEYS
        .iter()
        .map(|k| (k.to_string(), html::value_text(lookup(json, k))))
        .collect();
    let per_clock: Vec<Vec<String>> = json
        .pointer("/ptp/per_clock")
        .and_then(Value::as_array)
        .map(|clocks| {
            clocks
                .iter()
                .map(|c| {
                    vec![
                        html::value_text(c.get("clock")),
                        html::value_text(c.get("port_state")),
                        html::value_text(c.get("true_offset_rms_ns")),
                        html::value_text(c.get("locked_at_s")),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    let failures: Vec<String> = json
        .pointer("/expect/failures")
        .and_then(Value::as_array)
        .map(|f| f.iter().filter_map(Value::as_str).map(escape).collect())
        .unwrap_or_default();

    let name = lookup(json, "scenario")
        .and_then(Value::as_str)
        .unwrap_or("run");
    let mut body = String::new();
    body.push_str("<h2>Score</h2>\n");
    body.push_str(&html::key_table(&summary));
    if !failures.is_empty() {
        body.push_str(&format!(
            "<p>Expectations failed:</p><ul><li>{}</li></ul>\n",
            failures.join("</li><li>")
        ));
    }
    body.push_str(&html::table(
        &[
            "clock".into(),
            "port state".into(),
            "true offset rms (ns)".into(),
            "locked at (s)".into(),
        ],
        &per_clock,
    ));
    body.push_str("<h2>Plots</h2>\n");
    body.push_str(&format!(
        "<p class=\"note\">Every sample the run JSON holds is drawn (every {} of the run's samples; {} alerts not listed).</p>\n",
        ordinal(series.stride),
        t.alerts_not_listed
    ));
    body.push_str(&html::figure(
        "offsets",
        &offset_svg,
        "Each disciplined clock's true offset from the grandmaster (the simulator's ground truth), on a log scale; below 1 ns drawn at 1 ns.",
    ));
    body.push_str(&html::figure(
        "buffer",
        &buffer_svg,
        "The release delay the buffer policy asked for, the added latency of the sets released (per bin), and the frames held in open sets.",
    ));
    body.push_str(&html::figure(
        "completeness",
        &sets_svg,
        "The share of each bin's frame sets that were complete, and the frames that arrived too late for their set.",
    ));
    body.push_str(&html::figure(
        "timeline",
        &timeline_svg,
        "Scripted faults as spans, alerts raised for operators as dots.",
    ));
    Ok(html::page(&format!("camsync run report: {name}"), &body))
}

fn ordinal(stride: usize) -> String {
    match stride {
        1 => "one".to_string(),
        n => format!("one in {n}"),
    }
}
