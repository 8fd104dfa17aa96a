//! The batcher: moves events from the journal to the store, one INSERT per flush.
//!
//! A flush is due when `flush_size` events are waiting or `flush_interval` has passed since the
//! last one. Under load flushes coalesce: while one INSERT runs, events accumulate and the next
//! flush takes all of them (up to `max_flush_events`). A failed insert keeps its rows in the
//! journal and is retried, with the same token, after a growing pause.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::storage::journal::{Journal, JournalError};
use crate::storage::store::{Schema, Store, StoreError};

/// When to flush. A flush starts as soon as events wait and the previous one started at least
/// `flush_min_interval` ago (at once when `flush_size` events wait); `flush_interval` stays an
/// upper bound on the wait. Under load a flush takes longer than the gap, so the next one takes
/// everything that arrived meanwhile (up to `max_flush_events`): flushes coalesce.
#[derive(Debug, Clone)]
pub struct FlushPolicy {
    pub flush_size: u64,
    pub flush_interval: Duration,
    /// The shortest gap between the starts of two flushes (ClickHouse's own async-insert
    /// cadence is 200 ms): an event is in the panels within about this long at a trickle.
    pub flush_min_interval: Duration,
    pub max_flush_events: u64,
}

impl FlushPolicy {
    /// How long until the next flush may start, with `held` events waiting and `since` the
    /// start of the previous one; `None` while nothing waits.
    fn due_in(&self, held: u64, since: Duration) -> Option<Duration> {
        match held {
            0 => None,
            n if n >= self.flush_size => Some(Duration::ZERO),
            _ => Some(
                self.flush_min_interval
                    .min(self.flush_interval)
                    .saturating_sub(since),
            ),
        }
    }
}

const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// After a refusal a retry cannot fix (SQL, credentials, grants), the batcher stops retrying and
/// only checks again this rarely, in case someone fixed the server meanwhile; a restart or a
/// profile switch tries at once.
const REFUSED_RECHECK: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum FlushError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FlushError {
    /// A journal failure (disk, lock) may pass; a store refusal says itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            FlushError::Journal(_) => true,
            FlushError::Store(e) => e.is_retryable(),
        }
    }
}

/// What the batcher last saw of the store, for `/health` and the window.
#[derive(Debug, Clone, Default)]
pub struct StoreState {
    pub reachable: bool,
    pub last_flush: Option<DateTime<Utc>>,
    pub unreachable_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The last failure is one a retry cannot fix (credentials, grants, SQL): someone must act.
    pub needs_action: bool,
    /// Flush attempts that failed so far.
    pub failed_flushes: u64,
    /// After an outage, the backlog being sent: `(events sent, events in the backlog)`, until
    /// the journal is empty again.
    pub backlog: Option<(u64, u64)>,
}

/// Shared batcher status. `flushes` ticks after every confirmed flush: panels subscribe to it.
pub struct Status {
    state: Mutex<StoreState>,
    flushes: watch::Sender<u64>,
    /// Held for writing while a flush lands (insert, confirm, count) and for reading while a
    /// snapshot is computed: every query of one snapshot sees the same flushes.
    landing: tokio::sync::RwLock<()>,
}

/// A stable view of the store: no flush lands while it is held.
pub struct Snapshot<'a> {
    _landing: tokio::sync::RwLockReadGuard<'a, ()>,
    /// Confirmed flushes the store holds (`as_of_flush`).
    pub flushes: u64,
}

impl Default for Status {
    fn default() -> Self {
        Self {
            state: Mutex::new(StoreState {
                reachable: true,
                ..StoreState::default()
            }),
            flushes: watch::channel(0).0,
            landing: tokio::sync::RwLock::new(()),
        }
    }
}

impl Status {
    pub fn snapshot(&self) -> StoreState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Confirmed flushes so far (changes after each one).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.flushes.subscribe()
    }

    pub fn flush_count(&self) -> u64 {
        *self.flushes.borrow()
    }

    /// Waits for a flush that is landing, then keeps the next one out until the snapshot is
    /// dropped. Flushes wait for snapshots being computed, not the other way round for long:
    /// the lock is fair, so a waiting flush goes before snapshots asked for after it.
    pub async fn stable_view(&self) -> Snapshot<'_> {
        let landing = self.landing.read().await;
        Snapshot {
            _landing: landing,
            flushes: self.flush_count(),
        }
    }

    fn update(&self, f: impl FnOnce(&mut StoreState)) {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// A confirmed flush of `events`, with `held` still waiting in the journal.
    fn flushed(&self, events: u64, held: u64) {
        self.update(|s| {
            s.backlog = match s.backlog {
                _ if held == 0 => None,
                // Under steady traffic the journal never empties: done once the backlog is sent.
                Some((sent, total)) => Some((sent + events, total)).filter(|(s, t)| s < t),
                None if !s.reachable => Some((events, events + held)),
                None => None,
            };
            if let Some((sent, total)) = s.backlog {
                tracing::info!(sent, total, "replaying the backlog");
            }
            s.reachable = true;
            s.last_flush = Some(Utc::now());
            s.unreachable_since = None;
            s.last_error = None;
            s.needs_action = false;
        });
        self.flushes.send_modify(|n| *n += 1);
    }

    pub(crate) fn failed(&self, error: &FlushError) {
        self.update(|s| {
            if s.reachable {
                s.unreachable_since = Some(Utc::now());
            }
            s.reachable = false;
            s.last_error = Some(error.to_string());
            s.needs_action = !error.is_retryable();
            s.failed_flushes += 1;
        });
    }
}

/// Runs until `shutdown` turns true, then makes one last attempt to empty the journal.
pub async fn run(
    journal: Arc<Journal>,
    store: Arc<Store>,
    schema: Arc<Schema>,
    status: Arc<Status>,
    policy: FlushPolicy,
    mut shutdown: watch::Receiver<bool>,
) {
    // Anything left from a previous run is due at once.
    let mut last_start = Instant::now() - policy.flush_interval;
    let mut backoff = MIN_BACKOFF;
    loop {
        let due_in = policy.due_in(journal.held_events(), last_start.elapsed());
        if due_in == Some(Duration::ZERO) {
            last_start = Instant::now();
            match flush_once(&journal, &store, &schema, &policy, &status).await {
                Ok(_) => {
                    backoff = MIN_BACKOFF;
                    continue;
                }
                Err((error, events)) => {
                    let pause = if error.is_retryable() {
                        backoff
                    } else {
                        REFUSED_RECHECK
                    };
                    tracing::warn!(%error, events, retry_in_ms = pause.as_millis() as u64, "flush failed; events stay in the journal");
                    status.failed(&error);
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = shutdown.changed() => break,
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
        }
        // Nothing waits: sleep until an append wakes us (the interval only bounds the nap).
        let wait = due_in.unwrap_or(policy.flush_interval);
        tokio::select! {
            _ = journal.appended.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => break,
        }
    }
    // A clean stop leaves nothing behind when the store is up; otherwise the journal keeps it.
    if let Err(error) = drain(&journal, &store, &schema, &policy, &status).await {
        tracing::warn!(%error, held = journal.held_events(), "stopping with events in the journal; they are sent on the next start");
    }
}

/// Sends everything the journal holds to `store`, flush after flush, until it is empty.
pub async fn drain(
    journal: &Journal,
    store: &Store,
    schema: &Schema,
    policy: &FlushPolicy,
    status: &Status,
) -> Result<(), FlushError> {
    while journal.held_events() > 0 {
        flush_once(journal, store, schema, policy, status)
            .await
            .map_err(|(error, _)| error)?;
    }
    Ok(())
}

/// Sends the next flush and counts it. Returns the number of events stored (0 when there was
/// nothing).
async fn flush_once(
    journal: &Journal,
    store: &Store,
    schema: &Schema,
    policy: &FlushPolicy,
    status: &Status,
) -> Result<u64, (FlushError, u64)> {
    // A server that was down when the engine started gets its schema before the first insert.
    schema.ensure(store).await.map_err(|e| (e.into(), 0))?;
    let Some(mut flush) = journal
        .next_flush(policy.max_flush_events)
        .map_err(|e| (e.into(), 0))?
    else {
        return Ok(0);
    };
    let started = Instant::now();
    let events = flush.events;
    // No snapshot is computed while the flush lands, so none sees it in some tables only.
    let _landing = status.landing.write().await;
    if flush.replay {
        tracing::info!(events, token = %flush.token, "re-sending a flush that was not confirmed");
    }
    store
        .insert(std::mem::take(&mut flush.rows), &flush.token)
        .await
        .map_err(|e| (e.into(), events))?;
    journal.confirm(&flush).map_err(|e| (e.into(), events))?;
    status.flushed(events, journal.held_events());
    tracing::debug!(events, ms = started.elapsed().as_millis() as u64, "flushed");
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flush_is_due_after_the_minimum_gap_or_at_once_when_full() {
        let policy = FlushPolicy {
            flush_size: 1000,
            flush_interval: Duration::from_secs(2),
            flush_min_interval: Duration::from_millis(200),
            max_flush_events: 200_000,
        };
        let ms = Duration::from_millis;
        assert_eq!(policy.due_in(0, ms(5000)), None, "nothing waits");
        assert_eq!(policy.due_in(1, ms(50)), Some(ms(150)));
        assert_eq!(policy.due_in(1, ms(250)), Some(Duration::ZERO));
        assert_eq!(policy.due_in(1000, ms(0)), Some(Duration::ZERO), "full");
        // An interval below the gap still bounds the wait.
        let quick = FlushPolicy {
            flush_interval: ms(50),
            ..policy
        };
        assert_eq!(quick.due_in(1, ms(0)), Some(ms(50)));
    }

    #[test]
    fn after_an_outage_the_backlog_replay_is_tracked_until_sent() {
        let status = Status::default();
        status.flushed(100, 0);
        assert_eq!(status.snapshot().backlog, None, "no outage, no backlog");

        status.failed(&FlushError::Store(StoreError::Closed));
        status.flushed(1000, 9000);
        assert_eq!(status.snapshot().backlog, Some((1000, 10_000)));
        status.flushed(4000, 5000);
        assert_eq!(status.snapshot().backlog, Some((5000, 10_000)));
        // New traffic keeps the journal from emptying: done once the backlog itself is sent.
        status.flushed(5000, 800);
        assert_eq!(status.snapshot().backlog, None);
        assert!(status.snapshot().reachable);
    }
}
