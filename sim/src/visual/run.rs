//! Runs a scenario's `[visual]` tier. Every camera captures on its rate's
//! grid (its stamps, PTP-locked) but truly `offset` later — a sensor or
//! genlock phase error PTP cannot see; the estimator must find each
//! camera's offset from the reference camera's from the pictures alone.

use super::camera::CameraView;
use super::scene::{Scene, SceneConfig};
use crate::rng::Seeds;
use crate::scenario::Scenario;
use crate::score::{VisualScore, quantile};
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
    let seeds = Seeds::new(seed);
    let duration = scenario.duration.ns();
    let pitch = (100.0, 60.0);
    let mut scene_rng = seeds.stream("visual/scene");
    let scene = Scene::new(
        SceneConfig {
            width_m: pitch.0,
            height_m: pitch.1,
            players: spec.players as usize,
            still: spec.still,
            flashes: spec
                .flashes
                .map(|f| (f.every.ns() as f64 / 1e9, f.length.ns() as f64 / 1e9)),
            duration_s: duration as f64 / 1e9 + 1.0,
        },
        &mut scene_rng,
    );
    let rates: Vec<_> = scenario
        .cameras
        .iter()
        .flat_map(|g| std::iter::repeat_n(g.rate.0, g.count as usize))
        .collect();
    let [w, h] = spec.resolution;
    let mut views = Vec::new();
    let mut offsets = Vec::new();
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
    // The true offset of camera c at stamp s (ns).
    let offset_at =
        |offsets: &[i64], c: usize, s: i64| offsets[c] as f64 + drifts[c] * 1e-6 * s as f64;
    for (c, _) in rates.iter().enumerate() {
        let mut draw = seeds.stream(&format!("visual/draw/cam{c}"));
        let max = spec.max_offset.ns();
        offsets.push(if c == 0 || max == 0 {
            0
        } else {
            draw.random_range(-max..=max)
        });
        views.push(CameraView::new(
            w as usize,
            h as usize,
            pitch,
            spec.exposure.ns() as f64 / 1e9,
            spec.readout.ns() as f64 / 1e9,
            spec.noise.0,
            &mut draw,
            seeds.stream(&format!("visual/noise/cam{c}")),
        ));
    }
    let extractors: Vec<Box<dyn FeatureExtractor + Send>> = rates
        .iter()
        .map(|_| Box::new(Brightness) as Box<dyn FeatureExtractor + Send>)
        .collect();
    let config = VisualConfig::new(rates.len());
    // An estimate stands for its window: its truth is the offset midway.
    let half_window = config.window.0 / 2;
    let mut estimator = VisualEstimator::new(config, extractors);
    let mut drift_errors = Vec::new();
    let mut next: Vec<i64> = vec![0; rates.len()];
    let mut errors_ms = Vec::new();
    let (mut estimates, mut abstained) = (0u64, 0u64);
    let (mut cpu, mut frames) = (0u64, 0u64);
    // Frames in stamp order: the camera whose next stamp comes first.
    while let Some(c) = (0..rates.len())
        .filter(|&c| rates[c].frame_time(next[c]).0 < duration)
        .min_by_key(|&c| (rates[c].frame_time(next[c]).0, c))
    {
        let stamp = rates[c].frame_time(next[c]).0;
        next[c] += 1;
        let truly = (stamp as f64 + offset_at(&offsets, c, stamp)) / 1e9;
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
                    let mid = e.at.0 - half_window;
                    let truth = offset_at(&offsets, e.camera, mid) - offset_at(&offsets, 0, mid);
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
                        sigma_ms = e.uncertainty_ns / 1e6,
                        "visual estimate"
                    );
                }
                None => abstained += 1,
            }
        }
    }
    errors_ms.sort_by(f64::total_cmp);
    drift_errors.sort_by(f64::total_cmp);
    Some(VisualScore {
        estimates,
        offset_err_median_ms: (!errors_ms.is_empty()).then(|| quantile(&errors_ms, 0.5)),
        offset_err_p95_ms: (!errors_ms.is_empty()).then(|| quantile(&errors_ms, 0.95)),
        abstain_ratio: if estimates > 0 {
            abstained as f64 / estimates as f64
        } else {
            1.0
        },
        drift_err_median_ppm: (!drift_errors.is_empty()).then(|| quantile(&drift_errors, 0.5)),
        slip_recall: None,
        false_alarms_per_cam_hour: None,
        cpu_ms_per_cam_frame: (frames > 0).then(|| cpu as f64 / 1e6 / frames as f64),
    })
}
