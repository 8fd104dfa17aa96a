//! Client event ids seen in the last day, so that a client's retry of an event the journal
//! already took is acknowledged again but not stored twice — across restarts too.
//!
//! Lookups are in memory (two hash sets taking turns: ids go into the current one; once it is
//! a day old it becomes the previous one and a fresh one starts, so every id stays known for at
//! least 24 h and at most 48 h). The journal keeps them as an append-only log (`seen_log`, one
//! row per id with its generation), written in the commit that takes the events and read back
//! at start. Appending is sequential, where an index on random ids would rewrite a page per id
//! at every commit: measured here, that cost the dedup path two thirds of its throughput.
//! Memory: about 40 bytes per id of the last one to two days.

use std::collections::HashSet;
use std::ops::Range;

use rusqlite::{Connection, OptionalExtension, Transaction};

const DAY_MS: i64 = 86_400_000;

pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS seen_log (generation INTEGER NOT NULL, id BLOB NOT NULL);
";

/// One event of an append whose id the client gave: its id and where its row lies.
#[derive(Debug, Clone)]
pub(super) struct Given {
    pub id: [u8; 16],
    pub row: Range<usize>,
}

/// The ids of the current and the previous generation.
#[derive(Debug, Default)]
pub(super) struct Seen {
    generation: i64,
    /// When the current generation started (epoch ms).
    since_ms: i64,
    current: HashSet<u128>,
    previous: HashSet<u128>,
}

/// What a commit group adds, kept apart until the commit succeeds: a failed commit must not
/// leave ids behind that were never stored, or the client's retry would be dropped.
#[derive(Debug, Default)]
pub(super) struct Pending {
    rotate_to: Option<(i64, i64)>,
    ids: HashSet<u128>,
}

impl Seen {
    /// Reads the log of the current and the previous generation.
    pub(super) fn load(conn: &Connection) -> rusqlite::Result<Self> {
        let state: Option<(i64, i64)> = conn
            .query_row(
                "SELECT (SELECT value FROM meta WHERE key = 'seen_generation'),
                        (SELECT value FROM meta WHERE key = 'seen_since')",
                [],
                |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                    ))
                },
            )
            .optional()?
            .and_then(|(g, s)| Some((g?.parse().ok()?, s?.parse().ok()?)));
        let Some((generation, since_ms)) = state else {
            return Ok(Self::default());
        };
        let mut seen = Self {
            generation,
            since_ms,
            ..Self::default()
        };
        let mut stmt =
            conn.prepare("SELECT generation, id FROM seen_log WHERE generation >= ?1")?;
        let mut rows = stmt.query([generation - 1])?;
        while let Some(row) = rows.next()? {
            let id = id_of(row.get_ref(1)?.as_blob()?);
            match row.get::<_, i64>(0)? == generation {
                true => seen.current.insert(id),
                false => seen.previous.insert(id),
            };
        }
        Ok(seen)
    }

    /// Records the ids of `given` in `tx` (and in `pending`) and returns the rows of those
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
        let generation = self.start_generation(tx, pending, now_ms)?;
        let rotating = pending.rotate_to.is_some();
        let mut log = tx.prepare_cached("INSERT INTO seen_log (generation, id) VALUES (?1, ?2)")?;
        let mut repeats = Vec::new();
        for g in given {
            let id = u128::from_be_bytes(g.id);
            // After a rotation the current set becomes the previous one: both still count.
            let known = self.current.contains(&id) || (!rotating && self.previous.contains(&id));
            if known || !pending.ids.insert(id) {
                repeats.push(g.row.clone());
            } else {
                log.execute(rusqlite::params![generation, &g.id[..]])?;
            }
        }
        Ok(repeats)
    }

    /// The generation ids go into now: a new one (recorded in `tx`, forgetting the one before
    /// the previous) when the current one is a day old.
    fn start_generation(
        &self,
        tx: &Transaction,
        pending: &mut Pending,
        now_ms: i64,
    ) -> rusqlite::Result<i64> {
        if let Some((generation, _)) = pending.rotate_to {
            return Ok(generation);
        }
        let fresh = self.since_ms == 0 && self.generation == 0 && self.current.is_empty();
        if !fresh && now_ms - self.since_ms < DAY_MS {
            return Ok(self.generation);
        }
        let generation = self.generation + 1;
        tx.execute(
            "DELETE FROM seen_log WHERE generation < ?1",
            [generation - 1],
        )?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('seen_generation', ?1), ('seen_since', ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [generation.to_string(), now_ms.to_string()],
        )?;
        pending.rotate_to = Some((generation, now_ms));
        Ok(generation)
    }

    /// Takes in what a committed group added.
    pub(super) fn committed(&mut self, pending: Pending) {
        if let Some((generation, since_ms)) = pending.rotate_to {
            self.previous = std::mem::take(&mut self.current);
            self.generation = generation;
            self.since_ms = since_ms;
        }
        self.current.extend(pending.ids);
    }
}

fn id_of(bytes: &[u8]) -> u128 {
    let mut id = [0u8; 16];
    let n = bytes.len().min(16);
    id[..n].copy_from_slice(&bytes[..n]);
    u128::from_be_bytes(id)
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

    #[test]
    fn ids_are_known_for_a_day_forgotten_after_two_and_reloaded_after_a_restart() {
        let mut conn = connection();
        let mut seen = Seen::load(&conn).unwrap();
        let at = |conn: &mut Connection, seen: &mut Seen, now_ms: i64, ids: &[Given]| {
            group(conn, seen, now_ms, ids, false)
        };
        // Generation 1 starts at t = 0. The same id twice in one group: the second repeats.
        assert_eq!(
            at(&mut conn, &mut seen, 0, &[given(1, 0..3), given(1, 3..6)]),
            vec![3..6]
        );
        assert_eq!(
            at(
                &mut conn,
                &mut seen,
                DAY_MS - 1,
                &[given(1, 0..3), given(2, 3..6)]
            ),
            vec![0..3]
        );
        // A restart reads the log back; generation 2 starts (ids 1 and 2 now the previous).
        let mut seen = Seen::load(&conn).unwrap();
        assert_eq!(
            at(&mut conn, &mut seen, DAY_MS, &[given(2, 0..3)]),
            vec![0..3]
        );
        assert_eq!(
            at(&mut conn, &mut seen, 2 * DAY_MS - 1, &[given(1, 0..3)]),
            vec![0..3]
        );
        // Generation 3: generation 1 is forgotten, in memory and on disk.
        assert_eq!(
            at(&mut conn, &mut seen, 2 * DAY_MS, &[given(2, 0..3)]),
            NONE
        );
        let logged: i64 = conn
            .query_row("SELECT count(*) FROM seen_log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(logged, 1, "id 2, taken again in generation 3");
    }

    #[test]
    fn a_rolled_back_group_leaves_no_id_behind() {
        let mut conn = connection();
        let mut seen = Seen::load(&conn).unwrap();
        assert_eq!(
            group(&mut conn, &mut seen, 1, &[given(7, 0..3)], true),
            NONE
        );
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
    fn dropping_ranges_keeps_the_rest_in_order() {
        let rows = b"aaabbbcccddd";
        assert_eq!(without(rows, &[3..6, 9..12]), b"aaaccc".to_vec());
        assert_eq!(without(rows, &[]), rows.to_vec());
    }
}
