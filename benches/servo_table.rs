//! The servo comparison: every scenario of `scenarios/ptp/` run with linuxptp's
//! PI and linreg servos and camsync's own, on the same seed (so the same network
//! delays and timestamp noise), printed as the Markdown table BENCHMARKS.md keeps.
//!
//!     cargo bench --bench servo_table

use camsync_sim::scenario::ServoKind;
use camsync_sim::{Scenario, Score};
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/ptp");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenarios/ptp exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    println!(
        "| scenario | servo | offset RMS (ns) | p-p (ns) | max (ns) | time to lock (s) | holdover max (ns) | oracle (ns) | recover (s) | rejected | alerts |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for file in files {
        let mut scenario = Scenario::from_file(&file, &Score::known_key).expect("library scenario");
        for servo in [ServoKind::Pi, ServoKind::Linreg, ServoKind::Camsync] {
            scenario.ptp.servo = servo;
            if scenario.ptp.servo_problem().is_some() {
                continue;
            }
            let s = camsync_sim::run(&scenario, scenario.seed).ptp;
            let opt = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.0}"));
            println!(
                "| {} | {} | {:.1} | {:.0} | {:.0} | {} | {} | {} | {} | {} | {} |",
                scenario.name(),
                format!("{servo:?}").to_lowercase(),
                s.offset_rms_ns,
                s.offset_pp_ns,
                s.offset_max_abs_ns,
                s.time_to_lock_s
                    .map_or("never".to_string(), |t| format!("{t:.2}")),
                opt(s.holdover_max_abs_ns),
                opt(s.holdover_oracle_max_abs_ns),
                s.recover_s.map_or("–".to_string(), |v| format!("{v:.2}")),
                s.rejected_messages,
                s.alerts,
            );
        }
    }
}
