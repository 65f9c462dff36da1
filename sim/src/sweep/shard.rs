//! `--shard i/n`: the runs whose number is i modulo n. Dealt round-robin
//! rather than cut in blocks, so each shard gets a fair share of every part
//! of the grid (the slow corners too); any batch system's array index can be
//! `i`, and the shards' rows, merged, are the unsharded sweep's rows.

use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    pub fn holds(self, run_index: u64) -> bool {
        run_index % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: write i/n with 0 ≤ i < n, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_runs() {
        let shards: Vec<Shard> = (0..4).map(|i| format!("{i}/4").parse().unwrap()).collect();
        for run in 0..1000 {
            assert_eq!(shards.iter().filter(|s| s.holds(run)).count(), 1);
        }
        assert!(Shard::WHOLE.holds(17));
    }

    #[test]
    fn bad_shards_are_refused() {
        for s in ["4/4", "1/0", "x/2", "1", "-1/3"] {
            assert!(s.parse::<Shard>().is_err(), "{s}");
        }
    }
}
