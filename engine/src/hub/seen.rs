//! Which sequence numbers of one camera the hub has already received: a
//! sliding bitmap over the last `SPAN` numbers, so a duplicate (a frame sent
//! twice by the network or a retransmitting encoder) is recognised in
//! constant time and memory.

const SPAN: u64 = 1024;
const WORDS: usize = (SPAN / 64) as usize;

#[derive(Clone, Debug)]
pub struct SeenSequences {
    highest: Option<u64>,
    bits: [u64; WORDS],
}

impl Default for SeenSequences {
    fn default() -> Self {
        SeenSequences {
            highest: None,
            bits: [0; WORDS],
        }
    }
}

impl SeenSequences {
    fn bit(seq: u64) -> (usize, u64) {
        let i = seq % SPAN;
        ((i / 64) as usize, 1 << (i % 64))
    }

    /// Records `seq`; false when it had been received before. A number more
    /// than `SPAN` below the highest is too old to tell and counts as new (the
    /// hub refuses it as late anyway).
    pub fn insert(&mut self, seq: u64) -> bool {
        match self.highest {
            Some(h) if seq <= h => {
                if h - seq >= SPAN {
                    return true;
                }
                let (w, m) = Self::bit(seq);
                let new = self.bits[w] & m == 0;
                self.bits[w] |= m;
                new
            }
            _ => {
                // Forget the numbers the window slides past.
                let from = self.highest.map_or(seq, |h| h + 1);
                if seq - from >= SPAN {
                    self.bits = [0; WORDS];
                } else {
                    for s in from..=seq {
                        let (w, m) = Self::bit(s);
                        self.bits[w] &= !m;
                    }
                }
                self.highest = Some(seq);
                let (w, m) = Self::bit(seq);
                self.bits[w] |= m;
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_in_any_order() {
        let mut s = SeenSequences::default();
        assert!(s.insert(5));
        assert!(s.insert(3));
        assert!(!s.insert(5));
        assert!(!s.insert(3));
        assert!(s.insert(4));
        assert!(s.insert(5 + SPAN - 1));
        assert!(!s.insert(5 + SPAN - 1));
        // 5 slid out of the window and its bit was reused.
        assert!(s.insert(5 + 2 * SPAN + 7));
        assert!(s.insert(5 + 2 * SPAN + 6));
        assert!(!s.insert(5 + 2 * SPAN + 6));
    }
}
