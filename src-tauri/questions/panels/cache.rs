//! One computation per question per flush, however many viewers ask: answers computed from one
//! snapshot of the store, kept until a flush lands or, for "now", the minute turns.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::storage::batcher::Status;
use crate::support::clock::Clock;

/// The time bucket of the cache: an answer for "now" is served until the next flush or the
/// next minute (the range slides with the clock even when nothing arrives; the finest series
/// step is one minute), so an idle dashboard costs one set of queries a minute.
const BUCKET_S: i64 = 60;
const MAX_CACHED: usize = 256;

struct Cached<V> {
    flushes: u64,
    bucket: i64,
    value: Arc<V>,
}

type Slot<V> = Arc<tokio::sync::Mutex<Option<Cached<V>>>>;

/// Answers by key (the question: a scope, a funnel…).
pub struct SnapshotCache<K, V> {
    slots: Mutex<HashMap<K, Slot<V>>>,
}

impl<K, V> Default for SnapshotCache<K, V> {
    fn default() -> Self {
        Self {
            slots: Mutex::default(),
        }
    }
}

/// What a computation is given: the end of its range and the flushes its snapshot reflects.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    pub end: DateTime<Utc>,
    pub flushes: u64,
}

impl<K: Eq + Hash + Clone, V> SnapshotCache<K, V> {
    /// The answer to `key` as of `at` (`None`: now): cached, or computed by `compute` while no
    /// flush can land (`Status::stable_view`). Concurrent callers for one key wait for one
    /// computation.
    pub async fn get<E, Fut>(
        &self,
        key: &K,
        at: Option<DateTime<Utc>>,
        status: &Status,
        clock: &Clock,
        compute: impl FnOnce(Snapshot) -> Fut,
    ) -> Result<Arc<V>, E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            if slots.len() >= MAX_CACHED && !slots.contains_key(key) {
                slots.clear();
            }
            slots.entry(key.clone()).or_default().clone()
        };
        let mut slot = slot.lock().await;
        let stable = status.stable_view().await;
        let now = clock.now();
        let bucket = now.timestamp().div_euclid(BUCKET_S);
        if let Some(c) = slot.as_ref() {
            if c.flushes == stable.flushes && (at.is_some() || c.bucket == bucket) {
                return Ok(c.value.clone());
            }
        }
        let snapshot = Snapshot {
            end: at.unwrap_or(now),
            flushes: stable.flushes,
        };
        let value = Arc::new(compute(snapshot).await?);
        *slot = Some(Cached {
            flushes: stable.flushes,
            bucket,
            value: value.clone(),
        });
        Ok(value)
    }
}
