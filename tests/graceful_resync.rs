//! Graceful resync: a failover to a backup grandmaster 30 ms off and back,
//! with every port's later steps slewed (the scenario) or stepped (ptp4l's
//! way), judged on the cameras' timelines.

mod common;

use camsync_engine::time::Nanos;
use camsync_sim::Score;
use camsync_sim::scenario::ResyncMode;

const FILE: &str = "scenarios/ptp/graceful-resync.toml";

fn run(resync: ResyncMode) -> Score {
    let mut scenario = common::load(FILE);
    scenario.ptp.resync = resync;
    let score = camsync_sim::run(&scenario, scenario.seed);
    common::assert_invariants(&score, FILE);
    score
}

#[test]
fn a_slewed_resync_moves_no_frame_more_than_the_slew_rate_allows() {
    let s = run(ResyncMode::Slew);
    // Every port took both 30 ms resyncs as slews: 5 clocks, 2 failovers.
    assert_eq!(s.ptp.slewed_resyncs, 10);
    // Only the first acquisitions stepped (the grandmaster-side clocks
    // that were never locked before do not step at all).
    assert!(s.ptp.clock_steps <= 5, "{} steps", s.ptp.clock_steps);
    // 500 ppm over a 40 ms frame is 20 µs, plus the oscillators' own ppm.
    assert_eq!(s.align.timeline_jumps, 0);
    assert!(
        s.align.max_timeline_jump_ns <= 21_000.0,
        "jump {} ns",
        s.align.max_timeline_jump_ns
    );
    // The slews close (30 ms at 500 ppm: 60 s) and the cameras lock again,
    // never placed misaligned on the way: frames are flagged meanwhile.
    assert_eq!(s.align.misaligned_frame_sets, 0);
    assert_eq!(s.health.cameras_locked_at_end, 4);
    assert!(
        s.align.unlocked_frames > 4 * 25 * 50,
        "{}",
        s.align.unlocked_frames
    );
}

#[test]
fn a_stepped_resync_jumps_every_camera_s_timeline_by_the_step() {
    let s = run(ResyncMode::Step);
    assert_eq!(s.ptp.slewed_resyncs, 0);
    // Each camera's timeline jumps twice by the backup's 30 ms.
    assert_eq!(s.align.timeline_jumps, 8);
    assert!(s.align.max_timeline_jump_ns >= 29_000_000.0);
    assert_eq!(s.align.misaligned_frame_sets, 0);
    assert_eq!(s.health.cameras_locked_at_end, 4);
}

/// The hybrid loop's corrections of the cameras the pictures steer are
/// taken under the same policy: slewed, the only jumps left in their
/// timelines are the two 8 ms phase steps the scenario gives their
/// oscillators; stepped, each correction back is one more.
#[test]
fn the_pictures_corrections_are_slewed_under_the_same_policy() {
    const CORRUPTION: &str = "scenarios/faults/coordination-corruption.toml";
    let run = |resync| {
        let mut scenario = common::load(CORRUPTION);
        scenario.ptp.resync = resync;
        // 30 s more, for the slews of the last correction to close: a
        // steered camera slewing is not locked.
        scenario.duration = camsync_sim::units::PosDur(Nanos::from_secs(120));
        let score = camsync_sim::run(&scenario, scenario.seed);
        common::assert_invariants(&score, CORRUPTION);
        assert!(score.expect.passed, "{:?}", score.expect.failures);
        score
    };
    let slewed = run(ResyncMode::Slew);
    let stepped = run(ResyncMode::Step);
    assert_eq!(slewed.align.timeline_jumps, 2);
    assert!(
        (8_000_000.0..8_001_000.0).contains(&slewed.align.max_timeline_jump_ns),
        "{}",
        slewed.align.max_timeline_jump_ns
    );
    assert!(
        stepped.align.timeline_jumps >= 4,
        "{}",
        stepped.align.timeline_jumps
    );
    assert!(stepped.align.max_timeline_jump_ns > 9_000_000.0);
    // No more corrections, as well aimed: the loop waits for a slew to
    // close before it looks at the camera again.
    let (s, t) = (slewed.visual.unwrap(), stepped.visual.unwrap());
    println!("slewed {s:?}\nstepped {t:?}");
    assert!(
        s.corrections <= t.corrections,
        "{} > {}",
        s.corrections,
        t.corrections
    );
    assert!(s.offset_err_median_ms.unwrap() < 0.6);
    assert_eq!(slewed.align.misaligned_frame_sets, 0);
}
