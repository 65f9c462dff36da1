//! The offset estimator: per camera, the window's feature maps; every
//! `update_every` of the reference camera's time, each other camera's
//! offset from the reference.
//!
//! 1. Registration: where the camera's view lies in the reference's (a scale
//!    and shift found on the window's mean pictures, `register.rs`); found
//!    once, checked now and then.
//! 2. Regions of interest: the cells of the camera's grid that move most
//!    and fall inside the reference's view; each has its counterpart there.
//! 3. Each cell's brightness and its counterpart's, differenced frame to
//!    frame (slow light drift and static texture fall out), are
//!    cross-correlated over a continuous lag (`correlate.rs`).
//! 4. The correlation-weighted median of the strong pairs' lags is the
//!    offset, their spread its uncertainty; too few strong pairs — a static
//!    scene, no overlap, flat correlation — and the estimator abstains.

use super::correlate::{Signal, best_lag, best_lag_coarse_to_fine};
use super::flash::{FlashFinder, consensus};
use super::regions::{Rect, counterpart_mean, mean_in};
use super::register::{Mapping, Plane, refine_block, register};
use super::slip::{AlertKind, History, VisualAlert, Watch};
use super::{FeatureExtractor, LumaFrame};
use crate::time::{Nanos, Time};
use std::collections::VecDeque;

#[derive(Clone, Debug, PartialEq)]
pub struct VisualConfig {
    pub cameras: usize,
    /// Offsets are measured from this camera (PTP-locked, trusted).
    pub reference: usize,
    pub window: Nanos,
    pub update_every: Nanos,
    /// Offsets searched: ± this.
    pub search: Nanos,
    /// Lag grid before sub-step refinement.
    pub step: Nanos,
    /// Divide every feature map by its mean (flashes, exposure changes).
    pub normalise_gain: bool,
    /// The drift is fitted over the estimates of this span, once they
    /// cover a quarter of it (the longer, the finer: overlapping windows
    /// make neighbouring estimates' errors alike).
    pub drift_span: Nanos,
    /// A camera not yet found is searched ±this instead (a free-running
    /// clock set by hand may be off by far more than a frame); once found,
    /// ±`search` around where it was last seen. `None`: always `search`.
    pub acquire: Option<Nanos>,
    /// For searches far wider than `step` (recordings started seconds
    /// apart): search on this grid first (a frame period), then on `step`
    /// around its best. `None`: `step` over the whole range.
    pub coarse_step: Option<Nanos>,
    /// The camera's picture is cut into this grid of candidate regions.
    pub grid: (usize, usize),
    /// Regions per camera taking part (the most active).
    pub regions_used: usize,
    /// A region pair counts at or above this correlation.
    pub min_correlation: f64,
    /// Fewer strong pairs than this: abstain.
    pub min_pairs: usize,
    /// Regions whose differences move less than this (grey levels, RMS)
    /// carry no timing information.
    pub min_activity: f32,
    /// Views sharing less than this share of the picture are not compared.
    pub min_overlap: f64,
    /// Per camera, its sensor's rolling-shutter readout (first row to last;
    /// zero or missing: a global shutter). A rolling shutter turns every
    /// flash into a timing mark (`flash.rs`).
    pub readout: Vec<Nanos>,
    /// Flash marks are kept this long: each is as good as it was when made
    /// (the drift fit moves it to now).
    pub flash_memory: Nanos,
}

impl VisualConfig {
    pub fn new(cameras: usize) -> Self {
        VisualConfig {
            cameras,
            reference: 0,
            window: Nanos::from_secs(6),
            update_every: Nanos::from_secs(1),
            search: Nanos::from_millis(45),
            step: Nanos::from_millis(1),
            normalise_gain: true,
            drift_span: Nanos::from_secs(120),
            acquire: None,
            coarse_step: None,
            grid: (12, 8),
            regions_used: 16,
            min_correlation: 0.8,
            min_pairs: 3,
            min_activity: 0.5,
            min_overlap: 0.2,
            readout: Vec::new(),
            flash_memory: Nanos::from_secs(30),
        }
    }
}

/// One camera's offset from the reference at one update: how much later than
/// its stamps say it really captured, relative to the reference camera.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OffsetEstimate {
    pub camera: usize,
    /// Reference-camera stamp at which the estimate was made.
    pub at: Time,
    /// `None`: abstained.
    pub offset_ns: Option<f64>,
    pub uncertainty_ns: f64,
    /// Region pairs that agreed.
    pub pairs: usize,
    /// Flashes both cameras marked that the offset stands on (none: it is
    /// the region pairs').
    pub flashes: usize,
    /// How fast the offset is changing (ppm: ns per ms of reference time),
    /// fitted over the camera's recent estimates once they span a quarter
    /// of `VisualConfig::drift_span`; a free-running camera's rate error.
    pub drift_ppm: Option<f64>,
}

/// Estimates kept for the drift fit at most.
const DRIFT_KEEP: usize = 600;

/// The slope (ppm) of a least-squares line through (time, offset) points.
fn drift_of(points: &VecDeque<(i64, f64)>, span: i64) -> Option<f64> {
    let (first, last) = (points.front()?.0, points.back()?.0);
    if last - first < span || points.len() < 10 {
        return None;
    }
    let n = points.len() as f64;
    let mean_t = points.iter().map(|p| (p.0 - first) as f64).sum::<f64>() / n;
    let mean_o = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sto, mut stt) = (0.0, 0.0);
    for &(t, o) in points {
        let dt = (t - first) as f64 - mean_t;
        sto += dt * (o - mean_o);
        stt += dt * dt;
    }
    (stt > 0.0).then(|| sto / stt * 1e6)
}

pub struct VisualEstimator {
    config: VisualConfig,
    extractors: Vec<Box<dyn FeatureExtractor + Send>>,
    history: Vec<History>,
    /// Per camera: its registration onto the reference, and when made.
    mappings: Vec<Option<(Mapping, u32)>>,
    next_update: Option<i64>,
    /// Frames refused as malformed.
    refused: u64,
    /// Per camera, its recent offset estimates, for the drift fit.
    offsets_seen: Vec<VecDeque<(i64, f64)>>,
    /// Per camera, the offset its search is centred on: its last confident
    /// estimate, moved by whole frames when it slips.
    centres: Vec<f64>,
    /// Per camera, whether it has been found (an estimate made).
    found: Vec<bool>,
    /// Per camera, what the slip detector watches.
    watches: Vec<Option<Watch>>,
    alerts: Vec<VisualAlert>,
    /// Per rolling-shutter camera, its flash finder; per camera, the
    /// flash marks it made (stamp time, ns).
    flash_finders: Vec<Option<FlashFinder>>,
    flash_marks: Vec<VecDeque<f64>>,
}

/// Frame-to-frame differences of a series, at the midpoints.
fn differences(times: &[i64], values: &[f32]) -> (Vec<i64>, Vec<f32>) {
    (
        times.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2).collect(),
        values.windows(2).map(|w| w[1] - w[0]).collect(),
    )
}

fn rms(values: &[f32]) -> f32 {
    let n = values.len().max(1) as f32;
    let mean = values.iter().sum::<f32>() / n;
    (values.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / n).sqrt()
}

/// Re-register every this many updates (cameras may be re-aimed).
const REREGISTER_EVERY: u32 = 30;

impl VisualEstimator {
    pub fn new(config: VisualConfig, extractors: Vec<Box<dyn FeatureExtractor + Send>>) -> Self {
        let history = extractors.iter().map(|_| History::default()).collect();
        VisualEstimator {
            mappings: vec![None; extractors.len()],
            offsets_seen: vec![VecDeque::new(); extractors.len()],
            centres: vec![0.0; extractors.len()],
            found: vec![false; extractors.len()],
            watches: extractors.iter().map(|_| None).collect(),
            alerts: Vec::new(),
            flash_finders: extractors.iter().map(|_| None).collect(),
            flash_marks: vec![VecDeque::new(); extractors.len()],
            config,
            extractors,
            history,
            next_update: None,
            refused: 0,
        }
    }

    /// A frame of camera `camera` stamped `stamp`; returns the estimates an
    /// update produced, if one was due.
    pub fn push_frame(
        &mut self,
        camera: usize,
        stamp: Time,
        frame: &LumaFrame<'_>,
    ) -> Vec<OffsetEstimate> {
        // A frame that does not hold its stated size, or from a camera the
        // estimator does not know, is refused; a camera whose picture size
        // changes starts its window (and registration) afresh.
        let well_formed = frame.width >= 16
            && frame.height >= 9
            && frame.pixels.len() >= frame.width * frame.height;
        if camera >= self.history.len() || !well_formed {
            self.refused += 1;
            return Vec::new();
        }
        if self.history[camera]
            .times
            .back()
            .is_some_and(|&t| t >= stamp.0)
        {
            // Stamps must move forward for the signals to be signals.
            self.refused += 1;
            return Vec::new();
        }
        self.look_for_flash(camera, stamp.0, frame);
        let mut map = self.extractors[camera].map(frame);
        let mean = map.pixels.iter().sum::<f32>() / map.pixels.len().max(1) as f32;
        if self.config.normalise_gain {
            // A flash, an iris or gain change, the light's slow drift: the
            // whole picture brightens or darkens at once. Dividing each
            // feature map by its mean leaves what moves.
            if mean > 1e-3 {
                let scale = 128.0 / mean;
                map.pixels.iter_mut().for_each(|p| *p *= scale);
            }
        }
        let resized = self.history[camera]
            .maps
            .back()
            .is_some_and(|m| (m.width, m.height) != (map.width, map.height));
        if resized {
            self.history[camera].clear();
            if camera == self.config.reference {
                self.mappings.iter_mut().for_each(|m| *m = None);
                self.watches.iter_mut().for_each(|w| *w = None);
            } else {
                self.mappings[camera] = None;
                self.watches[camera] = None;
            }
        }
        let h = &mut self.history[camera];
        h.push(stamp.0, map, mean);
        h.trim(stamp.0 - self.config.window.0);
        self.look_for_slips(camera, stamp.0);
        if camera != self.config.reference {
            return Vec::new();
        }
        let due = *self
            .next_update
            .get_or_insert(stamp.0 + self.config.window.0);
        if stamp.0 < due {
            return Vec::new();
        }
        self.next_update = Some(due + self.config.update_every.0);
        let reference = self.config.reference;
        (0..self.config.cameras)
            .filter(|&c| c != reference)
            .map(|c| self.estimate(c, stamp))
            .collect()
    }

    /// A camera's clock was adjusted (the hybrid loop's command applied):
    /// its stamps moved by `step` from here on. Its window restarts, so that
    /// it speaks of one clock; its past offsets move with the step, or are
    /// forgotten when its rate changed too.
    pub fn adjusted(&mut self, camera: usize, step: Nanos, rate_changed: bool) {
        let Some(h) = self.history.get_mut(camera) else {
            return;
        };
        h.clear();
        self.watches[camera] = None;
        self.centres[camera] -= step.0 as f64;
        // Its marks were made on the clock before the step.
        self.flash_marks[camera].clear();
        if let Some(f) = &mut self.flash_finders[camera] {
            f.clear();
        }
        let points = &mut self.offsets_seen[camera];
        if rate_changed {
            points.clear();
        } else {
            points.iter_mut().for_each(|p| p.1 -= step.0 as f64);
        }
    }

    /// The camera restarted: its clock is a new one, anywhere again. It is
    /// searched for afresh (the acquisition range, centred on nothing), and
    /// nothing seen of the old clock — offsets, drift, marks — is kept.
    pub fn forget(&mut self, camera: usize) {
        if camera >= self.found.len() {
            return;
        }
        self.adjusted(camera, Nanos::ZERO, true);
        self.found[camera] = false;
        self.centres[camera] = 0.0;
    }

    /// Feeds the camera's flash finder (made at its first frame, if its
    /// sensor has a rolling shutter); keeps the marks it makes.
    fn look_for_flash(&mut self, camera: usize, stamp: i64, frame: &LumaFrame<'_>) {
        let readout = self.config.readout.get(camera).map_or(0, |r| r.0);
        let finder = &mut self.flash_finders[camera];
        if finder
            .as_ref()
            .is_none_or(|f| f.size() != (frame.width, frame.height))
        {
            *finder = FlashFinder::new(readout, frame.width, frame.height);
        }
        let Some(f) = finder else {
            return;
        };
        let marks = &mut self.flash_marks[camera];
        let Some(flash) = f.push(stamp, frame) else {
            return;
        };
        // A flash is marked once (a band judged twice is one flash).
        let mark = flash
            .mark
            .filter(|m| marks.back().is_none_or(|last| m - last > MIN_FLASH_GAP));
        marks.extend(mark);
        // The band would look like motion to the region pairs: each row of
        // the lit frames' maps is dimmed back by its brightening.
        let history = &mut self.history[camera];
        for (lit_stamp, excess) in &flash.lit {
            let Some(k) = history.times.iter().position(|t| t == lit_stamp) else {
                continue;
            };
            let map = &mut history.maps[k];
            for (r, row) in map.pixels.chunks_mut(map.width).enumerate() {
                let e = excess[(r * excess.len() / map.height).min(excess.len() - 1)];
                row.iter_mut().for_each(|p| *p /= 1.0 + e.max(0.0));
            }
            if self.config.normalise_gain {
                let mean = map.pixels.iter().sum::<f32>() / map.pixels.len().max(1) as f32;
                if mean > 1e-3 {
                    let scale = 128.0 / mean;
                    map.pixels.iter_mut().for_each(|p| *p *= scale);
                }
            }
        }
        let horizon = (stamp - self.config.flash_memory.0) as f64;
        while marks.front().is_some_and(|&m| m < horizon) {
            marks.pop_front();
        }
    }

    /// The offsets the flashes both the camera and the reference marked
    /// give (a mark of the camera matched to the reference's nearest its
    /// expected place, within `tolerance`), each with its mark's time.
    fn flash_offsets(&self, camera: usize, expected: f64, tolerance: f64) -> Vec<(f64, f64)> {
        let reference = &self.flash_marks[self.config.reference];
        self.flash_marks[camera]
            .iter()
            .filter_map(|&m| {
                let want = m + expected;
                let i = reference.partition_point(|&r| r < want);
                let nearest = [i.checked_sub(1), Some(i)]
                    .into_iter()
                    .flatten()
                    .filter_map(|j| reference.get(j))
                    .min_by(|a, b| (*a - want).abs().total_cmp(&(*b - want).abs()))?;
                ((nearest - want).abs() <= tolerance).then_some((m, nearest - m))
            })
            .collect()
    }

    /// When, after a frame's stamp, a rolling shutter starts exposing the
    /// picture's row at `y` (a pixel's centre is half a row down).
    fn row_time(&self, camera: usize, y: f64, height: usize) -> f64 {
        let readout = self.config.readout.get(camera).map_or(0, |r| r.0);
        readout as f64 * (y - 0.5) / height.max(1) as f64
    }

    /// The alerts raised since the last call.
    pub fn take_alerts(&mut self) -> Vec<VisualAlert> {
        std::mem::take(&mut self.alerts)
    }

    /// Judges the frames the new one makes judgeable: the camera's own, or
    /// every watched camera's when the reference moves on.
    fn look_for_slips(&mut self, camera: usize, stamp: i64) {
        let reference = self.config.reference;
        if camera != reference
            && let Some(w) = &mut self.watches[camera]
        {
            w.frame_arrived(stamp);
        }
        let cameras: Vec<usize> = if camera == reference {
            (0..self.history.len())
                .filter(|&c| c != reference)
                .collect()
        } else {
            vec![camera]
        };
        for c in cameras {
            let Some(w) = &mut self.watches[c] else {
                continue;
            };
            let Some(slip) = w.judge(&self.history[c], &self.history[reference]) else {
                continue;
            };
            let period = w.period;
            self.centres[c] = w.offset;
            self.restamp(c, slip.from, slip.frames, period);
            self.alerts.push(VisualAlert {
                camera: c,
                at: Time(*self.history[reference].times.back().unwrap_or(&stamp)),
                kind: AlertKind::Slip {
                    frames: slip.frames,
                    from: Time(slip.from),
                },
                confidence: slip.confidence,
            });
        }
    }

    /// A slip of `frames` from the frame stamped `from` on: the frames
    /// before it are re-stamped to where they now belong, so that the
    /// window speaks of one offset again (a repeated frame's older twin is
    /// dropped), and the drift fit's past offsets move with them.
    fn restamp(&mut self, camera: usize, from: i64, frames: i32, period: i64) {
        let shift = frames as i64 * period;
        self.history[camera].restamp(from, shift);
        if let Some(f) = &mut self.flash_finders[camera] {
            f.restamp(from, shift);
        }
        for m in self.flash_marks[camera]
            .iter_mut()
            .filter(|m| **m < from as f64)
        {
            *m -= shift as f64;
        }
        for p in &mut self.offsets_seen[camera] {
            p.1 += shift as f64;
        }
    }

    /// Frames refused as malformed (short of their stated size, too small,
    /// from an unknown camera).
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Where a camera's view lies in the reference's, once registered.
    pub fn mapping_of(&self, camera: usize) -> Option<Mapping> {
        self.mappings.get(camera).copied().flatten().map(|(m, _)| m)
    }

    /// The window's mean picture of a camera.
    fn background(&self, camera: usize) -> Option<Plane> {
        let maps = &self.history[camera].maps;
        let first = maps.front()?;
        let mut pixels = vec![0.0f32; first.pixels.len()];
        for m in maps {
            for (p, v) in pixels.iter_mut().zip(&m.pixels) {
                *p += v;
            }
        }
        let n = maps.len() as f32;
        pixels.iter_mut().for_each(|p| *p /= n);
        Some(Plane {
            width: first.width,
            height: first.height,
            pixels,
        })
    }

    fn mapping(&mut self, camera: usize) -> Option<Mapping> {
        match self.mappings[camera] {
            Some((m, age)) if age < REREGISTER_EVERY => {
                self.mappings[camera] = Some((m, age + 1));
                Some(m)
            }
            _ => {
                let a = self.background(self.config.reference)?;
                let b = self.background(camera)?;
                let m = register(&a, &b, self.config.min_overlap)?;
                self.mappings[camera] = Some((m, 0));
                Some(m)
            }
        }
    }

    /// After an estimate: the search's new centre, and the slip
    /// detector's watch moved to the estimated offset.
    fn watch(&mut self, camera: usize, mapping: &Mapping, offset: f64, own_times: &[i64]) {
        self.centres[camera] = offset;
        self.found[camera] = true;
        let mut gaps: Vec<i64> = own_times.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_unstable();
        let (Some(&period), Some(own), Some(reference)) = (
            gaps.get(gaps.len() / 2),
            self.history[camera].maps.back(),
            self.history[self.config.reference].maps.back(),
        ) else {
            return;
        };
        self.watches[camera] = Watch::new(
            offset,
            period,
            mapping,
            (own.width, own.height),
            (reference.width, reference.height),
            self.watches[camera].as_ref(),
        );
    }

    fn abstain(camera: usize, at: Time, pairs: usize) -> OffsetEstimate {
        OffsetEstimate {
            camera,
            at,
            offset_ns: None,
            uncertainty_ns: f64::INFINITY,
            pairs,
            flashes: 0,
            drift_ppm: None,
        }
    }

    fn estimate(&mut self, camera: usize, at: Time) -> OffsetEstimate {
        let Some(m) = self.mapping(camera) else {
            return Self::abstain(camera, at, 0);
        };
        let reference_id = self.config.reference;
        let reference = &self.history[reference_id];
        let ref_height = reference.maps.back().map_or(1, |p| p.height);
        let own = &self.history[camera];
        let (false, Some(own_first)) = (reference.maps.is_empty(), own.maps.front()) else {
            return Self::abstain(camera, at, 0);
        };
        let (cols, rows) = self.config.grid;
        // The camera's most active cells.
        let own_times: Vec<i64> = own.times.iter().copied().collect();
        let mut cells = Vec::new();
        for j in 0..rows {
            for i in 0..cols {
                let cell = Rect {
                    x0: i * own_first.width / cols,
                    x1: (i + 1) * own_first.width / cols,
                    y0: j * own_first.height / rows,
                    y1: (j + 1) * own_first.height / rows,
                };
                let series: Vec<f32> = own.maps.iter().map(|p| mean_in(p, cell)).collect();
                let (t, d) = differences(&own_times, &series);
                let activity = rms(&d);
                if activity >= self.config.min_activity {
                    cells.push((activity, t, d, cell));
                }
            }
        }
        cells.sort_by(|a, b| b.0.total_cmp(&a.0));
        // Their counterparts in the reference, placed to a quarter pixel on
        // the backgrounds; cells that fall outside are dropped.
        let (Some(ref_bg), Some(own_bg)) = (
            self.background(self.config.reference),
            self.background(camera),
        ) else {
            return Self::abstain(camera, at, 0);
        };
        let ref_times: Vec<i64> = reference.times.iter().copied().collect();
        let min_samples = (own.times.len() / 2).max(8);
        let mut matches: Vec<(f64, f64)> = Vec::new();
        let centre_lag = -self.centres[camera].round() as i64;
        let mut used = 0;
        for (_, times, values, cell) in &cells {
            if used == self.config.regions_used {
                break;
            }
            let block = (cell.x0, cell.y0, cell.x1, cell.y1);
            let Some((ox, oy, _)) = refine_block(&ref_bg, &own_bg, &m, block, 2.0) else {
                continue;
            };
            used += 1;
            let series: Vec<f32> = reference
                .maps
                .iter()
                .map(|p| counterpart_mean(p, &m, *cell, ox, oy))
                .collect();
            let (rt, rd) = differences(&ref_times, &series);
            // The search is centred on where the camera was last seen.
            let centred: Vec<i64> = times.iter().map(|t| t - centre_lag).collect();
            let (a, b) = (
                Signal {
                    times: &rt,
                    values: &rd,
                },
                Signal {
                    times: &centred,
                    values,
                },
            );
            let search = match self.config.acquire {
                Some(wide) if !self.found[camera] => wide.0 as f64,
                _ => self.config.search.0 as f64,
            };
            let step = self.config.step.0 as f64;
            let peak = match self.config.coarse_step {
                Some(coarse) if coarse.0 as f64 > step && 4.0 * (coarse.0 as f64) < search => {
                    best_lag_coarse_to_fine(a, b, search, coarse.0 as f64, step, min_samples)
                }
                _ => best_lag(a, b, search, step, min_samples),
            }
            .map(|mut p| {
                p.lag += centre_lag as f64;
                p
            });
            if let Some(p) = peak.filter(|p| p.correlation >= self.config.min_correlation) {
                // The coarse lag confuses time with place: a counterpart a
                // twentieth of a pixel off looks, to an object crossing it,
                // like milliseconds. Refine lag and place together.
                let own_series: Vec<f32> = own.maps.iter().map(|q| mean_in(q, *cell)).collect();
                let shifted = |dx: f64, dy: f64| -> Vec<f32> {
                    reference
                        .maps
                        .iter()
                        .map(|q| counterpart_mean(q, &m, *cell, ox + dx, oy + dy))
                        .collect()
                };
                let gx: Vec<f32> = shifted(0.5, 0.0)
                    .iter()
                    .zip(shifted(-0.5, 0.0))
                    .map(|(a, b)| a - b)
                    .collect();
                let gy: Vec<f32> = shifted(0.0, 0.5)
                    .iter()
                    .zip(shifted(0.0, -0.5))
                    .map(|(a, b)| a - b)
                    .collect();
                let lag = refine_lag(
                    &ref_times,
                    &series,
                    &gx,
                    &gy,
                    Signal {
                        times: &own_times,
                        values: &own_series,
                    },
                    p.lag,
                )
                .filter(|l| (l - p.lag).abs() <= self.config.step.0 as f64 * 8.0)
                .unwrap_or(p.lag);
                // b(t + τ) matches a(t): the camera sees at t + τ what the
                // reference saw at t, so it captures τ early — less what
                // a rolling shutter adds: the rows the region lies on are
                // read out later in one camera than in the other.
                let centre_row = (cell.y0 + cell.y1) as f64 / 2.0;
                let ref_row = m.apply(0.0, centre_row).1 + oy;
                let skew = self.row_time(reference_id, ref_row, ref_height)
                    - self.row_time(camera, centre_row, own_first.height);
                matches.push((skew - lag, p.correlation));
            }
        }
        let motion = (matches.len() >= self.config.min_pairs).then(|| {
            let offset = weighted_median(&mut matches);
            let mut deviations: Vec<f64> = matches.iter().map(|m| (m.0 - offset).abs()).collect();
            deviations.sort_by(f64::total_cmp);
            let mad = deviations[deviations.len() / 2];
            // 1.4826·MAD is a robust σ of one pair; the median of n pairs
            // is √(π/2)/√n as uncertain. A floor of a twentieth of the lag
            // step.
            let sigma = 1.4826 * mad * (std::f64::consts::FRAC_PI_2 / matches.len() as f64).sqrt();
            (offset, sigma.max(self.config.step.0 as f64 / 20.0))
        });
        // Flash marks, where the sensors make them, are finer than any
        // region pair: they decide. The camera's marks are matched to the
        // reference's near where the pictures put it (or where it was last
        // seen).
        let expected = motion.map_or(self.centres[camera], |(o, _)| o);
        let middle = (at.0 - self.config.window.0 / 2) as f64;
        let offsets = self.flash_offsets(camera, expected, self.config.search.0 as f64);
        let flashes = consensus(&offsets, middle, motion);
        let (offset, uncertainty) = match (flashes, motion) {
            (Some(f), _) => (f.offset, f.sigma),
            (None, Some(m)) => m,
            (None, None) => return Self::abstain(camera, at, matches.len()),
        };
        self.watch(camera, &m, offset, &own_times);
        let points = &mut self.offsets_seen[camera];
        points.push_back((at.0, offset));
        while points.len() > DRIFT_KEEP
            || points
                .front()
                .is_some_and(|p| p.0 < at.0 - self.config.drift_span.0)
        {
            points.pop_front();
        }
        OffsetEstimate {
            camera,
            at,
            offset_ns: Some(offset),
            uncertainty_ns: uncertainty,
            pairs: matches.len(),
            flashes: flashes.map_or(0, |f| f.flashes),
            drift_ppm: drift_of(points, self.config.drift_span.0 / 4),
        }
    }
}

/// Two marks of one camera closer than this (ns) are one flash.
const MIN_FLASH_GAP: f64 = 100e6;

/// Refines a lag by least squares on the linearised model
///   b(t + τ₀) = α·(a + δτ·ȧ + Δx·∂a/∂x + Δy·∂a/∂y) + β
/// over the window: the camera's region b against the reference's
/// counterpart a, its time derivative and its derivatives with respect to
/// the counterpart's place (`gx`, `gy`: per unit pixel). The gain α and
/// level β absorb exposure; Δx, Δy absorb what registration missed; δτ is
/// what is left of time. Returns τ₀ + δτ.
fn refine_lag(
    times: &[i64],
    a: &[f32],
    gx: &[f32],
    gy: &[f32],
    b: Signal<'_>,
    lag: f64,
) -> Option<f64> {
    let mut normal = [[0.0f64; 6]; 5];
    let mut hint = 0;
    let mut rows = 0;
    for k in 1..a.len().saturating_sub(1) {
        let Some(bv) = b.at(times[k] as f64 + lag, &mut hint) else {
            continue;
        };
        let dt = (times[k + 1] - times[k - 1]) as f64;
        if dt <= 0.0 {
            continue;
        }
        let derivative = (a[k + 1] - a[k - 1]) as f64 / dt;
        let x = [a[k] as f64, derivative, gx[k] as f64, gy[k] as f64, 1.0];
        for i in 0..5 {
            for j in 0..5 {
                normal[i][j] += x[i] * x[j];
            }
            normal[i][5] += x[i] * bv;
        }
        rows += 1;
    }
    if rows < 20 {
        return None;
    }
    let c = solve5(normal)?;
    (c[0].abs() > 1e-6).then(|| lag - c[1] / c[0])
}

/// Gaussian elimination with partial pivoting on an augmented 5×6 system.
fn solve5(mut m: [[f64; 6]; 5]) -> Option<[f64; 5]> {
    for col in 0..5 {
        let pivot = (col..5).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        let pivot_row = m[col];
        for (row, values) in m.iter_mut().enumerate() {
            if row != col {
                let f = values[col] / pivot_row[col];
                for (v, p) in values.iter_mut().zip(pivot_row).skip(col) {
                    *v -= f * p;
                }
            }
        }
    }
    Some(std::array::from_fn(|i| m[i][5] / m[i][i]))
}

/// The median of (value, weight) pairs by weight.
fn weighted_median(pairs: &mut [(f64, f64)]) -> f64 {
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    let mut seen = 0.0;
    for p in pairs.iter() {
        seen += p.1;
        if 2.0 * seen >= total {
            return p.0;
        }
    }
    pairs.last().map_or(0.0, |p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visual::Brightness;

    fn estimator() -> VisualEstimator {
        VisualEstimator::new(
            VisualConfig::new(2),
            vec![Box::new(Brightness), Box::new(Brightness)],
        )
    }

    #[test]
    fn malformed_frames_are_refused_and_counted_not_a_panic() {
        let mut e = estimator();
        let pixels = vec![100u8; 96 * 54];
        fn frame(width: usize, height: usize, pixels: &[u8]) -> LumaFrame<'_> {
            LumaFrame {
                width,
                height,
                pixels,
            }
        }
        // Short of its stated size, too small, an unknown camera, a stamp
        // going backwards.
        assert!(e.push_frame(0, Time(0), &frame(96, 55, &pixels)).is_empty());
        assert!(e.push_frame(0, Time(0), &frame(4, 4, &pixels)).is_empty());
        assert!(e.push_frame(7, Time(0), &frame(96, 54, &pixels)).is_empty());
        e.push_frame(0, Time(10), &frame(96, 54, &pixels));
        e.push_frame(0, Time(5), &frame(96, 54, &pixels));
        assert_eq!(e.refused(), 4);
        // A camera whose picture size changes starts afresh; a flat picture
        // carries no timing: the estimator abstains, it does not fail.
        let small = vec![50u8; 48 * 27];
        let mut out = Vec::new();
        for k in 1..400i64 {
            let t = Time(10 + k * 33_366_667);
            out.extend(e.push_frame(1, t, &frame(96, 54, &pixels)));
            out.extend(e.push_frame(1, Time(t.0 + 1), &frame(48, 27, &small)));
            out.extend(e.push_frame(0, Time(t.0 + 2), &frame(96, 54, &pixels)));
        }
        assert!(!out.is_empty());
        assert!(out.iter().all(|o| o.offset_ns.is_none()));
    }
}
