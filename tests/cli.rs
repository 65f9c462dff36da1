//! The command line's contract: exit codes, located errors, the JSON keys, the
//! replay line.

use std::path::PathBuf;
use std::process::Command;

fn camsync() -> Command {
    Command::new(env!("CARGO_BIN_EXE_camsync"))
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camsync-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn json_get<'a>(v: &'a serde_json::Value, dotted: &str) -> Option<&'a serde_json::Value> {
    dotted.split('.').try_fold(v, |v, k| v.get(k))
}

#[test]
fn default_run_writes_every_contract_key() {
    let out = temp("default.json");
    let status = camsync()
        .args(["run", "-q", "--json"])
        .arg(&out)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    for key in [
        "scenario",
        "seed",
        "duration_s",
        "trace_hash",
        "ptp.offset_rms_ns",
        "ptp.offset_p99_abs_ns",
        "ptp.offset_max_abs_ns",
        "ptp.time_to_lock_s",
        "align.frame_sets",
        "align.misaligned_frame_sets",
        "align.late_frames",
        "align.dropped_frames",
        "align.added_latency_p50_ms",
        "align.added_latency_p99_ms",
        "expect.passed",
        "expect.failures",
    ] {
        let value = json_get(&v, key).unwrap_or_else(|| panic!("JSON lacks {key}"));
        assert!(!value.is_null(), "{key} is null");
    }
    assert_eq!(v["scenario"], "studio-4cam");
    assert_eq!(v["expect"]["passed"], true);
}

#[test]
fn broken_toml_exits_2_naming_the_line() {
    let bad = temp("bad.toml");
    std::fs::write(&bad, "this is = = not toml\n").unwrap();
    let out = camsync().arg("validate").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:1:"), "{err}");
}

#[test]
fn unknown_field_exits_2_naming_the_field_and_its_place() {
    let studio = std::fs::read_to_string("scenarios/studio-4cam.toml").unwrap();
    let hub_line = studio.lines().position(|l| l == "[hub]").unwrap() + 1;
    let bad = temp("unknown.toml");
    std::fs::write(
        &bad,
        studio.replace("[hub]\n", "[hub]\nbogus_field_xyz = 1\n"),
    )
    .unwrap();
    let out = camsync().arg("validate").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bogus_field_xyz"), "{err}");
    assert!(
        err.contains(&format!("unknown.toml:{}:", hub_line + 1)),
        "{err}"
    );
    let top = temp("unknown-top.toml");
    std::fs::write(&top, format!("{studio}\nbogus_field_xyz = 1\n")).unwrap();
    let out = camsync().arg("validate").arg(&top).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bogus_field_xyz"));
}

#[test]
fn a_failed_expectation_exits_1_with_the_replay_line() {
    let studio = std::fs::read_to_string("scenarios/studio-4cam.toml").unwrap();
    let strict = studio.replace(
        "offset_rms_ns = { max = 100 }",
        "offset_rms_ns = { max = 0.001 }",
    );
    assert_ne!(strict, studio);
    let file = temp("strict.toml");
    std::fs::write(&file, strict).unwrap();
    let out = camsync()
        .args(["run", "--seed", "5"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ptp.offset_rms_ns"), "{text}");
    assert!(
        text.contains(&format!("replay: camsync run {} --seed 5", file.display())),
        "{text}"
    );
}

#[test]
fn a_missing_file_is_bad_input() {
    let out = camsync()
        .args(["run", "no/such/scenario.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn library_scenarios_validate() {
    for f in [
        "scenarios/studio-4cam.toml",
        "scenarios/stadium-8cam-sw.toml",
        "scenarios/mixed-rates.toml",
        "scenarios/perf-16cam-60fps.toml",
    ] {
        let out = camsync().arg("validate").arg(f).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
