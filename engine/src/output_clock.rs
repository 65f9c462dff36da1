//! The clock a node presents (frames stamped, sets released, time served
//! downstream): its disciplined clock, trailing it by a lag that a graceful
//! resync opens and then closes at a bounded rate.
//!
//! A resync after the first lock (a new master, a master whose time moved)
//! asks for a step. Stepping the output moves every later frame's stamp at
//! once: a jump in the production's timeline, and past half a frame a
//! repeated or skipped frame. Slewing instead — the disciplined clock steps,
//! so the discipline sees the clock it asked for, while the output follows
//! it with a lag shrinking at `rate` — keeps the timeline continuous: frame
//! to frame the stamps move by at most `rate` × the frame period. With no
//! lag the output is the disciplined clock.

use crate::clock::SteerError;
use crate::overlay_clock::OverlayClock;
use crate::time::{Nanos, Time};

/// How a node that has locked takes a later step its discipline asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResyncPolicy {
    /// Step the output with the clock, as ptp4l does.
    #[default]
    Step,
    /// Slew the output at `rate_ppb` (a graceful resync); a step larger than
    /// `limit` (which would take too long to slew) is still stepped.
    Slew { rate_ppb: u64, limit: Nanos },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputClock {
    steered: OverlayClock,
    lag: Lag,
    /// Counts lag changes; `version` adds the steered clock's.
    lag_version: u64,
}

/// steered − output: `remaining` at base time `at`, shrinking toward zero
/// by `rate_ppb` ns per second of base time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Lag {
    at: Time,
    remaining: i64,
    rate_ppb: u64,
}

impl Lag {
    fn at(&self, base: Time) -> i64 {
        if self.remaining == 0 {
            return 0;
        }
        let elapsed = (base - self.at).0.max(0) as i128;
        let closed = elapsed * self.rate_ppb as i128 / 1_000_000_000;
        let left = (self.remaining.unsigned_abs() as i128 - closed).max(0) as i64;
        left * self.remaining.signum()
    }
}

impl OutputClock {
    pub fn new(steered: OverlayClock) -> Self {
        OutputClock {
            steered,
            lag: Lag::default(),
            lag_version: 0,
        }
    }

    pub fn identity() -> Self {
        Self::new(OverlayClock::identity())
    }

    /// The disciplined clock: what PTP measures and stamps its messages with.
    pub fn steered(&self) -> &OverlayClock {
        &self.steered
    }

    /// Output time at base reading `base`.
    pub fn time_at(&self, base: Time) -> Time {
        self.steered.time_at(base) - Nanos(self.lag.at(base))
    }

    /// How far the output trails the disciplined clock at `base`.
    pub fn lag_at(&self, base: Time) -> Nanos {
        Nanos(self.lag.at(base))
    }

    /// The earliest base reading at which output time has reached `target`.
    pub fn base_at(&self, target: Time) -> Time {
        if self.lag.remaining == 0 {
            return self.steered.base_at(target);
        }
        // The lag changes slowly (at most `rate`, far below 1): settle it by
        // fixed-point iteration, then make the answer exact by stepping.
        let mut base = self.steered.base_at(target);
        for _ in 0..8 {
            let next = self.steered.base_at(target + Nanos(self.lag.at(base)));
            if next == base {
                break;
            }
            base = next;
        }
        while self.time_at(base) < target {
            base += Nanos(1);
        }
        while self.time_at(base - Nanos(1)) >= target {
            base = base - Nanos(1);
        }
        base
    }

    pub fn frequency_ppb(&self) -> f64 {
        self.steered.frequency_ppb()
    }

    pub fn set_frequency_ppb(&mut self, now: Time, ppb: f64) -> Result<(), SteerError> {
        self.steered.set_frequency_ppb(now, ppb)
    }

    /// Steps the disciplined clock by `delta` and the output onto it: a lag
    /// still closing is closed at once, so the output jumps by `delta` plus
    /// that lag and is the disciplined clock again.
    pub fn step(&mut self, now: Time, delta: Nanos) {
        self.steered.step(now, delta);
        if self.lag.remaining != 0 {
            self.lag = Lag::default();
            self.lag_version += 1;
        }
    }

    /// Steps the disciplined clock by `delta` while the output stays where it
    /// is and follows at `rate_ppb`: a graceful resync.
    pub fn slew_step(&mut self, now: Time, delta: Nanos, rate_ppb: u64) {
        let remaining = self.lag.at(now) + delta.0;
        self.steered.step(now, delta);
        self.lag = Lag {
            at: now,
            remaining,
            rate_ppb: rate_ppb.max(1),
        };
        self.lag_version += 1;
    }

    /// Takes a step the discipline asks for under `policy`: slewed if the
    /// policy slews and the lag it leaves is within its limit (resyncs that
    /// add up are stepped), stepped otherwise. True if slewed.
    pub fn resync(&mut self, now: Time, delta: Nanos, policy: ResyncPolicy) -> bool {
        match policy {
            ResyncPolicy::Slew { rate_ppb, limit } if (self.lag_at(now) + delta).abs() <= limit => {
                self.slew_step(now, delta, rate_ppb);
                true
            }
            _ => {
                self.step(now, delta);
                false
            }
        }
    }

    /// The base reading at which the output will have closed on the
    /// disciplined clock; `None` if it has by `now`.
    pub fn lag_closes_at(&self, now: Time) -> Option<Time> {
        let lag = self.lag;
        (lag.at(now) != 0).then(|| {
            let ns = (lag.remaining.unsigned_abs() as u128 * 1_000_000_000)
                .div_ceil(lag.rate_ppb as u128);
            lag.at + Nanos(ns.min(i64::MAX as u128) as i64)
        })
    }

    /// Changes whenever the output's map from base time changes shape.
    pub fn version(&self) -> u64 {
        self.steered.version() + self.lag_version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    #[test]
    fn a_slewed_step_keeps_the_output_continuous_and_closes_at_the_rate() {
        let mut c = OutputClock::identity();
        c.set_frequency_ppb(Time(0), 10_000.0).unwrap();
        let now = Time(5 * SECOND);
        let before = c.time_at(now);
        // 30 ms forward at 500 ppm: 60 s to close.
        c.slew_step(now, Nanos::from_millis(30), 500_000);
        assert_eq!(c.time_at(now), before);
        assert_eq!(c.steered().time_at(now), before + Nanos::from_millis(30));
        assert_eq!(c.lag_at(now + Nanos(30 * SECOND)), Nanos::from_millis(15));
        assert_eq!(c.lag_at(now + Nanos(60 * SECOND)), Nanos::ZERO);
        // Frame to frame (40 ms) the output moves by 40 ms + 10 ppm + at most
        // 500 ppm more, never a jump.
        let mut last = c.time_at(now);
        for k in 1..2_000 {
            let t = c.time_at(now + Nanos(k * 40_000_000));
            let advance = (t - last).0 - 40_000_000 - 400;
            assert!((0..=20_001).contains(&advance), "frame {k}: {advance}");
            last = t;
        }
    }

    #[test]
    fn a_backward_resync_slows_the_output_and_never_reverses_it() {
        let mut c = OutputClock::identity();
        let now = Time(SECOND);
        c.slew_step(now, Nanos::from_millis(-20), 500_000);
        assert_eq!(c.lag_at(now), Nanos::from_millis(-20));
        let mut last = c.time_at(now);
        for k in 1..1_000 {
            let t = c.time_at(now + Nanos(k * 50_000_000));
            assert!(t > last);
            last = t;
        }
        assert_eq!(c.lag_at(now + Nanos(40 * SECOND)), Nanos::ZERO);
        // A second resync while the first is closing adds to what is left.
        let mut c = OutputClock::identity();
        c.slew_step(now, Nanos::from_millis(-20), 500_000);
        c.slew_step(now + Nanos(10 * SECOND), Nanos::from_millis(20), 500_000);
        assert_eq!(c.lag_at(now + Nanos(10 * SECOND)), Nanos::from_millis(5));
        // A hard step puts the output back on the disciplined clock.
        let later = now + Nanos(11 * SECOND);
        c.step(later, Nanos::from_millis(1));
        assert_eq!(c.lag_at(later), Nanos::ZERO);
        assert_eq!(c.time_at(later), c.steered().time_at(later));
    }

    #[test]
    fn a_resync_slews_within_the_limit_the_lag_would_reach_and_steps_beyond() {
        let slew = ResyncPolicy::Slew {
            rate_ppb: 500_000,
            limit: Nanos::from_millis(10),
        };
        let mut c = OutputClock::identity();
        let now = Time(SECOND);
        assert!(c.resync(now, Nanos::from_millis(8), slew));
        // 8 ms at 500 ppm: closed 16 s later, to the nanosecond.
        assert_eq!(c.lag_closes_at(now), Some(now + Nanos(16 * SECOND)));
        assert_eq!(c.lag_closes_at(now + Nanos(16 * SECOND)), None);
        // 6 ms more would leave 14 ms to slew: stepped, the lag closed.
        assert!(!c.resync(now + Nanos(SECOND), Nanos::from_millis(6), slew));
        assert_eq!(c.lag_closes_at(now + Nanos(SECOND)), None);
        assert_eq!(
            c.time_at(now + Nanos(SECOND)),
            c.steered().time_at(now + Nanos(SECOND))
        );
        // Under the step policy every resync steps.
        assert!(!c.resync(now, Nanos(1_000), ResyncPolicy::Step));
        assert_eq!(c.lag_closes_at(now), None);
    }

    #[test]
    fn base_at_inverts_time_at_while_slewing() {
        let mut c = OutputClock::identity();
        c.set_frequency_ppb(Time(0), -7_000.0).unwrap();
        c.slew_step(Time(SECOND), Nanos::from_millis(12), 500_000);
        for target in [
            Time(0),
            Time(SECOND + 7),
            Time(9 * SECOND + 123_456),
            Time(40 * SECOND),
        ] {
            let b = c.base_at(target);
            assert!(c.time_at(b) >= target, "target {target}");
            assert!(c.time_at(b - Nanos(1)) < target, "target {target}");
        }
    }
}
