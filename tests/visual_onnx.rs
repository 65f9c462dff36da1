//! The ONNX feature stage for real: CenterFace through ONNX Runtime on
//! moving scenes of real photographs (tests/photo_scenes). Each camera's
//! frames go through its own `FaceAttention` extractor into the visual
//! estimator; the faces must be found in ≥ 80 % of the detector runs of
//! every camera (they wander to the picture's edges now and then), and
//! the offsets measured to ≤ 2 ms median (≤ 5 ms p95) at 29.97 fps. The
//! classical extractor's error on the same frames is printed beside it.
//!
//! Needs scripts/setup-onnx (scripts/test runs it); without the runtime or
//! the model this fails, saying so. Release-only: every frame is rendered
//! from photographs and run through the detector.

mod photo_scenes;

use camsync_engine::Time;
use camsync_engine::visual::{
    Brightness, FeatureExtractor, LumaFrame, VisualConfig, VisualEstimator,
};
use camsync_hw::onnx::{AttentionConfig, FaceAttention, FaceStats};
use photo_scenes::{CAMERAS, Recording, SIZE};
use std::sync::Arc;

/// Offset errors (ms, sorted) and abstentions of one estimator run.
fn measure(
    recording: &Recording,
    extractors: Vec<Box<dyn FeatureExtractor + Send>>,
) -> (Vec<f64>, usize) {
    let mut estimator = VisualEstimator::new(VisualConfig::new(CAMERAS), extractors);
    let (mut errors, mut abstained) = (Vec::new(), 0);
    for (c, stamp, pixels) in &recording.frames {
        let frame = LumaFrame {
            width: SIZE.0,
            height: SIZE.1,
            pixels,
        };
        for e in estimator.push_frame(*c, Time(*stamp), &frame) {
            match e.offset_ns {
                Some(o) => {
                    let truth = (recording.offsets_ns[e.camera] - recording.offsets_ns[0]) as f64;
                    errors.push((o - truth).abs() / 1e6);
                }
                None => abstained += 1,
            }
        }
    }
    errors.sort_by(f64::total_cmp);
    (errors, abstained)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn faces(config: &AttentionConfig) -> (Vec<Box<dyn FeatureExtractor + Send>>, Vec<Arc<FaceStats>>) {
    let paths = photo_scenes::onnx_paths();
    let mut stats = Vec::new();
    let extractors = (0..CAMERAS)
        .map(|_| {
            let e = FaceAttention::new(&paths, config.clone()).unwrap_or_else(|e| panic!("{e}"));
            stats.push(e.stats());
            Box::new(e) as Box<dyn FeatureExtractor + Send>
        })
        .collect();
    (extractors, stats)
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "renders and detects faces in 30 s of video: run with --release"
)]
fn faces_are_found_and_offsets_measured_on_photo_scenes() {
    let config = AttentionConfig::default();
    for seed in [1, 2] {
        let recording = photo_scenes::record(seed, 15);
        let (extractors, stats) = faces(&config);
        let (errors, abstained) = measure(&recording, extractors);
        let classical = measure(
            &recording,
            (0..CAMERAS)
                .map(|_| Box::new(Brightness) as Box<dyn FeatureExtractor + Send>)
                .collect(),
        );
        let face_rate = stats.iter().map(|s| s.face_rate()).fold(1.0, f64::min);
        let onnx_ms = stats.iter().map(|s| s.detector_ms_per_frame()).sum::<f64>() / CAMERAS as f64;
        let run_ms = stats.iter().map(|s| s.detector_ms_per_run()).sum::<f64>() / CAMERAS as f64;
        let classical = classical.0;
        assert!(
            !errors.is_empty(),
            "seed {seed}: no estimate ({abstained} abstentions)"
        );
        let (median, p95) = (quantile(&errors, 0.5), quantile(&errors, 0.95));
        println!(
            "seed {seed}: offsets {:?} ms; faces (every {}th frame) {:.3} of runs, worst camera; \
             median {median:.2} ms, p95 {p95:.2} ms, {} estimates, {abstained} abstained; \
             classical median {:.2} ms; detector {run_ms:.2} ms per run, {onnx_ms:.2} ms per camera-frame",
            recording
                .offsets_ns
                .iter()
                .map(|o| *o as f64 / 1e6)
                .collect::<Vec<_>>(),
            config.every,
            face_rate,
            errors.len(),
            classical
                .get(classical.len() / 2)
                .copied()
                .unwrap_or(f64::NAN),
        );
        assert!(
            face_rate >= 0.8,
            "seed {seed}: faces in only {face_rate} of the detector runs"
        );
        assert!(
            median <= 2.0 && p95 <= 5.0,
            "seed {seed}: median {median} ms, p95 {p95} ms"
        );
        assert!(
            abstained * 10 <= errors.len(),
            "seed {seed}: {abstained} abstentions"
        );
    }
}
