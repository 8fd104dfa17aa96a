//! Client event ids seen in the last day, so that a client's retry of an event the journal
//! already took is acknowledged again but not stored twice — across restarts too.
//!
//! Two tables take turns: ids go into `seen_cur`; once it is a day old it becomes `seen_prev`
//! and a fresh `seen_cur` starts. An id is a duplicate when either holds it, so every id stays
//! known for at least 24 h (at most 48 h) at the cost of two B-tree probes, and forgetting old
//! ids is one `DROP TABLE`, never a scan.

use std::ops::Range;

use rusqlite::{Connection, OptionalExtension, Transaction};

const DAY_MS: i64 = 86_400_000;

pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS seen_cur (id BLOB PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS seen_prev (id BLOB PRIMARY KEY) WITHOUT ROWID;
";

/// One event of an append whose id the client gave: its id and where its row lies.
#[derive(Debug, Clone)]
pub(super) struct Given {
    pub id: [u8; 16],
    pub row: Range<usize>,
}

/// Starts a new generation when the current one is a day old (`now_ms`).
pub(super) fn rotate(tx: &Transaction, now_ms: i64) -> rusqlite::Result<()> {
    let since: Option<i64> = tx
        .query_row("SELECT value FROM meta WHERE key = 'seen_since'", [], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .and_then(|v| v.parse().ok());
    match since {
        Some(since) if now_ms - since < DAY_MS => return Ok(()),
        Some(_) => tx.execute_batch(
            "DROP TABLE seen_prev; ALTER TABLE seen_cur RENAME TO seen_prev;
             CREATE TABLE seen_cur (id BLOB PRIMARY KEY) WITHOUT ROWID;",
        )?,
        None => {}
    }
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('seen_since', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [now_ms.to_string()],
    )?;
    Ok(())
}

/// Records the ids of `given` and returns the rows of those already seen (in this call too).
pub(super) fn duplicates(
    conn: &Connection,
    given: &[Given],
) -> rusqlite::Result<Vec<Range<usize>>> {
    let mut record = conn.prepare_cached("INSERT OR IGNORE INTO seen_cur (id) VALUES (?1)")?;
    let mut before = conn.prepare_cached("SELECT 1 FROM seen_prev WHERE id = ?1")?;
    let mut seen = Vec::new();
    for g in given {
        let new_today = record.execute([&g.id[..]])? == 1;
        if !new_today || before.exists([&g.id[..]])? {
            seen.push(g.row.clone());
        }
    }
    Ok(seen)
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

    fn given(n: u8, row: Range<usize>) -> Given {
        Given { id: [n; 16], row }
    }

    #[test]
    fn ids_are_known_for_a_day_and_forgotten_after_two() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);")
            .unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        let mut at = |now_ms: i64, ids: &[Given]| {
            let tx = conn.transaction().unwrap();
            rotate(&tx, now_ms).unwrap();
            let dups = duplicates(&tx, ids).unwrap();
            tx.commit().unwrap();
            dups
        };
        // The same id twice in one call: the second is a duplicate.
        assert_eq!(at(0, &[given(1, 0..3), given(1, 3..6)]), vec![3..6]);
        assert_eq!(
            at(DAY_MS - 1, &[given(1, 0..3), given(2, 3..6)]),
            vec![0..3]
        );
        // A day on: id 1 and 2 moved to the previous generation, still known.
        assert_eq!(at(DAY_MS, &[given(1, 0..3)]), vec![0..3]);
        // Two days on, id 2 was last seen in a generation now dropped: new again.
        assert_eq!(
            at(3 * DAY_MS, &[given(2, 0..3)]),
            Vec::<Range<usize>>::new()
        );
    }

    #[test]
    fn dropping_ranges_keeps_the_rest_in_order() {
        let rows = b"aaabbbcccddd";
        assert_eq!(without(rows, &[3..6, 9..12]), b"aaaccc".to_vec());
        assert_eq!(without(rows, &[]), rows.to_vec());
    }
}
