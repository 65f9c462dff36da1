//! camsync-hw: the engine's link to real hardware and to what the sans-IO
//! engine may not do itself. For now, the system clocks that serve as
//! free-running bases, recordings played as cameras (Y4M files), and the
//! ONNX feature stage (a detector loaded from disk and run through ONNX
//! Runtime); sockets, PHCs, capture devices and the live driver follow.

pub mod clock_steering;
#[cfg(feature = "decklink")]
pub mod decklink;
pub mod live;
pub mod onnx;
pub mod phc;
pub mod system_clock;
#[cfg(feature = "v4l2")]
pub mod v4l2_camera;
pub mod y4m_file;

pub use system_clock::{SystemClock, SystemClockKind};
pub use y4m_file::{Y4mError, Y4mFile, Y4mFrame};
