//! The camera agent: one per camera. It disciplines the camera's clock with PTP and
//! stamps every frame in PTP time.
//!
//! A PTP-locked camera (ST 2059 genlock) starts each frame when its disciplined
//! clock crosses the frame grid anchored at the PTP epoch, so cameras on the same
//! grandmaster capture together. A free-running camera captures on its own, and
//! the agent only stamps what it is given. A visually disciplined camera has no
//! PTP: it captures on the grid of its own clock, which the hub steers with
//! adjustment commands from the offsets the pictures reveal (the hybrid loop).
//! Once steered, it takes a command's step as its PTP port takes one, under
//! the same resync policy: slewed within the limit, so that its timeline
//! does not jump.

use crate::coordination::{Adjustment, ClockReport, LockState};
use crate::frame::{CameraId, FrameMeta};
use crate::frame_rate::FrameRate;
use crate::node::{Input, Node, Output};
use crate::output_clock::{OutputClock, ResyncPolicy};
use crate::ptp::ServoState;
use crate::ptp::slave::LOCKED_OFFSET_BOUND;
use crate::ptp::{PtpSlave, SlaveConfig};
use crate::time::{Nanos, Time};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureTiming {
    /// Capture is triggered on the PTP frame grid by this agent.
    PtpLocked,
    /// The camera captures on its own and reports `Input::FrameCaptured`.
    FreeRun,
    /// No PTP: capture on the grid of the camera's own clock, steered by
    /// the hub's `Input::Adjust` commands.
    Visual,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CameraConfig {
    pub camera: CameraId,
    pub rate: FrameRate,
    pub timing: CaptureTiming,
    pub ptp: SlaveConfig,
}

pub struct CameraAgent {
    camera: CameraId,
    rate: FrameRate,
    timing: CaptureTiming,
    slave: PtpSlave,
    /// Grid index of the next PTP-locked capture.
    next_index: i64,
    /// Base-clock instant of that capture, kept current as the clock is steered.
    capture_deadline: Option<Time>,
    /// (clock version, grid index) the deadline was computed for.
    deadline_basis: (u64, i64),
    seq: u64,
    outputs: VecDeque<Output>,
    /// A visually disciplined camera's clock (its base until first steered),
    /// and the last command applied.
    own_clock: OutputClock,
    applied: Option<u64>,
    /// How a steered clock takes a later command's step.
    resync: ResyncPolicy,
    /// The servo's last measured offset and frequency, for status reports.
    last_servo: Option<(Nanos, f64)>,
}

impl CameraAgent {
    pub fn new(config: CameraConfig, now: Time) -> Self {
        let slave = PtpSlave::new(config.ptp.clone());
        let next_index = config.rate.index_at_or_after(slave.clock().time_at(now));
        let mut agent = CameraAgent {
            camera: config.camera,
            rate: config.rate,
            timing: config.timing,
            slave,
            next_index,
            capture_deadline: None,
            deadline_basis: (u64::MAX, 0),
            seq: 0,
            outputs: VecDeque::new(),
            own_clock: OutputClock::identity(),
            applied: None,
            resync: config.ptp.resync,
            last_servo: None,
        };
        agent.refresh_capture_deadline();
        agent
    }

    /// The sequence number its next frame gets.
    pub fn next_seq(&self) -> u64 {
        self.seq
    }

    /// Numbers its frames from `seq` on: a restarted camera goes on where
    /// it stopped (persisted, as an RTP sender's state is), so that the hub
    /// does not take its new frames for repeats of old ones.
    pub fn resume_numbering(&mut self, seq: u64) {
        self.seq = seq;
    }

    pub fn slave(&self) -> &PtpSlave {
        &self.slave
    }

    /// The clock the camera stamps (and, unless free-running, captures) by.
    pub fn clock(&self) -> &OutputClock {
        match self.timing {
            CaptureTiming::Visual => &self.own_clock,
            _ => self.slave.clock(),
        }
    }

    /// A visually steered camera is locked once steered, but not while a
    /// slewed correction leaves its stamps knowingly off by more than the
    /// bound a PTP port claims lock within.
    fn steered_and_settled(&self, now: Time) -> bool {
        self.applied.is_some() && self.own_clock.lag_at(now).abs() <= LOCKED_OFFSET_BOUND
    }

    /// How its clock stands at base time `now`, for the status reports it
    /// sends. A visually steered camera knows only whether it has been
    /// steered (and has closed its slew): its offset is what the hub
    /// measures from the pictures.
    pub fn clock_report(&self, now: Time) -> ClockReport {
        match self.timing {
            CaptureTiming::Visual => ClockReport {
                lock: if self.steered_and_settled(now) {
                    LockState::Locked
                } else if self.applied.is_some() {
                    LockState::Unlocked
                } else {
                    LockState::FreeRunning
                },
                offset: Nanos::ZERO,
                frequency_ppb: self.own_clock.frequency_ppb(),
            },
            _ => {
                let (offset, frequency_ppb) = self.last_servo.unwrap_or((Nanos::ZERO, 0.0));
                ClockReport {
                    lock: if self.slave.in_holdover() {
                        LockState::Holdover
                    } else {
                        self.slave.lock_state().into()
                    },
                    offset,
                    frequency_ppb,
                }
            }
        }
    }

    /// An adjustment from the hub: applied once, in order; the capture grid
    /// continues from the steered clock's next instant without reusing one.
    fn adjust(&mut self, now: Time, a: Adjustment) {
        if self.timing != CaptureTiming::Visual || self.applied.is_some_and(|s| s >= a.sequence) {
            return;
        }
        // The first command finds the camera's clock (anywhere within a
        // second): stepped, as a port's first lock is.
        let policy = if self.applied.is_some() {
            self.resync
        } else {
            ResyncPolicy::Step
        };
        self.applied = Some(a.sequence);
        self.own_clock.resync(now, a.step, policy);
        // A command out of range leaves the rate as it was.
        let _ = self.own_clock.set_frequency_ppb(now, a.frequency_ppb);
        let next = self.rate.index_at_or_after(self.own_clock.time_at(now));
        self.next_index = next.max(self.next_index);
    }

    /// The base reading at which a steered clock's slewed step will have
    /// closed, if one is closing at base time `now`.
    pub fn slew_closes_at(&self, now: Time) -> Option<Time> {
        self.own_clock.lag_closes_at(now)
    }

    fn refresh_capture_deadline(&mut self) {
        let basis = (self.clock().version(), self.next_index);
        if basis == self.deadline_basis {
            return;
        }
        self.deadline_basis = basis;
        self.capture_deadline = match self.timing {
            CaptureTiming::PtpLocked | CaptureTiming::Visual => {
                Some(self.clock().base_at(self.rate.frame_time(self.next_index)))
            }
            CaptureTiming::FreeRun => None,
        };
    }

    fn stamp(&mut self, raw: Time) -> Time {
        let capture = self.clock().time_at(raw);
        let (lock, uncertainty) = match self.timing {
            // Locked once the pictures have steered it (and a slew has
            // closed); its bound is the hub's to know, not the camera's.
            CaptureTiming::Visual if self.steered_and_settled(raw) => (ServoState::Locked, None),
            CaptureTiming::Visual => (ServoState::Unlocked, None),
            _ => (self.slave.lock_state(), self.slave.time_uncertainty(raw)),
        };
        self.outputs.push_back(Output::Frame(FrameMeta {
            camera: self.camera,
            seq: self.seq,
            capture,
            rate: self.rate,
            lock,
            uncertainty,
        }));
        self.seq += 1;
        capture
    }
}

impl Node for CameraAgent {
    fn handle_input(&mut self, now: Time, input: Input<'_>) {
        match input {
            // A visually disciplined camera has no PTP.
            Input::Packet { .. } | Input::TxTimestamp { .. }
                if self.timing == CaptureTiming::Visual => {}
            Input::Packet {
                from, bytes, rx, ..
            } => self.slave.handle_packet(now, from, bytes, rx),
            Input::TxTimestamp { token, tx } => self.slave.handle_tx_timestamp(token, tx),
            Input::Adjust(a) => self.adjust(now, a),
            Input::FrameCaptured { raw } => {
                if self.timing == CaptureTiming::FreeRun {
                    self.stamp(raw);
                }
            }
            Input::FrameArrived(_) => {}
        }
        self.refresh_capture_deadline();
    }

    fn handle_timeout(&mut self, now: Time) {
        if self.timing != CaptureTiming::Visual {
            self.slave.handle_timeout(now);
        }
        if self.capture_deadline.is_some_and(|d| now >= d) {
            let capture = self.stamp(now);
            // After a clock step the grid moves under us: never reuse an index,
            // and skip the instants the step jumped over.
            let next = self.rate.index_at_or_after(capture + Nanos(1));
            self.next_index = next.max(self.next_index + 1);
        }
        self.refresh_capture_deadline();
    }

    fn poll_timeout(&self) -> Option<Time> {
        let ptp = (self.timing != CaptureTiming::Visual)
            .then(|| self.slave.poll_timeout())
            .flatten();
        [ptp, self.capture_deadline].into_iter().flatten().min()
    }

    fn poll_output(&mut self) -> Option<Output> {
        let output = self.slave.poll_output();
        if let Some(Output::Servo(r)) = &output {
            self.last_servo = Some((r.offset, r.frequency_ppb));
        }
        output.or_else(|| self.outputs.pop_front())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ptp::discipline::ServoConfig;
    use crate::ptp::servo::PiConfig;
    use crate::ptp::wire::{ClockIdentity, PortIdentity};

    const SECOND: i64 = 1_000_000_000;

    fn visual(resync: ResyncPolicy) -> CameraAgent {
        let port = PortIdentity {
            clock_identity: ClockIdentity([3; 8]),
            port_number: 1,
        };
        let mut ptp = SlaveConfig::new(port, ServoConfig::Pi(PiConfig::hardware()));
        ptp.resync = resync;
        let config = CameraConfig {
            camera: CameraId(1),
            rate: FrameRate::new(25, 1).unwrap(),
            timing: CaptureTiming::Visual,
            ptp,
        };
        CameraAgent::new(config, Time(0))
    }

    fn adjust(sequence: u64, step_ms: i64) -> Adjustment {
        Adjustment {
            sequence,
            step: Nanos::from_millis(step_ms),
            frequency_ppb: 0.0,
        }
    }

    /// A steered camera takes the hub's corrections as its PTP port takes a
    /// resync: the first, which finds its clock, stepped; later ones slewed
    /// within the limit, so its stamps never jump by a correction.
    #[test]
    fn a_steered_camera_slews_corrections_after_the_first() {
        let slew = ResyncPolicy::Slew {
            rate_ppb: 500_000,
            limit: Nanos::from_millis(100),
        };
        let mut cam = visual(slew);
        cam.handle_input(Time(SECOND), Input::Adjust(adjust(1, 300)));
        assert_eq!(
            cam.clock().time_at(Time(SECOND)),
            Time(SECOND + 300_000_000)
        );
        assert_eq!(cam.slew_closes_at(Time(SECOND)), None);

        let at = Time(10 * SECOND);
        let before = cam.clock().time_at(at);
        cam.handle_input(at, Input::Adjust(adjust(2, 6)));
        assert_eq!(cam.clock().time_at(at), before);
        assert_eq!(cam.slew_closes_at(at), Some(at + Nanos(12 * SECOND)));
        // Frame to frame its stamps move 40 ms and at most 20 µs more.
        let mut last = before;
        for k in 1..400 {
            let t = cam.clock().time_at(at + Nanos(k * 40_000_000));
            assert!(
                (40_000_000..=40_020_000).contains(&(t - last).0),
                "frame {k}"
            );
            last = t;
        }
        assert_eq!(
            cam.clock().time_at(at + Nanos(12 * SECOND)),
            before + Nanos(12 * SECOND + 6_000_000)
        );
        // Under the step policy the same correction jumps.
        let mut cam = visual(ResyncPolicy::Step);
        cam.handle_input(Time(SECOND), Input::Adjust(adjust(1, 300)));
        let before = cam.clock().time_at(at);
        cam.handle_input(at, Input::Adjust(adjust(2, 6)));
        assert_eq!(cam.clock().time_at(at), before + Nanos::from_millis(6));
    }
}
