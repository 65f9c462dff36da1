//! Shrinking a failing fault schedule: the fewest faults that still fail
//! (delta debugging, Zeller's ddmin), then each one shorter and smaller
//! while it still fails. Every step re-runs the (deterministic) predicate,
//! and the order of tries is fixed, so the same failure shrinks to the same
//! schedule every time.

use super::faults::FaultDraw;

/// The shortest a fault is shrunk to, ns.
const SHORTEST_NS: i64 = 100_000_000;

/// A subset of `items`, in their order, on which `fails` still holds and
/// from which no single item can be removed (1-minimal). `fails(items)` is
/// taken to hold.
pub fn ddmin<T: Clone>(items: &[T], fails: &mut dyn FnMut(&[T]) -> bool) -> Vec<T> {
    let mut items = items.to_vec();
    if items.is_empty() || fails(&[]) {
        return Vec::new();
    }
    let mut n = 2usize;
    while items.len() >= 2 {
        let chunk = items.len().div_ceil(n);
        let parts: Vec<Vec<T>> = items.chunks(chunk).map(<[T]>::to_vec).collect();
        let mut reduced = false;
        for part in &parts {
            if fails(part) {
                items = part.clone();
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && parts.len() > 2 {
            for i in 0..parts.len() {
                let complement: Vec<T> = parts
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, p)| p.iter().cloned())
                    .collect();
                if fails(&complement) {
                    items = complement;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= items.len() {
                break;
            }
            n = (2 * n).min(items.len());
        }
    }
    items
}

/// The schedule made minimal: ddmin over the faults, then each fault's
/// duration halved and its size stepped down (by its kind's rule) while the
/// schedule still fails. At most `budget` runs of `fails`.
pub fn shrink_schedule(
    faults: &[FaultDraw],
    budget: usize,
    fails: &mut dyn FnMut(&[FaultDraw]) -> bool,
) -> Vec<FaultDraw> {
    let mut runs = 0usize;
    let mut counted = |s: &[FaultDraw]| {
        if runs >= budget {
            return false;
        }
        runs += 1;
        fails(s)
    };
    let mut schedule = ddmin(faults, &mut counted);
    for i in 0..schedule.len() {
        // Shorter: half as long, in whole milliseconds.
        while let Some(d) = schedule[i].duration {
            let half = (d / 2 / 1_000_000) * 1_000_000;
            if half < SHORTEST_NS {
                break;
            }
            let mut trial = schedule.clone();
            trial[i].duration = Some(half);
            if !counted(&trial) {
                break;
            }
            schedule = trial;
        }
        // Smaller, by the kind's own rule.
        while let Some(smaller) = schedule[i].smaller() {
            let mut trial = schedule.clone();
            trial[i] = smaller;
            if !counted(&trial) {
                break;
            }
            schedule = trial;
        }
    }
    schedule
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::FaultKind;

    #[test]
    fn ddmin_finds_the_two_culprits() {
        let items: Vec<u32> = (0..20).collect();
        let mut calls = 0;
        let got = ddmin(&items, &mut |s: &[u32]| {
            calls += 1;
            s.contains(&3) && s.contains(&11)
        });
        assert_eq!(got, vec![3, 11]);
        assert!(calls < 60, "{calls} calls");
    }

    #[test]
    fn ddmin_of_a_failure_needing_nothing_is_empty() {
        assert_eq!(ddmin(&[1, 2, 3], &mut |_: &[i32]| true), Vec::<i32>::new());
    }

    fn jitter(at_s: i64, secs: i64, factor: f64) -> FaultDraw {
        FaultDraw {
            kind: FaultKind::VideoJitter,
            at: at_s * 1_000_000_000,
            duration: Some(secs * 1_000_000_000),
            by: 0,
            target: None,
            ppb: 0.0,
            factor,
            probability: 0.0,
            burst: 0.0,
            period: None,
        }
    }

    /// A synthetic bug: it shows when some video-jitter step of at least x2
    /// lasts at least 2 s, and a frequency step is also scheduled.
    #[test]
    fn schedules_shrink_to_the_culprit_shortened_and_smaller() {
        let freq = FaultDraw {
            kind: FaultKind::FrequencyStep,
            ppb: 800.0,
            ..jitter(30, 10, 1.0)
        };
        let faults = vec![
            jitter(12, 5, 0.5),
            jitter(20, 40, 4.84),
            freq.clone(),
            jitter(50, 3, 1.5),
        ];
        let fails = |s: &[FaultDraw]| {
            s.iter().any(|f| {
                f.kind == FaultKind::VideoJitter
                    && f.factor >= 2.0
                    && f.duration.unwrap() >= 2_000_000_000
            }) && s.iter().any(|f| f.kind == FaultKind::FrequencyStep)
        };
        let once = shrink_schedule(&faults, 500, &mut |s| fails(s));
        let twice = shrink_schedule(&faults, 500, &mut |s| fails(s));
        assert_eq!(once, twice, "deterministic");
        assert_eq!(once.len(), 2, "{once:?}");
        let j = &once[0];
        assert_eq!(j.kind, FaultKind::VideoJitter);
        assert_eq!(j.duration, Some(2_500_000_000), "40 s halved while ≥ 2 s");
        assert_eq!(j.factor, 2.2, "√4.84, then √2.2 < 2 fails");
        let f = &once[1];
        assert_eq!(
            f.duration,
            Some(156_000_000),
            "10 s halved six times, to whole ms"
        );
        assert_eq!(f.ppb, 1.0, "halved to the last step");
        assert!(fails(&once));
    }

    #[test]
    fn the_budget_bounds_the_runs() {
        let faults: Vec<FaultDraw> = (0..16).map(|i| jitter(i, 10, 3.0)).collect();
        let mut runs = 0;
        let _ = shrink_schedule(&faults, 7, &mut |_| {
            runs += 1;
            true
        });
        assert!(runs <= 7);
    }
}
