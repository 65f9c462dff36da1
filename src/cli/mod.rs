//! Subcommands: `run` a scenario and score it, `validate` a scenario file,
//! `align` recordings by their pictures, `swarm` many seeds' derived worlds
//! against the invariants, `sweep` parameters over many runs, `report` a run
//! or a sweep as HTML, `live` nodes on real sockets and clocks.

mod align;
mod live;
mod report;
mod run;
mod swarm;
mod sweep;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code when every expectation holds.
pub const EXIT_OK: u8 = 0;
/// Exit code when a run fails one of its `[expect]` thresholds.
pub const EXIT_EXPECT_FAILED: u8 = 1;
/// Exit code for bad input: an unreadable or invalid scenario or recording,
/// bad flags.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when `align` abstains: the pictures carry no timing information.
pub const EXIT_ABSTAINED: u8 = 3;

#[derive(Parser)]
#[command(
    name = "camsync",
    version,
    about = "Keeps the cameras of a live production on one timeline",
    long_about = "camsync keeps the cameras of a live production on one timeline: PTP clock \
discipline, frame timestamping and cross-camera alignment, scored in a seeded \
deterministic simulator and run live on real hardware."
)]
struct Cli {
    /// More log output (repeat for more); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors and the verdict.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario in the simulator and score it against ground truth.
    Run(run::RunArgs),
    /// Measure the capture-time offsets between recordings of one event
    /// (Y4M files) from their pictures.
    Align(align::AlignArgs),
    /// Run many seeds, each deriving its own world and fault schedule, and
    /// check the invariants every world must keep; failures are shrunk and
    /// written as repro scenarios.
    Swarm(swarm::SwarmArgs),
    /// Run every point of a sweep file (parameters varied over a base
    /// scenario, seeds per point) in parallel; resumable, shardable
    /// (`--shard i/n`), results as JSON Lines and CSV. `sweep merge` joins
    /// shards.
    Sweep(sweep::SweepArgs),
    /// Write a self-contained HTML report with plots of a run's JSON or a
    /// sweep's output directory.
    Report(report::ReportArgs),
    /// Run engine nodes live (PTP grandmaster or slave, camera agents, hub)
    /// on real sockets and clocks, from a configuration file.
    Live(live::LiveArgs),
    /// Check a scenario file without running it.
    Validate {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.verbose, cli.quiet);
    let code = match cli.command {
        Command::Run(args) => run::run(args, cli.quiet),
        Command::Align(args) => align::align(args, cli.quiet),
        Command::Swarm(args) => swarm::swarm(args, cli.verbose > 0, cli.quiet),
        Command::Sweep(args) => sweep::sweep(args, cli.quiet),
        Command::Report(args) => report::report(args, cli.quiet),
        Command::Live(args) => live::live(args),
        Command::Validate { scenario } => validate(&scenario),
    };
    ExitCode::from(code)
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

fn validate(path: &std::path::Path) -> u8 {
    match camsync_sim::Scenario::from_file(path, &camsync_sim::Score::known_key) {
        Ok(s) => {
            println!(
                "{}: ok ({}, {} cameras, {} s, seed {})",
                path.display(),
                s.name(),
                s.camera_count(),
                s.duration.ns() as f64 / 1e9,
                s.seed
            );
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}
