//! What must hold on every swarm run, whatever the seed drew.
//!
//! Safety, over the whole run:
//! - every captured frame is in exactly one frame set or accounted with a
//!   reason (`align.unaccounted_frames == 0`, and no more frames "in flight"
//!   at the end than the pipeline holds);
//! - no frame set holds a frame captured more than half a frame period from
//!   the set's instant, unless its camera flagged it unlocked
//!   (`align.misaligned_frame_sets == 0`);
//! - disciplined time runs forward (see `time_runs_forward`);
//! - on the coordination path, no altered frame is accepted and no camera
//!   applies a command twice (see `commands_applied_once`).
//!
//! Liveness, once the faults have healed and the bound has passed (see
//! `phases.rs`), to the end of the run:
//! - every disciplined clock's true offset stays below the lock threshold;
//! - the hub keeps releasing sets, and every set is complete unless a frame
//!   of it was lost in transport (or its buffer policy says otherwise, see
//!   `allowance`);
//! - in the distributed topology, the agents hold one view of the rig at
//!   the end but for a report in flight (see `agents_agree`).

use super::phases::Phases;
use crate::scenario::{BufferPolicy, Scenario};
use crate::score::Score;
use crate::world::{OffsetSeries, World};

/// One broken invariant: its name (stable, for grouping and shrinking) and
/// what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub invariant: &'static str,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.invariant, self.detail)
    }
}

/// A run and its judgement.
#[derive(Clone, Debug)]
pub struct Checked {
    pub violations: Vec<Violation>,
    pub trace_hash: String,
    pub events: u64,
    pub phases: Phases,
    pub score: Score,
}

/// Runs the scenario with the seed and checks every invariant.
pub fn check(scenario: &Scenario, seed: u64) -> Checked {
    let detail = World::new(scenario, seed).run_detailed();
    let score = detail.score;
    let phases = Phases::of(scenario);
    let mut violations = Vec::new();

    let a = &score.align;
    if a.unaccounted_frames != 0 {
        violations.push(Violation {
            invariant: "frames-accounted",
            detail: format!(
                "{} frames neither in a set nor accounted ({} captured = {} in sets + {} late + {} dropped + {} superseded + {} in flight)",
                a.unaccounted_frames,
                a.frames_captured,
                a.frames_in_sets,
                a.late_frames,
                a.dropped_frames,
                a.superseded_frames,
                a.frames_in_flight_at_end
            ),
        });
    }
    if a.misaligned_frame_sets != 0 {
        violations.push(Violation {
            invariant: "sets-aligned",
            detail: format!(
                "{} frame sets hold a locked camera's frame more than half a period off (worst {} ns)",
                a.misaligned_frame_sets, a.max_alignment_error_ns
            ),
        });
    }
    violations.extend(time_runs_forward(&score));
    violations.extend(commands_applied_once(&score));

    if phases.has_liveness_window() {
        violations.extend(clocks_relock(
            &detail.series,
            &phases,
            scenario.score.lock_threshold.ns(),
        ));
        violations.extend(sets_complete(scenario, seed, &score, &phases));
        violations.extend(agents_agree(&score));
    }
    Checked {
        violations,
        trace_hash: score.trace_hash.clone(),
        events: score.events,
        phases,
        score,
    }
}

/// A report reaches every peer within the path's 2.5 ms; views apart for
/// longer when every fault has long healed mean an agent judges wrong.
pub fn agents_agree(score: &Score) -> Option<Violation> {
    let m = score.mesh.as_ref()?;
    (m.disagreeing_at_end_s > 0.01).then(|| Violation {
        invariant: "agents-agree",
        detail: format!(
            "the agents' views of the rig had differed for {:.3} s when the run ended",
            m.disagreeing_at_end_s
        ),
    })
}

/// Nothing the coordination path altered is believed, and no camera boot
/// applies a command twice (`coordination.corrupted_accepted`,
/// `coordination.applied_twice`).
pub fn commands_applied_once(score: &Score) -> Option<Violation> {
    let c = &score.coordination;
    (c.corrupted_accepted > 0 || c.applied_twice > 0).then(|| Violation {
        invariant: "commands-applied-once",
        detail: format!(
            "{} altered coordination frames accepted, {} commands applied twice",
            c.corrupted_accepted, c.applied_twice
        ),
    })
}

/// Time never runs backwards on a disciplined clock's output once locked:
/// the world compares every camera's capture stamp with its previous one,
/// and every sampled clock reading with the one before
/// (`ptp.time_reversals`).
pub fn time_runs_forward(score: &Score) -> Option<Violation> {
    (score.ptp.time_reversals > 0).then(|| Violation {
        invariant: "time-forward",
        detail: format!(
            "{} times a locked clock's output went back",
            score.ptp.time_reversals
        ),
    })
}

/// Every disciplined clock below the lock threshold from `converged_by` on;
/// the worst sample is reported.
fn clocks_relock(series: &OffsetSeries, phases: &Phases, threshold: i64) -> Option<Violation> {
    let from = series
        .times_ns
        .iter()
        .position(|&t| t >= phases.converged_by())?;
    let mut worst: Option<(i64, usize, usize)> = None;
    let mut unlocked = 0;
    for (c, offsets) in series.offsets_ns.iter().enumerate() {
        let mut bad = false;
        for (k, &o) in offsets.iter().enumerate().skip(from) {
            if o.abs() >= threshold {
                bad = true;
                if worst.is_none_or(|(w, _, _)| o.abs() > w) {
                    worst = Some((o.abs(), c, k));
                }
            }
        }
        unlocked += bad as usize;
    }
    let (offset, c, k) = worst?;
    Some(Violation {
        invariant: "clocks-relock",
        detail: format!(
            "{unlocked} of {} clocks not locked {:.0} s after the faults healed at {:.3} s: \
             {} |offset| {offset} ns ≥ {threshold} ns at {:.3} s",
            series.clocks.len(),
            phases.bound as f64 / 1e9,
            phases.heal as f64 / 1e9,
            series.clocks[c],
            series.times_ns[k] as f64 / 1e9
        ),
    })
}

/// Incomplete sets a buffer policy may leave by design, beyond the frames
/// lost in transport: none for the fixed buffer (the swarm sizes it past the
/// video tail and the bursts); 1 % for the adaptive one (it aims at 99.9 %
/// of sets and learns a burst from its first late sets, and the window is
/// short); any number for neteq, whose target is a per-frame quantile
/// (q0.95): it promises sets, not complete ones.
fn allowance(policy: BufferPolicy, sets: u64) -> u64 {
    match policy {
        BufferPolicy::Fixed => 0,
        BufferPolicy::Adaptive => sets / 100,
        BufferPolicy::Neteq => sets,
    }
}

/// The run cut at `at`: an exact prefix of the full run (the kernel handles
/// events in order and stops at its end), so the full score minus the cut
/// one counts what happened after `at`.
fn run_until(scenario: &Scenario, seed: u64, at: i64) -> Score {
    let mut cut = scenario.clone();
    cut.duration.0.0 = at;
    World::new(&cut, seed).run()
}

/// The liveness window's frame sets: released, and complete unless a frame
/// was lost in transport. A frame lost just before the window may empty a
/// set released in it, so when the window's own losses do not explain its
/// incomplete sets, losses are counted from a release delay earlier.
fn sets_complete(scenario: &Scenario, seed: u64, full: &Score, phases: &Phases) -> Vec<Violation> {
    let prefix = run_until(scenario, seed, phases.converged_by());
    let (f, p) = (&full.align, &prefix.align);
    let mut out = Vec::new();
    // A lost frame of a camera slower than the program leaves every instant
    // it would have filled by rate conversion empty: up to ceil(ref/rate).
    let reference = scenario.hub.reference_rate.0.as_f64();
    let per_lost = scenario
        .cameras
        .iter()
        .map(|g| (reference / g.rate.0.as_f64()).ceil().max(1.0) as u64)
        .max()
        .unwrap_or(1);
    let counters = [
        f.frame_sets.checked_sub(p.frame_sets),
        f.complete_sets.checked_sub(p.complete_sets),
        f.dropped_frames.checked_sub(p.dropped_frames),
        f.frames_captured.checked_sub(p.frames_captured),
    ];
    let [Some(sets), Some(complete), Some(lost), Some(_)] = counters else {
        out.push(Violation {
            invariant: "prefix",
            detail: format!(
                "the run cut at {:.3} s counted more than the whole run: the kernel is not deterministic in its prefix",
                phases.converged_by() as f64 / 1e9
            ),
        });
        return out;
    };
    let window = format!(
        "from {:.3} s (faults healed at {:.3} s + {:.0} s) to {:.3} s",
        phases.converged_by() as f64 / 1e9,
        phases.heal as f64 / 1e9,
        phases.bound as f64 / 1e9,
        phases.end as f64 / 1e9
    );
    if sets == 0 {
        out.push(Violation {
            invariant: "sets-complete",
            detail: format!("no frame set released {window}"),
        });
    } else if sets - complete > lost * per_lost + allowance(scenario.hub.policy, sets) {
        let release = scenario.hub.buffer.ns().max(scenario.hub.max_latency.ns());
        let earlier = run_until(
            scenario,
            seed,
            (phases.converged_by() - release - 1_000_000_000).max(0),
        );
        let lost = f
            .dropped_frames
            .saturating_sub(earlier.align.dropped_frames);
        if sets - complete <= lost * per_lost + allowance(scenario.hub.policy, sets) {
            return out;
        }
        out.push(Violation {
            invariant: "sets-complete",
            detail: format!(
                "{} of {sets} frame sets incomplete {window}, with only {lost} frames lost in transport ({} late)",
                sets - complete,
                f.late_frames.saturating_sub(p.late_frames)
            ),
        });
    }
    out
}
