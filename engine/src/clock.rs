//! The clock traits drivers implement and the engine's clocks are written against.
//!
//! The engine's state machines never call these themselves (they are handed `now`);
//! drivers use them to read the node's base clock and, when an operator explicitly
//! allows it, to apply the servo's adjustments to real hardware.

use crate::overlay_clock::OverlayClock;
use crate::time::{Nanos, Time};

/// Something that can be read: a simulated oscillator, CLOCK_MONOTONIC_RAW, a PHC.
pub trait Clock {
    fn now(&self) -> Time;
}

/// Why a steerable clock refused an adjustment.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SteerError {
    #[error("frequency adjustment {ppb} ppb is outside ±{max} ppb")]
    FrequencyOutOfRange { ppb: i64, max: i64 },
    #[error("adjusting this clock needs privilege the process does not have: {0}")]
    NotPermitted(String),
}

/// A clock whose frequency and phase can be adjusted.
pub trait SteerableClock: Clock {
    /// Sets the frequency correction, in parts per billion, relative to the base.
    fn set_frequency_ppb(&mut self, ppb: f64) -> Result<(), SteerError>;
    /// Moves the clock by `delta` at once.
    fn step(&mut self, delta: Nanos) -> Result<(), SteerError>;
    fn frequency_ppb(&self) -> f64;
}

/// A software clock over a free-running base: the default way camsync disciplines
/// time, so that the host's own clocks are never stepped or slewed.
pub struct Overlaid<C: Clock> {
    base: C,
    overlay: OverlayClock,
}

impl<C: Clock> Overlaid<C> {
    pub fn new(base: C, overlay: OverlayClock) -> Self {
        Overlaid { base, overlay }
    }
    pub fn overlay(&self) -> &OverlayClock {
        &self.overlay
    }
    pub fn base(&self) -> &C {
        &self.base
    }
}

impl<C: Clock> Clock for Overlaid<C> {
    fn now(&self) -> Time {
        self.overlay.time_at(self.base.now())
    }
}

impl<C: Clock> SteerableClock for Overlaid<C> {
    fn set_frequency_ppb(&mut self, ppb: f64) -> Result<(), SteerError> {
        let now = self.base.now();
        self.overlay.set_frequency_ppb(now, ppb)
    }
    fn step(&mut self, delta: Nanos) -> Result<(), SteerError> {
        let now = self.base.now();
        self.overlay.step(now, delta);
        Ok(())
    }
    fn frequency_ppb(&self) -> f64 {
        self.overlay.frequency_ppb()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct Manual(Cell<i64>);
    impl Clock for &Manual {
        fn now(&self) -> Time {
            Time(self.0.get())
        }
    }

    #[test]
    fn overlaid_clock_follows_adjustments_of_its_base() {
        let base = Manual(Cell::new(1_000));
        let mut c = Overlaid::new(&base, OverlayClock::new(Time(1_000), Time(5_000)));
        assert_eq!(c.now(), Time(5_000));
        c.set_frequency_ppb(1_000_000.0).unwrap(); // +1000 ppm
        base.0.set(1_000 + 1_000_000);
        assert_eq!(c.now(), Time(5_000 + 1_000_000 + 1_000));
        c.step(Nanos(-500)).unwrap();
        assert_eq!(c.now(), Time(5_000 + 1_000_000 + 500));
        assert!(c.set_frequency_ppb(2e9).is_err());
    }
}
