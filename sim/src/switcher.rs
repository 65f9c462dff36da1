//! A program switcher consuming the hub's frame sets, as a vision mixer would:
//! it stays on one camera for one to four seconds, then cuts to another. A cut
//! is bad when the incoming picture is not from the same instant as the set
//! it is in — a missing frame, a concealment repeat, or a frame whose true
//! capture lies more than half its own period from the instant — because the
//! viewer would see time jump at the cut.

use crate::rng::Stream;
use camsync_engine::frame::{FrameSet, Slot};
use rand::RngExt;

pub struct Switcher {
    program: usize,
    next_cut: Option<i64>,
    /// Sets per second of the cadence: cuts come 1–4 s apart.
    sets_per_second: i64,
    rng: Stream,
    pub cuts: u64,
    pub bad_cuts: u64,
}

impl Switcher {
    pub fn new(sets_per_second: i64, rng: Stream) -> Self {
        Switcher {
            program: 0,
            next_cut: None,
            sets_per_second: sets_per_second.max(1),
            rng,
            cuts: 0,
            bad_cuts: 0,
        }
    }

    /// `truth(c)` is the true capture instant of the frame camera `c` has in
    /// its one place in this set, when it has one.
    pub fn on_set(&mut self, set: &FrameSet, truth: impl Fn(usize) -> Option<i64>) {
        let cameras = set.slots.len();
        let s = self.sets_per_second;
        let next = *self
            .next_cut
            .get_or_insert_with(|| set.index + self.rng.random_range(s..=4 * s));
        if cameras < 2 || set.index < next {
            return;
        }
        self.next_cut = Some(set.index + self.rng.random_range(s..=4 * s));
        let mut incoming = self.rng.random_range(0..cameras - 1);
        if incoming >= self.program {
            incoming += 1;
        }
        self.program = incoming;
        self.cuts += 1;
        let good = match &set.slots[incoming] {
            Slot::Frame(f) => truth(incoming).is_some_and(|t| {
                // |t − reference| ≤ period/2, plus 1 µs for the stamps.
                2 * ((t - set.reference.0).abs() - 1_000) <= f.rate.period().0
            }),
            slot => slot.is_proper(),
        };
        if !good {
            self.bad_cuts += 1;
        }
    }
}
