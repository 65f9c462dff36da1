//! The host's clocks as read-only `Clock`s. camsync never steers them: a live node
//! disciplines an overlay clock over one of these (CLOCK_MONOTONIC_RAW by
//! default, which no NTP or PTP daemon slews), so nothing on the host jumps.

use camsync_engine::Time;
use camsync_engine::clock::Clock;
use nix::time::{ClockId, clock_gettime};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SystemClockKind {
    /// The raw hardware counter: never slewed or stepped. The default base.
    MonotonicRaw,
    /// International Atomic Time, as the kernel keeps it (needs a correct TAI offset).
    Tai,
    /// UTC wall-clock time.
    Realtime,
}

impl SystemClockKind {
    fn id(self) -> ClockId {
        match self {
            SystemClockKind::MonotonicRaw => ClockId::CLOCK_MONOTONIC_RAW,
            SystemClockKind::Tai => ClockId::CLOCK_TAI,
            SystemClockKind::Realtime => ClockId::CLOCK_REALTIME,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    kind: SystemClockKind,
}

impl SystemClock {
    /// Opens a system clock, checking once that the kernel can read it.
    pub fn new(kind: SystemClockKind) -> Result<Self, nix::Error> {
        clock_gettime(kind.id())?;
        Ok(SystemClock { kind })
    }

    pub fn kind(&self) -> SystemClockKind {
        self.kind
    }

    pub fn try_now(&self) -> Result<Time, nix::Error> {
        let ts = clock_gettime(self.kind.id())?;
        Ok(Time(ts.tv_sec() * 1_000_000_000 + ts.tv_nsec()))
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Time {
        // `new` proved this clock readable; the kernel does not revoke a clock id.
        self.try_now()
            .expect("a system clock that was readable stays readable")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use camsync_engine::clock::{Overlaid, SteerableClock};
    use camsync_engine::overlay_clock::OverlayClock;

    #[test]
    fn monotonic_raw_never_goes_backwards() {
        let c = SystemClock::new(SystemClockKind::MonotonicRaw).unwrap();
        let mut last = c.now();
        for _ in 0..1000 {
            let t = c.now();
            assert!(t >= last);
            last = t;
        }
    }

    #[test]
    fn an_overlay_steers_without_touching_the_host() {
        let base = SystemClock::new(SystemClockKind::MonotonicRaw).unwrap();
        let start = base.now();
        let mut c = Overlaid::new(base, OverlayClock::new(start, Time(0)));
        c.step(camsync_engine::Nanos::from_secs(3600)).unwrap();
        assert!(c.now() >= Time(3_600_000_000_000));
        // The base itself is untouched.
        assert!(base.now() - start < camsync_engine::Nanos::from_secs(3600));
    }

    #[test]
    fn realtime_is_after_2020() {
        let c = SystemClock::new(SystemClockKind::Realtime).unwrap();
        assert!(c.now() > Time(1_577_836_800_000_000_000));
    }
}
