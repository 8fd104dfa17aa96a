//! Client event ids seen within the dedup window (`--dedup-window`, default 24 h), so that a
//! client's retry of an event the journal already took is acknowledged again but not stored
//! twice — across restarts too.
//!
//! The window is cut into `SLICES` slices of time. Ids go into the newest slice; a slice is
//! forgotten once the one after it started more than a window ago, so an id stays known for at
//! least the window and at most a window and a quarter. In memory each slice is an [`IdSet`]
//! (about 16 bytes per id). On disk the journal keeps each commit's new ids as one blob
//! (`seen_ids`: 16 bytes per id plus a few per commit), written in the transaction that takes
//! the events and read back at start; appending blobs is sequential, where an index on random
//! ids would rewrite a page per id at every commit.
//! Cost at 5,000 ids/s and 24 h: docs/BENCHMARKS.md ("Remembered client ids").

use std::collections::{HashSet, VecDeque};
use std::ops::Range;

use rusqlite::{Connection, Transaction};

use super::idset::IdSet;

/// Slices per window: more forget closer to the window but cost a lookup each.
const SLICES: i64 = 4;

pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS seen_slices (
        generation INTEGER PRIMARY KEY,
        since_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS seen_ids (generation INTEGER NOT NULL, ids BLOB NOT NULL);
";

/// Journals written before slices kept one row per id in two day-long generations
/// (`seen_log`, with the current one's number and start in `meta`): they become two slices.
const UPGRADE: &str = "
    INSERT INTO seen_slices (generation, since_ms)
        SELECT g.value - d.back, s.value - d.back * 86400000
        FROM meta g, meta s, (SELECT 0 AS back UNION ALL SELECT 1) d
        WHERE g.key = 'seen_generation' AND s.key = 'seen_since';
    INSERT INTO seen_ids (generation, ids) SELECT generation, id FROM seen_log;
    DROP TABLE seen_log;
    DELETE FROM meta WHERE key IN ('seen_generation', 'seen_since');
";

/// One event of an append whose id the client gave: its id and where its row lies.
#[derive(Debug, Clone)]
pub(super) struct Given {
    pub id: [u8; 16],
    pub row: Range<usize>,
}

/// The ids of the slices within the window, oldest first.
#[derive(Debug)]
pub(super) struct Seen {
    window_ms: i64,
    slices: VecDeque<Slice>,
}

#[derive(Debug)]
struct Slice {
    generation: i64,
    /// When it started taking ids (epoch ms).
    since_ms: i64,
    ids: IdSet,
}

/// What a commit group changes, kept apart until the commit succeeds: a failed commit must not
/// leave ids behind that were never stored, or the client's retry would be dropped.
#[derive(Debug, Default)]
pub(super) struct Pending {
    plan: Option<Plan>,
    ids: HashSet<u128>,
}

/// Where a group's ids go, decided at its first id.
#[derive(Debug, Clone, Copy)]
struct Plan {
    generation: i64,
    /// The group starts a slice at this time.
    starts: Option<i64>,
    /// Slices before this generation are forgotten.
    keep_from: i64,
}

impl Seen {
    /// Reads the slices back from the journal (upgrading an older journal's log first).
    pub(super) fn load(conn: &Connection, window_ms: i64) -> rusqlite::Result<Self> {
        let old_log: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'seen_log'",
            [],
            |r| r.get(0),
        )?;
        if old_log {
            conn.execute_batch(&format!("BEGIN; {UPGRADE} COMMIT;"))?;
        }
        let mut slices = VecDeque::new();
        let mut stmt = conn.prepare("SELECT generation, since_ms FROM seen_slices ORDER BY 1")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            slices.push_back(Slice {
                generation: row.get(0)?,
                since_ms: row.get(1)?,
                ids: IdSet::default(),
            });
        }
        let mut seen = Self { window_ms, slices };
        let mut stmt = conn.prepare("SELECT generation, ids FROM seen_ids")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let generation: i64 = row.get(0)?;
            let Some(slice) = seen.slices.iter_mut().find(|s| s.generation == generation) else {
                continue;
            };
            // Each id was written once, when no slice knew it.
            for id in row.get_ref(1)?.as_blob()?.chunks_exact(16) {
                slice
                    .ids
                    .insert(u128::from_be_bytes(id.try_into().expect("16 bytes")));
            }
        }
        Ok(seen)
    }

    /// Ids remembered now, in every slice.
    pub(super) fn len(&self) -> usize {
        self.slices.iter().map(|s| s.ids.len()).sum()
    }

    /// Records the new ids of `given` in `tx` (and in `pending`) and returns the rows of those
    /// already seen, earlier or in this group.
    pub(super) fn check(
        &self,
        tx: &Transaction,
        pending: &mut Pending,
        now_ms: i64,
        given: &[Given],
    ) -> rusqlite::Result<Vec<Range<usize>>> {
        if given.is_empty() {
            return Ok(Vec::new());
        }
        let plan = match pending.plan {
            Some(plan) => plan,
            None => *pending.plan.insert(self.plan(tx, now_ms)?),
        };
        let mut repeats = Vec::new();
        let mut new = Vec::with_capacity(given.len() * 16);
        for g in given {
            let id = u128::from_be_bytes(g.id);
            if self.knows(id, plan.keep_from) || !pending.ids.insert(id) {
                repeats.push(g.row.clone());
            } else {
                new.extend_from_slice(&g.id);
            }
        }
        if !new.is_empty() {
            tx.prepare_cached("INSERT INTO seen_ids (generation, ids) VALUES (?1, ?2)")?
                .execute(rusqlite::params![plan.generation, new])?;
        }
        Ok(repeats)
    }

    fn knows(&self, id: u128, keep_from: i64) -> bool {
        self.slices
            .iter()
            .filter(|s| s.generation >= keep_from)
            .any(|s| s.ids.contains(id))
    }

    /// Where ids go at `now_ms`: a new slice (recorded in `tx`) once the newest is a slice
    /// old, and which slices to forget (deleted in `tx`).
    fn plan(&self, tx: &Transaction, now_ms: i64) -> rusqlite::Result<Plan> {
        let slice_ms = (self.window_ms / SLICES).max(1);
        let newest = self.slices.back();
        let (generation, starts) = match newest {
            Some(s) if now_ms - s.since_ms < slice_ms => (s.generation, None),
            _ => (newest.map_or(1, |s| s.generation + 1), Some(now_ms)),
        };
        if let Some(since_ms) = starts {
            tx.execute(
                "INSERT INTO seen_slices (generation, since_ms) VALUES (?1, ?2)",
                [generation, since_ms],
            )?;
        }
        // A slice can go once every id in it is older than the window: when the slice after
        // it started that long ago.
        let starts_after = |i: usize| match self.slices.get(i + 1) {
            Some(next) => next.since_ms,
            None => starts.unwrap_or(i64::MAX),
        };
        let expired = (0..self.slices.len())
            .take_while(|&i| starts_after(i) <= now_ms - self.window_ms)
            .count();
        let keep_from = self
            .slices
            .get(expired)
            .map_or(generation, |s| s.generation);
        if expired > 0 {
            tx.execute("DELETE FROM seen_ids WHERE generation < ?1", [keep_from])?;
            tx.execute("DELETE FROM seen_slices WHERE generation < ?1", [keep_from])?;
        }
        Ok(Plan {
            generation,
            starts,
            keep_from,
        })
    }

    /// Takes in what a committed group changed.
    pub(super) fn committed(&mut self, pending: Pending) {
        let Some(plan) = pending.plan else { return };
        self.slices.retain(|s| s.generation >= plan.keep_from);
        if let Some(since_ms) = plan.starts {
            self.slices.push_back(Slice {
                generation: plan.generation,
                since_ms,
                ids: IdSet::default(),
            });
        }
        let newest = &mut self.slices.back_mut().expect("a plan has a slice").ids;
        for id in pending.ids {
            newest.insert(id);
        }
    }
}

/// `rows` without the byte ranges in `drop` (ascending, disjoint).
pub(super) fn without(rows: &[u8], drop: &[Range<usize>]) -> Vec<u8> {
    let mut kept = Vec::with_capacity(rows.len());
    let mut at = 0;
    for range in drop {
        kept.extend_from_slice(&rows[at..range.start]);
        at = range.end;
    }
    kept.extend_from_slice(&rows[at..]);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Vec<Range<usize>> = Vec::new();
    const HOUR_MS: i64 = 3_600_000;
    const WINDOW_MS: i64 = 24 * HOUR_MS;

    fn given(n: u8, row: Range<usize>) -> Given {
        Given { id: [n; 16], row }
    }

    fn connection() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);")
            .unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn
    }

    /// One commit group at `now_ms`; `fail` rolls it back.
    fn group(
        conn: &mut Connection,
        seen: &mut Seen,
        now_ms: i64,
        ids: &[Given],
        fail: bool,
    ) -> Vec<Range<usize>> {
        let tx = conn.transaction().unwrap();
        let mut pending = Pending::default();
        let repeats = seen.check(&tx, &mut pending, now_ms, ids).unwrap();
        if !fail {
            tx.commit().unwrap();
            seen.committed(pending);
        }
        repeats
    }

    fn at(conn: &mut Connection, seen: &mut Seen, now_ms: i64, ids: &[Given]) -> Vec<Range<usize>> {
        group(conn, seen, now_ms, ids, false)
    }

    fn on_disk(conn: &Connection) -> (i64, i64) {
        conn.query_row(
            "SELECT (SELECT count(*) FROM seen_slices), (SELECT coalesce(sum(length(ids)), 0) / 16 FROM seen_ids)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    }

    #[test]
    fn ids_are_known_for_the_window_forgotten_a_slice_later_and_reloaded_after_a_restart() {
        let mut conn = connection();
        let mut seen = Seen::load(&conn, WINDOW_MS).unwrap();
        // Slice 1 starts at t = 0. The same id twice in one group: the second repeats.
        assert_eq!(
            at(&mut conn, &mut seen, 0, &[given(1, 0..3), given(1, 3..6)]),
            vec![3..6]
        );
        // Slice 2 starts at 6 h (a quarter window); id 2 goes there.
        assert_eq!(
            at(
                &mut conn,
                &mut seen,
                6 * HOUR_MS,
                &[given(1, 0..3), given(2, 3..6)]
            ),
            vec![0..3]
        );
        assert_eq!(seen.slices.len(), 2);
        // A restart reads both slices back; id 1 is still known just before slice 2 is a
        // window old (29 h 59 min: 30 h after id 1 was taken, the most it is kept).
        let mut seen = Seen::load(&conn, WINDOW_MS).unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(
            at(&mut conn, &mut seen, 30 * HOUR_MS - 1, &[given(1, 0..3)]),
            vec![0..3]
        );
        // At 30 h slice 1 is forgotten, in memory and on disk: id 1 is new, id 2 still known.
        assert_eq!(
            at(
                &mut conn,
                &mut seen,
                30 * HOUR_MS,
                &[given(1, 0..3), given(2, 3..6)]
            ),
            vec![3..6]
        );
        let generations: Vec<i64> = seen.slices.iter().map(|s| s.generation).collect();
        assert_eq!(generations, vec![2, 3], "slice 3 started at 29 h 59 min");
        assert_eq!(on_disk(&conn), (2, 2), "slices 2 and 3; ids 2 and 1");
    }

    #[test]
    fn a_rolled_back_group_leaves_no_id_behind() {
        let mut conn = connection();
        let mut seen = Seen::load(&conn, WINDOW_MS).unwrap();
        assert_eq!(
            group(&mut conn, &mut seen, 1, &[given(7, 0..3)], true),
            NONE
        );
        assert_eq!(on_disk(&conn), (0, 0));
        // The client's retry of the failed request is new, not a repeat.
        assert_eq!(
            group(&mut conn, &mut seen, 2, &[given(7, 0..3)], false),
            NONE
        );
        assert_eq!(
            group(&mut conn, &mut seen, 3, &[given(7, 0..3)], false),
            vec![0..3]
        );
    }

    #[test]
    fn a_journal_from_before_slices_keeps_its_two_days_of_ids() {
        let conn = connection();
        conn.execute_batch(&format!(
            "CREATE TABLE seen_log (generation INTEGER NOT NULL, id BLOB NOT NULL);
             INSERT INTO seen_log VALUES (4, x'{a}'), (5, x'{b}');
             INSERT INTO meta VALUES ('seen_generation', '5'), ('seen_since', '{since}');",
            a = "01".repeat(16),
            b = "02".repeat(16),
            since = 10 * WINDOW_MS,
        ))
        .unwrap();
        let mut conn = conn;
        let mut seen = Seen::load(&conn, WINDOW_MS).unwrap();
        assert_eq!(
            seen.slices
                .iter()
                .map(|s| (s.generation, s.since_ms))
                .collect::<Vec<_>>(),
            vec![(4, 9 * WINDOW_MS), (5, 10 * WINDOW_MS)]
        );
        let now = 10 * WINDOW_MS + HOUR_MS;
        assert_eq!(
            at(
                &mut conn,
                &mut seen,
                now,
                &[given(1, 0..3), given(2, 3..6), given(3, 6..9)]
            ),
            vec![0..3, 3..6]
        );
        let left: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'seen_log'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn dropping_ranges_keeps_the_rest_in_order() {
        let rows = b"aaabbbcccddd";
        assert_eq!(without(rows, &[3..6, 9..12]), b"aaaccc".to_vec());
        assert_eq!(without(rows, &[]), rows.to_vec());
    }
}
