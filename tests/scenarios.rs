//! Replays every library scenario with its own seed, checks its `[expect]`
//! table and the frame accounting, and snapshots its score. The snapshot holds
//! the trace hash, so running these tests under both the dev and the release
//! profile (scripts/test does) proves the two builds make identical runs.

mod common;

use common::load;

fn replay(file: &str) {
    let scenario = load(file);
    let score = camsync_sim::run(&scenario, scenario.seed);
    assert!(
        score.expect.passed,
        "{file} fails its expectations: {:?}\nreplay: camsync run {file} --seed {}",
        score.expect.failures, scenario.seed
    );
    common::assert_invariants(&score, file);
    insta::assert_json_snapshot!(scenario.name().to_string(), common::rounded(&score));
}

#[test]
fn studio_4cam() {
    replay("scenarios/studio-4cam.toml");
}

#[test]
fn stadium_8cam_sw() {
    replay("scenarios/stadium-8cam-sw.toml");
}

/// The hierarchical stadium: 36 cameras in four clusters and a remote site
/// over a WAN, through a cluster-leader loss and a WAN partition.
#[test]
fn stadium_36cam() {
    replay("scenarios/stadium-36cam.toml");
}

#[test]
fn mixed_rates() {
    replay("scenarios/mixed-rates.toml");
}

#[test]
fn perf_16cam_60fps() {
    replay("scenarios/perf-16cam-60fps.toml");
}

#[test]
fn buffer_gauss() {
    replay("scenarios/buffer/gauss.toml");
}

#[test]
fn buffer_heavy_tail() {
    replay("scenarios/buffer/heavy-tail.toml");
}

#[test]
fn buffer_bursts() {
    replay("scenarios/buffer/bursts.toml");
}

#[test]
fn buffer_step_up() {
    replay("scenarios/buffer/step-up.toml");
}

#[test]
fn buffer_step_down() {
    replay("scenarios/buffer/step-down.toml");
}

#[test]
fn ptp_clean_hw() {
    replay("scenarios/ptp/clean-hw.toml");
}

#[test]
fn ptp_pdv_10us() {
    replay("scenarios/ptp/pdv-10us.toml");
}

#[test]
fn ptp_pdv_30us() {
    replay("scenarios/ptp/pdv-30us.toml");
}

#[test]
fn ptp_pdv_100us() {
    replay("scenarios/ptp/pdv-100us.toml");
}

#[test]
fn ptp_sw_timestamps() {
    replay("scenarios/ptp/sw-timestamps.toml");
}

#[test]
fn ptp_cold_start_hw() {
    replay("scenarios/ptp/cold-start-hw.toml");
}

#[test]
fn ptp_cold_start_sw() {
    replay("scenarios/ptp/cold-start-sw.toml");
}

#[test]
fn ptp_holdover() {
    replay("scenarios/ptp/holdover.toml");
}

#[test]
fn ptp_gm_failover() {
    replay("scenarios/ptp/gm-failover.toml");
}

#[test]
fn ptp_rogue_master() {
    replay("scenarios/ptp/rogue-master.toml");
}

#[test]
fn ptp_freq_step() {
    replay("scenarios/ptp/freq-step.toml");
}

#[test]
fn ptp_path_delay_step() {
    replay("scenarios/ptp/path-delay-step.toml");
}

#[test]
fn ptp_leap_second() {
    replay("scenarios/ptp/leap-second.toml");
}

#[test]
fn ptp_peer_delay() {
    replay("scenarios/ptp/peer-delay.toml");
}

#[test]
fn ptp_transparent_clocks() {
    replay("scenarios/ptp/transparent-clocks.toml");
}

#[test]
fn ptp_boundary_clocks() {
    replay("scenarios/ptp/boundary-clocks.toml");
}

#[test]
fn ptp_replay_attack() {
    replay("scenarios/ptp/replay-attack.toml");
}

#[test]
fn ptp_malformed_packets() {
    replay("scenarios/ptp/malformed-packets.toml");
}

#[test]
fn ptp_graceful_resync() {
    replay("scenarios/ptp/graceful-resync.toml");
}

#[test]
fn topologies_distributed_agents() {
    replay("scenarios/topologies/distributed-agents.toml");
}

/// Every scenario file in the library is replayed by one of the tests above.
#[test]
fn every_library_scenario_is_replayed() {
    let source = include_str!("scenarios.rs");
    for sub in ["", "ptp/", "topologies/"] {
        let dir = common::repo().join("scenarios").join(sub);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                source.contains(&format!("\"scenarios/{sub}{name}\"")),
                "scenarios/{sub}{name} has no replay test"
            );
        }
    }
}
