//! The one ONNX Runtime environment of the process: ort allows a single
//! one, and the library can be loaded only once, so every detector shares
//! it. Loaded from an explicit path (never a search of the system) so that
//! a missing runtime is an error that names it.

use super::error::OnnxError;
use ort::environment::Environment;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

static ENVIRONMENT: OnceLock<Environment> = OnceLock::new();
static LOADING: Mutex<()> = Mutex::new(());

/// The process's environment, loading the runtime from `runtime` the first
/// time (later calls return the one already loaded, whatever the path).
pub fn environment(runtime: &Path) -> Result<&'static Environment, OnnxError> {
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env);
    }
    // Two cameras' extractors made on two threads must not both load.
    let _guard = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env);
    }
    if !runtime.is_file() {
        return Err(OnnxError::RuntimeMissing(runtime.to_path_buf()));
    }
    let builder = ort::init_from(runtime).map_err(|e| OnnxError::RuntimeLoad {
        path: runtime.to_path_buf(),
        reason: e.to_string(),
    })?;
    let env = builder.with_name("camsync").build()?;
    Ok(ENVIRONMENT.get_or_init(|| env))
}
