//! A set of 128-bit ids in about 16 bytes per id: the client ids the journal remembers run to
//! hundreds of millions a day at SDK rates, where a hash set costs 30–50 bytes per id.
//!
//! New ids go into a small hash set; when it holds `LIMITS.recent` ids they are sorted into a run (a
//! plain sorted array: 16 bytes per id, nothing else), and runs of like size are merged as in a
//! binary counter, up to `LIMITS.max_run` ids (512 MiB). Small merges happen at once; a big one (up to
//! a second) runs on a thread of its own while lookups keep reading the two runs it merges, so
//! the journal's writer — and every client waiting for an acknowledgement — never waits for it.
//!
//! Lookups interpolate. Ids are stored as `spread(id)`, a bijection on 128 bits: client UUIDs
//! may be time-ordered (v7) or sequential, and their spread keys are even over the range, so a
//! key's place in a run is close to its share of the range. Being a bijection, it maps
//! distinct ids to distinct keys: no distinct id is ever taken for one seen.

use std::collections::HashSet;
use std::sync::mpsc::{self, TryRecvError};
use std::sync::Arc;

/// When runs form and merge.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Ids held in the hash set before they are sorted into a run.
    recent: usize,
    /// Merges of fewer ids happen at once; bigger ones on their own thread.
    inline_merge: usize,
    /// Runs stop merging at this many ids.
    max_run: usize,
}

const LIMITS: Limits = Limits {
    // About 2 MiB of hash set.
    recent: 1 << 16,
    // 16 MiB: about 10 ms.
    inline_merge: 1 << 20,
    // 512 MiB. Every lookup searches every run: fewer, larger runs keep a day of ids at ~20
    // runs, where 128 MiB runs made it ~60 and lookups 3× slower.
    max_run: 1 << 25,
};

#[derive(Debug)]
pub(super) struct IdSet {
    limits: Limits,
    recent: HashSet<u128>,
    /// Oldest first, each no smaller than the next but for a merge under way.
    runs: Vec<Arc<[u128]>>,
    merging: Option<Merging>,
}

/// A merge of `runs[at]` and `runs[at + 1]` on its own thread.
#[derive(Debug)]
struct Merging {
    at: usize,
    done: mpsc::Receiver<Arc<[u128]>>,
}

impl Default for IdSet {
    fn default() -> Self {
        Self::with_limits(LIMITS)
    }
}

impl IdSet {
    fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            recent: HashSet::new(),
            runs: Vec::new(),
            merging: None,
        }
    }

    pub fn contains(&self, id: u128) -> bool {
        let key = spread(id);
        self.recent.contains(&key) || self.runs.iter().any(|run| holds(run, key))
    }

    /// Adds `id`; the caller has checked it is not in the set yet.
    pub fn insert(&mut self, id: u128) {
        self.recent.insert(spread(id));
        if self.recent.len() >= self.limits.recent {
            self.seal();
        }
    }

    pub fn len(&self) -> usize {
        self.recent.len() + self.runs.iter().map(|run| run.len()).sum::<usize>()
    }

    /// Sorts the recent ids into a run, then merges.
    fn seal(&mut self) {
        let mut run: Vec<u128> = self.recent.drain().collect();
        run.sort_unstable();
        self.runs.push(run.into());
        self.take_merged();
        self.merge_last();
    }

    /// Merges the last two runs while the one before is no bigger: at once when small, else
    /// on a thread (one at a time; a merge under way holds the rest back).
    fn merge_last(&mut self) {
        while let [.., before, last] = &self.runs[..] {
            let n = self.runs.len();
            let size = before.len() + last.len();
            let busy = self.merging.as_ref().is_some_and(|m| m.at + 1 >= n - 2);
            if before.len() > last.len() || size > self.limits.max_run || busy {
                return;
            }
            if size < self.limits.inline_merge {
                let merged = merge(before, last);
                self.runs.truncate(n - 2);
                self.runs.push(merged);
                continue;
            }
            if self.merging.is_none() {
                let (a, b) = (before.clone(), last.clone());
                let (done, merged) = mpsc::channel();
                std::thread::Builder::new()
                    .name("id-merge".into())
                    .spawn(move || done.send(merge(&a, &b)))
                    .expect("spawn an id merge");
                self.merging = Some(Merging {
                    at: n - 2,
                    done: merged,
                });
            }
            return;
        }
    }

    /// Puts a finished merge in place of its two runs.
    fn take_merged(&mut self) {
        let Some(merging) = &self.merging else { return };
        match merging.done.try_recv() {
            Ok(merged) => {
                let at = merging.at;
                self.runs.splice(at..at + 2, [merged]);
                self.merging = None;
            }
            Err(TryRecvError::Empty) => {}
            // The thread died (out of memory): the two runs stay as they are.
            Err(TryRecvError::Disconnected) => self.merging = None,
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

fn merge(a: &[u128], b: &[u128]) -> Arc<[u128]> {
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
    merged.into()
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
        let recent = LIMITS.recent;
        let n = 3 * recent as u128 + 123;
        let mut set = IdSet::default();
        for id in ids(n) {
            assert!(!set.contains(id));
            set.insert(id);
        }
        assert_eq!(set.len(), n as usize);
        // Three sealed runs: two merged into one, plus the third.
        assert_eq!(
            set.runs.iter().map(|r| r.len()).collect::<Vec<_>>(),
            vec![2 * recent, recent]
        );
        assert!(ids(n).all(|id| set.contains(id)));
        assert!(ids(2 * n).skip(n as usize).all(|id| !set.contains(id)));
        assert!(!set.contains(u128::MAX) && !set.contains(1 << 100));
    }

    #[test]
    fn big_merges_run_aside_and_every_id_stays_found_meanwhile() {
        let limits = Limits {
            recent: 4,
            inline_merge: 16,
            max_run: 256,
        };
        let mut set = IdSet::with_limits(limits);
        let all: Vec<u128> = ids(2_000).collect();
        let mut merges = 0;
        for (i, &id) in all.iter().enumerate() {
            assert!(!set.contains(id));
            set.insert(id);
            merges += usize::from(set.merging.is_some());
            // Every id taken so far is found, whatever merge is under way.
            if i % 97 == 0 {
                assert!(all[..=i].iter().all(|&id| set.contains(id)), "after {i}");
            }
        }
        assert!(merges > 0, "some merges ran on their own thread");
        if let Some(merging) = set.merging.take() {
            let merged = merging.done.recv().unwrap();
            set.runs.splice(merging.at..merging.at + 2, [merged]);
        }
        assert_eq!(set.len(), 2_000);
        assert!(all.iter().all(|&id| set.contains(id)));
        assert!(set.runs.iter().all(|run| run.len() <= 256));
        assert!(set
            .runs
            .iter()
            .all(|run| run.windows(2).all(|w| w[0] < w[1])));
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
