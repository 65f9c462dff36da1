//! `camsync swarm`: many seeds, each its own world with its own faults, judged
//! by the swarm's invariants. Seeds run in parallel, one simulator per worker;
//! everything printed or written is in seed order, so the output of a seed
//! range is the same on any machine with any number of cores.

use super::{EXIT_BAD_INPUT, EXIT_EXPECT_FAILED, EXIT_OK};
use camsync_sim::scenario::FaultKind;
use camsync_sim::swarm::{self, ALL_KINDS, SeedRun, kind_name, parse_kind};
use clap::Args;
use rayon::prelude::*;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Args)]
pub struct SwarmArgs {
    /// The seeds to run, `A..B` (A included, B not): `--seeds 1..1001`.
    #[arg(long, value_name = "A..B")]
    seeds: String,
    /// Only these fault kinds (comma-separated; `none` for none); default:
    /// every kind.
    #[arg(long, value_name = "KIND,KIND")]
    faults: Option<String>,
    /// Write the summary as JSON to this path.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Where failing seeds' repro files go (repro-<seed>.toml, or repro.toml
    /// for a single seed).
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// At most this many simulator runs to shrink each failing schedule
    /// (0: report and write the schedule as drawn).
    #[arg(long, value_name = "RUNS", default_value_t = swarm::SHRINK_BUDGET)]
    shrink: usize,
}

/// `A..B` as a non-empty half-open range.
fn parse_seeds(text: &str) -> Result<(u64, u64), String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("--seeds `{text}`: write a range A..B, e.g. 1000..1100"))?;
    let num = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("--seeds `{text}`: `{s}` is not a seed (a whole number ≥ 0)"))
    };
    let (a, b) = (num(a)?, num(b)?);
    if a >= b {
        return Err(format!(
            "--seeds `{text}`: the range is empty ({a} is not below {b}); A..B runs A up to B-1"
        ));
    }
    Ok((a, b))
}

fn parse_faults(text: Option<&str>) -> Result<Vec<FaultKind>, String> {
    let Some(text) = text else {
        return Ok(ALL_KINDS.to_vec());
    };
    if text.trim() == "none" {
        return Ok(Vec::new());
    }
    let mut kinds = Vec::new();
    for name in text.split(',').map(str::trim) {
        let kind = parse_kind(name).map_err(|e| format!("--faults: {e}"))?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    // The table's order, whatever order they were named in: the same set
    // always derives the same worlds.
    kinds.sort_by_key(|k| ALL_KINDS.iter().position(|a| a == k));
    Ok(kinds)
}

/// `--faults …` as it must be given to replay, or nothing for every kind.
fn faults_flag(kinds: &[FaultKind]) -> String {
    if kinds.len() == ALL_KINDS.len() {
        return String::new();
    }
    if kinds.is_empty() {
        return " --faults none".into();
    }
    let names: Vec<&str> = kinds.iter().map(|&k| kind_name(k)).collect();
    format!(" --faults {}", names.join(","))
}

/// A failure and what was made of it.
struct Report {
    original: SeedRun,
    shrunk: SeedRun,
    replay: String,
    file: Option<PathBuf>,
    run_file: Option<String>,
}

pub fn swarm(args: SwarmArgs, verbose: bool, quiet: bool) -> u8 {
    let (first, end) = match parse_seeds(&args.seeds) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let kinds = match parse_faults(args.faults.as_deref()) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let total = (end - first) as usize;
    let flag = faults_flag(&kinds);
    if !quiet {
        println!(
            "camsync swarm --seeds {first}..{end}{flag}  ({total} runs, {} fault kinds, {})",
            kinds.len(),
            swarm::BUILD
        );
    }

    // The CLI's own speed figure; nothing simulated sees this clock.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    let progress = Progress::new(total);
    let runs: Vec<SeedRun> = (first..end)
        .into_par_iter()
        .map(|seed| {
            let run = swarm::run_seed(seed, &kinds);
            progress.tick(run.failed());
            run
        })
        .collect();
    progress.done();

    let failed: Vec<&SeedRun> = runs.iter().filter(|r| r.failed()).collect();
    let shrunk: Vec<SeedRun> = failed
        .par_iter()
        .map(|r| swarm::shrink(r, args.shrink))
        .collect();
    let mut reports = Vec::new();
    for (original, shrunk) in failed.into_iter().zip(shrunk) {
        let replay = format!(
            "camsync swarm --seeds {}..{}{flag}",
            original.seed,
            original.seed + 1
        );
        let name = if total == 1 {
            "repro.toml".to_string()
        } else {
            format!("repro-{}.toml", original.seed)
        };
        let path = args.out.join(name);
        let (file, run_file) = match write_repro(&path, original, &shrunk, &replay) {
            Ok(()) => (
                Some(path.clone()),
                Some(format!(
                    "camsync run {} --seed {}",
                    path.display(),
                    original.seed
                )),
            ),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                (None, None)
            }
        };
        reports.push(Report {
            original: original.clone(),
            shrunk,
            replay,
            file,
            run_file,
        });
    }
    let wall = started.elapsed().as_secs_f64();

    if !quiet {
        let mut out = std::io::stdout().lock();
        if verbose {
            for run in &runs {
                let _ = writeln!(
                    out,
                    "seed {} {}  trace {}",
                    run.seed,
                    if run.failed() { "FAILED" } else { "ok" },
                    run.trace_hash
                );
                for line in run.world.knobs.describe() {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
        for r in &reports {
            print_failure(&mut out, r, verbose);
        }
        let _ = writeln!(
            out,
            "swarm: {total} runs, {} failures, {wall:.1} s wall, {:.1} runs/s",
            reports.len(),
            total as f64 / wall.max(1e-9)
        );
    }

    if let Some(path) = &args.json {
        let json = summary_json(first, end, &kinds, total, &reports);
        let text = serde_json::to_string_pretty(&json).expect("json serialises");
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("error: cannot write {}: {e}", path.display());
            return EXIT_BAD_INPUT;
        }
    }
    if reports.is_empty() {
        EXIT_OK
    } else {
        EXIT_EXPECT_FAILED
    }
}

fn print_failure(out: &mut impl Write, r: &Report, verbose: bool) {
    let o = &r.original;
    let _ = writeln!(out, "seed {} FAILED  trace {}", o.seed, o.trace_hash);
    // The knobs of a failing seed are always printed (with -v they were
    // printed above with every seed's).
    if !verbose {
        for line in o.world.knobs.describe() {
            let _ = writeln!(out, "  {line}");
        }
    }
    for v in &o.violations {
        let _ = writeln!(out, "  violation: {v}");
    }
    let _ = writeln!(
        out,
        "  shrunk: {} of {} faults{}",
        r.shrunk.world.knobs.faults.len(),
        o.world.knobs.faults.len(),
        if r.shrunk.failed() {
            String::new()
        } else {
            " (the shrunk schedule no longer fails: the repro keeps it anyway)".into()
        }
    );
    for f in &r.shrunk.world.knobs.faults {
        let _ = writeln!(out, "    {}", swarm::knobs::describe_fault(f));
    }
    let _ = writeln!(out, "  replay: {}", r.replay);
    if let Some(line) = &r.run_file {
        let _ = writeln!(out, "  repro:  {line}");
    }
}

/// The shrunk scenario, with the seed, the build, the violations and the
/// line that found it as comments. When the shrunk schedule does not fail
/// (shrinking is heuristic), the original schedule is written instead.
fn write_repro(
    path: &Path,
    original: &SeedRun,
    shrunk: &SeedRun,
    replay: &str,
) -> std::io::Result<()> {
    let chosen = if shrunk.failed() { shrunk } else { original };
    let mut header = vec![
        format!(
            "camsync swarm repro: seed {}, build {}",
            original.seed,
            swarm::BUILD
        ),
        format!("found by: {replay}"),
        format!(
            "fault schedule: {} of the {} faults drawn{}",
            chosen.world.knobs.faults.len(),
            original.world.knobs.faults.len(),
            if shrunk.failed() { " (shrunk)" } else { "" }
        ),
        "violations of this schedule:".into(),
    ];
    header.extend(chosen.violations.iter().map(|v| format!("  {v}")));
    header.push(format!("trace {}", chosen.trace_hash));
    let text = swarm::render::scenario_toml(&chosen.world.knobs, &header);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

fn summary_json(
    first: u64,
    end: u64,
    kinds: &[FaultKind],
    total: usize,
    reports: &[Report],
) -> serde_json::Value {
    let failures: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "seed": r.original.seed,
                "violations": r.original.violations.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "invariants": r.original.violations.iter().map(|v| v.invariant).collect::<Vec<_>>(),
                "trace_hash": r.original.trace_hash,
                "repro": r.replay,
                "repro_file": r.file.as_ref().map(|p| p.display().to_string()),
                "repro_run": r.run_file,
                "shrunk_faults": r.shrunk.world.knobs.faults.iter().map(swarm::knobs::describe_fault).collect::<Vec<_>>(),
                "shrunk_violations": r.shrunk.violations.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "seeds": format!("{first}..{end}"),
        "fault_kinds": kinds.iter().map(|&k| kind_name(k)).collect::<Vec<_>>(),
        "build": swarm::BUILD,
        "runs": total,
        "failures": failures,
    })
}

/// A progress line on stderr, only when it is a terminal: `done/total`.
struct Progress {
    total: usize,
    done: AtomicUsize,
    failed: AtomicUsize,
    shown: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        Progress {
            total,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            shown: std::io::stderr().is_terminal(),
        }
    }

    fn tick(&self, failed: bool) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let failed = self.failed.fetch_add(failed as usize, Ordering::Relaxed) + failed as usize;
        if self.shown && (done.is_multiple_of(10) || done == self.total) {
            eprint!("\r{done}/{} runs, {failed} failed", self.total);
        }
    }

    fn done(&self) {
        if self.shown {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges() {
        assert_eq!(parse_seeds("1000..1100"), Ok((1000, 1100)));
        assert!(parse_seeds("5..3").unwrap_err().contains("empty"));
        assert!(parse_seeds("5..5").is_err());
        assert!(parse_seeds("5").is_err());
        assert!(parse_seeds("a..3").unwrap_err().contains("`a`"));
    }

    #[test]
    fn fault_lists() {
        assert_eq!(parse_faults(None).unwrap().len(), ALL_KINDS.len());
        assert_eq!(parse_faults(Some("none")).unwrap(), vec![]);
        let k = parse_faults(Some("video-jitter,grandmaster-silent")).unwrap();
        assert_eq!(
            k,
            vec![FaultKind::GrandmasterSilent, FaultKind::VideoJitter]
        );
        assert_eq!(faults_flag(&k), " --faults grandmaster-silent,video-jitter");
        assert!(
            parse_faults(Some("bogus"))
                .unwrap_err()
                .contains("unknown fault kind `bogus`")
        );
    }
}
