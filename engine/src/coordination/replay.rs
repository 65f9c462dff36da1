//! Anti-replay for one sender: a sliding window over sequence numbers, kept
//! as a bitmap as IPsec (RFC 4303 §3.4.3) and WireGuard do, plus the
//! sender's epoch.
//!
//! The window remembers the highest sequence number accepted and which of
//! the [`ReplayWindow::SIZE`] numbers below it were accepted too. A frame is
//! new when its number is above the highest (any gap is loss, tolerated), or
//! inside the window and not seen yet (reordering, accepted once). A number
//! seen already is a duplicate; one below the window is too old to tell and
//! is refused. A larger epoch means the sender restarted and counts from the
//! start again: the window is reset. A smaller epoch is a frame from before
//! that restart, refused.
//!
//! Check after authenticating, record only what is accepted: a forged frame
//! must never move the window.

use super::wire::Epoch;

/// Why a sequence number was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// Accepted before: a replay (or a duplicate the network made).
    #[error("sequence {sequence} was already received")]
    Duplicate { sequence: u64 },
    /// Below the window, where duplicates can no longer be told apart.
    #[error("sequence {sequence} is too old: the window ends at {highest}")]
    TooOld { sequence: u64, highest: u64 },
    /// From an earlier boot of the sender.
    #[error("epoch {epoch} is older than the sender's current epoch {current}")]
    OldEpoch { epoch: u32, current: u32 },
}

impl ReplayError {
    /// A frame seen already, as opposed to one too old to tell.
    pub fn is_duplicate(self) -> bool {
        matches!(self, ReplayError::Duplicate { .. })
    }
}

/// What a sequence number that passes [`ReplayWindow::check`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fresh {
    /// Within the current epoch.
    SameEpoch,
    /// The first of a new epoch: the sender restarted.
    NewEpoch,
}

/// The replay state of one sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayWindow {
    epoch: Epoch,
    highest: u64,
    /// Bit i set: `highest - i` was accepted.
    seen: u128,
}

impl ReplayWindow {
    /// How many sequence numbers, the highest included, the window spans.
    pub const SIZE: u64 = u128::BITS as u64;

    /// The window after a sender's first accepted frame.
    pub fn new(epoch: Epoch, sequence: u64) -> Self {
        ReplayWindow {
            epoch,
            highest: sequence,
            seen: 1,
        }
    }

    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The highest sequence number accepted in the current epoch.
    pub fn highest(&self) -> u64 {
        self.highest
    }

    /// Whether `(epoch, sequence)` would be accepted; changes nothing.
    pub fn check(&self, epoch: Epoch, sequence: u64) -> Result<Fresh, ReplayError> {
        if epoch > self.epoch {
            return Ok(Fresh::NewEpoch);
        }
        if epoch < self.epoch {
            return Err(ReplayError::OldEpoch {
                epoch: epoch.0,
                current: self.epoch.0,
            });
        }
        if sequence > self.highest {
            return Ok(Fresh::SameEpoch);
        }
        let behind = self.highest - sequence;
        if behind >= Self::SIZE {
            return Err(ReplayError::TooOld {
                sequence,
                highest: self.highest,
            });
        }
        if self.seen & (1 << behind) != 0 {
            return Err(ReplayError::Duplicate { sequence });
        }
        Ok(Fresh::SameEpoch)
    }

    /// Marks `(epoch, sequence)` accepted. Call only after
    /// [`ReplayWindow::check`] passed for it.
    pub fn record(&mut self, epoch: Epoch, sequence: u64) {
        if epoch != self.epoch {
            *self = ReplayWindow::new(epoch, sequence);
        } else if sequence > self.highest {
            let ahead = sequence - self.highest;
            self.seen = if ahead >= Self::SIZE {
                0
            } else {
                self.seen << ahead
            };
            self.seen |= 1;
            self.highest = sequence;
        } else {
            let behind = self.highest - sequence;
            if behind < Self::SIZE {
                self.seen |= 1 << behind;
            }
        }
    }

    /// [`ReplayWindow::check`], then [`ReplayWindow::record`] if it passes.
    pub fn accept(&mut self, epoch: Epoch, sequence: u64) -> Result<Fresh, ReplayError> {
        let fresh = self.check(epoch, sequence)?;
        self.record(epoch, sequence);
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const E: Epoch = Epoch(1);

    #[test]
    fn duplicates_are_refused_and_gaps_are_loss() {
        let mut w = ReplayWindow::new(E, 10);
        assert_eq!(
            w.accept(E, 10),
            Err(ReplayError::Duplicate { sequence: 10 })
        );
        assert_eq!(w.accept(E, 50), Ok(Fresh::SameEpoch));
        assert_eq!(
            w.accept(E, 50),
            Err(ReplayError::Duplicate { sequence: 50 })
        );
        assert_eq!(w.highest(), 50);
    }

    #[test]
    fn reordering_within_the_window_is_accepted_once() {
        let mut w = ReplayWindow::new(E, 1000);
        for s in [997, 999, 998] {
            assert_eq!(w.accept(E, s), Ok(Fresh::SameEpoch));
        }
        for s in [997, 998, 999, 1000] {
            assert_eq!(w.accept(E, s), Err(ReplayError::Duplicate { sequence: s }));
        }
        let oldest = 1000 - (ReplayWindow::SIZE - 1);
        assert_eq!(w.accept(E, oldest), Ok(Fresh::SameEpoch));
        assert_eq!(
            w.accept(E, oldest - 1),
            Err(ReplayError::TooOld {
                sequence: oldest - 1,
                highest: 1000
            })
        );
    }

    #[test]
    fn a_jump_past_the_window_forgets_it() {
        let mut w = ReplayWindow::new(E, 5);
        assert_eq!(w.accept(E, 5 + 1000), Ok(Fresh::SameEpoch));
        assert!(matches!(w.check(E, 5), Err(ReplayError::TooOld { .. })));
        assert_eq!(w.accept(E, 1004), Ok(Fresh::SameEpoch));
        assert_eq!(w.accept(E, u64::MAX), Ok(Fresh::SameEpoch));
        assert_eq!(
            w.accept(E, u64::MAX),
            Err(ReplayError::Duplicate { sequence: u64::MAX })
        );
    }

    #[test]
    fn a_new_epoch_resets_and_an_old_one_is_refused() {
        let mut w = ReplayWindow::new(E, 1000);
        assert_eq!(w.accept(Epoch(2), 0), Ok(Fresh::NewEpoch));
        assert_eq!(w.epoch(), Epoch(2));
        assert_eq!(w.accept(Epoch(2), 1), Ok(Fresh::SameEpoch));
        assert_eq!(
            w.accept(E, 1001),
            Err(ReplayError::OldEpoch {
                epoch: 1,
                current: 2
            })
        );
    }

    proptest! {
        /// Against a model that remembers every number: the window accepts
        /// each number at most once, and accepts every unseen number that
        /// is within the window.
        #[test]
        fn the_window_matches_a_model(
            first in 0u64..1000,
            seqs in proptest::collection::vec(0u64..1400, 1..300),
        ) {
            let mut w = ReplayWindow::new(E, first);
            let mut seen = std::collections::BTreeSet::from([first]);
            for s in seqs {
                let highest = *seen.last().unwrap();
                let expect_ok = !seen.contains(&s) && s + ReplayWindow::SIZE > highest;
                let got = w.accept(E, s);
                prop_assert_eq!(got.is_ok(), expect_ok, "seq {} highest {}", s, highest);
                if got.is_ok() {
                    seen.insert(s);
                }
                prop_assert_eq!(w.highest(), *seen.last().unwrap());
            }
        }
    }
}
