//! ptp4l's timestamp processing (`tsproc`) in front of an offset servo.
//!
//! Each Delay_Req exchange, paired with the latest Sync, gives a raw path delay
//! ((t2 − t1) + (t4 − t3) − corrections) / 2, filtered by a moving median. Each
//! Sync then gives offset = t2 − t1 − corrections − delay, sampled into the
//! servo. With `DelayWeighting::FilterRatio` (ptp4l's `tsproc_mode
//! filter_weight`) a sample whose own delay was inflated counts less: weight =
//! filtered / raw delay, at most 1.

use super::{ClockDiscipline, ClockReading, DelaySample, PeerDelaySample, SyncSample, Update};
use crate::ptp::delay_filter::MovingMedian;
use crate::ptp::servo::{Servo, ServoState};
use crate::time::{Nanos, ScaledNanos};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DelayWeighting {
    /// ptp4l's default `tsproc_mode filter`.
    #[default]
    None,
    /// ptp4l's `tsproc_mode filter_weight`.
    FilterRatio,
}

pub struct Tsproc<S: Servo> {
    servo: S,
    filter: MovingMedian,
    weighting: DelayWeighting,
    delay: Option<ScaledNanos>,
    last_raw_delay: Option<ScaledNanos>,
    last_sync: Option<SyncSample>,
    frequency: f64,
    state: ServoState,
}

impl<S: Servo> Tsproc<S> {
    pub fn new(servo: S, filter_length: usize, weighting: DelayWeighting) -> Self {
        Tsproc {
            servo,
            filter: MovingMedian::new(filter_length),
            weighting,
            delay: None,
            last_raw_delay: None,
            last_sync: None,
            frequency: 0.0,
            state: ServoState::Unlocked,
        }
    }
}

impl<S: Servo> ClockDiscipline for Tsproc<S> {
    fn sync(&mut self, _now: ClockReading, sample: SyncSample) -> Option<Update> {
        self.last_sync = Some(sample);
        let delay = self.delay?;
        let offset = (sample.one_way() - delay).rounded();
        let weight = match (self.weighting, self.last_raw_delay) {
            (DelayWeighting::FilterRatio, Some(raw)) if raw.0 > 0 => {
                (delay.0 as f64 / raw.0 as f64).min(1.0)
            }
            _ => 1.0,
        };
        let decision = self.servo.sample(offset, sample.t2, weight);
        if decision.state != ServoState::Unlocked {
            self.frequency = decision.frequency_ppb;
        }
        self.state = decision.state;
        if decision.step.is_some() {
            // Timestamps taken before a step no longer describe the clock
            // (ptp4l's tsproc_reset without the filter).
            self.last_sync = None;
        }
        Some(Update {
            decision,
            offset,
            path_delay: delay.rounded(),
            evidence: true,
            steering: offset,
        })
    }

    fn delay(&mut self, _now: ClockReading, sample: DelaySample) -> Option<Update> {
        let sync = self.last_sync?;
        let raw = (sync.one_way() + sample.one_way()).half();
        self.last_raw_delay = Some(raw);
        self.delay = Some(self.filter.push(raw));
        None
    }

    fn peer_delay(&mut self, _now: ClockReading, sample: PeerDelaySample) -> Option<Update> {
        // ptp4l filters the peer delay the same way (its `delay_filter`).
        let raw = sample.link_delay();
        self.last_raw_delay = Some(raw);
        self.delay = Some(self.filter.push(raw));
        None
    }

    fn path_delay(&self) -> Option<Nanos> {
        self.delay.map(ScaledNanos::rounded)
    }

    fn set_sync_interval(&mut self, interval: Nanos) {
        self.servo.set_sync_interval(interval);
    }

    fn holdover_frequency(&self) -> Option<f64> {
        // ptp4l keeps whatever frequency the servo last set.
        (self.state != ServoState::Unlocked).then_some(self.frequency)
    }

    fn reset(&mut self, frequency_ppb: f64) {
        self.servo.reset(frequency_ppb);
        self.filter.reset();
        self.delay = None;
        self.last_raw_delay = None;
        self.last_sync = None;
        self.frequency = frequency_ppb;
        self.state = ServoState::Unlocked;
    }
}
