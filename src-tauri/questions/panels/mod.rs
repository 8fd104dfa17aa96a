//! The built-in panels: a registry of kinds (`kinds/mod.rs`; each kind in a file of its own
//! there with its SQL from `sql/panels/`, its rows, chart and CSV), the dashboard that holds them, and a
//! cache that makes any number of viewers cost one set of queries per flush.
//!
//! A dashboard is one snapshot: its panels are computed while no flush can land
//! (`Status::stable_view`), and carry the number of flushes they reflect (`as_of_flush`).

mod cache;
mod dashboard;
#[cfg(test)]
mod fixtures;
mod kind;
mod kinds;
mod model;
mod query;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::questions::filters::Filters;
use crate::storage::batcher::Status;
use crate::storage::store::{Store, StoreError};
use crate::support::clock::Clock;

pub use crate::questions::range::Range;
pub use cache::{Snapshot, SnapshotCache};
pub use dashboard::{Dashboard, DASHBOARD_PNG_SIZE};
pub use kind::Kind;
pub use kinds::{
    ActiveUsers, ErrorMinute, ErrorRate, FeatureRow, FunnelHour, Member, Panel, PanelName,
    SessionsPoint, SignupFunnel, TopFeatures,
};
pub use model::*;
pub use query::{Query, Read, Sql, Window};

/// Where panel queries read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Source {
    /// The materialized views (plus raw events for the range's partial edge minutes); the
    /// rollups with country and device dimensions when filtered by those.
    #[default]
    Views,
    /// Raw events only: the reference the views are checked against.
    Raw,
}

impl Source {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "views" => Some(Self::Views),
            "raw" => Some(Self::Raw),
            _ => None,
        }
    }
}

/// What a dashboard is asked for: its range, source, filters and instant (`None`: now).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scope {
    pub range: Range,
    pub source: Source,
    pub filters: Filters,
    pub at: Option<DateTime<Utc>>,
}

impl Scope {
    pub fn new(range: Range) -> Self {
        Self {
            range,
            ..Self::default()
        }
    }

    /// Which SQL answers these filters from this source: the rollups' rows for every country
    /// and device when unfiltered, their rows per country and device for those filters (both
    /// at every grain), raw events for properties.
    fn read(&self) -> Read {
        match self.source {
            Source::Raw => Read::Raw,
            Source::Views if self.filters.has_props() => Read::Raw,
            Source::Views if self.filters.is_empty() => Read::Rollups { by_dims: 0 },
            Source::Views => Read::Rollups { by_dims: 1 },
        }
    }
}

/// Errors computing panels.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PanelError {
    #[error("panel query failed: {0}")]
    Store(#[from] StoreError),
}

impl PanelError {
    /// Whether asking again later may succeed (the store is down or busy), or not (the query
    /// itself is refused).
    pub fn is_retryable(&self) -> bool {
        match self {
            PanelError::Store(e) => e.is_retryable(),
        }
    }
}

/// Computes and caches dashboards.
pub struct Panels {
    store: Arc<Store>,
    status: Arc<Status>,
    clock: Clock,
    cache: SnapshotCache<Scope, Dashboard>,
    queries: AtomicU64,
}

impl Panels {
    pub fn new(store: Arc<Store>, status: Arc<Status>, clock: Clock) -> Self {
        Self {
            store,
            status,
            clock,
            cache: SnapshotCache::default(),
            queries: AtomicU64::new(0),
        }
    }

    /// Dashboard computations that reached the store so far (cache misses).
    pub fn queries_run(&self) -> u64 {
        self.queries.load(Ordering::SeqCst)
    }

    /// Every panel for `scope`, from one snapshot of the store; from the cache when no
    /// flush landed (and, for "now", no minute passed) since it was computed. Concurrent
    /// callers for the same scope wait for one computation.
    pub async fn dashboard(&self, scope: &Scope) -> Result<Arc<Dashboard>, PanelError> {
        let compute = |snapshot: Snapshot| async move {
            self.queries.fetch_add(1, Ordering::SeqCst);
            let mut panels = Vec::with_capacity(PanelName::ALL.len());
            for name in PanelName::ALL {
                panels.push(self.compute(name, scope, snapshot.end).await?);
            }
            Ok(Dashboard::assemble(
                scope,
                snapshot.end,
                snapshot.flushes,
                panels,
            ))
        };
        self.cache
            .get(scope, scope.at, &self.status, &self.clock, compute)
            .await
    }

    /// Runs a panel's queries for `scope`'s range ending at `end` (no snapshot, no cache: the
    /// caller holds the store still, or does not need to).
    pub async fn compute(
        &self,
        name: PanelName,
        scope: &Scope,
        end: DateTime<Utc>,
    ) -> Result<Panel, PanelError> {
        let query = Query {
            store: &self.store,
            window: Window::new(scope.range, end),
            filters: &scope.filters,
            read: scope.read(),
        };
        Ok(name.compute(&query).await?)
    }
}
