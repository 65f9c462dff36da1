//! CenterFace through ONNX Runtime on a real photograph (scikit-image's
//! astronaut, public domain): the face is found where it is. Needs
//! scripts/setup-onnx; without it these tests fail and say so.

use camsync_engine::visual::LumaFrame;
use camsync_hw::onnx::{CenterFace, OnnxError, OnnxPaths};

fn paths() -> OnnxPaths {
    let paths = OnnxPaths::from_env();
    if let Err(e) = paths.check() {
        panic!("{e}");
    }
    paths
}

/// The astronaut photo in grey, shrunk by `factor` (box filter).
fn astronaut(factor: usize) -> (usize, usize, Vec<u8>) {
    let file = paths().dir.join("photos/astronaut.png");
    let img = image::open(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup-onnx)", file.display()))
        .to_luma8();
    let (w, h) = (
        img.width() as usize / factor,
        img.height() as usize / factor,
    );
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let mut sum = 0u32;
            for dy in 0..factor {
                for dx in 0..factor {
                    sum += img
                        .get_pixel((x * factor + dx) as u32, (y * factor + dy) as u32)
                        .0[0] as u32;
                }
            }
            out.push((sum / (factor * factor) as u32) as u8);
        }
    }
    (w, h, out)
}

#[test]
fn the_astronauts_face_is_found() {
    let paths = paths();
    let mut detector = CenterFace::load(&paths.runtime, &paths.model()).expect("model loads");
    for factor in [2, 4] {
        let (w, h, pixels) = astronaut(factor);
        let frame = LumaFrame {
            width: w,
            height: h,
            pixels: &pixels,
        };
        let maps = detector.detect(&frame, 0.5).expect("runs");
        let face = maps
            .faces
            .first()
            .unwrap_or_else(|| panic!("no face at 1/{factor} (peak {})", maps.peak()));
        // Eileen Collins's face, in the 512² photo: centre near (210, 110).
        let (cx, cy) = (face.cx * factor as f32, face.cy * factor as f32);
        println!("1/{factor}: {face:?}");
        assert!(
            (cx - 210.0).abs() < 40.0 && (cy - 110.0).abs() < 40.0,
            "face at ({cx}, {cy})"
        );
        assert!(face.width * factor as f32 > 50.0 && face.width * (factor as f32) < 200.0);
        assert_eq!(maps.faces.len(), 1, "{:?}", maps.faces);
    }
}

#[test]
fn a_missing_runtime_or_model_is_an_error_naming_the_setup() {
    let missing = OnnxPaths {
        runtime: "/nonexistent/libonnxruntime.so.1.30.0".into(),
        dir: "/nonexistent".into(),
    };
    let e = missing.check().unwrap_err();
    assert!(matches!(e, OnnxError::RuntimeMissing(_)));
    assert!(e.to_string().contains("scripts/setup-onnx"), "{e}");
    let no_model = OnnxPaths {
        runtime: paths().runtime,
        dir: "/nonexistent".into(),
    };
    let e = no_model.check().unwrap_err();
    assert!(matches!(e, OnnxError::ModelMissing(_)), "{e}");
    assert!(e.to_string().contains("scripts/setup-onnx"), "{e}");
}
