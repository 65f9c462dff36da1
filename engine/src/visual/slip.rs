//! Frame-slip detection. A camera that drops or repeats a frame in its
//! pipeline goes on stamping on its grid, but from then on its pictures are
//! a frame later (or earlier) than its stamps say. A window of correlation
//! would take seconds to notice; this notices it within two frames.
//!
//! The sign is in the camera's own frame-to-frame change. Motion is smooth,
//! so how much a camera's picture changes from one frame to the next moves
//! slowly — and so does its ratio to how much the reference's picture
//! changes over the same instants, over the part of the scene both see.
//! At a slip one step is different: a skipped frame makes the step two
//! frames long (the change is two to four times the usual), a repeated
//! frame makes it no step at all (only sensor noise). One frame whose ratio
//! leaves its recent band that way, with the frames either side of it
//! inside the band, is a slip; the reference's change guards against what
//! the scene itself does (a burst of motion changes both alike).

use super::regions::Rect;
use super::register::{Mapping, Plane};
use crate::time::Time;
use std::collections::VecDeque;

/// A camera's frames over the window: stamps, feature maps (divided by
/// their mean when the estimator normalises gain) and each picture's mean
/// before that.
#[derive(Default)]
pub(super) struct History {
    pub(super) times: VecDeque<i64>,
    pub(super) maps: VecDeque<Plane>,
    pub(super) gains: VecDeque<f32>,
}

impl History {
    pub(super) fn push(&mut self, stamp: i64, map: Plane, gain: f32) {
        self.times.push_back(stamp);
        self.maps.push_back(map);
        self.gains.push_back(gain);
    }

    pub(super) fn clear(&mut self) {
        self.times.clear();
        self.maps.clear();
        self.gains.clear();
    }

    /// Drops the frames stamped before `horizon`.
    pub(super) fn trim(&mut self, horizon: i64) {
        while self.times.front().is_some_and(|&t| t < horizon) {
            self.times.pop_front();
            self.maps.pop_front();
            self.gains.pop_front();
        }
    }

    /// Moves the frames stamped before `from` by −`shift`; any that no
    /// longer come before `from` are dropped.
    pub(super) fn restamp(&mut self, from: i64, shift: i64) {
        let before = self.times.partition_point(|&t| t < from);
        let mut kept = History::default();
        for k in 0..self.times.len() {
            let t = if k < before {
                self.times[k] - shift
            } else {
                self.times[k]
            };
            if k >= before || t < from {
                kept.push(t, self.maps[k].clone(), self.gains[k]);
            }
        }
        *self = kept;
    }

    /// Whether the picture's light changed at once between frames `a` and
    /// `b` (a flash, an iris step): such a step says nothing of motion.
    fn light_jumped(&self, a: usize, b: usize) -> bool {
        let (ga, gb) = (self.gains[a], self.gains[b]);
        (ga - gb).abs() > LIGHT_JUMP * ga.max(gb)
    }
}

/// A change of the picture's mean by more than this share from one frame
/// to the next is the light's, not motion's.
const LIGHT_JUMP: f32 = 0.02;

/// An alert raised from the pictures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VisualAlert {
    pub camera: usize,
    /// Reference-camera stamp when it was raised.
    pub at: Time,
    pub kind: AlertKind,
    /// 0..1: how sure the detector is.
    pub confidence: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AlertKind {
    /// The camera's pictures moved by `frames` whole frames against its
    /// stamps (positive: its pictures are now later than its stamps say),
    /// from its frame stamped `from`.
    Slip { frames: i32, from: Time },
}

/// Ratios kept for the band, and the fewest that make one.
const BAND_FRAMES: usize = 90;
const BAND_MIN: usize = 60;
/// A skipped frame's step changes the picture at least this many times
/// as much as usual; a repeated frame's at most this share.
const SKIP: f64 = 1.7;
const REPEAT: f64 = 0.22;
/// A skipped frame's step against the camera's own step before it (motion
/// may slow from one step to the next, so a looser bound).
const SKIP_OWN: f64 = 1.85;
/// The reference's change must stand this many noise deviations clear of
/// its sensor noise, or the step carries no information.
const MOTION: f64 = 12.0;

/// How much a picture changed between two frames over `rect`: the sum of
/// squared pixel differences less what sensor noise alone would give (its
/// level read off the differences' median, most pixels being still), and
/// the noise's own spread of that sum.
fn change(a: &Plane, b: &Plane, rect: Rect) -> Option<(f64, f64)> {
    let mut differences = Vec::with_capacity((rect.x1 - rect.x0) * (rect.y1 - rect.y0));
    for y in rect.y0..rect.y1 {
        let row = y * a.width;
        for x in rect.x0..rect.x1 {
            differences.push(b.pixels[row + x] - a.pixels[row + x]);
        }
    }
    let n = differences.len();
    if n < 64 {
        return None;
    }
    let energy: f64 = differences.iter().map(|d| (*d as f64).powi(2)).sum();
    let mut magnitudes: Vec<f32> = differences.iter().map(|d| d.abs()).collect();
    let (_, median, _) = magnitudes.select_nth_unstable_by(n / 2, f32::total_cmp);
    let noise_var = (1.4826 * *median as f64).powi(2);
    Some((
        energy - n as f64 * noise_var,
        noise_var * (2.0 * n as f64).sqrt(),
    ))
}

pub(super) struct Watch {
    /// The camera at stamp s shows what the reference shows at s + offset.
    pub(super) offset: f64,
    /// The camera's frame period: the size of a slip.
    pub(super) period: i64,
    /// The part of the camera's picture inside the reference's, and the
    /// reference's part inside the camera's.
    own_rect: Rect,
    reference_rect: Rect,
    /// Stamps of the camera's frames not yet judged (waiting for the
    /// reference to pass the instants they are compared with).
    pending: VecDeque<i64>,
    /// Recent usual ratios.
    band: VecDeque<f64>,
    /// The camera's own change over its last judged step, and its stamp.
    last_own: Option<(i64, OwnStep)>,
}

/// The camera's own change over one step.
#[derive(Clone, Copy, Debug)]
struct OwnStep {
    change: f64,
    moving: bool,
    still: bool,
}

/// What a judged run of frames concluded.
pub(super) struct Slip {
    pub(super) frames: i32,
    pub(super) from: i64,
    pub(super) confidence: f64,
}

/// The rectangle of pixels of a `w`×`h` picture whose centres `f` carries
/// into `[0, W) × [0, H)`, a pixel inside the edges.
fn inside(
    w: usize,
    h: usize,
    big_w: usize,
    big_h: usize,
    f: impl Fn(f64, f64) -> (f64, f64),
) -> Option<Rect> {
    let (x0, y0) = f(0.0, 0.0);
    let (x1, y1) = f(w as f64, h as f64);
    let scale_x = (x1 - x0) / w as f64;
    let scale_y = (y1 - y0) / h as f64;
    let lo = |origin: f64, scale: f64| ((1.0 - origin) / scale).ceil().max(0.0) as usize;
    let hi = |origin: f64, scale: f64, limit: usize, own: usize| {
        (((limit as f64 - 1.0 - origin) / scale).floor().max(0.0) as usize).min(own)
    };
    let rect = Rect {
        x0: lo(x0, scale_x),
        y0: lo(y0, scale_y),
        x1: hi(x0, scale_x, big_w, w),
        y1: hi(y0, scale_y, big_h, h),
    };
    (rect.x1 > rect.x0 + 4 && rect.y1 > rect.y0 + 4).then_some(rect)
}

impl Watch {
    /// A watch at `offset` over the views' common part; `pending` are the
    /// stamps still to judge, `band` the usual ratios carried over.
    pub(super) fn new(
        offset: f64,
        period: i64,
        mapping: &Mapping,
        own: (usize, usize),
        reference: (usize, usize),
        carried: Option<&Watch>,
    ) -> Option<Self> {
        let own_rect = inside(own.0, own.1, reference.0, reference.1, |u, v| {
            mapping.apply(u, v)
        })?;
        let reference_rect = inside(reference.0, reference.1, own.0, own.1, |x, y| {
            (
                (x - mapping.dx) / mapping.scale,
                (y - mapping.dy) / mapping.scale,
            )
        })?;
        let (pending, band, last_own) = match carried {
            Some(w) => (w.pending.clone(), w.band.clone(), w.last_own),
            None => (VecDeque::new(), VecDeque::new(), None),
        };
        Some(Watch {
            offset,
            period,
            own_rect,
            reference_rect,
            pending,
            band,
            last_own,
        })
    }

    pub(super) fn frame_arrived(&mut self, stamp: i64) {
        self.pending.push_back(stamp);
    }

    /// Judges every pending step the reference now covers; a slip when a
    /// step leaves the band far enough, the one before it inside.
    pub(super) fn judge(&mut self, own: &History, reference: &History) -> Option<Slip> {
        let covered = *reference.times.back()?;
        while let Some(&stamp) = self.pending.front() {
            if stamp as f64 + self.offset >= covered as f64 {
                break;
            }
            self.pending.pop_front();
            let Some((ratio, step)) = self.ratio(stamp, own, reference) else {
                self.last_own = None;
                continue;
            };
            let previous = self.last_own.replace((stamp, step));
            if let Some(slip) = self.verdict(stamp, ratio, step, previous) {
                self.last_own = None;
                // The odd step stays out of the band.
                self.offset += slip.frames as f64 * self.period as f64;
                return Some(slip);
            }
            self.band.push_back(ratio);
            while self.band.len() > BAND_FRAMES {
                self.band.pop_front();
            }
        }
        None
    }

    /// The camera's change over its step to `stamp`, over the reference's
    /// change between the same instants (its frame steps apportioned by
    /// their overlap with them).
    fn ratio(&self, stamp: i64, own: &History, reference: &History) -> Option<(f64, OwnStep)> {
        let k = own.times.binary_search(&stamp).ok()?;
        let before = k.checked_sub(1)?;
        if (stamp - own.times[before] - self.period).abs() * 10 >= self.period {
            return None;
        }
        if own.light_jumped(before, k) {
            return None;
        }
        let (own_change, own_noise) = change(&own.maps[before], &own.maps[k], self.own_rect)?;
        let (from, to) = (
            own.times[before] as f64 + self.offset,
            stamp as f64 + self.offset,
        );
        let first = reference
            .times
            .partition_point(|&t| (t as f64) <= from)
            .checked_sub(1)?;
        let (mut ref_change, mut ref_noise) = (0.0, 0.0);
        let mut j = first;
        while j + 1 < reference.times.len() && (reference.times[j] as f64) < to {
            let (t0, t1) = (reference.times[j] as f64, reference.times[j + 1] as f64);
            let share = (t1.min(to) - t0.max(from)).max(0.0) / (t1 - t0);
            if reference.light_jumped(j, j + 1) {
                return None;
            }
            let (c, noise) = change(
                &reference.maps[j],
                &reference.maps[j + 1],
                self.reference_rect,
            )?;
            ref_change += share * c;
            ref_noise += share * noise;
            j += 1;
        }
        if (*reference.times.get(j)? as f64) < to || ref_change < MOTION * ref_noise {
            return None;
        }
        let change = own_change.max(0.0);
        Some((
            change / ref_change,
            OwnStep {
                change,
                // Measurable: clear of what the noise estimate's own error
                // could make of a quiet view.
                moving: change >= MOTION * own_noise,
                // Within three noise deviations of no motion at all.
                still: own_change <= 3.0 * own_noise,
            },
        ))
    }

    /// `previous`: the camera's own change over the step before (its end
    /// stamp), which a slip must leave too — a camera whose part of the
    /// view merely went quiet while the reference's did not is no slip.
    fn verdict(
        &self,
        stamp: i64,
        ratio: f64,
        step: OwnStep,
        previous: Option<(i64, OwnStep)>,
    ) -> Option<Slip> {
        let (previous_stamp, before) = previous?;
        if (stamp - previous_stamp - self.period).abs() * 10 >= self.period {
            return None;
        }
        if self.band.len() < BAND_MIN {
            return None;
        }
        let mut sorted: Vec<f64> = self.band.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let usual = sorted[sorted.len() / 2];
        if usual <= 0.0 {
            return None;
        }
        // Against the usual ratio to the reference, and against the
        // camera's own step before: the scene's own swings (a fast mover
        // crossing into one view's part before the other's) build up over
        // steps and move both, a slip changes one step at once. A skip:
        // about twice the usual share and twice its own step before; a
        // repeat: no motion at all where the reference moved and the camera
        // itself had been moving.
        let relative = ratio / usual;
        let frames =
            if ratio >= SKIP * usual && before.moving && step.change >= SKIP_OWN * before.change {
                1
            } else if ratio <= REPEAT * usual && before.moving && step.still {
                -1
            } else {
                return None;
            };
        // How far outside the band's own spread the odd step lies.
        let mut deviations: Vec<f64> = sorted.iter().map(|r| (r / usual).ln().abs()).collect();
        deviations.sort_by(f64::total_cmp);
        let spread = (1.4826 * deviations[deviations.len() / 2]).max(0.02);
        let z = relative.max(1e-3).ln().abs() / spread;
        Some(Slip {
            frames,
            from: stamp,
            confidence: 1.0 - (-z * z / 8.0).exp(),
        })
    }
}
