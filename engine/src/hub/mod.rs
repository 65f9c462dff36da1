//! The sync hub: collects stamped frames from every camera and releases frame sets
//! on a reference cadence, each a buffer delay after its reference instant (the
//! delay chosen by a `ReleaseDelay` policy: fixed, NetEq-style or adaptive).
//!
//! Each frame goes to the reference instant its `AlignRule` maps it to; when
//! two frames of one camera land on the same instant (a faster camera) the
//! rule's choice stays and the other is accounted as superseded. An instant no
//! frame of a slower camera landed on shows that camera's neighbouring frame,
//! flagged as a rate-conversion repeat. A frame missing at the deadline is
//! handled by the `MissingPolicy`. Every frame that reaches the hub ends in
//! exactly one place: a frame set, or a `FrameAccount` with the reason it is
//! in none.

mod rule;
mod seen;

pub use rule::AlignRule;

use crate::buffer::{self, BufferConfig, ReleaseDelay};
use crate::frame::{
    AccountReason, FrameAccount, FrameMeta, FrameSet, MissingReason, RepeatReason, Slot,
};
use crate::frame_rate::FrameRate;
use crate::node::{Input, Node, Output};
use crate::ptp::{PtpSlave, SlaveConfig};
use crate::time::{Nanos, Time};
use seen::SeenSequences;
use std::collections::VecDeque;

/// What the hub does with a camera whose frame has not arrived by the
/// buffer's deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingPolicy {
    /// Release on time with the camera marked missing.
    Partial,
    /// Hold the set until it is complete, up to the maximum latency.
    Wait,
    /// Release on time showing the camera's previous frame, flagged.
    Repeat,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HubConfig {
    pub cameras: u16,
    pub reference_rate: FrameRate,
    pub rule: AlignRule,
    /// When sets are released after their reference instant.
    pub buffer: BufferConfig,
    pub missing: MissingPolicy,
    /// The operator's bound on added latency: the wait policy waits no longer.
    pub max_latency: Nanos,
    /// Frames stamped further ahead of the oldest open set than this are refused,
    /// which bounds the hub's memory.
    pub window: Nanos,
    pub ptp: SlaveConfig,
}

/// A camera that has sent nothing for this long is reported silent.
const SILENT_AFTER: Nanos = Nanos::from_secs(1);
/// How many instants either side are searched for a slower camera's
/// neighbouring frame: cameras down to an eighth of the reference rate.
const NEIGHBOUR_SPAN: usize = 8;

/// How far beyond both clocks' stated uncertainty a frame's stamp may lie
/// ahead of the hub's clock before the hub refuses it as impossible.
const FUTURE_MARGIN: Nanos = Nanos::from_millis(100);

#[derive(Clone, Debug)]
struct OpenSet {
    frames: Vec<Option<FrameMeta>>,
    /// When each frame arrived, on the hub's base clock.
    arrived: Vec<Option<Time>>,
    filled: usize,
    /// Every camera has a frame for the instant (its own, or a slower
    /// camera's neighbour), and the buffer has been told when.
    complete: bool,
}

impl OpenSet {
    fn new(cameras: usize) -> Self {
        OpenSet {
            frames: vec![None; cameras],
            arrived: vec![None; cameras],
            filled: 0,
            complete: false,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct CameraState {
    /// The last frame placed in a released set.
    last_placed: Option<FrameMeta>,
    /// Base time of the last arrival.
    last_arrival: Option<Time>,
    seen: SeenSequences,
    /// Its frames come slower than the reference cadence.
    slower: bool,
    /// The last frame accepted while the camera stated a bound: (base time
    /// of arrival, stamp, bound). What the other cameras' frames are judged
    /// against when the hub has no bound of its own.
    last_bounded: Option<(Time, Time, Nanos)>,
}

pub struct Hub {
    config: HubConfig,
    slave: PtpSlave,
    release: Box<dyn ReleaseDelay + Send>,
    /// Open sets, indexed from `first_open`.
    open: VecDeque<OpenSet>,
    first_open: Option<i64>,
    /// Base-clock instant at which the oldest open set is due.
    release_deadline: Option<Time>,
    /// The oldest open set is past its buffer deadline, incomplete, and held
    /// (wait policy).
    waiting: bool,
    /// The first index the hub ever collected; earlier frames were never awaited.
    first_index: Option<i64>,
    cameras: Vec<CameraState>,
    slower_cameras: usize,
    /// Sets released incomplete, with how many of their frames are still to
    /// come: when the last arrives the buffer learns how long the set needed.
    incomplete: VecDeque<(i64, usize)>,
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
            cameras: vec![CameraState::default(); config.cameras as usize],
            config,
            open: VecDeque::new(),
            first_open: None,
            release_deadline: None,
            waiting: false,
            first_index: None,
            slower_cameras: 0,
            incomplete: VecDeque::new(),
            max_open,
            released_any: false,
            outputs: VecDeque::new(),
        }
    }

    /// The frames held in open sets, oldest set first: what a hub that
    /// goes down loses (the caller accounts them).
    pub fn held_frames(&self) -> impl Iterator<Item = &FrameMeta> {
        self.open.iter().flat_map(|set| set.frames.iter().flatten())
    }

    pub fn slave(&self) -> &PtpSlave {
        &self.slave
    }

    /// The release delay the buffer policy asks for now. Never below zero:
    /// no set goes out before its instant, whatever delays the policy saw
    /// (a camera whose stamps run ahead shows negative ones).
    pub fn buffer_target(&self) -> Nanos {
        self.release.target().max(Nanos::ZERO)
    }

    fn account(&mut self, frame: FrameMeta, reason: AccountReason) {
        self.outputs
            .push_back(Output::FrameAccounted(FrameAccount { frame, reason }));
    }

    fn refresh_release_deadline(&mut self) {
        self.release_deadline = self.first_open.map(|first| {
            let reference = self.config.reference_rate.frame_time(first);
            let front_complete = self.open.front().is_some_and(|s| s.complete);
            let delay = if self.waiting && !front_complete {
                self.config.max_latency
            } else {
                self.buffer_target()
            };
            self.slave.clock().base_at(reference + delay)
        });
    }

    /// Camera `c`'s frame nearest before and after open slot `slot` (the
    /// last placed frame when none is open before it).
    fn neighbours(&self, slot: usize, c: usize) -> (Option<&FrameMeta>, Option<&FrameMeta>) {
        let before = (slot.saturating_sub(NEIGHBOUR_SPAN)..slot)
            .rev()
            .find_map(|i| self.open[i].frames[c].as_ref())
            .or(self.cameras[c].last_placed.as_ref());
        let after = (slot + 1..self.open.len().min(slot + 1 + NEIGHBOUR_SPAN))
            .find_map(|i| self.open[i].frames[c].as_ref());
        (before, after)
    }

    /// The neighbouring frame a slower camera shows at open slot `slot`.
    fn rate_repeat(&self, slot: usize, c: usize, index: i64) -> Option<FrameMeta> {
        if !self.cameras[c].slower {
            return None;
        }
        let (before, after) = self.neighbours(slot, c);
        let reference = self.config.reference_rate.frame_time(index);
        self.config.rule.neighbour_for(reference, before, after)
    }

    /// Whether open slot `slot` now has a frame for every camera; the first
    /// time it does, the buffer learns how long after its instant that was.
    fn note_completion(&mut self, now: Time, slot: usize) {
        let Some(first) = self.first_open else { return };
        let set = &self.open[slot];
        if set.complete || set.filled + self.slower_cameras < set.frames.len() {
            return;
        }
        let index = first + slot as i64;
        let complete = set.filled == set.frames.len()
            || (0..set.frames.len()).all(|c| {
                self.open[slot].frames[c].is_some() || self.rate_repeat(slot, c, index).is_some()
            });
        if complete {
            self.open[slot].complete = true;
            let completion =
                self.slave.clock().time_at(now) - self.config.reference_rate.frame_time(index);
            self.release.observe_set(completion, now);
        }
    }

    /// Places a frame, or accounts it; `stamped_ahead`: its stamp is
    /// impossible (see `stamped_ahead`), judged by the caller. A second copy
    /// is a duplicate whatever its stamp, so that a frame is counted once.
    fn handle_frame(&mut self, now: Time, frame: FrameMeta, stamped_ahead: bool) {
        let cam = frame.camera.0 as usize;
        if frame.camera.0 >= self.config.cameras {
            return self.account(frame, AccountReason::UnknownCamera);
        }
        if !self.cameras[cam].seen.insert(frame.seq) {
            return self.account(frame, AccountReason::Duplicate);
        }
        if stamped_ahead || self.ahead_of_the_others(now, &frame) {
            return self.account(frame, AccountReason::FromTheFuture);
        }
        let rate = self.config.reference_rate;
        let state = &mut self.cameras[cam];
        state.last_arrival = Some(now);
        if let Some(bound) = frame.uncertainty {
            state.last_bounded = Some((now, frame.capture, bound));
        }
        let slower = frame.rate.period() > rate.period();
        if slower != state.slower {
            state.slower = slower;
            if slower {
                self.slower_cameras += 1;
            } else {
                self.slower_cameras -= 1;
            }
        }
        let k = self.config.rule.index(rate, frame.capture);
        let mut first = *self.first_open.get_or_insert(k);
        // Until the first set goes out, a frame for an earlier instant moves
        // the start back (the first frame may have come from a camera whose
        // clock was ahead), within the window.
        if k < first && !self.released_any && ((first - k) as usize) < self.max_open {
            let cameras = self.config.cameras as usize;
            for _ in k..first {
                self.open.push_front(OpenSet::new(cameras));
            }
            // Sets pushed out of the window's far end take their frames
            // with them: those are accounted, not dropped in silence (the
            // swarm's exact end-of-run accounting found 220 of them, seed 16).
            while self.open.len() > self.max_open {
                let set = self.open.pop_back().expect("longer than the window");
                for frame in set.frames.into_iter().flatten() {
                    self.account(frame, AccountReason::OutOfWindow);
                }
            }
            first = k;
            self.first_open = Some(k);
            self.first_index = Some(k);
        }
        self.first_index.get_or_insert(k);
        if k < first {
            // The planted bug of the `swarm-bug` feature (never on in a real
            // build): a late frame (for a set already released) is discarded
            // without being accounted, as a hurried "drop stale frames" fix
            // would. The swarm's frames-accounted invariant must catch it
            // (tests/swarm_bug.rs).
            #[cfg(feature = "swarm-bug")]
            if self.first_index.is_some_and(|f| k >= f) {
                return;
            }
            let reason = if self.first_index.is_some_and(|f| k >= f) {
                self.late_arrival(now, k);
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
            self.open.push_back(OpenSet::new(cameras));
        }
        let reference = rate.frame_time(k);
        let rule = self.config.rule;
        let held = &mut self.open[slot].frames[cam];
        match held {
            Some(other) if !rule.prefers(&frame, other, reference) => {
                self.account(frame, AccountReason::Superseded);
            }
            _ => {
                let first_of_camera = held.is_none();
                if let Some(displaced) = held.replace(frame) {
                    self.account(displaced, AccountReason::Superseded);
                }
                self.open[slot].arrived[cam] = Some(now);
                if first_of_camera {
                    self.open[slot].filled += 1;
                    if self.slower_cameras == 0 {
                        self.note_completion(now, slot);
                    } else {
                        // A slower camera's frame may complete its neighbours too.
                        let from = slot.saturating_sub(NEIGHBOUR_SPAN);
                        let to = (slot + NEIGHBOUR_SPAN).min(self.open.len() - 1);
                        for s in from..=to {
                            self.note_completion(now, s);
                        }
                    }
                }
            }
        }
    }

    /// A frame for released set `index` came late: when it was the set's last
    /// missing frame, the buffer learns how long the set would have needed.
    fn late_arrival(&mut self, now: Time, index: i64) {
        let Some(at) = self.incomplete.iter().position(|(i, _)| *i == index) else {
            return;
        };
        let entry = &mut self.incomplete[at];
        entry.1 -= 1;
        if entry.1 == 0 {
            self.incomplete.remove(at);
            let completion =
                self.slave.clock().time_at(now) - self.config.reference_rate.frame_time(index);
            self.release.observe_set(completion, now);
        }
    }

    /// Frames of one instant reach the hub within the video path's spread of
    /// each other, whatever the clocks say; one that arrived more than the
    /// window (plus `FUTURE_MARGIN`) before the median of its set-mates was
    /// captured long before them, whatever its stamp claims. Judged on the
    /// hub's base clock alone, so it holds while the hub has no time at all
    /// (seed 163: a restarted hub held a frame stamped 17 s ahead until its
    /// instant came, and released it with frames captured 17 s later).
    /// Of two frames so far apart, the early one is the wrong one: were the
    /// late one wrong instead, the early one's instant would have been
    /// released (the buffer is shorter than the window) before the late
    /// one came. Against the median of the others, so that with three or
    /// more a single wrong camera cannot get good frames refused.
    fn refuse_early_arrivals(&mut self) {
        let Some(set) = self.open.front() else { return };
        let bounded: Vec<(usize, Time)> = (0..set.frames.len())
            .filter(|&c| set.frames[c].is_some_and(|f| f.uncertainty.is_some()))
            .filter_map(|c| Some((c, set.arrived[c]?)))
            .collect();
        if bounded.len() < 2 {
            return;
        }
        // The median of the others, from one sorted list of all: without
        // its own arrival, the list's element `m` moves up one if the frame
        // came before it. (Equal arrivals give the same value either way.)
        let mut all: Vec<Time> = bounded.iter().map(|&(_, t)| t).collect();
        all.sort_unstable();
        let m = (all.len() - 2) / 2;
        let early: Vec<usize> = bounded
            .iter()
            .filter(|&&(_, at)| {
                let own = all.partition_point(|&t| t < at);
                let median = if m < own { all[m] } else { all[m + 1] };
                at + self.config.window + FUTURE_MARGIN < median
            })
            .map(|&(c, _)| c)
            .collect();
        for c in early {
            let set = &mut self.open[0];
            let frame = set.frames[c].take().expect("bounded frames are held");
            set.arrived[c] = None;
            set.filled -= 1;
            set.complete = false;
            self.account(frame, AccountReason::FromTheFuture);
        }
    }

    /// The slots of the oldest open set (slot 0), as released now.
    fn release_slots(&mut self, now: Time, index: i64) -> Vec<Slot> {
        let cameras = self.config.cameras as usize;
        let mut slots = Vec::with_capacity(cameras);
        let mut missing = 0;
        // Frames of cameras that are delivering: the buffer was too short.
        let mut awaited = 0;
        for c in 0..cameras {
            let slot = match self.open[0].frames[c] {
                Some(f) => Slot::Frame(f),
                None => match self.rate_repeat(0, c, index) {
                    Some(f) => Slot::Repeat(f, RepeatReason::RateConversion),
                    None => {
                        missing += 1;
                        let reason = self.missing_reason(now, c);
                        if reason == MissingReason::NotArrived {
                            awaited += 1;
                        }
                        match (self.config.missing, self.cameras[c].last_placed) {
                            (MissingPolicy::Repeat, Some(p)) => {
                                Slot::Repeat(p, RepeatReason::Concealment)
                            }
                            _ => Slot::Missing(reason),
                        }
                    }
                },
            };
            if let Slot::Frame(f) = slot {
                self.cameras[c].last_placed = Some(f);
            }
            slots.push(slot);
        }
        self.release.observe_release(awaited == 0, now);
        if missing > 0 {
            self.incomplete.push_back((index, missing));
            while self.incomplete.len() > self.max_open {
                self.incomplete.pop_front();
            }
        }
        slots
    }

    fn missing_reason(&self, now: Time, c: usize) -> MissingReason {
        match self.cameras[c].last_arrival {
            Some(t) if now - t <= SILENT_AFTER => MissingReason::NotArrived,
            _ => MissingReason::CameraSilent,
        }
    }

    /// Whether a frame that arrived `delay` after its stamp (negative: before
    /// it) cannot have been stamped right. Judged only when both clocks state
    /// a bound (the hub's also while it coasts after losing its master); `FUTURE_MARGIN` on top keeps a merely optimistic bound from
    /// refusing good frames — what it catches is a clock gone wrong by far.
    fn stamped_ahead(&self, now: Time, frame: &FrameMeta, delay: Nanos) -> bool {
        match (self.slave.coasting_uncertainty(now), frame.uncertainty) {
            (Some(hub), Some(camera)) => -delay > hub + camera + FUTURE_MARGIN,
            _ => false,
        }
    }

    /// Whether a frame's stamp lies beyond what the other cameras say the
    /// time is, when the hub cannot say (no bound of its own: it has just
    /// restarted, or never locked). Each other camera that stated a bound on
    /// a frame within `SILENT_AFTER` puts the present no later than that
    /// stamp, plus its bound, plus the time since it arrived, plus the
    /// window (no frame is awaited longer after its instant). The median of
    /// those puts up with a minority of wrong cameras, so at least two others
    /// are needed. A frame stating a bound and stamped beyond it by more than
    /// its own bound and `FUTURE_MARGIN` is impossible (swarm seed 163: a
    /// restarted hub took a camera stamping 17 s ahead into its sets).
    fn ahead_of_the_others(&self, now: Time, frame: &FrameMeta) -> bool {
        let Some(own) = frame.uncertainty else {
            return false;
        };
        if self.slave.coasting_uncertainty(now).is_some() {
            return false;
        }
        let mut latest: Vec<Time> = self
            .cameras
            .iter()
            .enumerate()
            .filter(|&(c, _)| c != frame.camera.0 as usize)
            .filter_map(|(_, state)| state.last_bounded)
            .filter(|&(arrived, _, _)| now - arrived <= SILENT_AFTER)
            .map(|(arrived, stamp, bound)| stamp + bound + (now - arrived) + self.config.window)
            .collect();
        if latest.len() < 2 {
            return false;
        }
        latest.sort_unstable();
        let median = latest[(latest.len() - 1) / 2];
        frame.capture - own - FUTURE_MARGIN > median
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
                // Half a window back, not a whole one: on a clock running
                // slow the resumed deadline would still lie a window (and a
                // few ns) behind in base time. When the front is already
                // there, release as usual: every pass of this loop moves
                // `first_open` on, so it ends.
                let disciplined = self.slave.clock().time_at(now);
                let resume = self.config.reference_rate.index_at_or_after(
                    disciplined - self.buffer_target() - Nanos(self.config.window.0 / 2),
                );
                if self.first_open.is_some_and(|f| f < resume) {
                    self.first_open = Some(resume);
                    self.refresh_release_deadline();
                    continue;
                }
            }
            let front_complete = self.open.front().is_some_and(|s| s.complete);
            if self.config.missing == MissingPolicy::Wait && !front_complete && !self.waiting {
                // Past the buffer's deadline and incomplete: hold it, up to
                // the maximum latency.
                self.waiting = true;
                self.refresh_release_deadline();
                continue;
            }
            self.waiting = false;
            self.released_any = true;
            let index = self.first_open.expect("a deadline implies an open set");
            if self.open.is_empty() {
                self.open
                    .push_back(OpenSet::new(self.config.cameras as usize));
            }
            self.refuse_early_arrivals();
            let slots = self.release_slots(now, index);
            self.open.pop_front();
            self.first_open = Some(index + 1);
            self.outputs.push_back(Output::FrameSet(FrameSet {
                index,
                reference: self.config.reference_rate.frame_time(index),
                slots,
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
                let ahead = self.stamped_ahead(now, &frame, delay);
                // A delay more negative than the window is a clock gone
                // wrong that the hub could not judge (it has no bound of its
                // own): not something to size the buffer by.
                if !ahead && delay >= -self.config.window {
                    self.release.observe(frame.camera, delay, now);
                }
                self.handle_frame(now, frame, ahead)
            }
            Input::FrameCaptured { .. } | Input::Adjust(_) => {}
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
            rule: AlignRule::Nearest,
            buffer: BufferConfig::Fixed(Nanos::from_millis(100)),
            missing: MissingPolicy::Partial,
            max_latency: Nanos::from_millis(500),
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
            uncertainty: Some(Nanos::from_micros(1)),
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
        assert_eq!(sets[0].slots[1], Slot::Missing(MissingReason::NotArrived));
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
        assert_eq!(sets[0].slots[0].frame().map(|f| f.seq), Some(0));
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
        assert_eq!(sets[0].slots[0].frame().map(|f| f.seq), Some(1));
    }

    #[test]
    fn frames_pushed_out_of_the_window_by_an_earlier_start_are_accounted() {
        let mut h = hub(2);
        // Camera 1, about 2 s ahead, comes first; camera 0's frame for 0.5 s
        // moves the start back, and the 2 s window (100 instants) reaches
        // 2.48 s, no longer 2.5 s.
        h.handle_input(Time(0), Input::FrameArrived(frame(1, 0, 2_400, "50")));
        h.handle_input(Time(0), Input::FrameArrived(frame(1, 1, 2_500, "50")));
        h.handle_input(Time(0), Input::FrameArrived(frame(0, 0, 500, "50")));
        let (_, accounts) = drain(&mut h);
        assert_eq!(accounts.len(), 1, "{accounts:?}");
        assert_eq!(accounts[0].frame.seq, 1);
        assert_eq!(accounts[0].reason, AccountReason::OutOfWindow);
        assert_eq!(h.held_frames().count(), 2);
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
        assert_eq!(sets[0].slots[0].frame().unwrap().seq, 0);
        assert_eq!(sets[1].slots[0].frame().unwrap().seq, 1);
        assert_eq!(sets[2].slots[0].frame().unwrap().seq, 2);
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

    fn hub_with(cameras: u16, rule: AlignRule, missing: MissingPolicy) -> Hub {
        let mut h = hub(cameras);
        h.config.rule = rule;
        h.config.missing = missing;
        h
    }

    #[test]
    fn a_slower_camera_fills_the_instants_between_its_frames_with_flagged_repeats() {
        // A 25 fps camera beside a 50 fps one, on a 50 fps cadence.
        let mut h = hub(2);
        for i in 0..10 {
            h.handle_input(
                Time(1_000_000_000),
                Input::FrameArrived(frame(0, i, 1_000 + 20 * i as i64, "50")),
            );
        }
        for i in 0..5 {
            h.handle_input(
                Time(1_000_000_000),
                Input::FrameArrived(frame(1, i, 1_000 + 40 * i as i64, "25")),
            );
        }
        h.handle_timeout(Time(1_260_000_000));
        let (sets, accounts) = drain(&mut h);
        assert!(accounts.is_empty());
        assert_eq!(
            sets.len(),
            9,
            "the last instant waits for the 25 fps frame after it"
        );
        for s in &sets {
            assert!(s.is_complete(), "{s:?}");
        }
        assert_eq!(
            sets[1].slots[1],
            Slot::Repeat(frame(1, 0, 1_000, "25"), RepeatReason::RateConversion)
        );
        assert_eq!(sets[2].slots[1], Slot::Frame(frame(1, 1, 1_040, "25")));
        // A 25 fps frame that never comes leaves its instant missing, not
        // papered over by a neighbour a whole period away.
        let mut h = hub(1);
        for i in [0u64, 2] {
            h.handle_input(
                Time(1_000_000_000),
                Input::FrameArrived(frame(0, i, 1_000 + 40 * i as i64, "25")),
            );
        }
        h.handle_timeout(Time(1_200_000_000));
        let (sets, _) = drain(&mut h);
        assert!(sets[0].is_complete() && sets[1].is_complete());
        assert_eq!(sets[2].slots[0], Slot::Missing(MissingReason::NotArrived));
        assert!(!sets[3].is_complete());
        assert!(sets[4].is_complete());
    }

    #[test]
    fn latest_before_takes_the_last_frame_at_or_before_each_instant() {
        let rule = AlignRule::LatestBefore {
            tolerance: Nanos::from_micros(10),
        };
        let mut h = hub_with(1, rule, MissingPolicy::Partial);
        // 59.94 fps frames (16.683 ms apart) into a 50 fps cadence.
        for i in 0..4 {
            let capture = 1_000_000_000 + i as i64 * 1_001_000_000_000 / 60_000;
            let mut f = frame(0, i, 0, "59.94");
            f.capture = Time(capture);
            h.handle_input(Time(0), Input::FrameArrived(f));
        }
        h.handle_timeout(Time(1_160_000_000));
        let (sets, accounts) = drain(&mut h);
        // Instant 1000 ms: frame 0. 1020: frame 1 (1016.7). 1040: frame 2 (1033.4).
        let shown: Vec<u64> = sets
            .iter()
            .map(|s| s.slots[0].frame().unwrap().seq)
            .collect();
        assert_eq!(&shown[..3], &[0, 1, 2]);
        assert!(accounts.is_empty());
    }

    /// The hub has no time of its own (its port never locked), so only the
    /// cameras can say what the time is.
    #[test]
    fn a_frame_stamped_beyond_what_the_others_say_the_time_is_is_refused() {
        let mut h = hub(3);
        let now = Time(1_000_000_000);
        h.handle_input(now, Input::FrameArrived(frame(0, 0, 1_000, "50")));
        h.handle_input(now, Input::FrameArrived(frame(1, 0, 1_000, "50")));
        // 19 s beyond the others: more than the 2 s window allows.
        h.handle_input(now, Input::FrameArrived(frame(2, 0, 20_000, "50")));
        // Within the window of the others: the hub cannot tell, and takes it.
        h.handle_input(now, Input::FrameArrived(frame(2, 1, 2_500, "50")));
        let (_, accounts) = drain(&mut h);
        assert_eq!(accounts.len(), 1, "{accounts:?}");
        assert_eq!(accounts[0].frame.seq, 0);
        assert_eq!(accounts[0].reason, AccountReason::FromTheFuture);
    }

    /// A camera stamping 5 s ahead is the first the hub hears, so nothing
    /// judges it on arrival; its set-mate for the same stamp arrives 5 s
    /// later, more than the 2 s window after it: the early one was captured
    /// long before, whatever its stamp says.
    #[test]
    fn a_frame_that_arrived_long_before_its_set_mates_is_refused_at_release() {
        let mut h = hub(2);
        h.handle_input(Time(0), Input::FrameArrived(frame(1, 0, 5_000, "50")));
        h.handle_input(
            Time(4_990_000_000),
            Input::FrameArrived(frame(0, 0, 5_000, "50")),
        );
        h.handle_timeout(Time(5_100_000_000));
        let (sets, accounts) = drain(&mut h);
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].slots[0].frame().map(|f| f.seq), Some(0));
        // Its one frame came 5 s ago: silent since, as far as the hub knows.
        assert_eq!(sets[0].slots[1], Slot::Missing(MissingReason::CameraSilent));
        assert_eq!(accounts.len(), 1, "{accounts:?}");
        assert_eq!(accounts[0].frame.camera, CameraId(1));
        assert_eq!(accounts[0].reason, AccountReason::FromTheFuture);
    }

    #[test]
    fn a_duplicate_is_accounted_once_whenever_it_comes() {
        let mut h = hub(1);
        h.handle_input(Time(0), Input::FrameArrived(frame(0, 0, 1_000, "50")));
        h.handle_input(Time(0), Input::FrameArrived(frame(0, 0, 1_000, "50")));
        h.handle_timeout(Time(1_100_000_000));
        h.handle_input(
            Time(1_100_000_000),
            Input::FrameArrived(frame(0, 0, 1_000, "50")),
        );
        let (sets, accounts) = drain(&mut h);
        assert_eq!(sets[0].slots[0].frame().unwrap().seq, 0);
        assert_eq!(accounts.len(), 2);
        assert!(
            accounts
                .iter()
                .all(|a| a.reason == AccountReason::Duplicate)
        );
    }

    #[test]
    fn missing_frame_policies() {
        let run = |missing| {
            let mut h = hub_with(2, AlignRule::Nearest, missing);
            for i in 0..3 {
                h.handle_input(
                    Time(1_000_000_000),
                    Input::FrameArrived(frame(0, i, 1_000 + 20 * i as i64, "50")),
                );
                if i != 1 {
                    h.handle_input(
                        Time(1_000_000_000),
                        Input::FrameArrived(frame(1, i, 1_000 + 20 * i as i64, "50")),
                    );
                }
            }
            // Camera 1's frame for 1020 ms comes 200 ms late (100 ms buffer).
            h.handle_timeout(Time(1_130_000_000));
            h.handle_input(
                Time(1_220_000_000),
                Input::FrameArrived(frame(1, 1, 1_020, "50")),
            );
            h.handle_timeout(Time(1_220_000_000));
            h.handle_timeout(Time(1_600_000_000));
            drain(&mut h)
        };
        let (sets, accounts) = run(MissingPolicy::Partial);
        assert_eq!(sets[1].slots[1], Slot::Missing(MissingReason::NotArrived));
        assert_eq!(accounts[0].reason, AccountReason::Late);
        let (sets, accounts) = run(MissingPolicy::Repeat);
        assert_eq!(
            sets[1].slots[1],
            Slot::Repeat(frame(1, 0, 1_000, "50"), RepeatReason::Concealment)
        );
        assert!(!sets[1].is_complete());
        assert_eq!(accounts[0].reason, AccountReason::Late);
        let (sets, accounts) = run(MissingPolicy::Wait);
        assert!(sets[..3].iter().all(FrameSet::is_complete));
        assert!(accounts.is_empty());
        // Held until the frame came, not to the 500 ms maximum.
        assert_eq!(sets[1].released_at, Time(1_220_000_000));
    }
}
