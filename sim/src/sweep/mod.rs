//! Parameter sweeps: a sweep file names a base scenario, the parameters to
//! vary and how, the seeds to run at every point and the objectives to
//! report. Everything here is pure and deterministic; running the points (in
//! parallel, with a progress bar) is the CLI's part.
//!
//! - `file`: the sweep file format and its errors (`file:line:col`).
//! - `values`: how one parameter's values are made (a list, a linear or
//!   log-spaced grid, seeded random draws).
//! - `points`: the points (every combination of the values), the runs (a point
//!   and a seed) and the scenario each run plays.
//! - `shard`: the deterministic slice `--shard i/n` runs.
//! - `rows`: the result rows (JSON Lines and CSV), resuming and merging.
//! - `pareto`: the front of two objectives, the recommended setting, and how
//!   each parameter moves the objectives.

pub mod file;
pub mod pareto;
pub mod points;
pub mod rows;
pub mod shard;
pub mod values;

pub use file::{Objective, SweepFile};
pub use points::{Point, SweepRun};
pub use rows::Row;
pub use shard::Shard;
pub use values::ParamValue;
