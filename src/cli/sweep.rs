//! `camsync sweep FILE --out DIR [--shard i/n]`: every run of a sweep file
//! (a point and a seed), in parallel, one simulator per rayon worker; and
//! `camsync sweep merge DIR... --out DIR`, which joins shards' outputs.
//!
//! Rows are appended to `DIR/results.jsonl` as runs finish, so an
//! interrupted sweep keeps its work; when the sweep ends the file is
//! rewritten in run order (point, then seed) and `DIR/results.csv` made from
//! it. So the finished files never depend on thread timing, and a sweep
//! started again over the same `DIR` runs only the runs not in it yet.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use camsync_sim::sweep::pareto::{self, Reason};
use camsync_sim::sweep::rows::{self, Identity, identity_of, read_rows, sort_and_dedupe};
use camsync_sim::sweep::{Row, Shard, SweepFile, SweepRun};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// The files of a sweep's output directory.
pub const RESULTS_JSONL: &str = "results.jsonl";
pub const RESULTS_CSV: &str = "results.csv";
/// The sweep file as it was run: how a resume, a merge or a report knows
/// which sweep the rows belong to.
pub const SWEEP_COPY: &str = "sweep.toml";

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    command: Option<SweepCommand>,
    /// The sweep file (TOML): a base scenario, the parameters to vary, the
    /// seeds per point, the objectives.
    #[arg(required = true)]
    file: Option<PathBuf>,
    /// The output directory: results.jsonl, results.csv, sweep.toml. Runs
    /// already in it are not run again.
    #[arg(long, value_name = "DIR", required = true)]
    out: Option<PathBuf>,
    /// Run only the runs numbered i modulo n (a batch array job's slice);
    /// `camsync sweep merge` joins the shards.
    #[arg(long, value_name = "i/n")]
    shard: Option<Shard>,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
}

#[derive(Subcommand)]
enum SweepCommand {
    /// Join the outputs of a sweep's shards into one output.
    Merge {
        /// The shards' output directories.
        #[arg(required = true, num_args = 1..)]
        dirs: Vec<PathBuf>,
        /// Where the merged results.jsonl and results.csv go.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

pub fn sweep(args: SweepArgs, quiet: bool) -> u8 {
    match args.command {
        Some(SweepCommand::Merge { dirs, out }) => merge(&dirs, &out, quiet),
        None => {
            let (Some(file), Some(out)) = (args.file, args.out) else {
                eprintln!("error: camsync sweep FILE --out DIR");
                return EXIT_BAD_INPUT;
            };
            let shard = args.shard.unwrap_or(Shard::WHOLE);
            match run_sweep(&file, &out, shard, args.jobs, quiet) {
                Ok(()) => EXIT_OK,
                Err(e) => {
                    eprintln!("error: {e}");
                    EXIT_BAD_INPUT
                }
            }
        }
    }
}

fn run_sweep(
    file: &Path,
    out: &Path,
    shard: Shard,
    jobs: Option<usize>,
    quiet: bool,
) -> Result<(), String> {
    let sweep = SweepFile::from_file(file).map_err(|e| e.to_string())?;
    sweep.check_points().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let copy = out.join(SWEEP_COPY);
    match std::fs::read_to_string(&copy) {
        Ok(old) if old != sweep.text => {
            return Err(format!(
                "{} holds the results of another sweep file (its {SWEEP_COPY} differs from {}): use a new --out",
                out.display(),
                file.display()
            ));
        }
        Ok(_) => {}
        Err(_) => write_file(&copy, &sweep.text)?,
    }

    let runs: Vec<SweepRun> = sweep.runs().filter(|r| shard.holds(r.index)).collect();
    let wanted: BTreeMap<Identity, SweepRun> = runs
        .iter()
        .map(|r| (identity_of(&sweep.point(r.point), r.seed), *r))
        .collect();

    // Resume: keep the rows of this sweep's runs already written.
    let results = out.join(RESULTS_JSONL);
    let existing = std::fs::read_to_string(&results).unwrap_or_default();
    let (old_rows, broken) = read_rows(&existing);
    if broken > 0 {
        tracing::warn!(
            "{broken} unreadable line(s) in {} dropped (a run cut off mid-write is run again)",
            results.display()
        );
    }
    let mut kept: BTreeMap<Identity, (Row, String)> = BTreeMap::new();
    let mut foreign = 0;
    for (row, line) in old_rows {
        let id = row.identity();
        match wanted.get(&id) {
            Some(r) if r.point == row.point => {
                kept.insert(id, (row, line));
            }
            _ => foreign += 1,
        }
    }
    if foreign > 0 {
        tracing::warn!(
            "{foreign} row(s) in {} are not runs of this sweep or shard: dropped",
            results.display()
        );
    }
    let kept: Vec<(Row, String)> = kept.into_values().collect();
    let done: std::collections::BTreeSet<(u64, u64)> =
        kept.iter().map(|(row, _)| (row.point, row.seed)).collect();
    let pending: Vec<SweepRun> = runs
        .iter()
        .filter(|r| !done.contains(&(r.point, r.seed)))
        .copied()
        .collect();
    // The file starts again from its readable rows (a torn last line would
    // otherwise swallow the first row appended).
    write_file(&results, &rows::to_jsonl(&sort_and_dedupe(kept.clone())?))?;

    if !quiet {
        eprintln!(
            "sweep {}: {} points × {} seed(s) = {} runs{}; {} already in {}, {} to run",
            sweep.name,
            sweep.point_count(),
            sweep.seeds.len(),
            sweep.run_count(),
            if shard == Shard::WHOLE {
                String::new()
            } else {
                format!(", shard {shard}: {}", runs.len())
            },
            kept.len(),
            out.display(),
            pending.len()
        );
    }
    let bar = progress_bar(runs.len() as u64, kept.len() as u64, quiet);
    let appender = Mutex::new(
        std::fs::OpenOptions::new()
            .append(true)
            .open(&results)
            .map_err(|e| format!("cannot write {}: {e}", results.display()))?,
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .map_err(|e| format!("cannot start the workers: {e}"))?;
    // The CLI's own rate figure; nothing in the rows sees this clock.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    let fresh: Result<Vec<(Row, String)>, String> = pool.install(|| {
        pending
            .par_iter()
            .map(|r| {
                let point = sweep.point(r.point);
                let scenario = sweep.scenario(&point).map_err(|e| e.to_string())?;
                let score = camsync_sim::run(&scenario, r.seed);
                let row = Row::new(&point, r.seed, &score);
                let line = row.line();
                tracing::debug!(point = r.point, seed = r.seed, "run done");
                {
                    let mut f = appender.lock().unwrap_or_else(|p| p.into_inner());
                    writeln!(f, "{line}")
                        .map_err(|e| format!("cannot write {}: {e}", results.display()))?;
                }
                bar.inc(1);
                Ok((row, line))
            })
            .collect()
    });
    let wall = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let fresh = fresh?;

    let all = sort_and_dedupe(kept.into_iter().chain(fresh.iter().cloned()).collect())?;
    write_file(&results, &rows::to_jsonl(&all))?;
    write_file(&out.join(RESULTS_CSV), &rows::to_csv(&all))?;
    if !quiet {
        eprintln!(
            "{} runs in {wall:.1} s ({:.2} runs/s); {} rows in {}",
            fresh.len(),
            fresh.len() as f64 / wall.max(1e-9),
            all.len(),
            results.display()
        );
        if shard == Shard::WHOLE {
            print_recommendation(&sweep, &all);
        } else {
            println!("shard {shard} done: merge the shards (camsync sweep merge) for the front");
        }
    }
    Ok(())
}

fn progress_bar(len: u64, done: u64, quiet: bool) -> ProgressBar {
    // Hidden when stderr is not a terminal (indicatif's stderr target) or
    // with -q: machine-readable runs stay quiet.
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40.cyan/blue} {pos}/{len} runs  {per_sec}  elapsed {elapsed}  ETA {eta}",
        )
        .expect("a valid template"),
    );
    bar.set_position(done);
    bar.reset_eta();
    bar
}

/// The recommended setting, on stdout: what a person running the sweep came for.
fn print_recommendation(sweep: &SweepFile, all: &[(Row, String)]) {
    let rows: Vec<Row> = all.iter().map(|(r, _)| r.clone()).collect();
    let keys: Vec<String> = sweep.objectives().into_iter().map(|o| o.key).collect();
    let points = pareto::summarise(&rows, &keys);
    let front = pareto::front(&points, &sweep.pareto[0], &sweep.pareto[1]);
    let Some(rec) = pareto::recommend(&points, &sweep.pareto, sweep.target.as_ref()) else {
        println!("no recommendation: no point has both objectives");
        return;
    };
    let p = &points[rec.index];
    let setting: Vec<String> = p.params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    let why = match rec.reason {
        Reason::MeetsTarget => "best first objective meeting the target".to_string(),
        Reason::Knee => "the knee of the front".to_string(),
    };
    println!(
        "front: {} of {} points; recommended: point {} ({}) — {why}",
        front.len(),
        points.len(),
        p.point,
        setting.join(", ")
    );
    for (k, v) in &p.means {
        println!("  {k} = {v}");
    }
}

fn merge(dirs: &[PathBuf], out: &Path, quiet: bool) -> u8 {
    match merge_dirs(dirs, out) {
        Ok(n) => {
            if !quiet {
                println!(
                    "merged {n} rows from {} outputs into {}",
                    dirs.len(),
                    out.display()
                );
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

fn merge_dirs(dirs: &[PathBuf], out: &Path) -> Result<usize, String> {
    let mut sweep_text: Option<(String, &PathBuf)> = None;
    let mut all = Vec::new();
    for dir in dirs {
        let copy = dir.join(SWEEP_COPY);
        let text = std::fs::read_to_string(&copy)
            .map_err(|e| format!("{}: cannot read: {e} (not a sweep output)", copy.display()))?;
        match &sweep_text {
            Some((first, from)) if *first != text => {
                return Err(format!(
                    "{} and {} are outputs of different sweep files",
                    from.display(),
                    dir.display()
                ));
            }
            Some(_) => {}
            None => sweep_text = Some((text, dir)),
        }
        let path = dir.join(RESULTS_JSONL);
        let rows_text = std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let (rows, broken) = read_rows(&rows_text);
        if broken > 0 {
            return Err(format!(
                "{}: {broken} unreadable line(s): finish that shard first (run it again over the same --out)",
                path.display()
            ));
        }
        all.extend(rows);
    }
    let all = sort_and_dedupe(all)?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    if let Some((text, _)) = &sweep_text {
        write_file(&out.join(SWEEP_COPY), text)?;
    }
    write_file(&out.join(RESULTS_JSONL), &rows::to_jsonl(&all))?;
    write_file(&out.join(RESULTS_CSV), &rows::to_csv(&all))?;
    Ok(all.len())
}

/// Writes whole or not at all: a temporary file renamed over the target.
pub fn write_file(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
