//! `camsync report RUN.json|SWEEP_DIR --html DIR`: a self-contained HTML page
//! (`DIR/index.html`) with SVG plots, for a run's `--json` output or a
//! sweep's output directory.

use super::sweep::{RESULTS_JSONL, SWEEP_COPY};
use super::{EXIT_BAD_INPUT, EXIT_OK};
use crate::report::{run_page, sweep_page};
use camsync_sim::sweep::SweepFile;
use camsync_sim::sweep::rows::read_rows;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ReportArgs {
    /// A run's JSON (`camsync run --json`) or a sweep's output directory.
    input: PathBuf,
    /// Where to write index.html.
    #[arg(long, value_name = "DIR")]
    html: PathBuf,
}

pub fn report(args: ReportArgs, quiet: bool) -> u8 {
    let page = if args.input.is_dir() {
        sweep_report(&args.input)
    } else {
        run_report(&args.input)
    };
    match page.and_then(|p| write_page(&args.html, &p)) {
        Ok(path) => {
            if !quiet {
                println!("report: {}", path.display());
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

fn run_report(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not JSON: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    run_page::render(&json).map_err(|e| format!("{}: {e}", path.display()))
}

fn sweep_report(dir: &Path) -> Result<String, String> {
    let copy = dir.join(SWEEP_COPY);
    let text = std::fs::read_to_string(&copy)
        .map_err(|e| format!("{}: cannot read: {e} (not a sweep output)", copy.display()))?;
    let sweep = SweepFile::parse(&text, &copy.display().to_string(), dir, "sweep", false)
        .map_err(|e| e.to_string())?;
    let results = dir.join(RESULTS_JSONL);
    let rows_text = std::fs::read_to_string(&results)
        .map_err(|e| format!("{}: cannot read: {e}", results.display()))?;
    let (rows, broken) = read_rows(&rows_text);
    if broken > 0 {
        tracing::warn!(
            "{broken} unreadable line(s) in {} left out",
            results.display()
        );
    }
    if rows.is_empty() {
        return Err(format!("{}: no results yet", results.display()));
    }
    let rows: Vec<_> = rows.into_iter().map(|(r, _)| r).collect();
    sweep_page::render(&sweep, &rows)
}

/// Writes `dir/index.html`.
pub fn write_page(dir: &Path, page: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("index.html");
    std::fs::write(&path, page).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
