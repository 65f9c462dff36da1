//! camsync-hw: the engine's link to real hardware. For now, the system clocks that
//! serve as free-running bases; sockets, PHCs, capture devices and the live
//! driver follow.

pub mod system_clock;

pub use system_clock::{SystemClock, SystemClockKind};
