//! camsync-engine: the sans-IO sync engine.
//!
//! Every component is a state machine that is handed the time (`now`, read by the
//! driver from the node's own free-running clock) and its inputs, and hands back
//! outputs and its next deadline. Nothing here reads a clock, sleeps, spawns or
//! touches the OS, so the same code runs in the simulator's world kernel and in the
//! live driver.

pub mod boundary_clock;
pub mod buffer;
pub mod camera_agent;
pub mod clock;
pub mod coordination;
pub mod frame;
pub mod frame_rate;
pub mod health;
pub mod hub;
pub mod node;
pub mod output_clock;
pub mod overlay_clock;
pub mod ptp;
pub mod rtp;
pub mod time;
pub mod timecode;
pub mod visual;

pub use frame_rate::FrameRate;
pub use node::{Destination, Input, Node, Output, PeerAddr, TxToken};
pub use time::{Nanos, ScaledNanos, Time, TimeInterval, WireTimestamp};
