//! Swarm mode: a clean build keeps every invariant over a range of seeds; a
//! seed always derives the same world and replays to the same trace; bad
//! arguments are refused with exit code 2.
//!
//! Release-only: each seed simulates minutes of a production.

use camsync_sim::scenario::FaultKind;
use camsync_sim::swarm::{self, ALL_KINDS, Knobs};
use std::process::Command;

fn failures(seeds: std::ops::Range<u64>, kinds: &[FaultKind]) -> Vec<String> {
    seeds
        .map(|seed| swarm::run_seed(seed, kinds))
        .filter(|r| r.failed())
        .map(|r| {
            let v: Vec<String> = r.violations.iter().map(ToString::to_string).collect();
            format!("seed {}: {}", r.seed, v.join("; "))
        })
        .collect()
}

/// Every fault kind, over the hundred seeds `../shared/checks/faults` runs.
/// (Seeds 1..1001 pass too: `camsync swarm --seeds 1..1001`, 3 minutes.)
#[test]
#[cfg_attr(debug_assertions, ignore = "simulates hours: run with --release")]
fn a_clean_build_keeps_every_invariant_with_every_fault_kind() {
    let failures = failures(1000..1100, &ALL_KINDS);
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The eight classes from before the fault library, over other seeds.
#[test]
#[cfg_attr(debug_assertions, ignore = "simulates hours: run with --release")]
fn a_clean_build_keeps_every_invariant_over_50_seeds() {
    let failures = failures(1..51, &ALL_KINDS[..8]);
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Seeds of `camsync swarm` (every kind) that found a bug, each fixed and
/// kept here so that it stays fixed:
/// - 1012, 1015: the hub's timer livelocked — after skipping ahead on a
///   clock running slow, the next deadline still lay a window behind, so
///   the same instant's timer fired forever;
/// - 1042, 1098: a camera stamping tens of seconds ahead, seen by a hub
///   with no bound of its own (just restarted), drove NetEq's release delay
///   negative, and the hub released sets for instants 44 s in the future
///   with that camera's frames in them;
/// - 1087, 1054, 1029: servos fed reordered Syncs stayed in s2 while their
///   clocks swung by 100s of ms, and frames stamped then claimed a lock
///   (and a 29 ms bound) they did not have;
/// - 1025: with authentication, a cluster leader that restarted numbered
///   its messages from zero, and its cameras refused them as replays for a
///   minute; a message sent after everything accepted from its source now
///   shows the restart (and one sent before it is refused);
/// - 9, 225, 919: a duplicated copy of a frame the hub refused as stamped
///   ahead was refused again, not as a duplicate, and the frame was counted
///   dropped twice;
/// - 389: under `latest-before`, a capture delayed off the cadence (its
///   agent's CPU stalled) rightly showed at the next instant, 14 ms before
///   it; the world judged it by `nearest`'s half period;
/// - 462, 663: an authenticated port, after one replayed Delay_Resp from
///   its master's previous run, refused every fresh one;
/// - 274, 288: camsync's Kalman took 64 s to follow a path or phase step;
/// - 96, 151, 1020: ports claimed a lock from the model's own offset (zero
///   by construction) while 20–40 ms off, or in holdover;
/// - 163: a restarted hub took a camera stamping 17 s ahead into its sets;
/// - 590: (a bound, not a bug) a hardware-stamped camera behind a boundary
///   clock converges after its leader does;
/// - 315, 409, 453: camsync's Kalman, restarted after its master changed,
///   took a Sync held 9–18 ms by reordering for the path, and the port
///   claimed a lock 9 ms off; a restart now doubts a pair longer than the
///   path it knew, and a clock its model is moving by more than the lock
///   bound is not locked;
/// - 344: linuxptp's PI kept a sample from before its master fell silent
///   and paired it with one after (now a discipline that never started
///   starts afresh after holdover), and the hub's first sample, taken under
///   20 ms reordering just before the heal, needs 200 s to settle at the
///   PI's software gains (the bound, 240 s);
/// - 818: a master forgotten for three Announces lost to 2 % background
///   loss was relearnt from nothing when heard again a moment later.
#[test]
#[cfg_attr(debug_assertions, ignore = "simulates minutes: run with --release")]
fn seeds_that_found_bugs_stay_fixed() {
    let mut failures = Vec::new();
    for seed in [
        9, 96, 151, 163, 225, 274, 288, 315, 344, 389, 409, 453, 462, 590, 663, 818, 919, 1012,
        1015, 1020, 1025, 1029, 1042, 1054, 1087, 1098,
    ] {
        failures.extend(self::failures(seed..seed + 1, &ALL_KINDS));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
#[cfg_attr(debug_assertions, ignore = "simulates minutes: run with --release")]
fn a_seed_gives_the_same_knobs_and_trace_twice() {
    for seed in [7, 1042] {
        assert_eq!(
            Knobs::derive(seed, &ALL_KINDS),
            Knobs::derive(seed, &ALL_KINDS)
        );
        let (a, b) = (
            swarm::run_seed(seed, &ALL_KINDS),
            swarm::run_seed(seed, &ALL_KINDS),
        );
        assert_eq!(a.world.text, b.world.text);
        assert_eq!(a.trace_hash, b.trace_hash);
        assert_eq!(a.violations, b.violations);
        assert!(!a.trace_hash.is_empty());
    }
    // Fewer kinds leave the chosen kinds' draws as they were.
    let all = Knobs::derive(1042, &ALL_KINDS);
    let jitter = Knobs::derive(1042, &[camsync_sim::scenario::FaultKind::VideoJitter]);
    let kept: Vec<_> = all
        .faults
        .iter()
        .filter(|f| f.kind == camsync_sim::scenario::FaultKind::VideoJitter)
        .cloned()
        .collect();
    assert_eq!(jitter.faults, kept);
}

fn camsync(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_camsync"))
        .args(args)
        .output()
        .expect("camsync runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_arguments_exit_2_and_say_what_was_wrong() {
    let (code, _, err) = camsync(&["swarm", "--seeds", "5..3"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("5..3") && err.contains("empty"), "{err}");
    let (code, _, err) = camsync(&["swarm", "--seeds", "five..9"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`five`"), "{err}");
    let (code, _, err) = camsync(&["swarm", "--seeds", "1..2", "--faults", "meteor"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown fault kind `meteor`"), "{err}");
    assert!(
        err.contains("grandmaster-silent"),
        "the kinds are listed: {err}"
    );
}

#[test]
#[cfg_attr(debug_assertions, ignore = "simulates minutes: run with --release")]
fn the_json_summary_has_runs_and_failures() {
    let dir = std::env::temp_dir().join(format!("camsync-swarm-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("x.json");
    let (code, out, err) = camsync(&[
        "swarm",
        "--seeds",
        "3..6",
        "--json",
        json.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["runs"], 3);
    assert_eq!(v["failures"], serde_json::json!([]));
    assert!(out.contains("3 runs, 0 failures"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
