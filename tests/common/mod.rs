//! Helpers shared by the integration tests.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

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

/// What every run must hold, whatever its faults: every frame captured is
/// in a set or accounted with a reason, the accounting adds up, and no
/// disciplined clock's output ran backwards.
pub fn assert_invariants(score: &Score, file: &str) {
    let a = &score.align;
    assert_eq!(a.unaccounted_frames, 0, "{file}: frames lost silently");
    assert_eq!(
        a.frames_captured,
        a.frames_in_sets
            + a.late_frames
            + a.dropped_frames
            + a.superseded_frames
            + a.frames_in_flight_at_end,
        "{file}: accounting does not add up"
    );
    assert_eq!(score.ptp.time_reversals, 0, "{file}: a clock ran backwards");
    let c = &score.coordination;
    assert_eq!(
        c.corrupted_accepted, 0,
        "{file}: an altered coordination frame was accepted"
    );
    assert_eq!(c.applied_twice, 0, "{file}: a command was applied twice");
}

/// The score as JSON with every float rounded to 4 significant digits, so a
/// snapshot shows what matters and a last-digit wobble reads as what it is.
pub fn rounded(score: &Score) -> serde_json::Value {
    fn round(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Number(n) if n.is_f64() => {
                let x = n.as_f64().unwrap_or_default();
                if x == 0.0 || !x.is_finite() {
                    return Value::from(x);
                }
                let digits = 4 - 1 - x.abs().log10().floor() as i32;
                let scale = 10f64.powi(digits);
                Value::from((x * scale).round() / scale)
            }
            Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, round(v))).collect()),
            Value::Array(a) => Value::Array(a.into_iter().map(round).collect()),
            other => other,
        }
    }
    round(score.to_json())
}
