//! A PTP hardware clock (`/dev/ptpN`) read as a free-running base: the NIC's
//! clock that hardware timestamps are taken on. Read only — camsync never
//! adjusts it unless explicitly told to (see `clock_steering`).

use camsync_engine::Time;
use camsync_engine::clock::Clock;
use nix::time::{ClockId, clock_gettime};
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

pub struct PhcClock {
    /// Kept open: the dynamic clock id is valid while the descriptor is.
    _device: File,
    id: ClockId,
}

impl PhcClock {
    pub fn open(path: &Path) -> io::Result<Self> {
        let device = File::open(path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{}: cannot open the PTP hardware clock: {e}",
                    path.display()
                ),
            )
        })?;
        // The kernel's FD_TO_CLOCKID: a dynamic posix clock is named by its
        // descriptor, ((~fd) << 3) | CLOCKFD.
        const CLOCKFD: libc::clockid_t = 3;
        let id = ClockId::from_raw((!(device.as_raw_fd() as libc::clockid_t) << 3) | CLOCKFD);
        clock_gettime(id).map_err(|e| {
            io::Error::other(format!("{}: not a readable PTP clock: {e}", path.display()))
        })?;
        Ok(PhcClock {
            _device: device,
            id,
        })
    }

    pub fn try_now(&self) -> Result<Time, nix::Error> {
        let ts = clock_gettime(self.id)?;
        Ok(Time(ts.tv_sec() * 1_000_000_000 + ts.tv_nsec()))
    }
}

impl Clock for PhcClock {
    fn now(&self) -> Time {
        // `open` proved the clock readable and the descriptor stays open.
        self.try_now().expect("an open PTP clock stays readable")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_device_is_a_clear_error() {
        let e = PhcClock::open(Path::new("/dev/ptp-not-here"))
            .err()
            .expect("no such device");
        assert!(e.to_string().contains("/dev/ptp-not-here"), "{e}");
    }

    #[test]
    fn a_device_that_is_not_a_clock_is_refused() {
        let e = PhcClock::open(Path::new("/dev/null"))
            .err()
            .expect("/dev/null is no clock");
        assert!(e.to_string().contains("not a readable PTP clock"), "{e}");
    }
}
