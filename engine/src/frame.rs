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
    pub rate: FrameRate,
    /// The servo state of the camera's clock when it stamped the frame.
    pub lock: ServoState,
}

/// One reference instant and, per camera, the frame captured for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameSet {
    /// Index on the reference cadence.
    pub index: i64,
    /// The reference instant in PTP time.
    pub reference: Time,
    /// One slot per camera, in camera-id order; `None` when the camera's frame
    /// had not arrived by the release deadline.
    pub frames: Vec<Option<FrameMeta>>,
    /// Hub PTP time at release.
    pub released_at: Time,
}

impl FrameSet {
    pub fn is_complete(&self) -> bool {
        self.frames.iter().all(Option::is_some)
    }
    /// The worst distance between a member's stamp and the reference instant.
    pub fn max_stamp_error(&self) -> Nanos {
        self.frames
            .iter()
            .flatten()
            .map(|f| (f.capture - self.reference).abs())
            .max()
            .unwrap_or(Nanos::ZERO)
    }
}

/// Why a frame that reached the hub is in no frame set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountReason {
    /// Arrived after its set was released.
    Late,
    /// Another frame of the same camera is nearer the same reference instant
    /// (rate conversion, or a duplicate).
    Superseded,
    /// Stamped too far from any instant the hub is collecting.
    OutOfWindow,
    /// From a camera the hub was not configured for.
    UnknownCamera,
}

impl AccountReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountReason::Late => "late",
            AccountReason::Superseded => "superseded",
            AccountReason::OutOfWindow => "out_of_window",
            AccountReason::UnknownCamera => "unknown_camera",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameAccount {
    pub frame: FrameMeta,
    pub reason: AccountReason,
}
