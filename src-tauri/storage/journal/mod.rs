//! The durable journal (SQLite, WAL): events live here from the moment the API acknowledges them
//! until the store confirms their insert.
//!
//! * One row per accepted request (`batches`), holding its events RowBinary-encoded, so a flush
//!   is a concatenation of blobs.
//! * Appends go through one writer thread that commits every request waiting at that moment in
//!   one transaction (group commit): durability costs one fsync per group, not per request.
//! * A flush is recorded (`flushes`) with its last batch id and deduplication token before the
//!   insert. After a crash the same batches are re-sent with the same token, so the store drops
//!   the repeat. Rows are deleted only after the store confirmed the insert.
//! * Events whose id the client gave are checked against the ids seen within the dedup window
//!   (`seen.rs`, `idset.rs`) in the same transaction: a retry is acknowledged, not stored twice.

mod idset;
mod seen;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use tokio::sync::{oneshot, Notify};

use crate::ingest::event::Event;
use crate::storage::store::rowbinary;
use crate::support::clock::Clock;

/// Errors at the journal boundary. Messages say what to do about them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    #[error("the disk holding the journal {path} is full: free some space; events already acknowledged are safe")]
    DiskFull { path: PathBuf },
    #[error("the journal {path} is locked by another program (another Pulseboard on the same --data-dir?): stop it, or pick another --data-dir")]
    Locked { path: PathBuf },
    #[error("the journal {path} is damaged ({source}): stop Pulseboard and move the file aside to start a new one (its unsent events are lost), or restore it from a backup")]
    Corrupt {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot open or write the journal {path} ({source}): check that the data directory exists and is writable by this user")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create the journal {path} readable by this user only ({source}): check the data directory's owner and permissions")]
    Private {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the journal holds {held} bytes, over its cap of {cap} bytes; retry once the store catches up")]
    Full { held: u64, cap: u64 },
    #[error("the journal writer has stopped (Pulseboard is shutting down); retry in a moment")]
    Stopped,
}

impl JournalError {
    /// Sorts a SQLite failure by what the user can do about it.
    fn sqlite(path: &Path, source: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let path = path.to_owned();
        match source.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => JournalError::DiskFull { path },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                JournalError::Locked { path }
            }
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                JournalError::Corrupt { path, source }
            }
            _ => JournalError::Sqlite { path, source },
        }
    }
}

/// A flush: every journal batch up to `last_batch`, inserted under `token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flush {
    pub token: String,
    pub last_batch: i64,
    pub events: u64,
    /// Size of `rows`, kept apart so the rows can be handed to the store by value.
    pub bytes: u64,
    pub rows: Vec<u8>,
    /// True when this flush was recorded earlier and is being re-sent (crash or failed insert).
    pub replay: bool,
}

struct Append {
    events: u64,
    rows: Vec<u8>,
    /// The events among `rows` whose id the client gave (checked for re-sends).
    given: Vec<seen::Given>,
    done: oneshot::Sender<Result<(), rusqlite::Error>>,
}

/// Counters of what the journal holds, shared with `/health` and the batcher.
#[derive(Debug, Default)]
pub struct Held {
    events: AtomicU64,
    bytes: AtomicU64,
    /// Append groups committed so far (one fsync each).
    commits: AtomicU64,
    /// Client ids remembered (within the dedup window).
    remembered: AtomicU64,
}

/// How the journal is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// New events are refused (503) while the journal holds this many bytes or more.
    pub cap_bytes: u64,
    /// A client id is remembered at least this long (`--dedup-window`).
    pub dedup_window: Duration,
    /// When ids were taken: the system clock but in tests and the dedup bench.
    pub clock: Clock,
}

impl Options {
    /// A one-day dedup window on the system clock.
    pub fn capped(cap_bytes: u64) -> Self {
        Self {
            cap_bytes,
            dedup_window: Duration::from_secs(86_400),
            clock: Clock::system(),
        }
    }
}

/// The journal. Cheap to share behind an `Arc`.
pub struct Journal {
    path: PathBuf,
    id: String,
    cap_bytes: u64,
    held: Arc<Held>,
    appends: mpsc::Sender<Append>,
    /// The batcher's connection: reads flushes and deletes confirmed rows.
    reader: Mutex<Connection>,
    /// Woken after each committed append group.
    pub appended: Arc<Notify>,
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS batches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        events INTEGER NOT NULL,
        rows BLOB NOT NULL
    );
    CREATE TABLE IF NOT EXISTS flushes (
        token TEXT PRIMARY KEY,
        last_batch INTEGER NOT NULL,
        events INTEGER NOT NULL
    );
";

// Most append requests drained into one transaction.
const MAX_GROUP: usize = 512;

impl Journal {
    /// Opens (or creates) `<data_dir>/journal.sqlite3`.
    pub fn open(data_dir: &Path, options: Options) -> Result<Self, JournalError> {
        let path = data_dir.join("journal.sqlite3");
        let sql_err = |source| JournalError::sqlite(&path, source);
        // User ids and properties: for this user's eyes only.
        crate::support::files::ensure_private(&path).map_err(|source| JournalError::Private {
            path: path.clone(),
            source,
        })?;
        let writer = connect(&path).map_err(sql_err)?;
        writer.execute_batch(SCHEMA).map_err(sql_err)?;
        writer.execute_batch(seen::SCHEMA).map_err(sql_err)?;
        let id = journal_id(&writer).map_err(sql_err)?;
        let (events, bytes): (i64, i64) = writer
            .query_row(
                "SELECT coalesce(sum(events), 0), coalesce(sum(length(rows)), 0) FROM batches",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sql_err)?;
        let held = Arc::new(Held::default());
        held.events.store(events as u64, Ordering::SeqCst);
        held.bytes.store(bytes as u64, Ordering::SeqCst);
        let reader = connect(&path).map_err(sql_err)?;
        let appended = Arc::new(Notify::new());
        let (tx, rx) = mpsc::channel();
        let window_ms = options
            .dedup_window
            .as_millis()
            .try_into()
            .unwrap_or(i64::MAX);
        let seen = seen::Seen::load(&writer, window_ms).map_err(sql_err)?;
        held.remembered.store(seen.len() as u64, Ordering::SeqCst);
        let writer_state = WriterState {
            seen,
            clock: options.clock,
            held: held.clone(),
            appended: appended.clone(),
        };
        std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || write_loop(writer, writer_state, rx))
            .expect("spawn journal writer");
        Ok(Self {
            path,
            id,
            cap_bytes: options.cap_bytes,
            held,
            appends: tx,
            reader: Mutex::new(reader),
            appended,
        })
    }

    /// Events held (accepted, not yet confirmed by the store).
    pub fn held_events(&self) -> u64 {
        self.held.events.load(Ordering::SeqCst)
    }

    /// Bytes of event data held.
    pub fn held_bytes(&self) -> u64 {
        self.held.bytes.load(Ordering::SeqCst)
    }

    /// Append groups committed since open: fewer than appends when requests share commits.
    pub fn commits(&self) -> u64 {
        self.held.commits.load(Ordering::SeqCst)
    }

    /// Client ids remembered now (each checked against later events for re-sends).
    pub fn remembered_ids(&self) -> u64 {
        self.held.remembered.load(Ordering::SeqCst)
    }

    /// Refuses new events while the journal is over its cap.
    pub fn check_capacity(&self) -> Result<(), JournalError> {
        let held = self.held_bytes();
        if held >= self.cap_bytes {
            return Err(JournalError::Full {
                held,
                cap: self.cap_bytes,
            });
        }
        Ok(())
    }

    /// Makes `events` durable; returns once they are committed to disk. An event whose client
    /// id was taken within the dedup window is left out: the client's retry is acknowledged, not
    /// stored twice.
    pub async fn append(&self, events: &[Event]) -> Result<(), JournalError> {
        let mut rows = Vec::with_capacity(events.len() * 128);
        let mut given = Vec::new();
        for event in events {
            let start = rows.len();
            rowbinary::encode(event, &mut rows);
            if event.id_given {
                given.push(seen::Given {
                    id: *event.event_id.as_bytes(),
                    row: start..rows.len(),
                });
            }
        }
        self.send(events.len() as u64, rows, given).await
    }

    async fn send(
        &self,
        events: u64,
        rows: Vec<u8>,
        given: Vec<seen::Given>,
    ) -> Result<(), JournalError> {
        self.check_capacity()?;
        let (done, wait) = oneshot::channel();
        let append = Append {
            events,
            rows,
            given,
            done,
        };
        self.appends
            .send(append)
            .map_err(|_| JournalError::Stopped)?;
        let committed = wait.await.map_err(|_| JournalError::Stopped)?;
        committed.map_err(|e| self.err(e))
    }

    /// The flush to send next: the one recorded earlier and not yet confirmed (a replay), or a
    /// new one of whole batches holding up to about `max_events` events. `None` when empty.
    pub fn next_flush(&self, max_events: u64) -> Result<Option<Flush>, JournalError> {
        let mut conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let pending = tx
            .query_row("SELECT token, last_batch, events FROM flushes", [], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .optional()
            .map_err(|e| self.err(e))?;
        let flush = match pending {
            Some((token, last_batch, events)) => {
                let rows = read_rows(&tx, last_batch, u64::MAX)
                    .map_err(|e| self.err(e))?
                    .1;
                let bytes = rows.len() as u64;
                Some(Flush {
                    token,
                    last_batch,
                    events: events as u64,
                    bytes,
                    rows,
                    replay: true,
                })
            }
            None => self
                .record_new_flush(&tx, max_events)
                .map_err(|e| self.err(e))?,
        };
        tx.commit().map_err(|e| self.err(e))?;
        Ok(flush)
    }

    fn record_new_flush(
        &self,
        tx: &rusqlite::Transaction,
        max_events: u64,
    ) -> rusqlite::Result<Option<Flush>> {
        let (last_batch, rows, events) = read_rows(tx, i64::MAX, max_events)?;
        let Some(last_batch) = last_batch else {
            return Ok(None);
        };
        // The id never repeats (AUTOINCREMENT) and the journal id tells journals apart, so the
        // token is unique for the lifetime of the store.
        let token = format!("{}-{last_batch}", self.id);
        tx.execute(
            "INSERT INTO flushes (token, last_batch, events) VALUES (?1, ?2, ?3)",
            params![token, last_batch, events as i64],
        )?;
        let bytes = rows.len() as u64;
        Ok(Some(Flush {
            token,
            last_batch,
            events,
            bytes,
            rows,
            replay: false,
        }))
    }

    /// The connection profile whose store the held events were accepted for (`None` for a
    /// journal that never held any).
    pub fn owner(&self) -> Result<Option<String>, JournalError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        conn.query_row("SELECT value FROM meta WHERE key = 'profile'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| self.err(e))
    }

    /// Records that events from now on are accepted for `profile`'s store.
    pub fn set_owner(&self, profile: &str) -> Result<(), JournalError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('profile', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [profile],
        )
        .map(drop)
        .map_err(|e| self.err(e))
    }

    /// Forgets a flush the store has confirmed, and its rows.
    pub fn confirm(&self, flush: &Flush) -> Result<(), JournalError> {
        let mut conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM batches WHERE id <= ?1", [flush.last_batch])
            .map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM flushes WHERE token = ?1", [&flush.token])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        self.held.events.fetch_sub(flush.events, Ordering::SeqCst);
        self.held.bytes.fetch_sub(flush.bytes, Ordering::SeqCst);
        Ok(())
    }

    fn err(&self, source: rusqlite::Error) -> JournalError {
        JournalError::sqlite(&self.path, source)
    }
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // FULL: a commit is on disk before the client hears 202, even across a power cut.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;",
    )?;
    Ok(conn)
}

fn journal_id(conn: &Connection) -> rusqlite::Result<String> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('journal_id', ?1)",
        [&id],
    )?;
    conn.query_row("SELECT value FROM meta WHERE key = 'journal_id'", [], |r| {
        r.get(0)
    })
}

/// Reads batches in id order: all up to `through_id`, stopping once `max_events` is reached.
/// Returns the last batch id read, the concatenated rows and the event count.
fn read_rows(
    conn: &Connection,
    through_id: i64,
    max_events: u64,
) -> rusqlite::Result<(Option<i64>, Vec<u8>, u64)> {
    let mut stmt =
        conn.prepare_cached("SELECT id, events, rows FROM batches WHERE id <= ?1 ORDER BY id")?;
    let mut rows = stmt.query([through_id])?;
    let (mut last, mut buf, mut events) = (None, Vec::new(), 0u64);
    while let Some(row) = rows.next()? {
        last = Some(row.get::<_, i64>(0)?);
        events += row.get::<_, i64>(1)? as u64;
        buf.extend_from_slice(row.get_ref(2)?.as_blob()?);
        if events >= max_events {
            break;
        }
    }
    Ok((last, buf, events))
}

/// What the writer thread owns besides its connection.
struct WriterState {
    seen: seen::Seen,
    clock: Clock,
    held: Arc<Held>,
    appended: Arc<Notify>,
}

fn write_loop(mut conn: Connection, mut state: WriterState, rx: mpsc::Receiver<Append>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let now_ms = state.clock.now_ms();
        let outcome = commit_group(&mut conn, &state.seen, now_ms, &mut group);
        let outcome = outcome.map(|pending| state.seen.committed(pending));
        if outcome.is_ok() {
            let held = &state.held;
            for a in &group {
                held.events.fetch_add(a.events, Ordering::SeqCst);
                held.bytes.fetch_add(a.rows.len() as u64, Ordering::SeqCst);
            }
            held.commits.fetch_add(1, Ordering::SeqCst);
            let remembered = state.seen.len() as u64;
            held.remembered.store(remembered, Ordering::SeqCst);
            state.appended.notify_one();
        }
        for a in group {
            let reply = match &outcome {
                Ok(()) => Ok(()),
                // One error for the whole group, told to each of its requests.
                Err(e) => Err(copy_error(e)),
            };
            let _ = a.done.send(reply);
        }
    }
}

/// `rusqlite::Error` is not `Clone`; what a client needs of it is its code and message.
fn copy_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

/// Commits every append of `group` in one transaction, each without the re-sent events the
/// journal already took (their counts and rows updated in place); returns the ids it took.
fn commit_group(
    conn: &mut Connection,
    seen: &seen::Seen,
    now_ms: i64,
    group: &mut [Append],
) -> rusqlite::Result<seen::Pending> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut pending = seen::Pending::default();
    {
        let mut stmt = tx.prepare_cached("INSERT INTO batches (events, rows) VALUES (?1, ?2)")?;
        for a in group.iter_mut() {
            let repeats = seen.check(&tx, &mut pending, now_ms, &a.given)?;
            if !repeats.is_empty() {
                a.rows = seen::without(&a.rows, &repeats);
                a.events -= repeats.len() as u64;
            }
            if a.events > 0 {
                stmt.execute(params![a.events as i64, a.rows])?;
            }
        }
    }
    tx.commit()?;
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Journal {
        /// Appends `events` ready-made rows (no client ids).
        async fn send_rows(&self, events: u64, rows: Vec<u8>) -> Result<(), JournalError> {
            self.send(events, rows, Vec::new()).await
        }
    }

    fn rows(n: u8) -> Vec<u8> {
        vec![n; 10]
    }

    #[tokio::test]
    async fn flush_replays_until_confirmed_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), Options::capped(1 << 30)).unwrap();
        journal.send_rows(2, rows(1)).await.unwrap();
        journal.send_rows(3, rows(2)).await.unwrap();
        assert_eq!(journal.held_events(), 5);

        let first = journal.next_flush(1000).unwrap().unwrap();
        assert_eq!((first.events, first.replay), (5, false));
        assert_eq!(first.rows, [rows(1), rows(2)].concat());

        // Arrivals after the flush was recorded do not join it: a replay is byte-identical.
        journal.send_rows(4, rows(3)).await.unwrap();
        drop(journal);
        let journal = Journal::open(dir.path(), Options::capped(1 << 30)).unwrap();
        assert_eq!(journal.held_events(), 9);
        let again = journal.next_flush(1000).unwrap().unwrap();
        assert_eq!(
            again,
            Flush {
                replay: true,
                ..first.clone()
            }
        );

        journal.confirm(&again).unwrap();
        assert_eq!(journal.held_events(), 4);
        let next = journal.next_flush(1000).unwrap().unwrap();
        assert_eq!(
            (next.events, next.rows.clone(), next.replay),
            (4, rows(3), false)
        );
        assert_ne!(next.token, first.token);
        journal.confirm(&next).unwrap();
        assert_eq!(journal.next_flush(1000).unwrap(), None);
        assert_eq!((journal.held_events(), journal.held_bytes()), (0, 0));
    }

    #[tokio::test]
    async fn a_resent_event_is_acknowledged_but_stored_once_across_reopen() {
        use crate::ingest::event::{validate, TimeBounds};
        let now = chrono::Utc::now().timestamp_millis();
        let event = |id: Option<&str>| {
            let mut value = serde_json::json!({"event_name": "x", "session_id": "s"});
            if let Some(id) = id {
                value["event_id"] = id.into();
            }
            validate(value, TimeBounds::new(now, 90)).unwrap()
        };
        let [a, b, c] = [1, 2, 3].map(|n| format!("00000000-0000-4000-8000-00000000000{n}"));
        let (a, b, c) = (event(Some(&a)), event(Some(&b)), event(Some(&c)));
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), Options::capped(1 << 30)).unwrap();
        journal.append(&[a.clone(), b.clone()]).await.unwrap();
        journal
            .append(&[a.clone(), c.clone(), c.clone()])
            .await
            .unwrap();
        assert_eq!(journal.held_events(), 3);
        let flush = journal.next_flush(1000).unwrap().unwrap();
        let expected: Vec<u8> = [&a, &b, &c]
            .iter()
            .flat_map(|e| rowbinary::encode_all(std::slice::from_ref(*e)))
            .collect();
        assert_eq!(flush.rows, expected, "each event once, in order");
        journal.confirm(&flush).unwrap();
        drop(journal);

        // After a restart, and after the flush: still known. Events without an id are new.
        let journal = Journal::open(dir.path(), Options::capped(1 << 30)).unwrap();
        journal
            .append(&[b, event(None), event(None)])
            .await
            .unwrap();
        assert_eq!(journal.held_events(), 2);
    }

    #[tokio::test]
    async fn flush_takes_whole_batches_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), Options::capped(1 << 30)).unwrap();
        for i in 0..5 {
            journal.send_rows(400, rows(i)).await.unwrap();
        }
        let flush = journal.next_flush(1000).unwrap().unwrap();
        assert_eq!(flush.events, 1200);
        assert_eq!(flush.rows.len(), 30);
    }

    #[tokio::test]
    async fn full_journal_refuses_appends() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), Options::capped(15)).unwrap();
        journal.send_rows(1, rows(1)).await.unwrap();
        journal.send_rows(1, rows(2)).await.unwrap();
        let err = journal.send_rows(1, rows(3)).await.unwrap_err();
        assert!(
            matches!(err, JournalError::Full { held: 20, cap: 15 }),
            "{err}"
        );
        assert_eq!(journal.held_events(), 2);
    }

    /// One event appended through the journal's API; the only call of it in these tests that
    /// depends on its signature.
    async fn append(journal: &Journal, n: u8) -> Result<(), JournalError> {
        journal.send_rows(1, rows(n)).await
    }

    // On one thread: a task that has counted itself in `queued` has also handed its append to the
    // writer, because nothing between the two yields.
    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_appends_share_commits() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(Journal::open(dir.path(), Options::capped(1 << 30)).unwrap());
        append(&journal, 0).await.unwrap();
        assert_eq!(journal.commits(), 1, "a lone append is one commit");

        // Another connection holds SQLite's write lock, so the writer stalls on its first group
        // while the other appends queue up behind it.
        let blocker = Connection::open(dir.path().join("journal.sqlite3")).unwrap();
        blocker
            .busy_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let queued = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..200u8)
            .map(|i| {
                let (journal, queued) = (journal.clone(), queued.clone());
                tokio::spawn(async move {
                    queued.fetch_add(1, Ordering::SeqCst);
                    append(&journal, i).await
                })
            })
            .collect();
        while queued.load(Ordering::SeqCst) < 200 {
            tokio::task::yield_now().await;
        }
        blocker.execute_batch("COMMIT").unwrap();
        for t in tasks {
            t.await.unwrap().unwrap();
        }

        // The group waiting on the lock, then everything queued behind it: two commits, where
        // appends committing alone would take 200.
        let commits = journal.commits() - 1;
        assert!(
            commits <= 2,
            "200 concurrent appends took {commits} commits"
        );
        assert_eq!(journal.held_events(), 201);
        let flush = journal.next_flush(u64::MAX).unwrap().unwrap();
        assert_eq!(flush.events, 201);
    }
}
