//! The sync hub: collects stamped frames from every camera and releases frame sets
//! on a reference cadence, each a buffer delay after its reference instant (the
//! delay chosen by a `ReleaseDelay` policy: fixed, NetEq-style or adaptive).
//!
//! Each frame goes to the reference instant nearest its stamp; when two frames of
//! one camera land on the same instant (a faster camera, a duplicate) the nearer
//! one stays. Every frame that reaches the hub ends in exactly one place: a frame
//! set, or a `FrameAccount` with the reason it is in none.

use crate::buffer::{self, BufferConfig, ReleaseDelay};
use crate::frame::{AccountReason, FrameAccount, FrameMeta, FrameSet};
use crate::frame_rate::FrameRate;
use crate::node::{Input, Node, Output};
use crate::ptp::{PtpSlave, SlaveConfig};
use crate::time::{Nanos, Time};
use std::collections::VecDeque;

#[derive(Clone, Debug, PartialEq)]
pub struct HubConfig {
    pub cameras: u16,
    pub reference_rate: FrameRate,
    /// When sets are released after their reference instant.
    pub buffer: BufferConfig,
    /// Frames stamped further ahead of the oldest open set than this are refused,
    /// which bounds the hub's memory.
    pub window: Nanos,
    pub ptp: SlaveConfig,
}

pub struct Hub {
    config: HubConfig,
    slave: PtpSlave,
    release: Box<dyn ReleaseDelay + Send>,
    /// Open sets, indexed from `first_open`.
    open: VecDeque<Vec<Option<FrameMeta>>>,
    first_open: Option<i64>,
    /// Base-clock instant at which the oldest open set is due.
    release_deadline: Option<Time>,
    /// The first index the hub ever collected; earlier frames were never awaited.
    first_index: Option<i64>,
    max_open: usize,
    released_any: bool,
    outputs: VecDeque<Output>,
}

impl Hub {
    pub fn new(config: HubConfig) -> Self {
        let period = config.reference_rate.period().0.max(1);
        let max_open = (config.window.0 / period).max(1) as usize;
        Hub {
            slave: PtpSlave::new(config.ptp.clone()),
            release: buffer::build(&config.buffer),
            config,
            open: VecDeque::new(),
            first_open: None,
            release_deadline: None,
            first_index: None,
            max_open,
            released_any: false,
            outputs: VecDeque::new(),
        }
    }

    pub fn slave(&self) -> &PtpSlave {
        &self.slave
    }

    fn account(&mut self, frame: FrameMeta, reason: AccountReason) {
        self.outputs
            .push_back(Output::FrameAccounted(FrameAccount { frame, reason }));
    }

    fn refresh_release_deadline(&mut self) {
        self.release_deadline = self.first_open.map(|first| {
            let due = self.config.reference_rate.frame_time(first) + self.release.target();
            self.slave.clock().base_at(due)
        });
    }

    fn handle_frame(&mut self, now: Time, frame: FrameMeta) {
        let cam = frame.camera.0 as usize;
        if frame.camera.0 >= self.config.cameras {
            return self.account(frame, AccountReason::UnknownCamera);
        }
        let rate = self.config.reference_rate;
        let k = rate.nearest_index(frame.capture);
        let mut first = *self.first_open.get_or_insert(k);
        // Until the first set goes out, a frame for an earlier instant moves
        // the start back (the first frame may have come from a camera whose
        // clock was ahead), within the window.
        if k < first && !self.released_any && ((first - k) as usize) < self.max_open {
            for _ in k..first {
                self.open
                    .push_front(vec![None; self.config.cameras as usize]);
            }
            self.open.truncate(self.max_open);
            first = k;
            self.first_open = Some(k);
            self.first_index = Some(k);
        }
        self.first_index.get_or_insert(k);
        if k < first {
            let reason = if self.first_index.is_some_and(|f| k >= f) {
                AccountReason::Late
            } else {
                AccountReason::OutOfWindow
            };
            return self.account(frame, reason);
        }
        let slot = (k - first) as usize;
        if slot >= self.max_open {
            return self.account(frame, AccountReason::OutOfWindow);
        }
        let cameras = self.config.cameras as usize;
        while self.open.len() <= slot {
            self.open.push_back(vec![None; cameras]);
        }
        let reference = rate.frame_time(k);
        let held = &mut self.open[slot][cam];
        match held {
            Some(other)
                if (other.capture - reference).abs() <= (frame.capture - reference).abs() =>
            {
                self.account(frame, AccountReason::Superseded);
            }
            _ => {
                let first_of_camera = held.is_none();
                if let Some(displaced) = held.replace(frame) {
                    self.account(displaced, AccountReason::Superseded);
                }
                // The set just became complete: tell the buffer how long after
                // its instant that took (the delay that matters is the set's,
                // the last camera's).
                if first_of_camera && self.open[slot].iter().all(Option::is_some) {
                    let completion = self.slave.clock().time_at(now) - reference;
                    self.release.observe_set(completion, now);
                }
            }
        }
    }

    fn release_due(&mut self, now: Time) {
        self.refresh_release_deadline();
        while let Some(deadline) = self.release_deadline {
            if now < deadline {
                break;
            }
            if self.open.is_empty() && now - deadline > self.config.window {
                // Far behind with nothing held (the first frame came from a
                // clock far in the past, or the hub's clock stepped forward):
                // skip to the instants still within the window instead of
                // emitting an empty set for every instant in between.
                let disciplined = self.slave.clock().time_at(now);
                let resume = self
                    .config
                    .reference_rate
                    .index_at_or_after(disciplined - self.release.target() - self.config.window);
                self.first_open = self.first_open.map(|f| f.max(resume));
                self.refresh_release_deadline();
                if self
                    .release_deadline
                    .is_some_and(|d| now - d > self.config.window)
                {
                    break;
                }
                continue;
            }
            self.released_any = true;
            let index = self.first_open.expect("a deadline implies an open set");
            let frames = self
                .open
                .pop_front()
                .unwrap_or_else(|| vec![None; self.config.cameras as usize]);
            self.first_open = Some(index + 1);
            self.outputs.push_back(Output::FrameSet(FrameSet {
                index,
                reference: self.config.reference_rate.frame_time(index),
                frames,
                released_at: self.slave.clock().time_at(now),
            }));
            self.refresh_release_deadline();
        }
    }
}

impl Node for Hub {
    fn handle_input(&mut self, now: Time, input: Input<'_>) {
        match input {
            Input::Packet {
                from, bytes, rx, ..
            } => self.slave.handle_packet(now, from, bytes, rx),
            Input::TxTimestamp { token, tx } => self.slave.handle_tx_timestamp(token, tx),
            Input::FrameArrived(frame) => {
                let delay = self.slave.clock().time_at(now) - frame.capture;
                self.release.observe(frame.camera, delay, now);
                self.handle_frame(now, frame)
            }
            Input::FrameCaptured { .. } => {}
        }
        self.refresh_release_deadline();
    }

    fn handle_timeout(&mut self, now: Time) {
        self.slave.handle_timeout(now);
        self.release_due(now);
    }

    fn poll_timeout(&self) -> Option<Time> {
        [self.slave.poll_timeout(), self.release_deadline]
            .into_iter()
            .flatten()
            .min()
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.slave
            .poll_output()
            .or_else(|| self.outputs.pop_front())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::CameraId;
    use crate::ptp::ServoState;
    use crate::ptp::discipline::ServoConfig;
    use crate::ptp::servo::PiConfig;
    use crate::ptp::wire::{ClockIdentity, PortIdentity};

    fn hub(cameras: u16) -> Hub {
        Hub::new(HubConfig {
            cameras,
            reference_rate: FrameRate::new(50, 1).unwrap(),
            buffer: BufferConfig::Fixed(Nanos::from_millis(100)),
            window: Nanos::from_secs(2),
            ptp: SlaveConfig::new(
                PortIdentity {
                    clock_identity: ClockIdentity([9; 8]),
                    port_number: 1,
                },
                ServoConfig::Pi(PiConfig::hardware()),
            ),
        })
    }

    fn frame(camera: u16, seq: u64, capture_ms: i64, rate: &str) -> FrameMeta {
        FrameMeta {
            camera: CameraId(camera),
            seq,
            capture: Time(capture_ms * 1_000_000),
            rate: rate.parse().unwrap(),
            lock: ServoState::Locked,
        }
    }

    fn drain(h: &mut Hub) -> (Vec<FrameSet>, Vec<FrameAccount>) {
        let (mut sets, mut accounts) = (vec![], vec![]);
        while let Some(o) = h.poll_output() {
            match o {
                Output::FrameSet(s) => sets.push(s),
                Output::FrameAccounted(a) => accounts.push(a),
                _ => {}
            }
        }
        (sets, accounts)
    }

    #[test]
    fn sets_are_released_after_the_buffer_and_late_frames_are_accounted() {
        let mut h = hub(2);
        let now = Time(1_000_000_000);
        h.handle_input(now, Input::FrameArrived(frame(0, 0, 1_000, "50")));
        h.handle_input(now, Input::FrameArrived(frame(1, 0, 1_000, "50")));
        h.handle_input(now, Input::FrameArrived(frame(0, 1, 1_020, "50")));
        assert_eq!(h.poll_timeout(), Some(Time(1_100_000_000)));
        h.handle_timeout(Time(1_100_000_000));
        let (sets, accounts) = drain(&mut h);
        assert_eq!(sets.len(), 1);
        assert!(sets[0].is_complete());
        assert!(accounts.is_empty());
        h.handle_timeout(Time(1_120_000_000));
        h.handle_input(
            Time(1_130_000_000),
            Input::FrameArrived(frame(1, 1, 1_020, "50")),
        );
        let (sets, accounts) = drain(&mut h);
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].frames[1], None);
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].reason, AccountReason::Late);
    }

    #[test]
    fn a_frame_from_a_clock_far_in_the_past_does_not_flood_empty_sets() {
        let mut h = hub(1);
        // A camera whose clock says 1970 + 1 s, on a hub an hour in.
        h.handle_input(Time(0), Input::FrameArrived(frame(0, 0, 1_000, "50")));
        let hour = 3_600_000_000_000;
        h.handle_timeout(Time(hour));
        let (sets, accounts) = drain(&mut h);
        // The held frame's set, then a jump to the last window (2 s, 100
        // instants, released with the camera missing) — not 180,000 sets.
        assert!(sets.len() <= 102, "{}", sets.len());
        assert_eq!(sets[0].frames[0].map(|f| f.seq), Some(0));
        assert!(accounts.is_empty());
        // The hub carries on from now: the next deadline is near, not an hour back.
        assert!(
            h.poll_timeout()
                .is_some_and(|t| Time(hour) - t < Nanos::from_secs(11))
        );
    }

    #[test]
    fn a_first_frame_from_a_clock_ahead_does_not_make_every_later_frame_late() {
        let mut h = hub(1);
        h.handle_input(Time(0), Input::FrameArrived(frame(0, 0, 1_500, "50")));
        h.handle_input(Time(0), Input::FrameArrived(frame(0, 1, 1_000, "50")));
        let (_, accounts) = drain(&mut h);
        assert!(accounts.is_empty(), "{accounts:?}");
        h.handle_timeout(Time(1_100_000_000));
        let (sets, _) = drain(&mut h);
        assert_eq!(sets[0].frames[0].map(|f| f.seq), Some(1));
    }

    #[test]
    fn the_frame_nearest_the_instant_wins_and_the_other_is_accounted() {
        let mut h = hub(1);
        // 59.94 frames at 0 and 16.683 ms both round to the 50 fps instant 0 / 20 ms.
        h.handle_input(Time(0), Input::FrameArrived(frame(0, 0, 1_000, "59.94")));
        h.handle_input(Time(0), Input::FrameArrived(frame(0, 1, 1_017, "59.94")));
        h.handle_input(Time(0), Input::FrameArrived(frame(0, 2, 1_033, "59.94")));
        h.handle_timeout(Time(1_140_000_000));
        let (sets, accounts) = drain(&mut h);
        assert_eq!(sets.len(), 3, "instants 1000, 1020, 1040 ms");
        assert_eq!(sets[0].frames[0].unwrap().seq, 0);
        assert_eq!(sets[1].frames[0].unwrap().seq, 1);
        assert_eq!(sets[2].frames[0].unwrap().seq, 2);
        assert!(accounts.is_empty());
        let mut h = hub(1);
        h.handle_input(Time(0), Input::FrameArrived(frame(0, 0, 1_004, "59.94")));
        h.handle_input(Time(0), Input::FrameArrived(frame(0, 1, 1_001, "59.94")));
        h.handle_input(Time(0), Input::FrameArrived(frame(0, 2, 5_000, "59.94")));
        let (_, accounts) = drain(&mut h);
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].frame.seq, 0);
        assert_eq!(accounts[0].reason, AccountReason::Superseded);
        assert_eq!(accounts[1].reason, AccountReason::OutOfWindow);
    }
}
