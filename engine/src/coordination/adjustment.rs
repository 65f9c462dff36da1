//! The adjustment command of the hybrid correction loop: a camera whose
//! clock PTP does not discipline (free-running, or broken) is steered from
//! the offsets the pictures reveal.

use crate::time::Nanos;

/// Steer the camera's clock: jump it by `step`, and run it at
/// `frequency_ppb` from now on (absolute, not a change). `sequence`
/// increases with every command a hub sends a camera: a duplicated or
/// reordered command older than one applied is ignored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adjustment {
    pub sequence: u64,
    pub step: Nanos,
    pub frequency_ppb: f64,
}
