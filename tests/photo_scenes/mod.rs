//! Moving scenes made of real photographs (scikit-image's, installed by
//! scripts/setup-onnx): the "camera" photo (CC0) as the set, and two
//! cut-outs of the astronaut's head and shoulders (public domain; one
//! mirrored, a second person) wandering across it — faces moving as in a
//! studio or an interview. Three cameras frame it differently and capture
//! with random sub-frame offsets. Shared by tests/visual_onnx.rs and
//! benches/visual.rs.

#![allow(dead_code)]

use camsync_engine::FrameRate;
use camsync_hw::onnx::OnnxPaths;
use camsync_sim::rng::Seeds;
use camsync_sim::visual::photo_scene::{Photo, PhotoCamera, PhotoScene};
use rand::RngExt;

/// The analysis resolution: multiples of 32 across and down, so the
/// detector sees the frame unpadded.
pub const SIZE: (usize, usize) = (160, 96);
pub const CAMERAS: usize = 3;

/// The runtime and model, or a failure that says how to install them
/// (never a silent pass).
pub fn onnx_paths() -> OnnxPaths {
    let paths = OnnxPaths::from_env();
    if let Err(e) = paths.check() {
        panic!("{e}");
    }
    paths
}

pub fn photo(name: &str) -> Photo {
    let file = onnx_paths().dir.join("photos").join(format!("{name}.png"));
    let img = image::open(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup-onnx)", file.display()))
        .to_luma8();
    Photo {
        width: img.width() as usize,
        height: img.height() as usize,
        pixels: img.into_raw(),
    }
}

pub struct Recording {
    /// (camera, stamp ns, pixels), in stamp order.
    pub frames: Vec<(usize, i64, Vec<u8>)>,
    /// Each camera's true offset from its stamps (ns); camera 0's is 0.
    pub offsets_ns: Vec<i64>,
}

/// `seconds` of the scene at 29.97 fps, each camera up to ±15 ms off.
pub fn record(seed: u64, seconds: i64) -> Recording {
    let seeds = Seeds::new(seed);
    let mut draw = seeds.stream("photo/scene");
    let astronaut = photo("astronaut");
    let mut scene = PhotoScene::new(photo("camera"));
    // Head and shoulders of the 512² astronaut photo.
    for (mirror, centre) in [(false, (200.0, 230.0)), (true, (320.0, 280.0))] {
        scene.add_sprite(
            astronaut.crop(120, 10, 200, 240, mirror),
            130.0,
            centre,
            (110.0, 50.0),
            120.0,
            &mut draw,
        );
    }
    let mut offsets_ns = vec![0];
    let mut cameras = Vec::new();
    for c in 0..CAMERAS {
        let mut draw = seeds.stream(&format!("photo/cam{c}"));
        if c > 0 {
            offsets_ns.push(draw.random_range(-15_000_000..=15_000_000));
        }
        let centre = (
            256.0 + draw.random_range(-25.0..25.0),
            256.0 + draw.random_range(-25.0..25.0),
        );
        let span = draw.random_range(360.0..430.0);
        cameras.push(PhotoCamera::new(
            SIZE.0,
            SIZE.1,
            centre,
            span,
            0.008,
            1.5,
            &mut draw,
            seeds.stream(&format!("photo/noise/cam{c}")),
        ));
    }
    let rate = FrameRate::new(30_000, 1_001).expect("a rate");
    let mut frames = Vec::new();
    let mut k = 0;
    while rate.frame_time(k).0 < seconds * 1_000_000_000 {
        let stamp = rate.frame_time(k).0;
        for (c, camera) in cameras.iter_mut().enumerate() {
            let truly = (stamp + offsets_ns[c]) as f64 / 1e9;
            frames.push((c, stamp, camera.capture(&scene, truly)));
        }
        k += 1;
    }
    Recording { frames, offsets_ns }
}
