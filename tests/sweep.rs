//! `camsync sweep`, `sweep merge` and `report`, through the binary: shards
//! merged are the unsharded sweep byte for byte, an interrupted sweep
//! resumes to the rows of an uninterrupted one, the Pareto front of the
//! results is non-dominated and names a recommendation, bad input exits 2
//! with `file:line:col`, and the numbers in the HTML pages are the JSON's.

use camsync_sim::sweep::pareto;
use camsync_sim::sweep::rows::read_rows;
use camsync_sim::sweep::{Row, SweepFile};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn camsync(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_camsync"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("camsync runs")
}

fn ok(args: &[&str]) -> Output {
    let out = camsync(args);
    assert!(
        out.status.success(),
        "camsync {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("camsync-sweep-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small sweep of every kind of parameter: 3 × 2 × 2 = 12 points, 2 seeds,
/// 4 s of the default studio each.
fn small_sweep(dir: &Path) -> PathBuf {
    let repo = env!("CARGO_MANIFEST_DIR");
    let text = format!(
        r#"base = "{repo}/scenarios/studio-4cam.toml"
seed = 9
seeds = 2
[set]
duration = "4s"
video.latency = {{ dist = "lognormal", min = "3ms", median = "6ms", sigma = 0.5 }}
[[param]]
key = "hub.buffer"
log = {{ from = "6ms", to = "40ms", steps = 3 }}
[[param]]
key = "ptp.servo"
values = ["pi", "linreg"]
[[param]]
key = "ptp.pi_kp_scale"
random = {{ from = 0.3, to = 3.0, count = 2, log = true }}
[objectives]
pareto = ["align.added_latency_p99_ms", "align.late_frames"]
target = {{ key = "align.late_frames", max = 0 }}
report = ["ptp.offset_rms_ns"]
"#
    );
    let path = dir.join("small.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn shards_merged_are_the_unsharded_sweep() {
    let dir = scratch("shards");
    let file = small_sweep(&dir);
    let f = file.to_str().unwrap();
    let all = dir.join("all");
    ok(&["sweep", f, "--out", all.to_str().unwrap(), "-q"]);
    let mut shards = Vec::new();
    for i in 0..3 {
        let out = dir.join(format!("s{i}"));
        ok(&[
            "sweep",
            f,
            "--out",
            out.to_str().unwrap(),
            "--shard",
            &format!("{i}/3"),
            "-q",
        ]);
        shards.push(out.to_str().unwrap().to_string());
    }
    let merged = dir.join("merged");
    let mut args = vec!["sweep", "merge"];
    args.extend(shards.iter().map(String::as_str));
    args.extend(["--out", merged.to_str().unwrap()]);
    ok(&args);

    let rows = read(&all.join("results.jsonl"));
    assert_eq!(rows.lines().count(), 24, "12 points × 2 seeds");
    assert_eq!(rows, read(&merged.join("results.jsonl")));
    assert_eq!(
        read(&all.join("results.csv")),
        read(&merged.join("results.csv"))
    );
    // Each shard holds only its own runs, and none is empty.
    for (i, s) in shards.iter().enumerate() {
        let (rows, _) = read_rows(&read(&Path::new(s).join("results.jsonl")));
        assert_eq!(rows.len(), 8, "shard {i}");
        for (r, _) in rows {
            assert_eq!((r.point * 2 + u64::from(r.seed != 1)) % 3, i as u64);
        }
    }
    // The CSV has a row per run and a column per parameter and score.
    let csv = read(&all.join("results.csv"));
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with("point,seed,param.hub.buffer,param.ptp.pi_kp_scale,param.ptp.servo,")
    );
    assert!(header.contains(",align.late_frames,"));
    assert_eq!(csv.lines().count(), 25);
}

#[test]
fn an_interrupted_sweep_resumes_to_the_same_rows() {
    let dir = scratch("resume");
    let file = small_sweep(&dir);
    let f = file.to_str().unwrap();
    let whole = dir.join("whole");
    ok(&["sweep", f, "--out", whole.to_str().unwrap(), "-q"]);
    let expected = read(&whole.join("results.jsonl"));

    // What a sweep killed mid-run leaves: some rows, in finishing order,
    // and a torn last line.
    let cut = dir.join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    std::fs::copy(whole.join("sweep.toml"), cut.join("sweep.toml")).unwrap();
    let lines: Vec<&str> = expected.lines().collect();
    let mut partial: String = [lines[9], lines[2], lines[17], lines[0]].join("\n");
    partial.push('\n');
    partial.push_str(&lines[5][..lines[5].len() / 2]);
    std::fs::write(cut.join("results.jsonl"), partial).unwrap();

    let out = ok(&["sweep", f, "--out", cut.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("4 already in"), "{said}");
    assert!(said.contains("20 to run"), "{said}");
    assert_eq!(read(&cut.join("results.jsonl")), expected);
    assert_eq!(
        read(&cut.join("results.csv")),
        read(&whole.join("results.csv"))
    );

    // Finished: running again runs nothing and changes nothing.
    let again = ok(&["sweep", f, "--out", cut.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 to run"));
    assert_eq!(read(&cut.join("results.jsonl")), expected);

    // Another sweep file's output is refused, not mixed in.
    std::fs::write(cut.join("sweep.toml"), "something else").unwrap();
    let refused = camsync(&["sweep", f, "--out", cut.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn a_sweep_killed_mid_run_resumes_to_the_same_rows() {
    let dir = scratch("killed");
    // Longer runs, one worker: slow enough to be caught half done.
    let text = read(&small_sweep(&dir))
        .replace("duration = \"4s\"", "duration = \"20s\"")
        .replace("seeds = 2", "seeds = 3");
    let file = dir.join("killed.toml");
    std::fs::write(&file, text).unwrap();
    let f = file.to_str().unwrap();
    let whole = dir.join("whole");
    ok(&["sweep", f, "--out", whole.to_str().unwrap(), "-q"]);
    let expected = read(&whole.join("results.jsonl"));
    assert_eq!(expected.lines().count(), 36);

    let cut = dir.join("cut");
    let mut child = Command::new(env!("CARGO_BIN_EXE_camsync"))
        .args([
            "sweep",
            f,
            "--out",
            cut.to_str().unwrap(),
            "--jobs",
            "1",
            "-q",
        ])
        .spawn()
        .unwrap();
    let results = cut.join("results.jsonl");
    // Poll (for two minutes at most) until the first rows are written.
    for _ in 0..120_000 {
        let rows = std::fs::read_to_string(&results).map_or(0, |t| t.lines().count());
        if rows >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    let left = read(&results);
    if still_running {
        assert!(left.lines().count() < 36, "killed before the end");
    } else {
        eprintln!("the sweep finished before it could be killed: resume checked on its output");
    }
    let out = ok(&["sweep", f, "--out", cut.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("already in"), "{said}");
    assert_eq!(read(&results), expected);
    assert_eq!(
        read(&cut.join("results.csv")),
        read(&whole.join("results.csv"))
    );
}

#[test]
fn the_front_is_non_dominated_and_names_a_recommendation() {
    let dir = scratch("front");
    let file = small_sweep(&dir);
    let out = dir.join("out");
    let run = ok(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(said.contains("recommended: point"), "{said}");

    let sweep = SweepFile::from_file(&file).unwrap();
    let (rows, _) = read_rows(&read(&out.join("results.jsonl")));
    let rows: Vec<Row> = rows.into_iter().map(|(r, _)| r).collect();
    let keys: Vec<String> = sweep.objectives().into_iter().map(|o| o.key).collect();
    let points = pareto::summarise(&rows, &keys);
    assert_eq!(points.len(), 12);
    let [x, y] = &sweep.pareto;
    let front = pareto::front(&points, x, y);
    let xy = |i: usize| (points[i].means[&x.key], points[i].means[&y.key]);
    for &i in &front {
        let (fx, fy) = xy(i);
        for j in 0..points.len() {
            let (ox, oy) = xy(j);
            assert!(
                !(ox <= fx && oy <= fy && (ox < fx || oy < fy)),
                "front point {} is dominated by point {}",
                points[i].point,
                points[j].point
            );
        }
    }
    // The larger buffers make no frame late: the recommendation meets the
    // target with the least added latency among those that do.
    let rec = pareto::recommend(&points, &sweep.pareto, sweep.target.as_ref()).unwrap();
    assert_eq!(rec.reason, pareto::Reason::MeetsTarget);
    let chosen = xy(rec.index);
    assert_eq!(chosen.1, 0.0);
    for j in 0..points.len() {
        let (ox, oy) = xy(j);
        assert!(oy > 0.0 || ox >= chosen.0);
    }

    // The sweep report names the same point and the same numbers.
    let html_dir = dir.join("report");
    ok(&[
        "report",
        out.to_str().unwrap(),
        "--html",
        html_dir.to_str().unwrap(),
        "-q",
    ]);
    let page = read(&html_dir.join("index.html"));
    assert!(
        page.matches("<svg").count() >= 4,
        "front and a sensitivity plot per parameter"
    );
    let p = &points[rec.index];
    assert_eq!(cell(&page, "point"), p.point.to_string());
    for k in &keys {
        assert_eq!(cell(&page, k).parse::<f64>().unwrap(), p.means[k], "{k}");
    }
    for (k, v) in &p.params {
        let shown = cell(&page, &format!("param.{k}"));
        match v {
            serde_json::Value::String(s) => assert_eq!(&shown, s),
            other => assert_eq!(shown.parse::<f64>().unwrap(), other.as_f64().unwrap()),
        }
    }
}

/// The text of the table cell marked `data-key="KEY"`.
fn cell(page: &str, key: &str) -> String {
    let marker = format!("data-key=\"{key}\">");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no cell for {key}"))
        + marker.len();
    let end = start + page[start..].find("</td>").unwrap();
    page[start..end]
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[test]
fn the_run_report_shows_the_json_numbers() {
    let dir = scratch("run-report");
    let json = dir.join("r.json");
    let html_dir = dir.join("rep");
    ok(&[
        "run",
        "-q",
        "--json",
        json.to_str().unwrap(),
        "--report",
        html_dir.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&read(&json)).unwrap();
    let page = read(&html_dir.join("index.html"));
    // `camsync report` on the JSON writes the very same page.
    let again = dir.join("again");
    ok(&[
        "report",
        json.to_str().unwrap(),
        "--html",
        again.to_str().unwrap(),
    ]);
    assert_eq!(page, read(&again.join("index.html")));

    assert!(page.matches("<svg").count() >= 4);
    for key in [
        "ptp.offset_rms_ns",
        "ptp.offset_max_abs_ns",
        "ptp.time_to_lock_s",
        "align.complete_ratio",
        "align.late_frames",
        "align.added_latency_p99_ms",
        "seed",
    ] {
        let want = key
            .split('.')
            .try_fold(&v, |v, k| v.get(k))
            .and_then(serde_json::Value::as_f64)
            .unwrap_or_else(|| panic!("JSON lacks {key}"));
        assert_eq!(cell(&page, key).parse::<f64>().unwrap(), want, "{key}");
    }
    assert_eq!(cell(&page, "trace_hash"), v["trace_hash"].as_str().unwrap());
    // The series: a true offset per clock for every sample, and bins that
    // count every frame set the score counts.
    let s = &v["series"];
    let samples = s["times_ns"].as_array().unwrap().len();
    assert_eq!(samples, 480, "60 s sampled every 125 ms");
    for o in s["offsets_ns"].as_array().unwrap() {
        assert_eq!(o.as_array().unwrap().len(), samples);
    }
    let sets: u64 = s["sets"]["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(sets, v["align"]["frame_sets"].as_u64().unwrap());
}

#[test]
fn the_series_leave_the_score_and_trace_as_they_were() {
    let scenario = camsync_sim::Scenario::parse(
        camsync_sim::scenario::DEFAULT_SCENARIO,
        camsync_sim::scenario::DEFAULT_SCENARIO_PATH,
        &camsync_sim::Score::known_key,
    )
    .unwrap();
    let plain = camsync_sim::World::new(&scenario, 3).run();
    let mut world = camsync_sim::World::new(&scenario, 3);
    world.record_timeline();
    let detail = world.run_detailed();
    assert_eq!(detail.score.trace_hash, plain.trace_hash);
    assert_eq!(detail.score.to_json(), plain.to_json());
    assert!(detail.timeline.is_some());
}

#[test]
fn bad_input_exits_2_with_the_place() {
    let dir = scratch("bad");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "base = \"x.toml\"\n[[param]]\nkey = \"hub.buffer\"\nlog = { from = \"5ms\", to = \"1ms\", steps = 3 }\n[objectives]\npareto = [\"align.late_frames\", \"align.added_latency_p99_ms\"]\n",
    )
    .unwrap();
    let out = camsync(&[
        "sweep",
        bad.to_str().unwrap(),
        "--out",
        dir.join("o").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:3:"), "{err}");
    assert!(err.contains("`from` must not be above `to`"), "{err}");

    let syntax = dir.join("syntax.toml");
    std::fs::write(&syntax, "base = \"x.toml\"\nseeds = [1, \n").unwrap();
    let out = camsync(&["sweep", syntax.to_str().unwrap(), "--out", "o"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("syntax.toml:"));

    for args in [
        vec![
            "sweep",
            "scenarios/sweeps/buffer-servo.toml",
            "--out",
            "o",
            "--shard",
            "4/4",
        ],
        vec!["sweep", "merge", "/nonexistent-a", "--out", "o"],
        vec!["report", "/nonexistent.json", "--html", "o"],
    ] {
        let out = camsync(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
}
