//! Runs a scenario's `[visual]` tier. Every camera captures on its rate's
//! grid (its stamps, PTP-locked) but truly `offset` later — a sensor or
//! genlock phase error PTP cannot see; the estimator must find each
//! camera's offset from the reference camera's from the pictures alone.

use super::rig::Rig;
use super::slips::{schedule, slipped_by, tally};
use crate::rng::Seeds;
use crate::scenario::Scenario;
use crate::score::{VisualScore, quantile, rms};
use camsync_engine::time::Time;
use camsync_engine::visual::{
    Brightness, FeatureExtractor, LumaFrame, VisualConfig, VisualEstimator,
};
use rand::RngExt;

/// `cpu_ns` reads the thread's CPU time (the CLI passes the OS's; tests a
/// constant), so that the cost figure never reaches a deterministic output.
pub fn run_visual(
    scenario: &Scenario,
    seed: u64,
    cpu_ns: &mut dyn FnMut() -> u64,
) -> Option<VisualScore> {
    let spec = scenario.visual.as_ref()?;
    // Cameras steered from the pictures: the world runs the loop itself.
    if scenario.steered_by_pictures().contains(&true) {
        return None;
    }
    let seeds = Seeds::new(seed);
    let duration = scenario.duration.ns();
    let rates: Vec<_> = scenario
        .cameras
        .iter()
        .flat_map(|g| std::iter::repeat_n(g.rate.0, g.count as usize))
        .collect();
    let [w, h] = spec.resolution;
    let Rig {
        scene,
        mut views,
        offsets,
    } = Rig::new(spec, &seeds, rates.len(), duration);
    // Per camera, its drift (ppm) — a stream of its own, so that drift
    // leaves every other draw as it was.
    let drifts: Vec<f64> = (0..rates.len())
        .map(|c| {
            let max = spec.drift_ppm.0;
            if c == 0 || max == 0.0 {
                0.0
            } else {
                seeds
                    .stream(&format!("visual/drift/cam{c}"))
                    .random_range(-max..=max)
            }
        })
        .collect();
    let slips = match &spec.slips {
        Some(slip_spec) => schedule(slip_spec, &seeds, &rates, duration),
        None => vec![Vec::new(); rates.len()],
    };
    for s in slips.iter().flatten() {
        tracing::debug!(
            camera = s.camera,
            from = s.from,
            frames = s.frames,
            "visual slip made"
        );
    }
    let periods: Vec<f64> = rates
        .iter()
        .map(|r| 1e9 * r.den() as f64 / r.num() as f64)
        .collect();
    // The true offset of camera c at stamp s (ns), counting the slips made
    // by stamp `slipped`.
    let offset_at = |offsets: &[i64], c: usize, s: i64, slipped: i64| {
        offsets[c] as f64
            + drifts[c] * 1e-6 * s as f64
            + slipped_by(&slips[c], slipped) as f64 * periods[c]
    };
    let extractors: Vec<Box<dyn FeatureExtractor + Send>> = rates
        .iter()
        .map(|_| Box::new(Brightness) as Box<dyn FeatureExtractor + Send>)
        .collect();
    let mut config = VisualConfig::new(rates.len());
    config.readout = vec![spec.readout.0; rates.len()];
    // An estimate stands for its window: its truth is the offset midway.
    let half_window = config.window.0 / 2;
    let mut estimator = VisualEstimator::new(config, extractors);
    let mut drift_errors = Vec::new();
    let mut next: Vec<i64> = vec![0; rates.len()];
    let mut errors_ms = Vec::new();
    let (mut estimates, mut abstained) = (0u64, 0u64);
    let (mut cpu, mut frames) = (0u64, 0u64);
    let mut alerts = Vec::new();
    // Frames in stamp order: the camera whose next stamp comes first.
    while let Some(c) = (0..rates.len())
        .filter(|&c| rates[c].frame_time(next[c]).0 < duration)
        .min_by_key(|&c| (rates[c].frame_time(next[c]).0, c))
    {
        let stamp = rates[c].frame_time(next[c]).0;
        next[c] += 1;
        let truly = (stamp as f64 + offset_at(&offsets, c, stamp, stamp)) / 1e9;
        let pixels = views[c].capture(&scene, truly);
        let frame = LumaFrame {
            width: w as usize,
            height: h as usize,
            pixels: &pixels,
        };
        let before = cpu_ns();
        let out = estimator.push_frame(c, Time(stamp), &frame);
        cpu += cpu_ns().saturating_sub(before);
        frames += 1;
        for e in out {
            estimates += 1;
            match e.offset_ns {
                Some(o) => {
                    // A slip found re-stamps the window: the estimate speaks
                    // of the slips made by its time.
                    let mid = e.at.0 - half_window;
                    let truth = offset_at(&offsets, e.camera, mid, e.at.0)
                        - offset_at(&offsets, 0, mid, e.at.0);
                    if let Some(d) = e.drift_ppm {
                        drift_errors.push((d - (drifts[e.camera] - drifts[0])).abs());
                    }
                    errors_ms.push((o - truth).abs() / 1e6);
                    tracing::trace!(
                        camera = e.camera,
                        at = e.at.0,
                        truth_ms = truth / 1e6,
                        estimate_ms = o / 1e6,
                        pairs = e.pairs,
                        flashes = e.flashes,
                        sigma_ms = e.uncertainty_ns / 1e6,
                        "visual estimate"
                    );
                }
                None => abstained += 1,
            }
        }
        for a in estimator.take_alerts() {
            tracing::debug!(camera = a.camera, at = a.at.0, kind = ?a.kind, confidence = a.confidence, "visual alert");
            alerts.push(a);
        }
    }
    let slip_tally = tally(&slips, &alerts, rates[0]);
    let watched_hours = (rates.len().saturating_sub(1)) as f64 * duration as f64 / 3.6e12;
    errors_ms.sort_by(f64::total_cmp);
    drift_errors.sort_by(f64::total_cmp);
    Some(VisualScore {
        estimates,
        offset_err_median_ms: (!errors_ms.is_empty()).then(|| quantile(&errors_ms, 0.5)),
        offset_err_p95_ms: (!errors_ms.is_empty()).then(|| quantile(&errors_ms, 0.95)),
        offset_err_rms_ms: rms(&errors_ms),
        abstain_ratio: if estimates > 0 {
            abstained as f64 / estimates as f64
        } else {
            1.0
        },
        drift_err_median_ppm: (!drift_errors.is_empty()).then(|| quantile(&drift_errors, 0.5)),
        slip_recall: (slip_tally.made > 0)
            .then(|| slip_tally.found as f64 / slip_tally.made as f64),
        slips_late: slip_tally.late,
        corrections: 0,
        false_alarms_per_cam_hour: (watched_hours > 0.0)
            .then(|| slip_tally.false_alarms as f64 / watched_hours),
        cpu_ms_per_cam_frame: (frames > 0).then(|| cpu as f64 / 1e6 / frames as f64),
        ..VisualScore::default()
    })
}
