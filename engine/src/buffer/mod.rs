//! How long after its reference instant the hub releases a frame set: the
//! buffer that trades latency for completeness.
//!
//! Three policies, measured against each other: a fixed delay (GStreamer's
//! jitterbuffer default is 200 ms), a NetEq-style estimator (the 0.95 quantile
//! of a forgetting histogram of relative delays), and camsync's adaptive
//! buffer (per-camera high quantiles, an instant rise on a late frame, a slow
//! and monotone descent, bounded by the operator's maximum).

pub mod adaptive;
pub mod neteq;

use crate::frame::CameraId;
use crate::time::{Nanos, Time};

pub use adaptive::{AdaptiveBuffer, AdaptiveConfig};
pub use neteq::NetEqBuffer;

/// A release-delay policy. `delay` is how long after its capture stamp a frame
/// reached the hub, both on the hub's PTP-disciplined clock.
pub trait ReleaseDelay {
    fn observe(&mut self, camera: CameraId, delay: Nanos, now: Time);
    /// A set became complete `completion` after its reference instant.
    fn observe_set(&mut self, _completion: Nanos, _now: Time) {}
    /// A set was released; `on_time` when no delivering camera's frame was
    /// still awaited.
    fn observe_release(&mut self, _on_time: bool, _now: Time) {}
    /// The delay after a reference instant at which its set is released.
    fn target(&self) -> Nanos;
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BufferConfig {
    Fixed(Nanos),
    NetEq { max: Nanos },
    Adaptive(AdaptiveConfig),
}

/// The fixed buffer: a constant delay, whatever the network does.
#[derive(Clone, Copy, Debug)]
pub struct FixedBuffer(pub Nanos);

impl ReleaseDelay for FixedBuffer {
    fn observe(&mut self, _camera: CameraId, _delay: Nanos, _now: Time) {}
    fn target(&self) -> Nanos {
        self.0
    }
}

pub fn build(config: &BufferConfig) -> Box<dyn ReleaseDelay + Send> {
    match *config {
        BufferConfig::Fixed(d) => Box::new(FixedBuffer(d)),
        BufferConfig::NetEq { max } => Box::new(NetEqBuffer::new(max)),
        BufferConfig::Adaptive(c) => Box::new(AdaptiveBuffer::new(c)),
    }
}
