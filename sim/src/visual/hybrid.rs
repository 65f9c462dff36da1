//! The hybrid correction loop inside the world: every frame a camera
//! captures is rendered at its true capture instant and handed, with the
//! camera's own stamp, to the hub's visual estimator; its offsets drive the
//! corrector, whose adjustment commands the world carries back to the
//! cameras the pictures steer. Scored like the visual tier: each estimate
//! against the true difference of the camera's and the reference's stamp
//! errors.

use super::rig::Rig;
use crate::rng::Seeds;
use crate::scenario::VisualSpec;
use crate::score::{VisualScore, quantile};
use camsync_engine::coordination::Adjustment;
use camsync_engine::time::{Nanos, Time};
use camsync_engine::visual::{
    Brightness, CorrectorConfig, FeatureExtractor, HybridCorrector, LumaFrame, VisualConfig,
    VisualEstimator,
};

pub struct HybridLoop {
    rig: Rig,
    estimator: VisualEstimator,
    corrector: HybridCorrector,
    /// Per camera, its last frame's stamp error (stamp − true capture, ns).
    stamp_errors: Vec<Option<i64>>,
    /// Per camera, when the last command applied was whole in its stamps
    /// (grandmaster time; its window restarted then).
    applied_at: Vec<Option<i64>>,
    /// Per camera, a command whose step the camera is slewing: until its lag
    /// closes (true time) its frames show a clock between the two, and are
    /// not looked at.
    slewing: Vec<Option<(i64, Adjustment, bool)>>,
    /// Per camera, whether a command to it is on its way: until it is
    /// applied, its estimates still measure the clock before the command,
    /// and a second command from them would correct the same offset twice.
    awaiting: Vec<bool>,
    steered: Vec<bool>,
    /// Per camera, the rate it was last told to run at.
    frequencies: Vec<f64>,
    half_window: i64,
    errors_ms: Vec<f64>,
    /// |true offset| of steered cameras' frames once first corrected (ms).
    steered_offsets_ms: Vec<f64>,
    estimates: u64,
    abstained: u64,
    alerts: u64,
    duration_ns: i64,
}

impl HybridLoop {
    /// `steered[c]`: camera c has no PTP and is steered from the pictures.
    pub fn new(spec: &VisualSpec, seeds: &Seeds, steered: &[bool], duration_ns: i64) -> Self {
        let cameras = steered.len();
        let mut config = VisualConfig::new(cameras);
        config.readout = vec![spec.readout.0; cameras];
        // A free-running camera's clock may be off by far more than a
        // frame when it is first seen: until found, search ±1 s, on a
        // 20 ms grid first.
        config.acquire = Some(Nanos::from_secs(1));
        config.coarse_step = Some(Nanos::from_millis(20));
        // Rate trims from at least two minutes of estimates: a few ppm.
        config.drift_span = Nanos::from_secs(480);
        let half_window = config.window.0 / 2;
        let extractors: Vec<Box<dyn FeatureExtractor + Send>> = (0..cameras)
            .map(|_| Box::new(Brightness) as Box<dyn FeatureExtractor + Send>)
            .collect();
        HybridLoop {
            rig: Rig::new(spec, seeds, cameras, duration_ns),
            estimator: VisualEstimator::new(config, extractors),
            corrector: HybridCorrector::new(
                CorrectorConfig {
                    drift_band_ppm: 3.0,
                    ..CorrectorConfig::default()
                },
                steered,
            ),
            stamp_errors: vec![None; cameras],
            applied_at: vec![None; cameras],
            slewing: vec![None; cameras],
            awaiting: vec![false; cameras],
            steered: steered.to_vec(),
            frequencies: vec![0.0; cameras],
            half_window,
            errors_ms: Vec::new(),
            steered_offsets_ms: Vec::new(),
            estimates: 0,
            abstained: 0,
            alerts: 0,
            duration_ns,
        }
    }

    /// Camera `camera` captured a frame truly at `true_ns` (grandmaster
    /// time) and stamped it `stamp`: the commands to send.
    /// A PTP-locked camera's frames count from its lock on (its clock
    /// steps while it locks); a steered camera's from the start.
    pub fn frame(
        &mut self,
        camera: usize,
        true_ns: i64,
        stamp: Time,
        locked: bool,
    ) -> Vec<(usize, Adjustment)> {
        if !locked && !self.steered[camera] {
            return Vec::new();
        }
        if let (true, Some(_), Some(reference)) = (
            self.steered[camera],
            self.applied_at[camera],
            self.stamp_errors[0],
        ) {
            let own = stamp.0 - true_ns;
            self.steered_offsets_ms
                .push((reference - own).unsigned_abs() as f64 / 1e6);
        }
        if let Some((closes, a, rate_changed)) = self.slewing[camera] {
            if true_ns < closes {
                self.stamp_errors[camera] = Some(stamp.0 - true_ns);
                return Vec::new();
            }
            self.slewing[camera] = None;
            self.settle(camera, closes, a, rate_changed);
        }
        let view = &mut self.rig.views[camera];
        let pixels = view.capture(&self.rig.scene, true_ns as f64 / 1e9);
        let frame = LumaFrame {
            width: view.width,
            height: view.height,
            pixels: &pixels,
        };
        self.stamp_errors[camera] = Some(stamp.0 - true_ns);
        let estimates = self.estimator.push_frame(camera, stamp, &frame);
        self.alerts += self.estimator.take_alerts().len() as u64;
        let mut commands = Vec::new();
        for e in estimates {
            // Made from frames of a clock still slewing: neither scored nor
            // acted on.
            if self.slewing[e.camera].is_some() {
                continue;
            }
            self.estimates += 1;
            let Some(offset) = e.offset_ns else {
                self.abstained += 1;
                continue;
            };
            // Scored when its window holds one clock of the camera's.
            let settled =
                self.applied_at[e.camera].is_none_or(|t| t < e.at.0 - 2 * self.half_window);
            // Captured `offset` later than stamped, relative to the
            // reference: the reference's stamp error less its own.
            let truth = match (self.stamp_errors[e.camera], self.stamp_errors[0]) {
                (Some(own), Some(reference)) => (reference - own) as f64,
                _ => f64::NAN,
            };
            if settled && truth.is_finite() {
                self.errors_ms.push((offset - truth).abs() / 1e6);
            }
            tracing::trace!(camera = e.camera, offset_ms = offset / 1e6, truth_ms = truth / 1e6, drift_ppm = ?e.drift_ppm, "hybrid estimate");
            if self.awaiting[e.camera] {
                continue;
            }
            if let Some(a) = self.corrector.on_estimate(&e) {
                tracing::debug!(
                    camera = e.camera,
                    offset_ms = offset / 1e6,
                    truth_ms = truth / 1e6,
                    step_ms = a.step.0 as f64 / 1e6,
                    frequency_ppb = a.frequency_ppb,
                    "visual correction"
                );
                self.awaiting[e.camera] = true;
                commands.push((e.camera, a));
            }
        }
        commands
    }

    /// The command on its way to `camera` will not be applied (the camera
    /// restarted): its estimates steer it again.
    pub fn cancelled(&mut self, camera: usize) {
        if let Some(a) = self.awaiting.get_mut(camera) {
            *a = false;
        }
    }

    /// The camera restarted: its clock is a new one, unsteered, and what
    /// the estimator knew of the old one is forgotten.
    pub fn restarted(&mut self, camera: usize) {
        if camera < self.slewing.len() {
            self.slewing[camera] = None;
            self.awaiting[camera] = false;
            self.frequencies[camera] = 0.0;
            // Its frames count again from its first command in this boot.
            self.applied_at[camera] = None;
            self.estimator.forget(camera);
            self.corrector.restarted(camera);
        }
    }

    /// The hub restarted: whatever it had on its way is lost.
    pub fn cancel_all(&mut self) {
        self.awaiting.fill(false);
    }

    /// The camera applied a command at grandmaster time `now`; its stamps
    /// have all of the step from `settled_at` (later than `now` if it slews
    /// the step out).
    pub fn applied(&mut self, camera: usize, now: i64, settled_at: i64, a: Adjustment) {
        let rate_changed = self.frequencies[camera] != a.frequency_ppb;
        self.frequencies[camera] = a.frequency_ppb;
        if settled_at > now {
            self.slewing[camera] = Some((settled_at, a, rate_changed));
        } else {
            self.settle(camera, now, a, rate_changed);
        }
    }

    /// The command's step is whole in the camera's stamps from `at`: its
    /// estimates speak of the new clock, and steer it again.
    fn settle(&mut self, camera: usize, at: i64, a: Adjustment, rate_changed: bool) {
        self.awaiting[camera] = false;
        self.estimator.adjusted(camera, a.step, rate_changed);
        self.applied_at[camera] = Some(at);
    }

    pub fn score(&self) -> VisualScore {
        let mut errors = self.errors_ms.clone();
        errors.sort_by(f64::total_cmp);
        VisualScore {
            estimates: self.estimates,
            offset_err_median_ms: (!errors.is_empty()).then(|| quantile(&errors, 0.5)),
            offset_err_p95_ms: (!errors.is_empty()).then(|| quantile(&errors, 0.95)),
            offset_err_rms_ms: crate::score::rms(&errors),
            abstain_ratio: if self.estimates > 0 {
                self.abstained as f64 / self.estimates as f64
            } else {
                1.0
            },
            corrections: self.corrector.commands(),
            steered_offset_rms_ms: crate::score::rms(&self.steered_offsets_ms),
            steered_offset_p95_ms: {
                let mut o = self.steered_offsets_ms.clone();
                o.sort_by(f64::total_cmp);
                (!o.is_empty()).then(|| quantile(&o, 0.95))
            },
            // No slip is made here: every alert is a false one.
            false_alarms_per_cam_hour: Some(
                self.alerts as f64
                    / ((self.stamp_errors.len().saturating_sub(1)) as f64
                        * self.duration_ns as f64
                        / 3.6e12)
                        .max(1e-9),
            ),
            ..VisualScore::default()
        }
    }
}
