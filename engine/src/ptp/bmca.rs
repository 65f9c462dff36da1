//! The best master clock algorithm (IEEE 1588-2019 §9.3): which of the masters a
//! port hears it should follow.
//!
//! Announce messages fill a foreign-master table. A master is *qualified* once
//! two of its Announces arrived within four announce intervals, and forgotten
//! when none arrived for the announce receipt timeout. Qualified masters are
//! ranked by their grandmaster's dataset — priority1, clockClass, clockAccuracy,
//! offsetScaledLogVariance, priority2, clockIdentity, lower wins — and, for the
//! same grandmaster, by stepsRemoved and then the sender's port identity.

use super::wire::{AnnounceBody, ClockIdentity, ClockQuality, PortIdentity};
use crate::time::{Nanos, Time};
use core::cmp::Ordering;
use std::collections::BTreeMap;

/// Announces needed inside the qualification window (§9.3.2.4.3).
const FOREIGN_MASTER_THRESHOLD: usize = 2;
/// The qualification window, in announce intervals.
const FOREIGN_MASTER_WINDOW: i64 = 4;

/// What a master says of its grandmaster, as the BMCA compares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MasterDataset {
    pub priority1: u8,
    pub clock_quality: ClockQuality,
    pub priority2: u8,
    pub grandmaster: ClockIdentity,
    pub steps_removed: u16,
    /// The port the Announce came from.
    pub sender: PortIdentity,
}

impl MasterDataset {
    pub fn from_announce(body: &AnnounceBody, sender: PortIdentity) -> Self {
        MasterDataset {
            priority1: body.grandmaster_priority1,
            clock_quality: body.grandmaster_clock_quality,
            priority2: body.grandmaster_priority2,
            grandmaster: body.grandmaster_identity,
            steps_removed: body.steps_removed,
            sender,
        }
    }

    /// `Less` when `self` is the better master.
    pub fn compare(&self, other: &Self) -> Ordering {
        let rank = |d: &Self| {
            (
                d.priority1,
                d.clock_quality.clock_class,
                d.clock_quality.clock_accuracy,
                d.clock_quality.offset_scaled_log_variance,
                d.priority2,
                d.grandmaster,
            )
        };
        rank(self)
            .cmp(&rank(other))
            .then(self.steps_removed.cmp(&other.steps_removed))
            .then(self.sender.cmp(&other.sender))
    }
}

#[derive(Clone, Debug)]
struct ForeignMaster {
    dataset: MasterDataset,
    /// Receipt times of recent Announces, newest last.
    heard: Vec<Time>,
    interval: Nanos,
}

/// The masters a port has heard from.
#[derive(Clone, Debug, Default)]
pub struct ForeignMasters {
    masters: BTreeMap<PortIdentity, ForeignMaster>,
}

impl ForeignMasters {
    /// Records an Announce received at `now`; `interval` is the sender's
    /// announce interval.
    pub fn record(&mut self, dataset: MasterDataset, interval: Nanos, now: Time) {
        let entry = self
            .masters
            .entry(dataset.sender)
            .or_insert_with(|| ForeignMaster {
                dataset,
                heard: Vec::new(),
                interval,
            });
        entry.dataset = dataset;
        entry.interval = interval;
        entry.heard.push(now);
        let window = Nanos(interval.0 * FOREIGN_MASTER_WINDOW);
        entry.heard.retain(|&t| now - t <= window);
    }

    /// Forgets masters whose last Announce is older than `receipt_timeout`
    /// announce intervals.
    pub fn expire(&mut self, now: Time, receipt_timeout: u8) {
        // Every entry has heard at least one Announce: `record` pushes one.
        self.masters.retain(|_, m| {
            m.heard
                .last()
                .is_some_and(|&last| now - last < Nanos(m.interval.0 * receipt_timeout as i64))
        });
    }

    /// When the next master would expire.
    pub fn next_expiry(&self, receipt_timeout: u8) -> Option<Time> {
        self.masters
            .values()
            .filter_map(|m| {
                m.heard
                    .last()
                    .map(|&t| t + Nanos(m.interval.0 * receipt_timeout as i64))
            })
            .min()
    }

    /// The best qualified master.
    pub fn best(&self) -> Option<MasterDataset> {
        self.masters
            .values()
            .filter(|m| m.heard.len() >= FOREIGN_MASTER_THRESHOLD)
            .map(|m| m.dataset)
            .min_by(|a, b| a.compare(b))
    }

    pub fn is_empty(&self) -> bool {
        self.masters.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(priority1: u8, class: u8, id: u8) -> MasterDataset {
        MasterDataset {
            priority1,
            clock_quality: ClockQuality {
                clock_class: class,
                clock_accuracy: 0x21,
                offset_scaled_log_variance: 0x4e5d,
            },
            priority2: 128,
            grandmaster: ClockIdentity([id; 8]),
            steps_removed: 0,
            sender: PortIdentity {
                clock_identity: ClockIdentity([id; 8]),
                port_number: 1,
            },
        }
    }

    #[test]
    fn datasets_compare_in_the_standard_order() {
        assert_eq!(
            dataset(127, 248, 9).compare(&dataset(128, 6, 1)),
            Ordering::Less
        );
        assert_eq!(
            dataset(128, 6, 9).compare(&dataset(128, 7, 1)),
            Ordering::Less
        );
        assert_eq!(
            dataset(128, 6, 1).compare(&dataset(128, 6, 2)),
            Ordering::Less
        );
        let mut near = dataset(128, 6, 1);
        let mut far = near;
        far.steps_removed = 2;
        far.sender.port_number = 0;
        assert_eq!(near.compare(&far), Ordering::Less);
        near.steps_removed = 2;
        assert_eq!(near.compare(&far), Ordering::Greater, "then by sender");
    }

    #[test]
    fn a_master_qualifies_after_two_announces_and_expires_when_silent() {
        let mut t = ForeignMasters::default();
        let s = Nanos::from_secs(1);
        t.record(dataset(128, 6, 1), s, Time(0));
        assert_eq!(t.best(), None, "one Announce does not qualify");
        t.record(dataset(128, 6, 1), s, Time(1_000_000_000));
        assert_eq!(t.best().map(|d| d.grandmaster), Some(ClockIdentity([1; 8])));
        t.record(dataset(100, 6, 2), s, Time(1_500_000_000));
        t.record(dataset(100, 6, 2), s, Time(2_000_000_000));
        assert_eq!(t.best().map(|d| d.grandmaster), Some(ClockIdentity([2; 8])));
        assert_eq!(t.next_expiry(3), Some(Time(4_000_000_000)));
        t.expire(Time(4_500_000_000), 3);
        assert_eq!(t.best().map(|d| d.grandmaster), Some(ClockIdentity([2; 8])));
        t.expire(Time(5_000_000_000), 3);
        assert!(t.is_empty());
    }
}
