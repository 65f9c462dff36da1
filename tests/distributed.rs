//! The distributed topology: six camera agents and no hub judging them.
//! Each judges all six from the reports all of them send to all; through a
//! crash, a partition and corrupted frames they reach the same view the
//! hub of the central topology reaches, and disagree only while a report
//! is in flight — or while a partition splits them, for as long as it lasts.

mod common;

use camsync_sim::Score;
use camsync_sim::scenario::CoordinationName;

const FILE: &str = "scenarios/topologies/distributed-agents.toml";

fn run(coordination: CoordinationName, faults: bool) -> Score {
    let mut scenario = common::load(FILE);
    scenario.hub.coordination = coordination;
    if !faults {
        scenario.faults.clear();
    }
    let score = camsync_sim::run(&scenario, scenario.seed);
    common::assert_invariants(&score, FILE);
    score
}

#[test]
fn agents_judge_a_crash_and_a_partition_as_a_hub_does() {
    let mesh = run(CoordinationName::Distributed, true);
    let hub = run(CoordinationName::Central, true);
    let m = mesh.mesh.as_ref().expect("a mesh section");
    assert_eq!(m.agents, 6);
    assert_eq!(m.agree_at_end, 1);
    // The partition splits the views for its 15 s, and no longer.
    assert!(
        (15.0..15.5).contains(&m.longest_disagreement_s),
        "longest {} s",
        m.longest_disagreement_s
    );
    // cam0's agent, like the hub, saw cam2 and cam4 lost and recover.
    for s in [&mesh, &hub] {
        let kinds = &s.health.alert_kinds;
        assert!(kinds["camera_lost"] >= 2, "{kinds:?}");
        assert_eq!(kinds["camera_lost"], kinds["camera_recovered"], "{kinds:?}");
        assert_eq!(s.health.cameras_locked_at_end, 6);
        assert_eq!(s.coordination.corrupted_accepted, 0);
    }
    // Lost for the crash and the cut less the liveness timeout each, on
    // both boards, within a few reports.
    assert!(
        (mesh.health.lost_s - hub.health.lost_s).abs() <= 4.0,
        "mesh {} s, hub {} s",
        mesh.health.lost_s,
        hub.health.lost_s
    );
    // Five agents beside cam0 raise alerts of their own.
    assert!(
        m.alerts >= 5 * mesh.health.alerts / 2,
        "{} alerts",
        m.alerts
    );
    // Who coordinates changes nothing in the clocks or the video.
    assert_eq!(mesh.ptp.offset_rms_ns, hub.ptp.offset_rms_ns);
    assert_eq!(mesh.align.complete_sets, hub.align.complete_sets);
    assert_eq!(mesh.align.misaligned_frame_sets, 0);
}

#[test]
fn without_faults_the_agents_differ_only_while_reports_are_in_flight() {
    let s = run(CoordinationName::Distributed, false);
    let m = s.mesh.as_ref().expect("a mesh section");
    assert_eq!(m.agree_at_end, 1);
    // Views change only when a state does (here: each agent's first
    // lock), and differ until that report reaches the five others, 2 to
    // 2.5 ms after its sender judged itself from it.
    assert!(m.disagreement_s < 0.05, "{} s", m.disagreement_s);
    assert!(
        m.longest_disagreement_s < 0.003,
        "{} s",
        m.longest_disagreement_s
    );
    assert_eq!(s.health.lost_s, 0.0);
    assert_eq!(s.health.cameras_locked_at_end, 6);
}
