//! The jitter families of `scenarios/buffer/` at 4, 16 and 32 cameras: the
//! adaptive buffer completes ≥ 99.9 % of the sets with a median added latency
//! within 1.2× the oracle's and ≤ 0.6× the fixed 200 ms buffer's; it catches
//! up with a jitter step up within a second and comes down from a step down
//! no faster than a frame period per second, without rising again.
//!
//! Release-only: about 30 runs of minutes of 16–32 cameras each.

mod common;

use camsync_sim::scenario::BufferPolicy;

const FAMILIES: [&str; 5] = ["gauss", "heavy-tail", "bursts", "step-up", "step-down"];

fn run(name: &str, cameras: u16, policy: BufferPolicy) -> camsync_sim::Score {
    let mut scenario = common::load(&format!("scenarios/buffer/{name}.toml"));
    scenario.cameras[0].count = cameras;
    scenario.hub.policy = policy;
    let seed = scenario.seed;
    camsync_sim::run(&scenario, seed)
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "minutes of simulated video: run with --release"
)]
fn the_adaptive_buffer_meets_the_bar_on_every_family_and_camera_count() {
    let mut failures = Vec::new();
    for name in FAMILIES {
        for cameras in [4, 16, 32] {
            let a = run(name, cameras, BufferPolicy::Adaptive);
            let f = run(name, cameras, BufferPolicy::Fixed);
            let (al, bu) = (&a.align, &a.buffer);
            let vs_fixed = bu.added_latency_p50_ms / f.buffer.added_latency_p50_ms;
            let line = format!(
                "{name} x{cameras}: complete {:.5}, {:.1} ms = {:.3}x oracle, {:.3}x fixed, \
                 reconverge {:?}, descent {:?} ms/s, rises {:?}",
                al.complete_ratio,
                bu.added_latency_p50_ms,
                bu.latency_vs_oracle,
                vs_fixed,
                bu.reconverge_s,
                bu.max_descent_ms_per_s,
                bu.rises_after_step_down
            );
            println!("{line}");
            let ok = al.complete_ratio >= 0.999
                && bu.latency_vs_oracle <= 1.2
                && vs_fixed <= 0.6
                && al.unaccounted_frames == 0
                && al.wrong_assignments == 0
                && bu.reconverge_s.is_none_or(|r| r <= 1.0)
                && bu.max_descent_ms_per_s.is_none_or(|d| d <= 20.0)
                && bu.rises_after_step_down.is_none_or(|r| r == 0);
            if !ok {
                failures.push(format!(
                    "{line}\n  replay: camsync run scenarios/buffer/{name}.toml --buffer adaptive \
                     (with {cameras} cameras)"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
