//! The coordination path in the world: the hybrid loop's commands travel as
//! authenticated frames over a path that loses, duplicates, reorders and
//! corrupts them, and are applied exactly once; cameras report their clocks
//! and the hub's health follows them — lost when silenced, locked again
//! when heard.

mod common;

use camsync_sim::{Scenario, Score, World};

fn parse(text: &str) -> Scenario {
    Scenario::parse(text, "inline.toml", &Score::known_key).unwrap()
}

const SECOND: i64 = 1_000_000_000;

/// One PTP-locked reference camera and two steered from the pictures, whose
/// clocks jump while the path is bad and after, so that commands flow.
fn hybrid(faults: &str) -> Scenario {
    parse(&format!(
        r#"
name = "hybrid-coordination"
seed = 41
duration = "80s"

[ptp]
profile = "st2059-2"
servo = "camsync"

[timestamping]
mode = "hardware"

[clocks]
freq_offset_ppm = 50.0
initial_offset = "300ms"
wander_ppb = 1.0

{faults}

[[faults]]
kind = "phase-step"
at = "30s"
target = "cam1"
by = "8ms"

[[faults]]
kind = "phase-step"
at = "40s"
target = "cam2"
by = "-6ms"

[[faults]]
kind = "phase-step"
at = "62s"
target = "cam1"
by = "-7ms"

[[cameras]]
count = 1
rate = "25"

[[cameras]]
count = 2
rate = "25"
sync = "visual"

[hub]
reference_rate = "25"
buffer = "100ms"

[visual]
resolution = [96, 54]
players = 14
max_offset = "0ms"
exposure = "10ms"
noise = 2.0
"#
    ))
}

#[test]
fn commands_are_applied_exactly_once_under_duplication_reordering_and_loss() {
    let scenario = hybrid(
        r#"
[[faults]]
kind = "duplication"
at = "15s"
duration = "45s"
probability = 0.5

[[faults]]
kind = "reordering"
at = "15s"
duration = "45s"
probability = 0.2
by = "3ms"

[[faults]]
kind = "coordination-corruption"
at = "15s"
duration = "45s"
probability = 0.3

# More jumps inside the faults' window, so that many commands cross it.
[[faults]]
kind = "phase-step"
at = "20s"
target = "cam2"
by = "5ms"

[[faults]]
kind = "phase-step"
at = "35s"
target = "cam1"
by = "-5ms"

[[faults]]
kind = "phase-step"
at = "50s"
target = "cam2"
by = "7ms"
"#,
    );
    let score = camsync_sim::run(&scenario, scenario.seed);
    common::assert_invariants(&score, "inline");
    let c = &score.coordination;
    // The path did its worst…
    assert!(c.frames_duplicated > 50, "{c:?}");
    assert!(c.frames_corrupted > 50 && c.frames_lost > 10, "{c:?}");
    assert!(c.duplicate_commands > 0 && c.retransmissions > 0, "{c:?}");
    // …and every command the hub sent was applied once and acknowledged:
    // the initial steps, and the three jumps corrected (some in two steps).
    assert!(c.commands_sent >= 5, "{c:?}");
    assert_eq!(c.commands_applied, c.commands_sent, "{c:?}");
    assert_eq!(c.commands_acknowledged, c.commands_sent, "{c:?}");
    assert_eq!((c.applied_twice, c.corrupted_accepted), (0, 0));
    // Every altered copy that arrived was refused.
    assert!(c.corrupted_rejected >= 50, "{c:?}");
}

#[test]
fn the_coordination_corruption_scenario_refuses_every_altered_frame() {
    let scenario = common::load("scenarios/faults/coordination-corruption.toml");
    let score = camsync_sim::run(&scenario, scenario.seed);
    let c = &score.coordination;
    assert!(c.frames_corrupted > 0);
    assert_eq!(c.corrupted_accepted, 0);
    assert!(
        c.malformed_frames > 0 && c.unauthenticated_frames > 0,
        "{c:?}"
    );
    // Refused: what the path altered, and the copies retransmission made.
    assert_eq!(
        c.rejected_frames,
        c.corrupted_rejected + c.replayed_frames + c.duplicate_commands
    );
    // A camera out of sight for three reports running is lost; it is back
    // as soon as one gets through: as many recoveries as losses.
    let kinds = &score.health.alert_kinds;
    assert!(kinds["camera_lost"] >= 1);
    assert_eq!(kinds["camera_lost"], kinds["camera_recovered"]);
    assert_eq!(kinds["cluster_degraded"], kinds["cluster_recovered"]);
    assert_eq!(score.health.cameras_locked_at_end, 3);
}

#[test]
fn a_silenced_camera_is_lost_within_the_timeout_then_locked_again() {
    let scenario = parse(
        r#"
name = "silenced"
seed = 5
duration = "60s"

[timestamping]
mode = "hardware"

[[faults]]
kind = "partition"
at = "20s"
duration = "15s"
target = "cam1"

[[cameras]]
count = 3
rate = "25"

[hub]
reference_rate = "25"
buffer = "100ms"
"#,
    );
    let mut world = World::new(&scenario, scenario.seed);
    world.record_timeline();
    let detail = world.run_detailed();
    let timeline = detail.timeline.unwrap();
    let marks: Vec<(i64, &str, &str)> = timeline
        .alerts
        .iter()
        .filter(|a| a.kind.starts_with("camera_") || a.kind.starts_with("cluster_"))
        .map(|a| (a.at_ns, a.clock.as_str(), a.kind.as_str()))
        .collect();
    let kinds: Vec<(&str, &str)> = marks.iter().map(|&(_, c, k)| (c, k)).collect();
    // Cut off from its master too, the camera is heard again first in
    // holdover, then re-acquiring its master, then locked.
    assert_eq!(
        kinds,
        [
            ("cam1", "camera_lost"),
            ("cluster 0", "cluster_degraded"),
            ("cam1", "camera_holdover"),
            ("cam1", "camera_resyncing"),
            ("cam1", "camera_recovered"),
            ("cluster 0", "cluster_recovered"),
        ]
    );
    // Lost within the liveness timeout (3 s) after its last report (at most
    // a second before the cut, plus the path's delay), not before.
    let lost = marks[0].0;
    assert!(
        (22 * SECOND..=23 * SECOND + 3_000_000).contains(&lost),
        "{lost}"
    );
    // Heard with its first report after the cut heals (reports are 1 s
    // apart), locked again soon after.
    let heard = marks[2].0;
    assert!(
        (35 * SECOND..=36 * SECOND + 3_000_000).contains(&heard),
        "{heard}"
    );
    // Locked again once its port has re-acquired and then measured a full
    // lock window (8 Syncs at 1 Hz) within the bound.
    let back = marks[4].0;
    assert!((heard..heard + 15 * SECOND).contains(&back), "{back}");
    let h = &detail.score.health;
    assert_eq!(h.alerts, 6);
    assert_eq!(h.cameras_locked_at_end, 3);
    assert!((12.0..=14.1).contains(&h.lost_s), "{}", h.lost_s);
}
