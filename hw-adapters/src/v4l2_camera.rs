//! V4L2 capture devices (`/dev/videoN`) through the v4l crate. A V4L2 camera
//! captures on its own clock; each buffer carries the kernel's timestamp of
//! its capture (CLOCK_MONOTONIC for every current driver, flagged
//! TIMESTAMP_MONOTONIC), which is mapped onto the node's base clock
//! (CLOCK_REALTIME) and from there into PTP time by the camera agent's
//! disciplined overlay.
//!
//! Untested without a capture device: the mapping is, the device path is not.

use camsync_engine::{FrameRate, Nanos, Time};
use nix::time::{ClockId, clock_gettime};
use std::io;
use std::path::Path;
use v4l::buffer::{Flags, Type};
use v4l::io::mmap::Stream;
use v4l::io::traits::CaptureStream;
use v4l::video::Capture;

pub struct V4l2Camera {
    stream: Stream<'static>,
    rate: FrameRate,
}

/// One captured frame.
#[derive(Clone, Copy, Debug)]
pub struct V4l2Frame {
    /// The kernel's capture time, on the base clock (CLOCK_REALTIME).
    pub captured: Time,
    pub sequence: u32,
    pub bytes: u32,
}

fn nanos_of(clock: ClockId) -> io::Result<i64> {
    let ts = clock_gettime(clock).map_err(io::Error::from)?;
    Ok(ts.tv_sec() * 1_000_000_000 + ts.tv_nsec())
}

/// CLOCK_REALTIME − CLOCK_MONOTONIC now, read as the tighter of three
/// bracketed samples (the two reads are not atomic).
fn realtime_minus_monotonic() -> io::Result<Nanos> {
    let mut best: Option<(i64, i64)> = None;
    for _ in 0..3 {
        let m0 = nanos_of(ClockId::CLOCK_MONOTONIC)?;
        let r = nanos_of(ClockId::CLOCK_REALTIME)?;
        let m1 = nanos_of(ClockId::CLOCK_MONOTONIC)?;
        let width = m1 - m0;
        let offset = r - (m0 + width / 2);
        if best.is_none_or(|(w, _)| width < w) {
            best = Some((width, offset));
        }
    }
    Ok(Nanos(best.map_or(0, |(_, o)| o)))
}

impl V4l2Camera {
    pub fn open(path: &Path) -> io::Result<Self> {
        let device = v4l::Device::with_path(path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{}: cannot open the V4L2 device: {e}", path.display()),
            )
        })?;
        let params = device.params()?;
        // The device reports its frame *interval*; the rate is its inverse.
        let rate = FrameRate::new(
            params.interval.denominator,
            params.interval.numerator.max(1),
        )
        .map_err(|e| io::Error::other(format!("{}: frame interval: {e:?}", path.display())))?;
        // The stream borrows the device; both live as long as the camera.
        let device: &'static v4l::Device = Box::leak(Box::new(device));
        let stream = Stream::with_buffers(device, Type::VideoCapture, 4)?;
        Ok(V4l2Camera { stream, rate })
    }

    pub fn frame_rate(&self) -> FrameRate {
        self.rate
    }

    /// Blocks until the next frame is captured.
    pub fn next_frame(&mut self) -> io::Result<V4l2Frame> {
        let (_, meta) = self.stream.next()?;
        // time_t is 32 bits on some targets: the casts are not idle everywhere.
        #[allow(clippy::unnecessary_cast)]
        let stamp = meta.timestamp.sec as i64 * 1_000_000_000 + meta.timestamp.usec as i64 * 1_000;
        let flags = meta.flags;
        let (sequence, bytes) = (meta.sequence, meta.bytesused);
        let captured = if flags.contains(Flags::TIMESTAMP_MONOTONIC) {
            Time(stamp) + realtime_minus_monotonic()?
        } else {
            // No capture stamp from the driver: the time it was dequeued.
            Time(nanos_of(ClockId::CLOCK_REALTIME)?)
        };
        Ok(V4l2Frame {
            captured,
            sequence,
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_mapping_is_consistent() {
        let d = realtime_minus_monotonic().unwrap();
        let m = nanos_of(ClockId::CLOCK_MONOTONIC).unwrap();
        let r = nanos_of(ClockId::CLOCK_REALTIME).unwrap();
        // Mapped monotonic time lands on realtime within a scheduling delay.
        assert!(((Time(m) + d) - Time(r)).abs() < Nanos::from_millis(5));
    }

    #[test]
    fn a_missing_device_is_a_clear_error() {
        let e = V4l2Camera::open(Path::new("/dev/video-not-here"))
            .err()
            .expect("no device");
        assert!(e.to_string().contains("/dev/video-not-here"), "{e}");
    }
}
