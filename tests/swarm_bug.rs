//! With the `swarm-bug` feature the hub discards a frame that comes after its
//! set was released without accounting for it. The swarm must find it,
//! print a seed whose replay gives the same violations and the same trace,
//! and write a repro file `camsync run` fails on.
//!
//! `cargo test --release --features swarm-bug --test swarm_bug`
#![cfg(feature = "swarm-bug")]

use camsync_sim::scenario::FaultKind;
use camsync_sim::swarm;
use std::process::Command;

#[test]
fn the_swarm_catches_the_planted_bug_and_its_seed_replays() {
    // Video-jitter steps make frames late; the range is small to keep the
    // test cheap.
    let kinds = [FaultKind::VideoJitter];
    let found = (1..41)
        .map(|seed| swarm::run_seed(seed, &kinds))
        .find(|r| {
            r.violations
                .iter()
                .any(|v| v.invariant == "frames-accounted")
        })
        .expect("the swarm finds the unaccounted frames in seeds 1..41");

    let again = swarm::run_seed(found.seed, &kinds);
    assert_eq!(again.violations, found.violations);
    assert_eq!(again.trace_hash, found.trace_hash);

    // The printed replay line, run as printed, fails the same way.
    let dir = std::env::temp_dir().join(format!("camsync-swarm-bug-{}", std::process::id()));
    let json = dir.join("bug.json");
    std::fs::create_dir_all(&dir).unwrap();
    let seeds = format!("{}..{}", found.seed, found.seed + 1);
    let out = Command::new(env!("CARGO_BIN_EXE_camsync"))
        .args(["swarm", "--seeds", &seeds, "--faults", "video-jitter"])
        .args([
            "--out",
            dir.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let failure = &v["failures"][0];
    assert_eq!(failure["seed"], found.seed);
    assert_eq!(failure["trace_hash"], found.trace_hash.as_str());
    let violations: Vec<String> = found.violations.iter().map(ToString::to_string).collect();
    assert_eq!(failure["violations"], serde_json::json!(violations));
    assert_eq!(
        failure["repro"],
        format!("camsync swarm --seeds {seeds} --faults video-jitter")
    );

    // The repro file (the shrunk schedule) fails `camsync run` on its own.
    let repro = dir.join("repro.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_camsync"))
        .args(["run", repro.to_str().unwrap(), "-q"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
