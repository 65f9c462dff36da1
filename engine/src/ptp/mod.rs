//! Precision Time Protocol (IEEE 1588-2019): the wire codec, the ports, the delay
//! filter and the servos.

pub mod bmca;
pub mod delay_filter;
pub mod discipline;
pub mod master;
pub mod port_state;
pub mod profile;
pub mod security;
pub mod servo;
pub mod slave;
pub mod summary;
pub mod wire;

pub use master::{MasterConfig, PtpMaster};
pub use servo::{ServoReport, ServoState};
pub use slave::{PtpSlave, SlaveConfig, SlaveCounters};
