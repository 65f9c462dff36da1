//! The score of a run against ground truth, and the `[expect]` verdict.

use crate::scenario::Scenario;
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Score {
    pub scenario: String,
    pub seed: u64,
    pub duration_s: f64,
    pub trace_hash: String,
    pub events: u64,
    pub ptp: PtpScore,
    pub align: AlignScore,
    pub buffer: BufferScore,
    pub switch: SwitchScore,
    /// Present when the scenario has a `[visual]` tier.
    pub visual: Option<VisualScore>,
    pub health: HealthScore,
    pub coordination: CoordinationScore,
    /// Present in the distributed topology.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mesh: Option<MeshScore>,
    pub expect: ExpectVerdict,
}

/// The distributed topology: every camera's agent judges every agent from
/// the reports they all send to all, with no hub. How far their views
/// differed over the run (true time): while a report or a liveness timeout
/// is on its way views differ by milliseconds; while an agent is cut off,
/// it and the others see each other lost — for as long as the cut lasts.
/// Agents down (crashed) hold no view and are not compared.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MeshScore {
    pub agents: u64,
    /// Seconds during which the agents up did not all hold the same state
    /// for every agent.
    pub disagreement_s: f64,
    /// The longest such stretch.
    pub longest_disagreement_s: f64,
    /// 1 if every agent up holds the same view at the end.
    pub agree_at_end: u64,
    /// How long they had disagreed when the run ended (0 if they agree): a
    /// report still in flight, or a split that lasts.
    pub disagreeing_at_end_s: f64,
    /// Alerts raised by all agents together (the health section holds the
    /// first camera's agent's, as its operator hears them).
    pub alerts: u64,
}

/// Camera and cluster health as the hub judged it from its cameras' status
/// reports (the engine's `health` module): what an operator's dashboard
/// shows over a run — how long cameras spent in each state, how often they
/// changed, and the alerts raised. Times are camera-seconds summed over
/// every camera (a second with two cameras lost is 2 `lost_s`), on the
/// judge's clock — the hub's, or in the distributed topology cam0's
/// agent's; while the judge is down nobody judges, and nothing is counted.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HealthScore {
    /// Not locked yet since the hub has known it.
    pub acquiring_s: f64,
    pub locked_s: f64,
    /// Locked, but reporting offsets beyond the lock threshold.
    pub degraded_s: f64,
    pub holdover_s: f64,
    /// Re-acquiring after having been locked.
    pub resyncing_s: f64,
    /// No report within the liveness timeout.
    pub lost_s: f64,
    /// Cluster-seconds with a camera in trouble, and with every camera lost.
    pub cluster_degraded_s: f64,
    pub cluster_down_s: f64,
    /// Camera state changes.
    pub transitions: u64,
    pub cameras_locked_at_end: u64,
    /// Status reports the hub accepted.
    pub reports: u64,
    /// Health alerts raised, in all and by kind.
    pub alerts: u64,
    pub alert_kinds: std::collections::BTreeMap<String, u64>,
}

/// The coordination path between the hub and its cameras: frames (status
/// reports, heartbeats, commands and their acknowledgements) and what
/// became of them; commands and how they were applied.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CoordinationScore {
    pub frames_sent: u64,
    pub frames_delivered: u64,
    /// Cut by a partition, dropped by a `coordination-corruption` fault, or
    /// reaching a host that was down.
    pub frames_lost: u64,
    pub frames_duplicated: u64,
    /// Bit-flipped or cut short on the path.
    pub frames_corrupted: u64,
    /// Delivered, and refused by the receiving endpoint, for any reason.
    pub rejected_frames: u64,
    pub malformed_frames: u64,
    pub unauthenticated_frames: u64,
    /// Refused by a replay window (duplicates, and too old to tell).
    pub replayed_frames: u64,
    /// Copies of commands already applied, refused (and acknowledged again).
    pub duplicate_commands: u64,
    /// Corrupted frames delivered and refused, and (must be 0) accepted.
    pub corrupted_rejected: u64,
    pub corrupted_accepted: u64,
    /// Adjustment commands the hub sent, that cameras applied, that the hub
    /// saw acknowledged, and that it dropped because their camera restarted.
    pub commands_sent: u64,
    pub commands_applied: u64,
    pub commands_acknowledged: u64,
    pub commands_cancelled: u64,
    pub retransmissions: u64,
    /// Must be 0: a command applied a second time by the same camera boot.
    pub applied_twice: u64,
    /// The longest time from a command's sending to its acknowledgement.
    pub command_ack_max_ms: f64,
}

/// The visual offset estimator against the true capture offsets.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VisualScore {
    /// Per-camera estimates made (one per camera and update), abstentions
    /// included.
    pub estimates: u64,
    /// |estimate − true offset| over the estimates not abstained (ms).
    pub offset_err_median_ms: Option<f64>,
    pub offset_err_p95_ms: Option<f64>,
    /// √(mean squared error) over the same estimates (ms): σ with any bias.
    pub offset_err_rms_ms: Option<f64>,
    pub abstain_ratio: f64,
    /// |fitted drift − true drift| over the estimates that fitted one (ppm;
    /// null without any).
    pub drift_err_median_ppm: Option<f64>,
    /// Slips found within three frame sets, of slips made (null: none made).
    pub slip_recall: Option<f64>,
    /// Slips named by an alert, but later than three frame sets.
    pub slips_late: u64,
    pub false_alarms_per_cam_hour: Option<f64>,
    /// Adjustment commands the hybrid loop sent.
    pub corrections: u64,
    /// The hybrid loop: how far the cameras the pictures steer truly are
    /// from the PTP-locked reference (|difference of their stamp errors|,
    /// every frame from their first correction on; ms). Null elsewhere.
    pub steered_offset_rms_ms: Option<f64>,
    pub steered_offset_p95_ms: Option<f64>,
    /// CPU of feature extraction and correlation per camera-frame (null when
    /// not measured: the deterministic test runs).
    pub cpu_ms_per_cam_frame: Option<f64>,
}

/// √(mean of squares); `None` for no values.
pub fn rms(values: &[f64]) -> Option<f64> {
    (!values.is_empty())
        .then(|| (values.iter().map(|v| v * v).sum::<f64>() / values.len() as f64).sqrt())
}

/// The simulator's program switcher (see `switcher.rs`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct SwitchScore {
    pub cuts: u64,
    /// Cuts whose incoming picture was not from the set's instant.
    pub bad_cuts: u64,
}

/// The hub's buffer against an oracle that knew every arrival in advance.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BufferScore {
    pub policy: String,
    pub added_latency_p50_ms: f64,
    pub added_latency_p99_ms: f64,
    /// Per set, the smallest fixed delay that would have completed 99.9 % of
    /// the sets of its 10 s window; the median over sets.
    pub oracle_latency_p50_ms: f64,
    pub latency_vs_oracle: f64,
    /// Seconds from a jitter step up until the first whole second of complete
    /// sets (the worst step's); null without a step up.
    pub reconverge_s: Option<f64>,
    /// After a jitter step down: the fastest fall of the added latency over
    /// one second, and how often it rose by over 1 ms (sampled each second
    /// for a minute). Null without a step down.
    pub max_descent_ms_per_s: Option<f64>,
    pub rises_after_step_down: Option<u64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PtpScore {
    /// Over every disciplined clock's true offset from the grandmaster, sampled
    /// after all clocks locked (the whole run when they never did).
    pub offset_rms_ns: f64,
    pub offset_p99_abs_ns: f64,
    pub offset_max_abs_ns: f64,
    /// Peak-to-peak of the signed offset after lock, the worst clock's.
    pub offset_pp_ns: f64,
    /// When the last clock locked (|offset| below the threshold, held); null when
    /// some clock never did.
    pub time_to_lock_s: Option<f64>,
    pub clocks: u64,
    pub locked_clocks: u64,
    pub lock_threshold_ns: f64,
    pub servo_updates: u64,
    pub clock_steps: u64,
    /// Steps after a first lock taken as a graceful resync (`resync = "slew"`).
    pub slewed_resyncs: u64,
    pub packets_sent: u64,
    pub packets_lost: u64,
    pub malformed_packets: u64,
    /// Refused on security grounds: a master off the acceptable list, failed
    /// authentication, a replay.
    pub rejected_messages: u64,
    pub mean_path_delay_ns: f64,
    /// Worst |offset| while the grandmaster was silent (holdover), and the same
    /// for an oracle that knew each oscillator's true frequency when it fell
    /// silent and held exactly that. Null without a holdover fault.
    pub holdover_max_abs_ns: Option<f64>,
    pub holdover_oracle_max_abs_ns: Option<f64>,
    /// Seconds from the end of the last fault until every clock is back below
    /// the lock threshold for good. Null without faults, or never recovered.
    pub recover_s: Option<f64>,
    pub holdovers: u64,
    /// How often slaves changed master after their first choice (failover).
    pub gm_changes: u64,
    /// Must be 0: times a disciplined clock's output ran backwards (a
    /// camera's capture stamp not after its previous one, a clock read
    /// earlier than at the sample before).
    pub time_reversals: u64,
    /// TAI − UTC as the hub's port last heard it announced (null: never).
    pub utc_offset_s: Option<f64>,
    /// Alerts raised for operators, in all and by kind.
    pub alerts: u64,
    pub alert_kinds: std::collections::BTreeMap<String, u64>,
    /// Every disciplined clock: its true offset, and its servo's own figures
    /// over the run (what ptp4l's summary lines report).
    pub per_clock: Vec<ClockScore>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ClockScore {
    pub clock: String,
    /// The port's state when the run ended.
    pub port_state: String,
    pub true_offset_rms_ns: f64,
    pub locked_at_s: Option<f64>,
    pub servo: Option<camsync_engine::ptp::summary::SummaryFigures>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct AlignScore {
    pub frame_sets: u64,
    pub complete_sets: u64,
    pub complete_ratio: f64,
    /// Sets holding a frame whose true capture instant is more than half a
    /// frame period (the camera's, or the cadence's if longer) from the set's
    /// reference instant.
    pub misaligned_frame_sets: u64,
    /// Frames placed while their camera flagged itself unlocked (before its
    /// first lock, or after losing it): not judged for misalignment.
    pub unlocked_frames: u64,
    /// The largest |true capture instant − reference instant| of any member.
    pub max_alignment_error_ns: f64,
    /// The largest |stamp − true capture instant| of any frame.
    pub max_stamp_error_ns: f64,
    /// Once a camera has locked, how far its stamps' error moved from one
    /// frame to the next, at most: a step of its clock shows here whole, a
    /// graceful resync as its rate times the frame period.
    pub max_timeline_jump_ns: f64,
    /// Frame-to-frame moves beyond 100 µs (five times what a 500 ppm slew
    /// moves a 25 fps frame): jumps in a camera's timeline.
    pub timeline_jumps: u64,
    pub frames_captured: u64,
    pub frames_in_sets: u64,
    pub late_frames: u64,
    /// Lost in transport, or refused by the hub as out of its window.
    pub dropped_frames: u64,
    /// Of those, lost with the hub: arriving while it was down, or held by
    /// it when it went.
    pub frames_lost_at_hub: u64,
    /// Not used because another frame of the same camera was nearer the instant.
    pub superseded_frames: u64,
    pub frames_in_flight_at_end: u64,
    /// Must be 0: frames neither in a set nor accounted with a reason.
    pub unaccounted_frames: u64,
    /// Second copies of frames already received (counted apart: the first
    /// copy is where the frame is accounted).
    pub duplicate_frames: u64,
    /// Frames in a set that, by the hub's rule applied to their true capture
    /// instant, belong to another instant beyond their stamp's stated
    /// uncertainty.
    pub wrong_assignments: u64,
    /// Camera slots released without a frame, and slots the repeat policy
    /// filled with a previous frame.
    pub missing_slots: u64,
    pub concealed_slots: u64,
    /// Release time minus reference instant, over sets (true PTP time).
    pub added_latency_p50_ms: f64,
    pub added_latency_p99_ms: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ExpectVerdict {
    pub passed: bool,
    pub failures: Vec<String>,
}

impl Score {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("scores serialise")
    }

    /// A numeric score value by dotted key ("ptp.offset_rms_ns").
    pub fn value(&self, key: &str) -> Option<f64> {
        let mut v = &self.to_json();
        for part in key.split('.') {
            v = v.get(part)?;
        }
        v.as_f64()
    }

    /// Every key an `[expect]` table may name.
    pub fn known_key(key: &str) -> bool {
        let (section, name) = match key.split_once('.') {
            Some(x) => x,
            None => return false,
        };
        let template = Score {
            ptp: PtpScore {
                time_to_lock_s: Some(0.0),
                holdover_max_abs_ns: Some(0.0),
                holdover_oracle_max_abs_ns: Some(0.0),
                recover_s: Some(0.0),
                utc_offset_s: Some(0.0),
                ..Default::default()
            },
            buffer: BufferScore {
                reconverge_s: Some(0.0),
                max_descent_ms_per_s: Some(0.0),
                rises_after_step_down: Some(0),
                ..Default::default()
            },
            visual: Some(VisualScore {
                offset_err_median_ms: Some(0.0),
                offset_err_p95_ms: Some(0.0),
                offset_err_rms_ms: Some(0.0),
                slip_recall: Some(0.0),
                false_alarms_per_cam_hour: Some(0.0),
                cpu_ms_per_cam_frame: Some(0.0),
                drift_err_median_ppm: Some(0.0),
                steered_offset_rms_ms: Some(0.0),
                steered_offset_p95_ms: Some(0.0),
                ..Default::default()
            }),
            mesh: Some(MeshScore::default()),
            ..Default::default()
        }
        .to_json();
        matches!(
            section,
            "ptp" | "align" | "buffer" | "switch" | "visual" | "health" | "coordination" | "mesh"
        ) && template
            .get(section)
            .and_then(|s| s.get(name))
            .is_some_and(|v| v.is_number())
    }

    /// Checks the scenario's `[expect]` table; a missing value (a clock that
    /// never locked) fails any bound on it.
    pub fn judge(&mut self, scenario: &Scenario) {
        let mut failures = Vec::new();
        for (section, keys) in &scenario.expect {
            for (key, bound) in keys {
                let full = format!("{section}.{}", key.get_ref());
                let value = self.value(&full);
                let shown = value.map_or("null".to_string(), |v| format!("{v}"));
                if let Some(max) = bound.max
                    && value.is_none_or(|v| v > max)
                {
                    failures.push(format!("{full} = {shown}, expected ≤ {max}"));
                }
                if let Some(min) = bound.min
                    && value.is_none_or(|v| v < min)
                {
                    failures.push(format!("{full} = {shown}, expected ≥ {min}"));
                }
            }
        }
        self.expect = ExpectVerdict {
            passed: failures.is_empty(),
            failures,
        };
    }
}

/// Exact quantile by nearest rank over a sorted slice.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_are_the_numeric_score_fields() {
        assert!(Score::known_key("ptp.offset_rms_ns"));
        assert!(Score::known_key("ptp.time_to_lock_s"));
        assert!(Score::known_key("align.misaligned_frame_sets"));
        assert!(!Score::known_key("ptp.offset_rms"));
        assert!(!Score::known_key("trace_hash"));
        assert!(!Score::known_key("expect.passed"));
    }

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
