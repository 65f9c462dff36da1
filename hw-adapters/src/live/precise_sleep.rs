//! Wake-ups to the microsecond. tokio's timer rounds to the millisecond,
//! and a PTP-locked camera captures when its timer fires: a millisecond late
//! there is a millisecond of misalignment in every frame set. A timerfd
//! (CLOCK_MONOTONIC, nanosecond resolution) in the reactor wakes the loop
//! within the scheduler's latency instead, without blocking the runtime.

use super::driver::Sleeper;
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Duration;
use tokio::io::unix::AsyncFd;

struct Fd(TimerFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

pub struct PreciseSleep {
    timer: AsyncFd<Fd>,
}

impl PreciseSleep {
    /// Must run inside a tokio runtime with I/O enabled.
    pub fn new() -> io::Result<Self> {
        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .map_err(io::Error::from)?;
        // SAFETY: the timerfd is open and owned by `Fd`, which the `AsyncFd`
        // owns until it is dropped; its descriptor never changes.
        let timer =
            unsafe { AsyncFd::register(Fd(fd)) }.map_err(|e| io::Error::other(e.to_string()))?;
        Ok(PreciseSleep { timer })
    }

    /// Consumes an expiry, if one is pending.
    fn take_expiry(&self) -> io::Result<()> {
        let mut buf = [0u8; 8];
        nix::unistd::read(self.timer.get_ref().0.as_fd(), &mut buf)
            .map(drop)
            .map_err(io::Error::from)
    }
}

impl Sleeper for PreciseSleep {
    async fn sleep(&mut self, duration: Duration) {
        if duration.is_zero() {
            tokio::task::yield_now().await;
            return;
        }
        // An expiry left from a sleep that was cancelled must not end this one.
        let _ = self.take_expiry();
        let set = self.timer.get_ref().0.set(
            Expiration::OneShot(TimeSpec::from_duration(duration)),
            TimerSetTimeFlags::empty(),
        );
        if set.is_err() {
            // Cannot happen for a valid relative time; fall back all the same.
            tokio::time::sleep(duration).await;
            return;
        }
        loop {
            let Ok(mut guard) = self.timer.readable().await else {
                tokio::time::sleep(duration).await;
                return;
            };
            match guard.try_io(|_| self.take_expiry()) {
                Ok(_) => return,
                Err(_would_block) => continue,
            }
        }
    }
}
