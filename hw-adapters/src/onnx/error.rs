//! What can go wrong before a single frame is seen: the runtime library or
//! the model missing or unloadable. Each names the path and the command
//! that installs it, so that a missing file is never a mystery (nor a
//! panic).

use std::path::PathBuf;

/// The command that installs the runtime, the model and the test photos.
pub const SETUP: &str = "scripts/setup-onnx";

#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    #[error("ONNX Runtime library not found at {0} (run {SETUP}, or set ORT_DYLIB_PATH)")]
    RuntimeMissing(PathBuf),
    #[error("the model {0} is missing (run {SETUP}, or set CAMSYNC_ONNX_DIR)")]
    ModelMissing(PathBuf),
    #[error("could not load ONNX Runtime from {path}: {reason} (run {SETUP})")]
    RuntimeLoad { path: PathBuf, reason: String },
    #[error("ONNX Runtime: {0}")]
    Ort(String),
    #[error("the model {model} does not look like CenterFace: {reason}")]
    WrongModel { model: PathBuf, reason: String },
}

impl<R> From<ort::Error<R>> for OnnxError {
    fn from(e: ort::Error<R>) -> Self {
        OnnxError::Ort(e.to_string())
    }
}
