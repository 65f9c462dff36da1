//! Flashes as timing marks. A rolling-shutter sensor exposes its rows one
//! after another, each for the exposure time, starting a line time apart. A
//! photographer's flash lights only the rows exposing while it fires: a
//! bright band across one frame or two. The band ends where rows began
//! exposing after the flash: its lower edge is the instant the flash ended,
//! read off the camera's own row clock to a fraction of a line. Every
//! camera that sees the flash marks the same instant, so two cameras'
//! marks differ by exactly their offset — whatever the exposure, the scene
//! or the view. The lower edge's half-height point is used: the flash's
//! length cancels between cameras. Where the lower edge falls in the gap
//! between readouts, the upper one (where rows began exposing an exposure
//! before the flash ended) serves, once a band that showed both has
//! measured the exposure.
//!
//! A global shutter exposes every row at once: a flash brightens a whole
//! frame and marks nothing finer than the exposure, so no mark is made.

use super::LumaFrame;
use std::collections::VecDeque;

/// Frames kept: the one judged, three before and three after it. A flash
/// lights at most two frames (its band is an exposure long, less than a
/// frame period), so each pixel's median over seven is its unlit value.
const SPAN: usize = 7;
const JUDGED: usize = 3;

/// A row brighter than its unlit picture by this share is lit.
const MIN_EXCESS: f32 = 0.02;

/// Pixels this dark carry no flash reliably.
const MIN_UNLIT: f32 = 4.0;

/// A band's lower edge counts only below this many rows of its plateau
/// (within a quarter of its height), in the same frame.
const MIN_PLATEAU: usize = 4;

/// Exposures measured, kept for their median.
const EXPOSURES_KEPT: usize = 9;

/// A band's edges in stamp time (ns), at half height: the upper where the
/// rows exposing when the flash fired begin, the lower where the rows
/// exposing after it begin.
struct Edges {
    rise: Option<f64>,
    fall: Option<f64>,
    lit: Vec<(i64, Vec<f32>)>,
}

/// A flash found: its mark in stamp time (ns), if an edge showed, and the
/// frames it lit (stamp, each row's brightening as a share), so that the
/// pictures can be cleared of it.
pub(super) struct Flash {
    pub(super) mark: Option<f64>,
    pub(super) lit: Vec<(i64, Vec<f32>)>,
}

struct Kept {
    stamp: i64,
    pixels: Vec<u8>,
    row_means: Vec<f32>,
}

/// One camera's recent frames.
pub(super) struct FlashFinder {
    /// Nanoseconds between the starts of two rows' exposures.
    line_time: f64,
    width: usize,
    height: usize,
    frames: VecDeque<Kept>,
    exposures: VecDeque<f64>,
}

impl FlashFinder {
    /// `readout`: the sensor's time from its first row to its last (ns);
    /// none for a global shutter.
    pub(super) fn new(readout: i64, width: usize, height: usize) -> Option<Self> {
        (readout > 0 && height > 1 && width > 0).then(|| FlashFinder {
            line_time: readout as f64 / height as f64,
            width,
            height,
            frames: VecDeque::with_capacity(SPAN + 1),
            exposures: VecDeque::new(),
        })
    }

    pub(super) fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Takes the frame stamped `stamp` (its first row's exposure start; of
    /// the size the finder was made for); returns the flash whose band
    /// starts in the frame judged now.
    pub(super) fn push(&mut self, stamp: i64, frame: &LumaFrame<'_>) -> Option<Flash> {
        let pixels = frame.pixels[..self.width * self.height].to_vec();
        let row_means = pixels
            .chunks(self.width)
            .map(|row| row.iter().map(|&p| p as f32).sum::<f32>() / self.width as f32)
            .collect();
        self.frames.push_back(Kept {
            stamp,
            pixels,
            row_means,
        });
        if self.frames.len() > SPAN {
            self.frames.pop_front();
        }
        let edges = (self.frames.len() == SPAN)
            .then(|| self.judge())
            .flatten()?;
        if let (Some(rise), Some(fall)) = (edges.rise, edges.fall) {
            self.exposures.push_back(fall - rise);
            if self.exposures.len() > EXPOSURES_KEPT {
                self.exposures.pop_front();
            }
        }
        let mark = edges.fall.or_else(|| Some(edges.rise? + self.exposure()?));
        Some(Flash {
            mark,
            lit: edges.lit,
        })
    }

    /// The exposure, from the flashes whose band showed both edges (their
    /// distance is the exposure exactly: the flash's length cancels).
    fn exposure(&self) -> Option<f64> {
        let mut seen: Vec<f64> = self.exposures.iter().copied().collect();
        seen.sort_by(f64::total_cmp);
        seen.get(seen.len() / 2).copied()
    }

    /// Shifts the kept frames' stamps (the camera's clock was stepped or
    /// its frames re-stamped after a slip).
    pub(super) fn restamp(&mut self, before: i64, shift: i64) {
        for f in self.frames.iter_mut().filter(|f| f.stamp < before) {
            f.stamp -= shift;
        }
    }

    pub(super) fn clear(&mut self) {
        self.frames.clear();
    }

    fn judge(&self) -> Option<Edges> {
        // A cheap look first: does any row of the judged frame stand out
        // from its median over the frames kept?
        let mut seven = [0.0f32; SPAN];
        let stands_out = (0..self.height).any(|r| {
            for (slot, f) in seven.iter_mut().zip(&self.frames) {
                *slot = f.row_means[r];
            }
            seven.sort_by(f32::total_cmp);
            let unlit = seven[SPAN / 2];
            unlit >= MIN_UNLIT && self.frames[JUDGED].row_means[r] > unlit * (1.0 + MIN_EXCESS)
        });
        if !stands_out {
            return None;
        }
        let excess = self.row_excess();
        let lit = |k: usize| excess[k].iter().any(|&e| e > MIN_EXCESS);
        // A flash's first lit frame is judged once: the frame before it is
        // unlit, and the band's second frame, if any, is kept.
        if !lit(1) || lit(0) {
            return None;
        }
        let peak = excess.iter().flatten().copied().fold(f32::MIN, f32::max);
        let mut plateau: Vec<f32> = excess
            .iter()
            .flatten()
            .copied()
            .filter(|&e| e >= 0.6 * peak)
            .collect();
        plateau.sort_by(f32::total_cmp);
        let level = plateau[plateau.len() / 2];
        let half = level / 2.0;
        let flat = |e: f32| (e - level).abs() <= 0.25 * level;
        // The band's edges: its upper one, the first rise through half
        // height with nothing lit before it, and its lower one, the last
        // fall with nothing lit after it — each inside one frame's rows (an
        // edge in the readout gap marks nothing) and next to a plateau.
        let (mut rise, mut fall) = (None, None);
        let mut lit_before = false;
        for (k, rows) in excess.iter().enumerate() {
            let stamp = self.frames[JUDGED - 1 + k].stamp;
            let at = |r: usize, a: f32, b: f32| {
                let fraction = ((half - a) / (b - a)) as f64;
                stamp as f64 + (r as f64 - 1.0 + fraction) * self.line_time
            };
            for r in 0..self.height {
                if rows[r] >= half {
                    if !lit_before && r > 0 && r + MIN_PLATEAU < self.height {
                        let above_plateau = rows[r + 1..=r + MIN_PLATEAU].iter().all(|&e| flat(e));
                        rise = above_plateau.then(|| at(r, rows[r - 1], rows[r]));
                    }
                    lit_before = true;
                    // Lit again: a fall before this was not the last.
                    fall = None;
                } else if r > MIN_PLATEAU && rows[r - 1] >= half {
                    let below_plateau = rows[r - 1 - MIN_PLATEAU..r - 1].iter().all(|&e| flat(e));
                    fall = below_plateau.then(|| at(r, rows[r - 1], rows[r]));
                }
            }
        }
        let lit = (0..excess.len())
            .filter(|&k| lit(k))
            .map(|k| (self.frames[JUDGED - 1 + k].stamp, excess[k].clone()))
            .collect();
        Some(Edges { rise, fall, lit })
    }

    /// For the frames from the one before the judged to two after it, each
    /// row's brightening: the median over its pixels of each one's share
    /// above its median over the frames kept. A flash brightens every
    /// pixel of a row alike; a moving object changes a few, which the
    /// median ignores.
    fn row_excess(&self) -> Vec<Vec<f32>> {
        let n = self.width * self.height;
        let mut unlit = vec![0.0f32; n];
        let mut seven = [0u8; SPAN];
        for (i, u) in unlit.iter_mut().enumerate() {
            for (slot, f) in seven.iter_mut().zip(&self.frames) {
                *slot = f.pixels[i];
            }
            seven.sort_unstable();
            *u = seven[SPAN / 2] as f32;
        }
        let mut shares = Vec::with_capacity(self.width);
        self.frames
            .range(JUDGED - 1..=JUDGED + 2)
            .map(|f| {
                (0..self.height)
                    .map(|r| {
                        let row = r * self.width..(r + 1) * self.width;
                        shares.clear();
                        shares.extend(
                            f.pixels[row.clone()]
                                .iter()
                                .zip(&unlit[row])
                                .filter(|(_, u)| **u >= MIN_UNLIT)
                                .map(|(&p, &u)| p as f32 / u - 1.0),
                        );
                        if shares.len() * 2 < self.width {
                            return 0.0;
                        }
                        let middle = shares.len() / 2;
                        *shares.select_nth_unstable_by(middle, f32::total_cmp).1
                    })
                    .collect()
            })
            .collect()
    }
}

/// Flash offsets further than this from their consensus are mismatches.
const AGREE: f64 = 500_000.0;
/// A single flash is believed only within this of the pictures' estimate.
const LONE_MATCH: f64 = 3_000_000.0;
/// The least uncertainty claimed: a mark is read to a fraction of a line.
const FLOOR: f64 = 20_000.0;
/// A trend is fitted through marks spanning at least this (ns); rates
/// beyond `MAX_PPM` are not a clock's.
const TREND_SPAN: f64 = 5e9;
const MAX_PPM: f64 = 500.0;

/// What the flashes both cameras marked say of the offset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct FlashConsensus {
    pub(super) offset: f64,
    pub(super) sigma: f64,
    pub(super) flashes: usize,
}

/// From the flashes' offsets `(mark time, offset)`, ns: the offset at `at`,
/// on the trend they follow (a Theil–Sen line, blind to a few mismatched
/// marks; flat until they span `TREND_SPAN`). The marks off the trend are
/// dropped; a lone mark counts only where `motion` (the pictures' offset
/// and its σ) puts the camera too.
pub(super) fn consensus(
    offsets: &[(f64, f64)],
    at: f64,
    motion: Option<(f64, f64)>,
) -> Option<FlashConsensus> {
    let median = |mut v: Vec<f64>| -> Option<f64> {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    };
    let first = offsets.iter().map(|o| o.0).fold(f64::MAX, f64::min);
    let last = offsets.iter().map(|o| o.0).fold(f64::MIN, f64::max);
    let mut slope = 0.0;
    if last - first >= TREND_SPAN {
        let mut slopes = Vec::new();
        for (i, a) in offsets.iter().enumerate() {
            for b in &offsets[i + 1..] {
                if (b.0 - a.0).abs() >= 1e9 {
                    slopes.push((b.1 - a.1) / (b.0 - a.0));
                }
            }
        }
        slope = median(slopes)
            .filter(|s| s.abs() * 1e6 <= MAX_PPM)
            .unwrap_or(0.0);
    }
    let at_now = |o: &(f64, f64)| o.1 + slope * (at - o.0);
    let centre = median(offsets.iter().map(at_now).collect())?;
    let agreeing: Vec<f64> = offsets
        .iter()
        .map(at_now)
        .filter(|o| (o - centre).abs() <= AGREE)
        .collect();
    let offset = median(agreeing.clone())?;
    if agreeing.len() == 1 {
        let (m, sigma) = motion?;
        if (offset - m).abs() > LONE_MATCH.max(4.0 * sigma) {
            return None;
        }
    }
    let mad = median(agreeing.iter().map(|o| (o - offset).abs()).collect())?;
    // 1.4826·MAD is a robust σ of one mark; the median of n is √(π/2)/√n
    // as uncertain.
    let sigma = 1.4826 * mad * (std::f64::consts::FRAC_PI_2 / agreeing.len() as f64).sqrt();
    Some(FlashConsensus {
        offset,
        sigma: sigma.max(FLOOR),
        flashes: agreeing.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-row sensor, reading out over 20 ms, each row exposed 10 ms; a
    /// 1 ms flash at `flash` ns lights each row by its share of the
    /// exposure.
    fn frame(stamp: i64, flash: Option<i64>, texture: u8) -> Vec<u8> {
        let (width, height, readout, exposure, length) = (8, 64, 20e6, 10e6, 1e6);
        let mut pixels = Vec::new();
        for r in 0..height {
            let start = stamp as f64 + readout * r as f64 / height as f64;
            let share = flash.map_or(0.0, |f| {
                let (f0, f1) = (f as f64, f as f64 + length);
                (f1.min(start + exposure) - f0.max(start)).max(0.0) / exposure
            });
            for c in 0..width {
                let base = 80.0 + ((r * 7 + c * 3) % 11) as f64 + texture as f64;
                pixels.push((base * (1.0 + 1.5 * share)).round() as u8);
            }
        }
        pixels
    }

    fn marks(flash: i64, period: i64, first: i64) -> Vec<f64> {
        let mut finder = FlashFinder::new(20_000_000, 8, 64).unwrap();
        let mut found = Vec::new();
        for k in 0..20 {
            let stamp = first + k * period;
            let pixels = frame(stamp, Some(flash), (k % 3) as u8);
            let f = LumaFrame {
                width: 8,
                height: 64,
                pixels: &pixels,
            };
            found.extend(finder.push(stamp, &f).and_then(|f| f.mark));
        }
        found
    }

    #[test]
    fn a_flash_is_marked_where_it_ends_to_a_fraction_of_a_line() {
        // The flash lasts 1 ms from 305 ms: the mark is its midpoint of
        // fall, 305.5 ms, in stamp time.
        let found = marks(305_000_000, 33_366_667, 0);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!((found[0] - 305.5e6).abs() < 0.05e6, "{found:?}");
    }

    #[test]
    fn two_cameras_marks_differ_by_their_offset() {
        // The same flash seen by a camera whose frames start 3.3 ms later.
        let a = marks(305_000_000, 33_366_667, 0);
        let b = marks(305_000_000, 33_366_667, 3_300_000);
        assert_eq!((a.len(), b.len()), (1, 1));
        // Both stamp times are true time here: the marks agree.
        assert!((a[0] - b[0]).abs() < 0.05e6, "{a:?} {b:?}");
    }

    #[test]
    fn the_consensus_follows_the_trend_and_drops_mismatches() {
        // 20 ppm of drift from 1 ms, a mark every 2 s, one mismatched.
        let mut offsets: Vec<(f64, f64)> = (0..15)
            .map(|k| {
                let t = k as f64 * 2e9;
                (t, 1e6 + 20e-6 * t)
            })
            .collect();
        offsets[6].1 += 9e6;
        let c = consensus(&offsets, 30e9, None).unwrap();
        assert!((c.offset - (1e6 + 20e-6 * 30e9)).abs() < 1e3, "{c:?}");
        assert_eq!(c.flashes, 14);
    }

    #[test]
    fn a_lone_flash_needs_the_pictures_to_agree() {
        let lone = [(1e9, 4e6)];
        assert!(consensus(&lone, 2e9, None).is_none());
        assert!(consensus(&lone, 2e9, Some((12e6, 0.5e6))).is_none());
        assert_eq!(
            consensus(&lone, 2e9, Some((4.6e6, 0.5e6))).unwrap().offset,
            4e6
        );
    }

    #[test]
    fn a_global_shutter_marks_nothing() {
        assert!(FlashFinder::new(0, 8, 64).is_none());
    }
}
