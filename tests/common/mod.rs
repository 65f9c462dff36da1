//! Helpers shared by the integration tests.

use camsync_sim::{Scenario, Score};
use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn load(relative: &str) -> Scenario {
    let path = repo().join(relative);
    Scenario::from_file(&path, &Score::known_key)
        .unwrap_or_else(|e| panic!("{}: {e}", Path::new(relative).display()))
}
