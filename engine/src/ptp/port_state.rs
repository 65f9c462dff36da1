//! Port states (IEEE 1588-2019 §9.2.5), as ptp4l names them in its log.

use core::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortState {
    /// Waiting to hear a master (or, for a master port, whether a better one
    /// is already on the network).
    Listening,
    /// Sending Sync and Announce.
    Master,
    /// A better master is on the network; this port says nothing.
    Passive,
    /// Following a master, the clock not yet locked to it.
    Uncalibrated,
    /// Following a master, locked.
    Slave,
    /// Holding the clock's frequency: the master fell silent.
    Faulty,
}

impl PortState {
    pub fn as_str(self) -> &'static str {
        match self {
            PortState::Listening => "LISTENING",
            PortState::Master => "MASTER",
            PortState::Passive => "PASSIVE",
            PortState::Uncalibrated => "UNCALIBRATED",
            PortState::Slave => "SLAVE",
            PortState::Faulty => "FAULTY",
        }
    }
}

impl fmt::Display for PortState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
