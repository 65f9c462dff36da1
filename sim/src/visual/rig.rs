//! The rendered scene and the cameras that picture it, drawn from a
//! scenario's `[visual]` table and the seed: what both the visual tier and
//! the in-world hybrid loop render from.

use super::camera::CameraView;
use super::scene::{Scene, SceneConfig};
use crate::rng::Seeds;
use crate::scenario::VisualSpec;
use rand::RngExt;

/// The pitch, metres.
const PITCH: (f64, f64) = (100.0, 60.0);

pub struct Rig {
    pub scene: Scene,
    pub views: Vec<CameraView>,
    /// Per camera, its sensor's capture offset from its stamps (ns; the
    /// reference's 0), drawn in ±`max_offset`.
    pub offsets: Vec<i64>,
}

impl Rig {
    pub fn new(spec: &VisualSpec, seeds: &Seeds, cameras: usize, duration_ns: i64) -> Rig {
        let mut scene_rng = seeds.stream("visual/scene");
        let scene = Scene::new(
            SceneConfig {
                width_m: PITCH.0,
                height_m: PITCH.1,
                players: spec.players as usize,
                still: spec.still,
                flashes: spec
                    .flashes
                    .map(|f| (f.every.ns() as f64 / 1e9, f.length.ns() as f64 / 1e9)),
                duration_s: duration_ns as f64 / 1e9 + 1.0,
            },
            &mut scene_rng,
        );
        let [w, h] = spec.resolution;
        let (mut views, mut offsets) = (Vec::new(), Vec::new());
        for c in 0..cameras {
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
                PITCH,
                spec.exposure.ns() as f64 / 1e9,
                spec.readout.ns() as f64 / 1e9,
                spec.noise.0,
                &mut draw,
                seeds.stream(&format!("visual/noise/cam{c}")),
            ));
        }
        Rig {
            scene,
            views,
            offsets,
        }
    }
}
