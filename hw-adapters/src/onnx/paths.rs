//! Where the runtime library and the model are: `ORT_DYLIB_PATH` and
//! `CAMSYNC_ONNX_DIR` when set (scripts/test sets both), else the folder
//! scripts/setup-onnx fills, `.cache/onnx` at the repository's root.

use super::error::OnnxError;
use std::path::{Path, PathBuf};

/// The runtime version scripts/setup-onnx installs; it matches ort's
/// `api-30` feature (a runtime must be at least the API version).
pub const RUNTIME_VERSION: &str = "1.30.0";
/// CenterFace with its input's height and width made free (setup-onnx).
pub const MODEL_FILE: &str = "centerface-dynamic.onnx";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnnxPaths {
    pub runtime: PathBuf,
    /// The folder holding the model (and, for tests, `photos/`).
    pub dir: PathBuf,
}

impl OnnxPaths {
    /// From the environment, falling back to the repository's `.cache/onnx`.
    pub fn from_env() -> Self {
        let dir = std::env::var_os("CAMSYNC_ONNX_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(default_dir);
        let runtime = std::env::var_os("ORT_DYLIB_PATH")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.join(format!("libonnxruntime.so.{RUNTIME_VERSION}")));
        OnnxPaths { runtime, dir }
    }

    pub fn model(&self) -> PathBuf {
        self.dir.join(MODEL_FILE)
    }

    /// Both files present, or an error naming the first missing one.
    pub fn check(&self) -> Result<(), OnnxError> {
        if !self.runtime.is_file() {
            return Err(OnnxError::RuntimeMissing(self.runtime.clone()));
        }
        if !self.model().is_file() {
            return Err(OnnxError::ModelMissing(self.model()));
        }
        Ok(())
    }
}

fn default_dir() -> PathBuf {
    // This crate sits one folder below the repository's root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join(".cache/onnx")
}
