//! Ground truth only the simulator knows: the true PTP time (the grandmaster's
//! reading) at which every frame was captured, kept until the frame is accounted.

use std::collections::VecDeque;

#[derive(Default)]
pub struct FrameTruth {
    cameras: Vec<CameraTruth>,
}

#[derive(Default)]
struct CameraTruth {
    /// Sequence number of `pending[0]`.
    base: u64,
    pending: VecDeque<Option<i64>>,
}

impl FrameTruth {
    pub fn new(cameras: usize) -> Self {
        FrameTruth {
            cameras: (0..cameras).map(|_| CameraTruth::default()).collect(),
        }
    }

    /// Records a capture; sequence numbers of one camera come in order.
    pub fn captured(&mut self, camera: usize, seq: u64, true_ptp: i64) {
        let c = &mut self.cameras[camera];
        if c.pending.is_empty() {
            c.base = seq;
        }
        debug_assert_eq!(seq, c.base + c.pending.len() as u64, "frames out of order");
        c.pending.push_back(Some(true_ptp));
    }

    /// Takes a frame's truth as it is accounted; `None` if unknown or taken twice.
    pub fn take(&mut self, camera: usize, seq: u64) -> Option<i64> {
        let c = self.cameras.get_mut(camera)?;
        let i = seq.checked_sub(c.base)? as usize;
        let v = c.pending.get_mut(i)?.take();
        while let Some(None) = c.pending.front() {
            c.pending.pop_front();
            c.base += 1;
        }
        v
    }

    /// Frames captured and not yet accounted.
    /// Whether a frame is captured and not yet taken.
    pub fn pending(&self, camera: usize, seq: u64) -> bool {
        self.cameras.get(camera).is_some_and(|c| {
            seq.checked_sub(c.base)
                .and_then(|i| c.pending.get(i as usize))
                .is_some_and(Option::is_some)
        })
    }

    pub fn outstanding(&self) -> u64 {
        self.cameras
            .iter()
            .map(|c| c.pending.iter().filter(|v| v.is_some()).count() as u64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_taken_once_in_any_order() {
        let mut t = FrameTruth::new(1);
        for s in 0..4 {
            t.captured(0, s, 100 + s as i64);
        }
        assert_eq!(t.take(0, 2), Some(102));
        assert_eq!(t.take(0, 2), None);
        assert_eq!(t.take(0, 0), Some(100));
        assert_eq!(t.outstanding(), 2);
        assert_eq!(t.take(0, 9), None);
        assert_eq!(t.take(3, 0), None);
    }
}
