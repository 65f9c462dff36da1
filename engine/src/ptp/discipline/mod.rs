//! Clock disciplines: what a slave port feeds with its timestamps, and what tells
//! it how to steer its clock.
//!
//! Two families. `Tsproc` is ptp4l's timestamp processing — a filtered path
//! delay turns each Sync into one offset sample for an offset servo (the PI or
//! linreg baselines). `Kalman` is camsync's own: it takes every Sync and every
//! Delay_Req as a separate one-way measurement and estimates offset, frequency
//! and path delay together, trusting the packets that crossed the network
//! fastest.

pub mod kalman;
pub mod tsproc;

use super::servo::{LinregConfig, PiConfig, ServoDecision};
use crate::time::{Nanos, ScaledNanos, Time};

pub use kalman::{Kalman, KalmanConfig};
pub use tsproc::{DelayWeighting, Tsproc};

/// A completed Sync exchange, on the disciplined clock: t2 − t1 − corrections is
/// the master-to-slave one-way delay plus the slave's offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncSample {
    pub t1: Time,
    pub t2: Time,
    /// t2 on the port's free-running base clock.
    pub t2_base: Time,
    pub correction: ScaledNanos,
}

impl SyncSample {
    pub fn one_way(&self) -> ScaledNanos {
        ScaledNanos::from_nanos(self.t2 - self.t1) - self.correction
    }
}

/// A completed Delay_Req exchange: t4 − t3 − corrections is the slave-to-master
/// one-way delay minus the slave's offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DelaySample {
    pub t3: Time,
    /// t3 on the port's free-running base clock.
    pub t3_base: Time,
    pub t4: Time,
    pub correction: ScaledNanos,
}

impl DelaySample {
    pub fn one_way(&self) -> ScaledNanos {
        ScaledNanos::from_nanos(self.t4 - self.t3) - self.correction
    }
}

/// A completed peer-delay exchange: t1 and t4 on this port's disciplined clock,
/// t2 and t3 on the peer's. The link delay is ((t4 − t1) − (t3 − t2) −
/// corrections) / 2, free of either clock's offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerDelaySample {
    pub t1: Time,
    pub t2: Time,
    pub t3: Time,
    pub t4: Time,
    pub correction: ScaledNanos,
}

impl PeerDelaySample {
    pub fn link_delay(&self) -> ScaledNanos {
        (ScaledNanos::from_nanos(self.t4 - self.t1)
            - ScaledNanos::from_nanos(self.t3 - self.t2)
            - self.correction)
            .half()
    }
}

/// One instant read on both of a port's clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockReading {
    /// The free-running base.
    pub base: Time,
    /// The disciplined overlay.
    pub disciplined: Time,
}

/// A decision with the figures ptp4l prints beside it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Update {
    pub decision: ServoDecision,
    /// The offset from the master this update acted on.
    pub offset: Nanos,
    pub path_delay: Nanos,
    /// Whether `offset` says something about the clock: false for a packet
    /// the discipline judged held back in a queue, whose offset shows the
    /// queue. Only evidence counts toward a lock claim.
    pub evidence: bool,
    /// How far the clock is from where the discipline puts the master,
    /// which it now slews (or steps) out. For a servo steering on each
    /// packet this is `offset`; for a model it is the model's own offset,
    /// near zero while the model holds and large when it just moved.
    pub steering: Nanos,
}

/// Which discipline a port runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ServoConfig {
    Pi(PiConfig),
    Linreg(LinregConfig),
    Camsync(KalmanConfig),
}

impl ServoConfig {
    pub fn name(&self) -> &'static str {
        match self {
            ServoConfig::Pi(_) => "pi",
            ServoConfig::Linreg(_) => "linreg",
            ServoConfig::Camsync(_) => "camsync",
        }
    }
}

pub trait ClockDiscipline {
    /// A Sync exchange completed `now`.
    fn sync(&mut self, now: ClockReading, sample: SyncSample) -> Option<Update>;
    /// A Delay_Req exchange completed `now`.
    fn delay(&mut self, now: ClockReading, sample: DelaySample) -> Option<Update>;
    /// A peer-delay exchange completed `now` (peer-to-peer mode).
    fn peer_delay(&mut self, now: ClockReading, sample: PeerDelaySample) -> Option<Update>;
    fn path_delay(&self) -> Option<Nanos>;
    /// The master's sync interval changed.
    fn set_sync_interval(&mut self, interval: Nanos);
    /// The frequency to hold when the master falls silent: the best estimate of
    /// the clock's own frequency error, without any phase correction.
    fn holdover_frequency(&self) -> Option<f64>;
    /// A new master: forget everything measured against the old one. The clock
    /// currently runs with `frequency_ppb` applied.
    fn reset(&mut self, frequency_ppb: f64);
}

/// Builds the discipline a configuration names.
pub fn build(
    config: &ServoConfig,
    sync_interval: Nanos,
    delay_filter_length: usize,
    weighting: DelayWeighting,
) -> Box<dyn ClockDiscipline + Send> {
    use super::servo::{LinregServo, PiServo};
    match *config {
        ServoConfig::Pi(c) => Box::new(Tsproc::new(
            PiServo::new(c, sync_interval),
            delay_filter_length,
            weighting,
        )),
        ServoConfig::Linreg(c) => Box::new(Tsproc::new(
            LinregServo::new(c, sync_interval),
            delay_filter_length,
            weighting,
        )),
        ServoConfig::Camsync(c) => Box::new(Kalman::new(c, sync_interval)),
    }
}
