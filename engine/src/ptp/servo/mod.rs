//! Clock servos: they turn offset measurements into frequency and phase
//! corrections. The PI servo is linuxptp's baseline, kept for good so that every
//! later servo is measured against it on the same traces.

pub mod linreg;
pub mod pi;

use crate::time::{Nanos, Time};

pub use linreg::{LinregConfig, LinregServo};
pub use pi::{PiConfig, PiServo};

/// The servo's state, numbered as ptp4l prints it (`s0`, `s1`, `s2`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServoState {
    /// s0: collecting samples, no correction yet.
    #[default]
    Unlocked,
    /// s1: the clock is being stepped.
    Jump,
    /// s2: frequency corrections are being applied.
    Locked,
}

impl ServoState {
    pub fn code(self) -> u8 {
        match self {
            ServoState::Unlocked => 0,
            ServoState::Jump => 1,
            ServoState::Locked => 2,
        }
    }
}

/// What a servo asks of the clock after a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServoDecision {
    pub state: ServoState,
    /// The frequency correction to apply to the clock, in ppb (positive: faster).
    pub frequency_ppb: f64,
    /// A phase step to apply to the clock, when the state is `Jump`.
    pub step: Option<Nanos>,
}

/// A clock servo. `offset` is the slave's offset from the master (positive when
/// the slave is ahead), measured at local time `local`.
pub trait Servo {
    fn sample(&mut self, offset: Nanos, local: Time, weight: f64) -> ServoDecision;
    /// The master's sync interval, which sets the gains.
    fn set_sync_interval(&mut self, interval: Nanos);
    /// Forgets everything and starts over from the given frequency correction.
    fn reset(&mut self, frequency_ppb: f64);
}

/// One servo update, with the figures ptp4l prints for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServoReport {
    /// The node's disciplined time when the update was made.
    pub at: Time,
    pub offset: Nanos,
    pub state: ServoState,
    /// The frequency correction applied to the clock, in ppb.
    pub frequency_ppb: f64,
    pub path_delay: Nanos,
}

impl ServoReport {
    /// The line ptp4l -m prints: `master offset N s2 freq +F path delay D`.
    /// ptp4l prints its servo's output, which is the negated clock correction.
    pub fn ptp4l_line(&self) -> String {
        format!(
            "master offset {:10} s{} freq {:+7.0} path delay {:9}",
            self.offset.0,
            self.state.code(),
            0.0 - self.frequency_ppb,
            self.path_delay.0
        )
    }
}
