//! A set of 128-bit ids in about 16 bytes per id: the client ids the journal remembers run to
//! hundreds of millions a day at SDK rates, where a hash set costs 30–50 bytes per id.
//!
//! New ids go into a small hash set; when it holds `RECENT` ids they are sorted into a run (a
//! plain sorted array: 16 bytes per id, nothing else), and runs of like size are merged as in a
//! binary counter, up to `MAX_RUN` ids, so a merge never copies more than 512 MiB at once
//! (about a quarter of a second, once per 32M ids: 1.8 h at 5,000 ids/s).
//!
//! Lookups interpolate. Ids are stored as `spread(id)`, a bijection on 128 bits: client UUIDs
//! may be time-ordered (v7) or sequential, and their spread keys are even over the range, so a
//! key's place in a run is close to its share of the range. Being a bijection, it maps
//! distinct ids to distinct keys: no distinct id is ever taken for one seen.

use std::collections::HashSet;

/// Ids held in the hash set before they are sorted into a run (about 2 MiB).
const RECENT: usize = 1 << 16;
/// Runs stop merging at this many ids (512 MiB). Every lookup searches every run: fewer, larger
/// runs keep a day of ids at ~20 runs, where 128 MiB runs made it ~60 and lookups 3× slower.
const MAX_RUN: usize = 1 << 25;

#[derive(Debug, Default)]
pub(super) struct IdSet {
    recent: HashSet<u128>,
    runs: Vec<Box<[u128]>>,
}

impl IdSet {
    pub fn contains(&self, id: u128) -> bool {
        let key = spread(id);
        self.recent.contains(&key) || self.runs.iter().any(|run| holds(run, key))
    }

    /// Adds `id`; the caller has checked it is not in the set yet.
    pub fn insert(&mut self, id: u128) {
        self.recent.insert(spread(id));
        if self.recent.len() >= RECENT {
            self.seal();
        }
    }

    pub fn len(&self) -> usize {
        self.recent.len() + self.runs.iter().map(|run| run.len()).sum::<usize>()
    }

    /// Sorts the recent ids into a run and merges it with the runs before it while they are
    /// no bigger.
    fn seal(&mut self) {
        let mut run: Vec<u128> = self.recent.drain().collect();
        run.sort_unstable();
        self.runs.push(run.into_boxed_slice());
        while let [.., before, last] = &self.runs[..] {
            if before.len() > last.len() || before.len() + last.len() > MAX_RUN {
                break;
            }
            let merged = merge(before, last);
            self.runs.truncate(self.runs.len() - 2);
            self.runs.push(merged);
        }
    }
}

/// A bijection on 128 bits that spreads ids evenly: each step can be undone (an xor of the
/// high half into the low half; a product with an odd number, modulo 2^128).
fn spread(id: u128) -> u128 {
    const ODD_1: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835;
    const ODD_2: u128 = 0xd6e8_feb8_6659_fd93_2b4d_c6c5_14a1_6f8b;
    let mut x = id ^ (id >> 64);
    x = x.wrapping_mul(ODD_1);
    x ^= x >> 64;
    x = x.wrapping_mul(ODD_2);
    x ^ (x >> 64)
}

/// Whether the sorted `run` holds `key`. A few interpolation steps bring an even spread down
/// to a handful of probes; keys crafted to bunch up fall back to halving, so a lookup never
/// costs more than a binary search.
fn holds(run: &[u128], key: u128) -> bool {
    let (mut lo, mut hi) = (0, run.len());
    for _ in 0..4 {
        if hi - lo <= 8 {
            break;
        }
        let (first, last) = (run[lo], run[hi - 1]);
        if key < first || key > last {
            return false;
        }
        // The key's share of [first, last], on the top 64 bits of the differences.
        let offset = ((key - first) >> 64) * (hi - lo - 1) as u128 / (((last - first) >> 64) + 1);
        let at = lo + offset as usize;
        match run[at].cmp(&key) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = at + 1,
            std::cmp::Ordering::Greater => hi = at,
        }
    }
    run[lo..hi].binary_search(&key).is_ok()
}

fn merge(a: &[u128], b: &[u128]) -> Box<[u128]> {
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            merged.push(a[i]);
            i += 1;
        } else {
            merged.push(b[j]);
            j += 1;
        }
    }
    merged.extend_from_slice(&a[i..]);
    merged.extend_from_slice(&b[j..]);
    merged.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sequential ids (the worst case for a run that did not spread them) and random ones.
    fn ids(n: u128) -> impl Iterator<Item = u128> {
        (0..n).map(|i| if i % 2 == 0 { i } else { spread(i) ^ 0x5555 })
    }

    #[test]
    fn every_id_taken_is_found_and_no_other_across_runs_and_merges() {
        let n = 3 * RECENT as u128 + 123;
        let mut set = IdSet::default();
        for id in ids(n) {
            assert!(!set.contains(id));
            set.insert(id);
        }
        assert_eq!(set.len(), n as usize);
        // Three sealed runs: two merged into one, plus the third.
        assert_eq!(
            set.runs.iter().map(|r| r.len()).collect::<Vec<_>>(),
            vec![2 * RECENT, RECENT]
        );
        assert!(ids(n).all(|id| set.contains(id)));
        assert!(ids(2 * n).skip(n as usize).all(|id| !set.contains(id)));
        assert!(!set.contains(u128::MAX) && !set.contains(1 << 100));
    }

    #[test]
    fn keys_bunched_in_one_corner_are_still_found() {
        // A run of consecutive keys: interpolation is no help, halving finds them.
        let run: Vec<u128> = (0..10_000u128).map(|i| i * 3).collect();
        assert!((0..10_000u128).all(|i| holds(&run, i * 3)));
        assert!((0..10_000u128).all(|i| !holds(&run, i * 3 + 1)));
        let mut skewed: Vec<u128> = (0..1000u128).chain([u128::MAX - 1]).collect();
        skewed.sort_unstable();
        assert!(skewed.iter().all(|&k| holds(&skewed, k)));
        assert!(!holds(&skewed, 5000) && !holds(&skewed, u128::MAX));
    }

    #[test]
    fn spreading_keeps_ids_distinct_and_evens_out_sequential_ones() {
        let keys: HashSet<u128> = (0..100_000u128).map(spread).collect();
        assert_eq!(keys.len(), 100_000);
        // Sequential ids land in every sixteenth of the range about equally.
        let mut sixteenths = [0u32; 16];
        for k in &keys {
            sixteenths[(k >> 124) as usize] += 1;
        }
        assert!(
            sixteenths.iter().all(|&n| (5_500..7_000).contains(&n)),
            "{sixteenths:?}"
        );
    }
}
