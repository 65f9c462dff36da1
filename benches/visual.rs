//! The visual tier's cost per camera-frame: feature maps of every frame,
//! the window kept, and once a second per camera registration (first time),
//! region selection, correlation and the joint time-and-place refinement.
//! Frames of four cameras at 59.94 fps, 12 s of the rendered pitch (96×54),
//! are rendered once outside the measurement; one element is one
//! camera-frame. The goal is ≤ 1 ms. Measured twice: global shutters in
//! steady light, and rolling shutters (20 ms readout) with a flash about
//! every 2 s, where every frame also goes through the flash finder.
//!
//! The ONNX feature stage is measured apart, on moving photo scenes
//! (tests/photo_scenes, 160×96, three cameras, 29.97 fps, 12 s): one
//! CenterFace run on one frame; the estimator per camera-frame with the
//! classical extractor; and with `FaceAttention` (the detector every 8th
//! frame, its cost amortised). Needs scripts/setup-onnx.
//!
//!     cargo bench --bench visual

use camsync_engine::visual::{
    Brightness, FeatureExtractor, LumaFrame, VisualConfig, VisualEstimator,
};
use camsync_engine::{FrameRate, Nanos, Time};
use camsync_hw::onnx::{AttentionConfig, CenterFace, FaceAttention};
use camsync_sim::rng::Seeds;
use camsync_sim::visual::camera::CameraView;
use camsync_sim::visual::scene::{Scene, SceneConfig};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

#[path = "../tests/photo_scenes/mod.rs"]
mod photo_scenes;

const CAMERAS: usize = 4;
const SECONDS: i64 = 12;
const SIZE: (usize, usize) = (96, 54);

/// How the benched cameras see: a global shutter and steady light, or
/// rolling shutters and photographers' flashes.
#[derive(Clone, Copy)]
struct Sensors {
    readout_s: f64,
    flashes: Option<(f64, f64)>,
}

const GLOBAL: Sensors = Sensors {
    readout_s: 0.0,
    flashes: None,
};
/// 20 ms readout; a 1 ms flash about every 2 s.
const ROLLING_WITH_FLASHES: Sensors = Sensors {
    readout_s: 0.020,
    flashes: Some((2.0, 0.001)),
};

fn frames(sensors: Sensors) -> Vec<(usize, i64, Vec<u8>)> {
    let seeds = Seeds::new(1);
    let scene = Scene::new(
        SceneConfig {
            width_m: 100.0,
            height_m: 60.0,
            players: 22,
            still: false,
            flashes: sensors.flashes,
            duration_s: SECONDS as f64 + 1.0,
        },
        &mut seeds.stream("visual/scene"),
    );
    let rate = FrameRate::new(60_000, 1_001).unwrap();
    let mut views: Vec<CameraView> = (0..CAMERAS)
        .map(|c| {
            CameraView::new(
                SIZE.0,
                SIZE.1,
                (100.0, 60.0),
                0.008,
                sensors.readout_s,
                2.0,
                &mut seeds.stream(&format!("visual/draw/cam{c}")),
                seeds.stream(&format!("visual/noise/cam{c}")),
            )
        })
        .collect();
    let mut out = Vec::new();
    let mut k = 0;
    while rate.frame_time(k).0 < SECONDS * 1_000_000_000 {
        let stamp = rate.frame_time(k).0;
        for (c, view) in views.iter_mut().enumerate() {
            let offset = c as i64 * 2_100_000;
            out.push((
                c,
                stamp,
                view.capture(&scene, (stamp + offset) as f64 / 1e9),
            ));
        }
        k += 1;
    }
    out
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("visual");
    group.sample_size(10);
    for (name, sensors) in [
        ("estimator_per_camera_frame", GLOBAL),
        (
            "estimator_per_camera_frame_rolling_flashes",
            ROLLING_WITH_FLASHES,
        ),
    ] {
        let frames = frames(sensors);
        group.throughput(Throughput::Elements(frames.len() as u64));
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let extractors: Vec<Box<dyn FeatureExtractor + Send>> = (0..CAMERAS)
                        .map(|_| Box::new(Brightness) as Box<dyn FeatureExtractor + Send>)
                        .collect();
                    let mut config = VisualConfig::new(CAMERAS);
                    config.readout = vec![Nanos((sensors.readout_s * 1e9) as i64); CAMERAS];
                    VisualEstimator::new(config, extractors)
                },
                |mut estimator| {
                    let estimates = measured(&mut estimator, &frames, SIZE);
                    // 12 s with a 6 s window: updates at 6..12 s, three
                    // cameras each.
                    assert!(estimates >= 15, "the estimator must measure, not abstain");
                    estimates
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// Feeds the frames (camera, stamp, pixels) to the estimator; the offsets
/// it measured (abstentions not counted).
fn measured(
    estimator: &mut VisualEstimator,
    frames: &[(usize, i64, Vec<u8>)],
    (width, height): (usize, usize),
) -> usize {
    let mut estimates = 0;
    for (c, stamp, pixels) in frames {
        let frame = LumaFrame {
            width,
            height,
            pixels,
        };
        estimates += estimator
            .push_frame(*c, Time(*stamp), &frame)
            .iter()
            .filter(|e| e.offset_ns.is_some())
            .count();
    }
    estimates
}

/// The estimator over a photo recording with the given extractors.
fn run_photo(
    recording: &photo_scenes::Recording,
    extractors: Vec<Box<dyn FeatureExtractor + Send>>,
) -> usize {
    let mut estimator = VisualEstimator::new(VisualConfig::new(photo_scenes::CAMERAS), extractors);
    let estimates = measured(&mut estimator, &recording.frames, photo_scenes::SIZE);
    assert!(estimates >= 10, "the estimator must measure, not abstain");
    estimates
}

fn bench_onnx(c: &mut Criterion) {
    let paths = photo_scenes::onnx_paths();
    let recording = photo_scenes::record(1, SECONDS);
    let (w, h) = photo_scenes::SIZE;
    let mut group = c.benchmark_group("visual_onnx");
    group.sample_size(10);

    let mut detector =
        CenterFace::load(&paths.runtime, &paths.model()).unwrap_or_else(|e| panic!("{e}"));
    let pixels = &recording.frames[0].2;
    group.throughput(Throughput::Elements(1));
    group.bench_function("centerface_per_run_160x96", |b| {
        b.iter(|| {
            let frame = LumaFrame {
                width: w,
                height: h,
                pixels,
            };
            detector.detect(&frame, 0.5).expect("runs").faces.len()
        })
    });

    group.throughput(Throughput::Elements(recording.frames.len() as u64));
    group.bench_function("photo_estimator_classical_per_camera_frame", |b| {
        b.iter(|| {
            run_photo(
                &recording,
                (0..photo_scenes::CAMERAS)
                    .map(|_| Box::new(Brightness) as Box<dyn FeatureExtractor + Send>)
                    .collect(),
            )
        })
    });
    group.bench_function("photo_estimator_faces_every_8th_per_camera_frame", |b| {
        b.iter_batched(
            || {
                (0..photo_scenes::CAMERAS)
                    .map(|_| {
                        Box::new(
                            FaceAttention::new(&paths, AttentionConfig::default())
                                .unwrap_or_else(|e| panic!("{e}")),
                        ) as Box<dyn FeatureExtractor + Send>
                    })
                    .collect::<Vec<_>>()
            },
            |extractors| run_photo(&recording, extractors),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench, bench_onnx);
criterion_main!(benches);
