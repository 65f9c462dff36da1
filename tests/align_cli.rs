//! `camsync align` on real encoded video: clips cut by ffmpeg from one
//! moving source (Conway's life with fading trails: rich motion that never
//! repeats as a whole), cropped to overlapping views (one rescaled), started
//! at known frame offsets, passed through a lossy codec (libx264, or mpeg4
//! where absent) and decoded to Y4M. The shifts must come out as exact whole
//! frames with a sub-frame uncertainty; a still picture must make it abstain
//! (exit 3); bad input exits 2 naming the file.
//!
//! Needs ffmpeg (scripts/test installs it); without it the video tests fail
//! saying so. Release-only: the debug build analyses video slowly.

use std::path::{Path, PathBuf};
use std::process::Command;

fn camsync() -> Command {
    Command::new(env!("CARGO_BIN_EXE_camsync"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camsync-align-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// ffmpeg's encoder for the lossy pass, failing clearly when ffmpeg is absent.
fn lossy_encoder() -> &'static str {
    let listed = Command::new("ffmpeg")
        .args(["-hide_banner", "-encoders"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "ffmpeg is needed to make the test clips but cannot be run ({e}): \
                 install it (scripts/test does: apt-get install ffmpeg)"
            )
        });
    assert!(listed.status.success(), "ffmpeg -encoders failed");
    if String::from_utf8_lossy(&listed.stdout).contains("libx264") {
        "libx264"
    } else {
        "mpeg4"
    }
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The moving source: a 160×120 life board (seeded, so every run makes the
/// same clips) drawn 4× larger, softened a little as a lens would.
const SOURCE: &str = "life=s=160x120:mold=10:r=30000/1001:ratio=0.3:seed=7:\
life_color=#ffffff:death_color=#101060:mold_color=#806020,\
scale=640:480:flags=neighbor,gblur=sigma=1.5";
const FRAMES: usize = 240;
const PERIOD_MS: f64 = 1001.0 / 30.0;

/// A clip of the source from frame `start`: `crop` (w:h:x:y), scaled to
/// `size` (w:h), encoded lossily, decoded to Y4M.
fn clip(dir: &Path, name: &str, encoder: &str, start: usize, crop: &str, size: &str) -> PathBuf {
    let encoded = dir.join(format!("{name}.mp4"));
    let y4m = dir.join(format!("{name}.y4m"));
    let filter =
        format!("{SOURCE},trim=start_frame={start},setpts=PTS-STARTPTS,crop={crop},scale={size}");
    let quality: &[&str] = if encoder == "libx264" {
        &["-preset", "veryfast", "-crf", "23"]
    } else {
        &["-q:v", "5"]
    };
    let frames = FRAMES.to_string();
    let mut args = vec!["-f", "lavfi", "-i", &filter, "-frames:v", &frames];
    args.extend(["-c:v", encoder, "-pix_fmt", "yuv420p"]);
    args.extend(quality);
    args.push(encoded.to_str().unwrap());
    ffmpeg(&args);
    ffmpeg(&["-i", encoded.to_str().unwrap(), y4m.to_str().unwrap()]);
    y4m
}

fn run_align(files: &[PathBuf], json: &Path) -> (Option<i32>, serde_json::Value, String) {
    let out = camsync()
        .arg("align")
        .args(files)
        .arg("--json")
        .arg(json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = std::fs::read_to_string(json).unwrap_or_else(|_| {
        panic!(
            "no JSON written; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code(),
        serde_json::from_str(&text).unwrap(),
        stdout,
    )
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "encodes and analyses video: run with --release"
)]
fn known_frame_shifts_are_found_exactly_with_a_sub_frame_uncertainty() {
    let encoder = lossy_encoder();
    let dir = temp_dir("shifts");
    // The reference starts at source frame 10; the others 3 later, 2
    // earlier and 7 later, each its own crop of the scene.
    let files = [
        clip(&dir, "ref", encoder, 10, "400:300:20:20", "400:300"),
        clip(&dir, "plus3", encoder, 13, "440:330:160:120", "352:264"),
        clip(&dir, "minus2", encoder, 8, "320:240:240:80", "320:240"),
        clip(&dir, "plus7", encoder, 17, "480:360:80:100", "400:300"),
    ];
    let (code, v, stdout) = run_align(&files, &dir.join("align.json"));
    assert_eq!(code, Some(0), "{stdout}");
    println!("{stdout}");
    let offsets = v["offsets"].as_array().expect("offsets");
    assert_eq!(offsets.len(), 3);
    for (entry, (name, shift)) in offsets
        .iter()
        .zip([("plus3", 3), ("minus2", -2), ("plus7", 7)])
    {
        for key in ["file", "frames", "ms", "uncertainty_ms", "drift_ppm"] {
            assert!(entry.get(key).is_some(), "{key} missing: {entry}");
        }
        assert!(entry["file"].as_str().unwrap().contains(name), "{entry}");
        assert_eq!(entry["frames"], shift, "{name} ({encoder}): {entry}");
        let ms = entry["ms"].as_f64().unwrap();
        let uncertainty = entry["uncertainty_ms"].as_f64().unwrap();
        assert!(
            uncertainty > 0.0 && uncertainty < PERIOD_MS / 2.0,
            "{name}: {entry}"
        );
        // Whole-frame shifts: the measurement lies within a few
        // uncertainties (and a tenth of a frame) of the truth.
        let error = (ms - shift as f64 * PERIOD_MS).abs();
        assert!(
            error < PERIOD_MS / 10.0 && error < 5.0 * uncertainty.max(0.1),
            "{name}: {error} ms off: {entry}"
        );
        // An 8-second clip is too short to fit a drift.
        assert!(entry["drift_ppm"].is_null(), "{entry}");
    }
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "encodes and analyses video: run with --release"
)]
fn a_still_picture_makes_it_abstain_with_exit_3() {
    let encoder = lossy_encoder();
    let dir = temp_dir("still");
    let moving = clip(&dir, "moving", encoder, 10, "400:300:20:20", "400:300");
    let png = dir.join("still.png");
    let encoded = dir.join("still.mp4");
    let still = dir.join("still.y4m");
    let filter = format!("{SOURCE},trim=start_frame=40,crop=400:300:60:40");
    ffmpeg(
        &["-f", "lavfi", "-i", &filter, "-frames:v", "1"]
            .into_iter()
            .chain([png.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let frames = FRAMES.to_string();
    ffmpeg(&[
        "-loop",
        "1",
        "-framerate",
        "30000/1001",
        "-i",
        png.to_str().unwrap(),
        "-frames:v",
        &frames,
        "-c:v",
        encoder,
        "-pix_fmt",
        "yuv420p",
        encoded.to_str().unwrap(),
    ]);
    ffmpeg(&["-i", encoded.to_str().unwrap(), still.to_str().unwrap()]);
    let (code, v, stdout) = run_align(&[moving, still], &dir.join("still.json"));
    assert_eq!(code, Some(3), "{stdout}");
    assert!(v["offsets"][0]["frames"].is_null(), "{v}");
    assert!(v["offsets"][0]["uncertainty_ms"].is_null(), "{v}");
}

/// A tiny well-formed Y4M clip, no ffmpeg needed.
fn tiny_y4m(path: &Path, rate: &str, frames: usize) {
    let mut bytes = format!("YUV4MPEG2 W64 H48 F{rate} Ip A1:1 C420jpeg\n").into_bytes();
    for k in 0..frames {
        bytes.extend_from_slice(b"FRAME\n");
        bytes.extend((0..64 * 48).map(|i| ((i + k * 7) % 251) as u8));
        bytes.extend(vec![128u8; 2 * 32 * 24]);
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let dir = temp_dir("bad");
    let good = dir.join("good.y4m");
    tiny_y4m(&good, "30000:1001", 5);
    let other_rate = dir.join("pal.y4m");
    tiny_y4m(&other_rate, "25:1", 5);
    let not_y4m = dir.join("notes.y4m");
    std::fs::write(&not_y4m, "just some text\n").unwrap();
    let cut = dir.join("cut.y4m");
    let mut bytes = std::fs::read(&good).unwrap();
    bytes.truncate(bytes.len() - 100);
    std::fs::write(&cut, bytes).unwrap();
    let missing = dir.join("missing.y4m");
    for (bad, expect) in [
        (&other_rate, "frame rate"),
        (&not_y4m, "Y4M"),
        (&cut, "cut short"),
        (&missing, "cannot open"),
    ] {
        let out = camsync().arg("align").arg(&good).arg(bad).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", bad.display());
        let name = bad.file_name().unwrap().to_str().unwrap();
        assert!(err.contains(name) && err.contains(expect), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // One file is not a comparison.
    let out = camsync().arg("align").arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A readout is one time for all files or one per file, never negative.
    for readout in ["-1", "10,12,14"] {
        let out = camsync()
            .args(["align", "--readout", readout])
            .args([&good, &good])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--readout {readout}: {err}");
        assert!(err.contains("--readout"), "{err}");
    }
}
