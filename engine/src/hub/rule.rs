//! How frames are mapped to reference instants: to the nearest instant, or to
//! the first instant at or after the capture (the latest frame before each
//! instant), both exact on the rational cadence.

use crate::frame::FrameMeta;
use crate::frame_rate::FrameRate;
use crate::time::{Nanos, Time};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlignRule {
    /// Each instant shows, per camera, the frame captured nearest to it.
    Nearest,
    /// Each instant shows the latest frame captured at or before it; a frame
    /// stamped up to `tolerance` after the instant still counts as before it
    /// (locked cameras capture on the instant, give or take their stamps'
    /// noise).
    LatestBefore { tolerance: Nanos },
}

impl AlignRule {
    /// The reference index a frame stamped `capture` belongs to.
    pub fn index(self, rate: FrameRate, capture: Time) -> i64 {
        match self {
            AlignRule::Nearest => rate.nearest_index(capture),
            AlignRule::LatestBefore { tolerance } => rate.index_at_or_after(capture - tolerance),
        }
    }

    /// Whether `candidate` is a better frame for instant `reference` than
    /// `held` (another frame of the same camera). Ties keep the held frame.
    pub fn prefers(self, candidate: &FrameMeta, held: &FrameMeta, reference: Time) -> bool {
        match self {
            AlignRule::Nearest => {
                (candidate.capture - reference).abs() < (held.capture - reference).abs()
            }
            AlignRule::LatestBefore { .. } => candidate.capture > held.capture,
        }
    }

    /// For an instant that no frame of a camera was mapped to: which of its
    /// neighbouring frames the rule shows there, if the camera's cadence says
    /// no frame of its own is missing. `before` is the camera's last frame
    /// before the instant, `after` its first frame after it.
    pub fn neighbour_for(
        self,
        reference: Time,
        before: Option<&FrameMeta>,
        after: Option<&FrameMeta>,
    ) -> Option<FrameMeta> {
        // The frame a regular camera captures after `f`.
        let next_capture = |f: &FrameMeta| f.capture + f.rate.period();
        match self {
            AlignRule::Nearest => {
                if let Some(p) = before
                    && (p.capture - reference).abs() <= (next_capture(p) - reference).abs()
                {
                    // No later frame of the camera can be nearer.
                    return Some(*p);
                }
                let n = after?;
                match before {
                    // Consecutive: no frame between them went missing.
                    Some(p) if n.seq == p.seq + 1 => Some(*n),
                    Some(_) => None,
                    // Nothing before it known: serve when within half a period.
                    None => ((n.capture - reference).abs() * 2 <= n.rate.period()).then_some(*n),
                }
            }
            AlignRule::LatestBefore { tolerance } => {
                let p = before?;
                // Its successor would come after the instant: it is the latest.
                (next_capture(p) > reference + tolerance).then_some(*p)
            }
        }
    }
}
