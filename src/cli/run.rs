//! `camsync run`: one scenario, one seed, a score, a verdict, and the line that
//! replays it.

use super::{EXIT_BAD_INPUT, EXIT_EXPECT_FAILED, EXIT_OK};
use crate::report::series::RunSeries;
use camsync_sim::scenario::{DEFAULT_SCENARIO, DEFAULT_SCENARIO_PATH};
use camsync_sim::{Scenario, Score, World};
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct RunArgs {
    /// The scenario file (TOML); without one, the embedded studio-4cam default.
    scenario: Option<PathBuf>,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Write the score as JSON to this path.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Override the scenario's servo: pi, linreg or camsync.
    #[arg(long, value_name = "SERVO")]
    servo: Option<camsync_sim::scenario::ServoKind>,
    /// Override the hub's buffer policy: fixed, neteq or adaptive.
    #[arg(long, value_name = "POLICY")]
    buffer: Option<camsync_sim::scenario::BufferPolicy>,
    /// Print one clock's servo updates on stderr as ptp4l -m does
    /// (`master offset N s2 freq +F path delay D`), e.g. `--ptp4l cam0`.
    #[arg(long, value_name = "CLOCK")]
    ptp4l: Option<String>,
    /// With --ptp4l: a summary line (`rms … max … freq … +/- … delay … +/- …`)
    /// every 2^N seconds instead of a line per update, as ptp4l's summary_interval.
    #[arg(
        long,
        value_name = "N",
        requires = "ptp4l",
        allow_hyphen_values = true,
        value_parser = clap::value_parser!(i8).range(-7..=16)
    )]
    summary_interval: Option<i8>,
    /// Write every clock's sampled true offset from the grandmaster as CSV.
    #[arg(long, value_name = "PATH")]
    offsets_csv: Option<PathBuf>,
    /// Write an HTML report with plots (DIR/index.html), drawn from the same
    /// JSON `--json` writes.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
}

pub fn run(args: RunArgs, quiet: bool) -> u8 {
    let known = &Score::known_key;
    let loaded = match &args.scenario {
        Some(path) => Scenario::from_file(path, known),
        None => Scenario::parse(DEFAULT_SCENARIO, DEFAULT_SCENARIO_PATH, known),
    };
    let mut scenario = match loaded {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(servo) = args.servo {
        scenario.ptp.servo = servo;
        if let Some(problem) = scenario.ptp.servo_problem() {
            eprintln!(
                "error: --servo {}: {problem}",
                format!("{servo:?}").to_lowercase()
            );
            return EXIT_BAD_INPUT;
        }
    }
    if let Some(policy) = args.buffer {
        scenario.hub.policy = policy;
    }
    let seed = args.seed.unwrap_or(scenario.seed);
    let replay = replay_line(&args, seed);

    let mut world = World::new(&scenario, seed);
    // Read-only: the series for the JSON and the report; the score and trace
    // hash are those of a run without it.
    world.record_timeline();
    if let Some(clock) = &args.ptp4l
        && let Err(e) = world.log_ptp4l(clock, args.summary_interval)
    {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    if !quiet {
        println!(
            "camsync run {}  seed {seed}  {} s simulated  {} cameras",
            scenario.name(),
            scenario.duration.ns() as f64 / 1e9,
            scenario.camera_count()
        );
        println!("replay: {replay}");
        println!("clocks (derived from the seed):");
        for k in world.knobs() {
            println!(
                "  {:<12} {:>+9.3} ppm  start {:>+10} ns  {}",
                k.clock,
                k.freq_offset_ppb / 1000.0,
                k.initial_offset_ns,
                k.role
            );
        }
    }
    // The CLI's own speed figure; nothing simulated sees this clock.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    let detail = world.run_detailed();
    let (mut score, series, timeline) = (detail.score, detail.series, detail.timeline);
    for line in &detail.log {
        eprintln!("{line}");
    }
    let wall = started.elapsed().as_secs_f64();
    if let Some(v) = camsync_sim::visual::run_visual(&scenario, seed, &mut thread_cpu_ns) {
        score.visual = Some(v);
    }
    score.judge(&scenario);

    if let Some(path) = &args.offsets_csv
        && let Err(e) = std::fs::write(path, series.to_csv())
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return EXIT_BAD_INPUT;
    }
    // The score's keys as they always were, and the time series beside them.
    let mut json = score.to_json();
    let run_series = RunSeries::new(&series, timeline.unwrap_or_default());
    json["series"] = serde_json::to_value(&run_series).expect("series serialise");
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&json).expect("scores serialise");
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("error: cannot write {}: {e}", path.display());
            return EXIT_BAD_INPUT;
        }
    }
    if let Some(dir) = &args.report {
        match crate::report::run_page::render(&json)
            .and_then(|page| super::report::write_page(dir, &page))
        {
            Ok(path) if !quiet => println!("report: {}", path.display()),
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    if !quiet {
        print_summary(&score, wall);
    }
    if score.expect.passed {
        if !quiet {
            println!("expect: all {} thresholds hold", count_bounds(&scenario));
        }
        EXIT_OK
    } else {
        println!("expect: FAILED");
        for f in &score.expect.failures {
            println!("  {f}");
        }
        println!("replay: {replay}");
        EXIT_EXPECT_FAILED
    }
}

/// This thread's CPU time: the visual tier's cost figure.
fn thread_cpu_ns() -> u64 {
    use nix::time::{ClockId, clock_gettime};
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

fn count_bounds(s: &Scenario) -> usize {
    s.expect.values().map(|t| t.len()).sum()
}

fn replay_line(args: &RunArgs, seed: u64) -> String {
    let file = args
        .scenario
        .as_ref()
        .map(|p| format!(" {}", p.display()))
        .unwrap_or_default();
    let servo = args
        .servo
        .map(|s| format!(" --servo {}", format!("{s:?}").to_lowercase()))
        .unwrap_or_default();
    let buffer = args
        .buffer
        .map(|b| format!(" --buffer {}", format!("{b:?}").to_lowercase()))
        .unwrap_or_default();
    format!("camsync run{file} --seed {seed}{servo}{buffer}")
}

fn print_summary(s: &Score, wall: f64) {
    let p = &s.ptp;
    let lock = p
        .time_to_lock_s
        .map_or("never".to_string(), |t| format!("{t:.2} s"));
    println!(
        "ptp:   offset rms {:.1} ns  p99 {:.0} ns  max {:.0} ns  locked ({} ns) at {lock}, {}/{} clocks",
        p.offset_rms_ns,
        p.offset_p99_abs_ns,
        p.offset_max_abs_ns,
        p.lock_threshold_ns,
        p.locked_clocks,
        p.clocks
    );
    println!(
        "       {} servo updates, {} steps, path delay {:.0} ns, {} packets ({} lost, {} malformed, {} rejected)",
        p.servo_updates,
        p.clock_steps,
        p.mean_path_delay_ns,
        p.packets_sent,
        p.packets_lost,
        p.malformed_packets,
        p.rejected_messages
    );
    if p.alerts > 0 || p.gm_changes > 0 || p.holdovers > 0 {
        let kinds: Vec<String> = p
            .alert_kinds
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        println!(
            "       alerts: {} ({}); master changes {}, holdovers {}",
            p.alerts,
            kinds.join(", "),
            p.gm_changes,
            p.holdovers
        );
    }
    let a = &s.align;
    println!(
        "align: {} frame sets, {} complete ({:.4}), {} misaligned; worst capture error {:.0} ns, stamp error {:.0} ns",
        a.frame_sets,
        a.complete_sets,
        a.complete_ratio,
        a.misaligned_frame_sets,
        a.max_alignment_error_ns,
        a.max_stamp_error_ns
    );
    println!(
        "       frames: {} captured = {} in sets + {} late + {} dropped + {} superseded + {} in flight ({} unaccounted)",
        a.frames_captured,
        a.frames_in_sets,
        a.late_frames,
        a.dropped_frames,
        a.superseded_frames,
        a.frames_in_flight_at_end,
        a.unaccounted_frames
    );
    println!(
        "       added latency p50 {:.3} ms  p99 {:.3} ms",
        a.added_latency_p50_ms, a.added_latency_p99_ms
    );
    if let Some(v) = &s.visual {
        let ms = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.2} ms"));
        println!(
            "visual: {} estimates, offset error median {} p95 {} rms {}, abstained {:.1} %, cost {} per camera-frame",
            v.estimates,
            ms(v.offset_err_median_ms),
            ms(v.offset_err_p95_ms),
            ms(v.offset_err_rms_ms),
            100.0 * v.abstain_ratio,
            v.cpu_ms_per_cam_frame
                .map_or("–".to_string(), |c| format!("{c:.3} ms"))
        );
        if let Some(recall) = v.slip_recall {
            println!(
                "        slips: {:.1} % caught within 3 frame sets ({} late), {:.2} false alarms per camera-hour",
                100.0 * recall,
                v.slips_late,
                v.false_alarms_per_cam_hour.unwrap_or(0.0)
            );
        } else if let Some(f) = v.false_alarms_per_cam_hour.filter(|f| *f > 0.0) {
            println!("        alerts: {f:.2} false alarms per camera-hour");
        }
    }
    let h = &s.health;
    let kinds: Vec<String> = h
        .alert_kinds
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!(
        "health{}: camera-seconds locked {:.0}, degraded {:.0}, holdover {:.0}, resyncing {:.0}, lost {:.0}; {} locked at the end; alerts {}{}",
        if s.mesh.is_some() {
            " (cam0's agent)"
        } else {
            ""
        },
        h.locked_s,
        h.degraded_s,
        h.holdover_s,
        h.resyncing_s,
        h.lost_s,
        h.cameras_locked_at_end,
        h.alerts,
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        }
    );
    let c = &s.coordination;
    println!(
        "        coordination: {} frames ({} lost, {} corrupted, {} refused); {} commands, {} applied, {} retransmissions",
        c.frames_sent,
        c.frames_lost,
        c.frames_corrupted,
        c.rejected_frames,
        c.commands_sent,
        c.commands_applied,
        c.retransmissions
    );
    if let Some(m) = &s.mesh {
        println!(
            "        distributed: {} agents judging each other, views apart {:.3} s (longest {:.3} s), {} at the end; {} alerts from all agents (cam0's above)",
            m.agents,
            m.disagreement_s,
            m.longest_disagreement_s,
            if m.agree_at_end == 1 {
                "agreeing"
            } else {
                "apart"
            },
            m.alerts
        );
    }
    println!(
        "trace: {}  ({} events, {:.3} s wall, {:.0}x real time)",
        s.trace_hash,
        s.events,
        wall,
        s.duration_s / wall.max(1e-9)
    );
}
