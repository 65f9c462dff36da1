//! camsync-sim: the seeded, deterministic world kernel.
//!
//! One seed decides everything: oscillators, network delays and losses,
//! timestamping noise. The engine's nodes run unchanged against simulated time,
//! and the run is scored against ground truth only the simulator knows.

pub mod buffer_tally;
pub mod coordination;
pub mod faults;
pub mod latency;
pub mod oscillator;
pub mod rng;
pub mod scenario;
pub mod score;
pub mod swarm;
pub mod sweep;
pub mod switcher;
pub mod timeline;
pub mod trace;
pub mod truth;
pub mod units;
pub mod visual;
pub mod world;

pub use scenario::{Scenario, ScenarioError};
pub use score::Score;
pub use world::World;

/// Runs a scenario with a seed and judges it against its `[expect]` table.
pub fn run(scenario: &Scenario, seed: u64) -> Score {
    run_measured(scenario, seed, &mut || 0)
}

/// As `run`, with a CPU-time reader for the cost figures (ns).
pub fn run_measured(scenario: &Scenario, seed: u64, cpu_ns: &mut dyn FnMut() -> u64) -> Score {
    let mut score = World::new(scenario, seed).run();
    if let Some(v) = visual::run_visual(scenario, seed, cpu_ns) {
        score.visual = Some(v);
    }
    score.judge(scenario);
    score
}
