//! Swarm testing, in the manner of TigerBeetle's VOPR: one seed derives a
//! whole world — cameras, rates, timestamping, network, hub, masters,
//! topology and a fault schedule — which is written as an ordinary scenario
//! file, parsed back by the normal parser, run, and judged by invariants that
//! must hold in every world (`invariants.rs`). A failing seed's schedule is
//! shrunk to the fewest, shortest, smallest faults that still fail, and the
//! result is a scenario file `camsync run` replays.
//!
//! - `knobs.rs`: the seed's knobs, each from its own named stream;
//! - `faults.rs`: the fault schedule, one recipe per kind in one table;
//! - `render.rs`: knobs as scenario TOML;
//! - `phases.rs`: safety until the faults heal, then liveness within a bound;
//! - `invariants.rs`: what is checked;
//! - `shrink.rs`: ddmin over the schedule, then shorter and smaller faults.

pub mod faults;
pub mod invariants;
pub mod knobs;
pub mod phases;
pub mod render;
pub mod shrink;

pub use faults::{ALL_KINDS, FaultDraw, kind_name, parse_kind};
pub use invariants::{Checked, Violation};
pub use knobs::Knobs;

use crate::scenario::{FaultKind, Scenario};
use crate::score::Score;

/// The build that ran: crate version and the git commit it was built from
/// ("unknown" without git), captured by build.rs.
pub const BUILD: &str = concat!(
    "camsync-sim ",
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("CAMSYNC_GIT_COMMIT"),
    ")"
);

/// At most this many simulator runs to shrink one failure, by default.
pub const SHRINK_BUDGET: usize = 60;

/// One seed's world, as text and as parsed.
#[derive(Clone, Debug)]
pub struct Derived {
    pub knobs: Knobs,
    pub text: String,
    pub scenario: Result<Scenario, String>,
}

impl Derived {
    pub fn of(knobs: Knobs, header: &[String]) -> Derived {
        let text = render::scenario_toml(&knobs, header);
        let file = format!("swarm-{}.toml", knobs.seed);
        let scenario = Scenario::parse(&text, &file, &Score::known_key).map_err(|e| e.to_string());
        Derived {
            knobs,
            text,
            scenario,
        }
    }
}

/// A seed's verdict.
#[derive(Clone, Debug)]
pub struct SeedRun {
    pub seed: u64,
    pub world: Derived,
    pub violations: Vec<Violation>,
    /// Empty when the derived scenario did not parse (itself a violation).
    pub trace_hash: String,
    pub events: u64,
}

impl SeedRun {
    pub fn failed(&self) -> bool {
        !self.violations.is_empty()
    }
}

/// Derives seed `seed`'s world with faults of the kinds `allowed`, runs it
/// and judges it.
pub fn run_seed(seed: u64, allowed: &[FaultKind]) -> SeedRun {
    let world = Derived::of(Knobs::derive(seed, allowed), &[]);
    judge(seed, world)
}

fn judge(seed: u64, world: Derived) -> SeedRun {
    match &world.scenario {
        Ok(scenario) => {
            let c = invariants::check(scenario, seed);
            SeedRun {
                seed,
                violations: c.violations,
                trace_hash: c.trace_hash,
                events: c.events,
                world,
            }
        }
        // The swarm wrote a scenario its own parser refuses: a swarm bug,
        // reported as a failure of the seed, never a panic.
        Err(e) => SeedRun {
            seed,
            violations: vec![Violation {
                invariant: "scenario-valid",
                detail: e.clone(),
            }],
            trace_hash: String::new(),
            events: 0,
            world,
        },
    }
}

/// A failing seed with its schedule shrunk: the faults that still make it
/// fail the same invariant, and the run of that schedule. At most `budget`
/// simulator runs are spent; with none, the drawn schedule is kept.
pub fn shrink(failed: &SeedRun, budget: usize) -> SeedRun {
    let Some(first) = failed.violations.first().filter(|_| budget > 0) else {
        return failed.clone();
    };
    let invariant = first.invariant;
    let seed = failed.seed;
    let base = failed.world.knobs.clone();
    let mut fails = |faults: &[FaultDraw]| {
        let knobs = Knobs {
            faults: faults.to_vec(),
            ..base.clone()
        };
        let run = judge(seed, Derived::of(knobs, &[]));
        run.violations.iter().any(|v| v.invariant == invariant)
    };
    let faults = shrink::shrink_schedule(&base.faults, budget, &mut fails);
    judge(
        seed,
        Derived::of(
            Knobs {
                faults,
                ..base.clone()
            },
            &[],
        ),
    )
}
