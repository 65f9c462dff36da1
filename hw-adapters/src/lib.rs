//! camsync-hw: the engine's link to real hardware. For now, the system clocks that
//! serve as free-running bases and recordings played as cameras (Y4M files);
//! sockets, PHCs, capture devices and the live driver follow.

pub mod system_clock;
pub mod y4m_file;

pub use system_clock::{SystemClock, SystemClockKind};
pub use y4m_file::{Y4mError, Y4mFile, Y4mFrame};
