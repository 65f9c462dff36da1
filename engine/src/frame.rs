//! Frames, frame sets, and the account of every frame that is in no set.

use crate::frame_rate::FrameRate;
use crate::ptp::ServoState;
use crate::time::{Nanos, Time};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CameraId(pub u16);

/// What travels with every frame: who captured it, when (in PTP time), and how
/// far the stamp can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameMeta {
    pub camera: CameraId,
    /// Per camera, counting from 0 with no gaps at the source.
    pub seq: u64,
    /// Capture instant on the camera's disciplined clock (PTP time).
    pub capture: Time,
    /// The camera's rate; a frame lasts one period of it.
    pub rate: FrameRate,
    /// The servo state of the camera's clock when it stamped the frame.
    pub lock: ServoState,
    /// How far `capture` may be from the true PTP instant; `None` when the
    /// camera's clock had no bound (not yet locked).
    pub uncertainty: Option<Nanos>,
}

impl FrameMeta {
    pub fn duration(&self) -> Nanos {
        self.rate.period()
    }
}

/// What a frame set holds for one camera.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The camera's frame for this instant, in its one place.
    Frame(FrameMeta),
    /// A frame already placed in another set, shown again: the camera is
    /// slower than the reference cadence and this frame is still its nearest
    /// (`RateConversion`), or the camera's frame was missing at the deadline
    /// and the repeat policy filled the gap (`Concealment`).
    Repeat(FrameMeta, RepeatReason),
    /// No frame for this instant.
    Missing(MissingReason),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RepeatReason {
    RateConversion,
    Concealment,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MissingReason {
    /// The camera is delivering, but this instant's frame had not arrived
    /// when the set was released.
    NotArrived,
    /// Nothing has come from the camera for longer than the hub's window.
    CameraSilent,
}

impl MissingReason {
    pub fn as_str(self) -> &'static str {
        match self {
            MissingReason::NotArrived => "not_arrived",
            MissingReason::CameraSilent => "camera_silent",
        }
    }
}

impl Slot {
    /// The frame shown for the camera, placed or repeated.
    pub fn frame(&self) -> Option<&FrameMeta> {
        match self {
            Slot::Frame(f) | Slot::Repeat(f, _) => Some(f),
            Slot::Missing(_) => None,
        }
    }
    /// A frame that belongs to this instant: its own, or the nearest of a
    /// slower camera.
    pub fn is_proper(&self) -> bool {
        matches!(
            self,
            Slot::Frame(_) | Slot::Repeat(_, RepeatReason::RateConversion)
        )
    }
}

/// One reference instant and, per camera, the frame captured for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameSet {
    /// Index on the reference cadence.
    pub index: i64,
    /// The reference instant in PTP time.
    pub reference: Time,
    /// One slot per camera, in camera-id order.
    pub slots: Vec<Slot>,
    /// Hub PTP time at release.
    pub released_at: Time,
}

impl FrameSet {
    /// Every camera has a frame that belongs to this instant.
    pub fn is_complete(&self) -> bool {
        self.slots.iter().all(Slot::is_proper)
    }
    /// The frames in their one place (not repeats).
    pub fn placed(&self) -> impl Iterator<Item = &FrameMeta> {
        self.slots.iter().filter_map(|s| match s {
            Slot::Frame(f) => Some(f),
            _ => None,
        })
    }
    /// How far the true capture instant of any frame shown may be from the
    /// reference instant: its stamp's distance plus its uncertainty. `None`
    /// when some member's stamp has no bound.
    pub fn alignment_bound(&self) -> Option<Nanos> {
        let mut bound = Nanos::ZERO;
        for f in self.slots.iter().filter_map(Slot::frame) {
            bound = bound.max((f.capture - self.reference).abs() + f.uncertainty?);
        }
        Some(bound)
    }
}

/// Why a frame that reached the hub is in no frame set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountReason {
    /// Arrived after its set was released.
    Late,
    /// Another frame of the same camera is nearer the same reference instant
    /// (a faster camera than the cadence).
    Superseded,
    /// The same frame (camera and sequence number) arrived before.
    Duplicate,
    /// Stamped too far from any instant the hub is collecting.
    OutOfWindow,
    /// From a camera the hub was not configured for.
    UnknownCamera,
    /// Stamped later than the hub's own clock read when it arrived, by more
    /// than both clocks' stated uncertainty allows: no frame arrives before
    /// it is captured, so the camera's clock is wrong, whatever lock it
    /// claims.
    FromTheFuture,
}

impl AccountReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountReason::Late => "late",
            AccountReason::Superseded => "superseded",
            AccountReason::Duplicate => "duplicate",
            AccountReason::OutOfWindow => "out_of_window",
            AccountReason::UnknownCamera => "unknown_camera",
            AccountReason::FromTheFuture => "from_the_future",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameAccount {
    pub frame: FrameMeta,
    pub reason: AccountReason,
}
