//! `camsync align A.y4m B.y4m …`: the capture-time offsets between
//! recordings of one event, measured from the pictures.
//!
//! Each file is a camera whose frames are stamped index × the (common) frame
//! period; the first file is the reference. The frames are brought to the
//! analysis size and fed to the engine's visual estimator with a search as
//! wide as `--max-shift`, done coarse (frame grid) then fine (1 ms grid,
//! then sub-step). A file up to `MAX_WINDOW` long is measured over one
//! window spanning it; a longer one over windows sliding every
//! `UPDATE_EVERY`, whose median is reported and whose trend gives the drift.
//!
//! Sign: a file's offset is how much later than the reference's first frame
//! its own first frame was captured (`frames` = +3: it starts 3 frames into
//! the reference). Drop that many of the reference's leading frames (or, if
//! negative, of the file's) to line the two up.

use super::{EXIT_ABSTAINED, EXIT_BAD_INPUT, EXIT_OK};
use camsync_engine::frame_rate::FrameRate;
use camsync_engine::time::{Nanos, Time};
use camsync_engine::visual::{
    Brightness, FeatureExtractor, OffsetEstimate, OwnedLuma, VisualConfig, VisualEstimator,
    box_downscale, factor_for,
};
use camsync_hw::Y4mFile;
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args)]
#[command(
    after_help = "Sign convention: `frames` and `ms` say how much later than the first \
file's first frame each file's first frame was captured (+3: it starts 3 frames into the \
first file; drop the first file's 3 leading frames to line them up). `uncertainty_ms` is one \
standard deviation; `drift_ppm` (null for files shorter than about 50 s) is how fast the \
offset grows, in µs per second.\n\nExit codes: 0 every file placed; 2 bad input (unreadable \
or not Y4M, frame rates that differ); 3 abstained for at least one file (no timing \
information: a static picture, views that do not overlap, flat correlation)."
)]
pub struct AlignArgs {
    /// The recordings (YUV4MPEG2 .y4m, as ffmpeg writes them: `ffmpeg -i in.mp4 out.y4m`),
    /// all at the same frame rate; the first is the reference.
    #[arg(required = true, num_args = 2.., value_name = "VIDEO")]
    videos: Vec<PathBuf>,
    /// Write the offsets as JSON to this path.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// The largest offset searched, in seconds, either way. The files must
    /// share at least half their length at the true offset.
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    max_shift: f64,
    /// Width (pixels) the pictures are box-filtered down to, at most, before
    /// analysis.
    #[arg(long, value_name = "PIXELS", default_value_t = 128,
          value_parser = clap::value_parser!(u16).range(32..=1024))]
    analysis_width: u16,
    /// The cameras' rolling-shutter readout, first row to last, in
    /// milliseconds (the sensor's datasheet or the camera's menu gives it):
    /// one value for every file, or one per file. With it, a region's lag
    /// is corrected for the rows it lies on in each view, and photographers'
    /// flashes become timing marks. 0: a global shutter.
    #[arg(
        long,
        value_name = "MS",
        value_delimiter = ',',
        default_value = "0",
        allow_negative_numbers = true
    )]
    readout: Vec<f64>,
}

/// Files up to this long are measured in one window; longer ones in windows
/// of this length.
const MAX_WINDOW: Nanos = Nanos::from_secs(20);
/// Sliding windows' spacing.
const UPDATE_EVERY: Nanos = Nanos::from_secs(1);
/// The fine lag grid.
const FINE_STEP: Nanos = Nanos::from_millis(1);

/// One file, read and brought to the analysis size.
struct Recording {
    path: PathBuf,
    frames: Vec<OwnedLuma>,
    size: (usize, usize),
}

struct Placed {
    offset_ns: f64,
    uncertainty_ns: f64,
    drift_ppm: Option<f64>,
    pairs: usize,
    windows: usize,
}

fn read(path: &Path, max_width: usize) -> Result<(Recording, FrameRate), String> {
    let mut file = Y4mFile::open(path).map_err(|e| e.to_string())?;
    let factor = factor_for(file.width(), max_width);
    let mut frames = Vec::new();
    while let Some(frame) = file.next_frame().map_err(|e| e.to_string())? {
        let small = box_downscale(&frame_view(&frame), factor)
            .filter(|s| s.width >= 16 && s.height >= 9)
            .ok_or_else(|| {
                format!(
                    "{}: a {}×{} picture is too small to analyse",
                    path.display(),
                    file.width(),
                    file.height()
                )
            })?;
        frames.push(small);
    }
    if frames.len() < 2 {
        return Err(format!(
            "{}: {} frame(s): nothing to measure",
            path.display(),
            frames.len()
        ));
    }
    let rate = file.frame_rate();
    tracing::info!(
        "{}: {}×{} C{} at {rate} fps, {} frames, analysed at {}×{}",
        path.display(),
        file.width(),
        file.height(),
        file.colourspace(),
        frames.len(),
        frames[0].width,
        frames[0].height
    );
    Ok((
        Recording {
            path: path.to_path_buf(),
            size: (file.width(), file.height()),
            frames,
        },
        rate,
    ))
}

fn frame_view(frame: &camsync_hw::Y4mFrame) -> camsync_engine::visual::LumaFrame<'_> {
    camsync_engine::visual::LumaFrame {
        width: frame.width,
        height: frame.height,
        pixels: &frame.luma,
    }
}

/// Frame `index`'s stamp, as the file camera stamps it.
fn stamp(index: usize, rate: FrameRate) -> i64 {
    rate.frame_time(index as i64).0
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// A camera's windows summed up: the median offset; its uncertainty the
/// larger of the windows' own (median) and their spread (a drifting camera's
/// offset does move over the file); the last drift fitted.
fn summarise(estimates: &[OffsetEstimate]) -> Option<Placed> {
    let measured: Vec<&OffsetEstimate> =
        estimates.iter().filter(|e| e.offset_ns.is_some()).collect();
    if measured.is_empty() {
        return None;
    }
    let mut offsets: Vec<f64> = measured.iter().filter_map(|e| e.offset_ns).collect();
    let offset = median(&mut offsets);
    let mut own: Vec<f64> = measured.iter().map(|e| e.uncertainty_ns).collect();
    let mut deviations: Vec<f64> = offsets.iter().map(|o| (o - offset).abs()).collect();
    let spread = 1.4826 * median(&mut deviations);
    let mut pairs: Vec<f64> = measured.iter().map(|e| e.pairs as f64).collect();
    Some(Placed {
        offset_ns: offset,
        uncertainty_ns: median(&mut own).max(spread),
        drift_ppm: measured.iter().rev().find_map(|e| e.drift_ppm),
        pairs: median(&mut pairs).round() as usize,
        windows: measured.len(),
    })
}

pub fn align(args: AlignArgs, quiet: bool) -> u8 {
    // The command's own speed figure; no estimate sees this clock (the
    // stamps come from frame indices).
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    if !(args.max_shift.is_finite() && args.max_shift > 0.0 && args.max_shift <= 3600.0) {
        eprintln!(
            "error: --max-shift {}: expected seconds in (0, 3600]",
            args.max_shift
        );
        return EXIT_BAD_INPUT;
    }
    let mut recordings = Vec::new();
    let mut rate = None;
    for path in &args.videos {
        let (recording, r) = match read(path, args.analysis_width as usize) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        match rate {
            None => rate = Some(r),
            Some(first) if first != r => {
                eprintln!(
                    "error: {}: frame rate {r} fps differs from {}'s {first} fps \
                     (convert first, e.g. ffmpeg -i in -r {}/{} out.y4m)",
                    path.display(),
                    args.videos[0].display(),
                    first.num(),
                    first.den(),
                );
                return EXIT_BAD_INPUT;
            }
            Some(_) => {}
        }
        recordings.push(recording);
    }
    let Some(rate) = rate else {
        return EXIT_BAD_INPUT;
    };
    let period_ns = rate.den() as f64 * 1e9 / rate.num() as f64;
    let reference_span = stamp(recordings[0].frames.len() - 1, rate);
    let mut config = VisualConfig::new(recordings.len());
    config.window = Nanos(reference_span.min(MAX_WINDOW.0));
    config.update_every = UPDATE_EVERY;
    config.search = Nanos((args.max_shift * 1e9).round() as i64);
    config.step = FINE_STEP;
    config.coarse_step = Some(Nanos(period_ns.round() as i64));
    if let Some(bad) = args
        .readout
        .iter()
        .find(|ms| !(ms.is_finite() && **ms >= 0.0))
    {
        eprintln!("error: --readout {bad}: a readout is a time of 0 ms or more");
        return EXIT_BAD_INPUT;
    }
    config.readout = match args.readout.as_slice() {
        [all] => vec![*all; recordings.len()],
        each if each.len() == recordings.len() => each.to_vec(),
        each => {
            eprintln!(
                "error: --readout gives {} values for {} files (give one, or one per file)",
                each.len(),
                recordings.len()
            );
            return EXIT_BAD_INPUT;
        }
    }
    .into_iter()
    .map(|ms| Nanos((ms * 1e6).round() as i64))
    .collect();
    let extractors: Vec<Box<dyn FeatureExtractor + Send>> = recordings
        .iter()
        .map(|_| Box::new(Brightness) as Box<dyn FeatureExtractor + Send>)
        .collect();
    let mut estimator = VisualEstimator::new(config, extractors);
    // Frame by frame, every other file's before the reference's: an update
    // happens on a reference frame and reads the others' windows up to it.
    let mut estimates: Vec<OffsetEstimate> = Vec::new();
    let longest = recordings.iter().map(|r| r.frames.len()).max().unwrap_or(0);
    for index in 0..longest {
        let t = Time(stamp(index, rate));
        for (camera, recording) in recordings.iter().enumerate().skip(1) {
            if let Some(frame) = recording.frames.get(index) {
                estimator.push_frame(camera, t, &frame.view());
            }
        }
        if let Some(frame) = recordings[0].frames.get(index) {
            estimates.extend(estimator.push_frame(0, t, &frame.view()));
        }
    }
    let placed: Vec<Option<Placed>> = (1..recordings.len())
        .map(|camera| {
            let own: Vec<OffsetEstimate> = estimates
                .iter()
                .filter(|e| e.camera == camera)
                .copied()
                .collect();
            summarise(&own)
        })
        .collect();
    let elapsed = started.elapsed().as_secs_f64();

    let entries: Vec<serde_json::Value> = recordings[1..]
        .iter()
        .zip(&placed)
        .map(|(r, p)| match p {
            Some(p) => serde_json::json!({
                "file": r.path.display().to_string(),
                "frames": (p.offset_ns / period_ns).round() as i64,
                "ms": p.offset_ns / 1e6,
                "uncertainty_ms": p.uncertainty_ns / 1e6,
                "drift_ppm": p.drift_ppm,
                "abstained": false,
                "pairs": p.pairs,
                "windows": p.windows,
            }),
            None => serde_json::json!({
                "file": r.path.display().to_string(),
                "frames": null,
                "ms": null,
                "uncertainty_ms": null,
                "drift_ppm": null,
                "abstained": true,
                "pairs": 0,
                "windows": 0,
            }),
        })
        .collect();
    let report = serde_json::json!({
        "reference": recordings[0].path.display().to_string(),
        "frame_rate": format!("{}/{}", rate.num(), rate.den()),
        "frame_period_ms": period_ns / 1e6,
        "sign": "frames/ms > 0: the file's first frame was captured that much later than the reference's",
        "offsets": entries,
        "elapsed_s": elapsed,
    });
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).expect("plain values serialise");
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("error: {}: cannot write: {e}", path.display());
            return EXIT_BAD_INPUT;
        }
    }
    if !quiet {
        print_table(&recordings, &placed, rate, period_ns, elapsed);
    }
    if placed.iter().any(Option::is_none) {
        eprintln!(
            "camsync align: abstained for {} file(s): no timing information \
             (static pictures, views that do not overlap, or flat correlation)",
            placed.iter().filter(|p| p.is_none()).count()
        );
        return EXIT_ABSTAINED;
    }
    EXIT_OK
}

fn print_table(
    recordings: &[Recording],
    placed: &[Option<Placed>],
    rate: FrameRate,
    period_ns: f64,
    elapsed: f64,
) {
    let r = &recordings[0];
    println!(
        "reference {} ({}×{}, {} frames at {rate} fps)",
        r.path.display(),
        r.size.0,
        r.size.1,
        r.frames.len(),
    );
    let width = recordings
        .iter()
        .map(|r| r.path.display().to_string().chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "{:<width$}  {:>7}  {:>10}  {:>8}  {:>9}  {:>5}",
        "file", "frames", "ms", "± ms", "drift ppm", "pairs"
    );
    for (r, p) in recordings[1..].iter().zip(placed) {
        let name = r.path.display().to_string();
        match p {
            Some(p) => println!(
                "{name:<width$}  {:>+7}  {:>+10.2}  {:>8.2}  {:>9}  {:>5}",
                (p.offset_ns / period_ns).round() as i64,
                p.offset_ns / 1e6,
                p.uncertainty_ns / 1e6,
                p.drift_ppm.map_or("-".to_string(), |d| format!("{d:+.1}")),
                p.pairs
            ),
            None => println!("{name:<width$}  abstained: no timing information"),
        }
    }
    println!("(+N: captured N frames later than the reference; {elapsed:.1} s)");
}
