//! Visual timing: measure the residual capture-time offset between cameras
//! from the pictures themselves. Each camera's frames become feature maps
//! through a `FeatureExtractor`; the views are registered onto the reference
//! camera's, the most active regions and their counterparts give signals
//! that are cross-correlated over a window with sub-frame interpolation, and
//! a consensus over region pairs gives each camera's offset from the
//! reference with an uncertainty — or an abstention when the pictures carry
//! no timing information.

pub mod brightness;
pub mod correct;
pub mod correlate;
pub mod downscale;
pub mod drift_watch;
pub mod estimator;
mod flash;
pub mod pearson;
mod regions;
pub mod register;
mod slip;

pub use brightness::Brightness;
pub use correct::{CorrectorConfig, HybridCorrector};
pub use downscale::{OwnedLuma, box_downscale, factor_for};
pub use drift_watch::{DriftWatch, Trend};
pub use estimator::{OffsetEstimate, VisualConfig, VisualEstimator};
pub use register::Plane;
pub use slip::{AlertKind, VisualAlert};

/// A picture's brightness, row by row.
#[derive(Clone, Copy, Debug)]
pub struct LumaFrame<'a> {
    pub width: usize,
    pub height: usize,
    pub pixels: &'a [u8],
}

/// Turns a frame into a feature map whose mean over a region, frame after
/// frame, is a signal in time (the classical extractor: brightness itself).
pub trait FeatureExtractor {
    fn map(&mut self, frame: &LumaFrame<'_>) -> Plane;
}
