//! The four panels: their SQL (`sql/panels/`), their exact definitions, and a cache that makes
//! any number of viewers cost one set of queries per flush.
//!
//! A dashboard is one snapshot: its four panels are computed while no flush can land
//! (`Status::stable_view`), and carry the number of flushes they reflect (`as_of_flush`).

mod cache;
mod model;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::batcher::Status;
use crate::clock::Clock;
use crate::filters::Filters;
use crate::store::{Params, Store, StoreError};

pub use cache::{Snapshot, SnapshotCache};
pub use model::*;

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

    /// The SQL that answers these filters from this source: the rollups' rows for every
    /// country and device when unfiltered, their rows per country and device for those filters
    /// (both at every grain), raw events for properties.
    fn sql(&self) -> &'static PanelSql {
        match self.source {
            Source::Raw => &RAW,
            Source::Views if self.filters.has_props() => &RAW,
            Source::Views if self.filters.is_empty() => &VIEWS,
            Source::Views => &DIMS,
        }
    }
}

struct PanelSql {
    /// Which rows of the rollups the SQL reads (`{by_dims}`): 1 per country and device, 0 all.
    by_dims: u8,
    active_series: &'static str,
    signup_funnel: &'static str,
    top_features: &'static str,
    error_rate: &'static str,
}

// The headline is exact by definition and reads five minutes of raw events in either source.
const ACTIVE_USERS_VALUE: &str = include_str!("../../sql/panels/active_users_value.sql");

/// The rollups' SQL, unfiltered (`{filter}` is then `1`) or by country and device.
const fn rollups(by_dims: u8) -> PanelSql {
    PanelSql {
        by_dims,
        active_series: include_str!("../../sql/panels/active_users_series.sql"),
        signup_funnel: include_str!("../../sql/panels/signup_funnel.sql"),
        top_features: include_str!("../../sql/panels/top_features.sql"),
        error_rate: include_str!("../../sql/panels/error_rate.sql"),
    }
}

static VIEWS: PanelSql = rollups(0);
static DIMS: PanelSql = rollups(1);

static RAW: PanelSql = PanelSql {
    // Raw events have no rollup rows to choose.
    by_dims: 0,
    active_series: include_str!("../../sql/panels/raw/active_users_series.sql"),
    signup_funnel: include_str!("../../sql/panels/raw/signup_funnel.sql"),
    top_features: include_str!("../../sql/panels/raw/top_features.sql"),
    error_rate: include_str!("../../sql/panels/raw/error_rate.sql"),
};

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

    /// All four panels for `scope`, from one snapshot of the store; from the cache when no
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
        let window = Window::new(scope.range, end);
        let sql = scope.sql();
        let filters = &scope.filters;
        Ok(match name {
            PanelName::ActiveUsers => {
                let value: Vec<Count> = self
                    .rows(ACTIVE_USERS_VALUE, &window, filters, sql.by_dims)
                    .await?;
                let series: Vec<SessionsRow> = self
                    .rows(sql.active_series, &window, filters, sql.by_dims)
                    .await?;
                let value = value.first().map_or(0, |c| c.sessions);
                Panel::ActiveUsers(ActiveUsers::build(&window, value, &series))
            }
            PanelName::SignupFunnel => {
                let rows: Vec<FunnelRow> = self
                    .rows(sql.signup_funnel, &window, filters, sql.by_dims)
                    .await?;
                Panel::SignupFunnel(FunnelHour::build(&window, &rows))
            }
            PanelName::TopFeatures => Panel::TopFeatures(
                self.rows(sql.top_features, &window, filters, sql.by_dims)
                    .await?,
            ),
            PanelName::ErrorRate => {
                let rows: Vec<ErrorRow> = self
                    .rows(sql.error_rate, &window, filters, sql.by_dims)
                    .await?;
                Panel::ErrorRate(ErrorRate::build(&rows))
            }
        })
    }

    /// Runs `sql` over `window` with `{filter}` standing for the filters' condition and
    /// `{by_dims}` for which rollup rows to read.
    async fn rows<T: DeserializeOwned>(
        &self,
        sql: &str,
        window: &Window,
        filters: &Filters,
        by_dims: u8,
    ) -> Result<Vec<T>, StoreError> {
        let (condition, mut params) = filters.condition("f_");
        params.extend(window.params());
        params.push(("by_dims".to_owned(), by_dims.to_string()));
        let sql = sql.replace("{filter}", &condition);
        self.store.query(&sql, params).await
    }
}

#[derive(Deserialize)]
struct Count {
    sessions: u64,
}

/// The rollups' coarser grains (`grain` in `sql/schema/007_grain_rollups.sql`).
const QUARTER_S: i64 = 900;
const HOUR_S: i64 = 3600;

/// The whole `step`-aligned stretch inside `[from, to)`, or an empty one at `from`.
fn within(from: i64, to: i64, step: i64) -> (i64, i64) {
    let first = (from + step - 1).div_euclid(step) * step;
    let last = to.div_euclid(step) * step;
    if first < last {
        (first, last)
    } else {
        (from, from)
    }
}

/// The time window a panel covers: `(end - range, end]`, bucketed for the range.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
    pub bucket_s: i64,
}

impl Window {
    pub fn new(range: Range, end: DateTime<Utc>) -> Self {
        let end_ms = end.timestamp_millis();
        Self {
            start_ms: end_ms - range.seconds() * 1000,
            end_ms,
            bucket_s: range.bucket_seconds(),
        }
    }

    /// The query parameters. Whole minutes `[full_from_s, full_to_s)` lie entirely inside the
    /// window and can be read from the per-minute views, whole quarter-hours `[q_from_s,
    /// q_to_s)` among them from the quarter rollups, whole hours `[h_from_s, h_to_s)` among
    /// those from the hourly ones; the rest comes from raw events. The
    /// sparkline reads quarters only when its buckets are made of whole quarters (24h).
    fn params(&self) -> Params {
        let full_from_s = self.start_ms.div_euclid(60_000) * 60 + 60;
        let full_to_s = (self.end_ms + 1).div_euclid(60_000) * 60;
        let quarters = within(full_from_s, full_to_s, QUARTER_S);
        let hours = within(quarters.0, quarters.1, HOUR_S);
        let series_quarters = match self.bucket_s % QUARTER_S {
            0 => quarters,
            _ => (full_from_s, full_from_s),
        };
        vec![
            ("start_ms".to_owned(), self.start_ms.to_string()),
            ("end_ms".to_owned(), self.end_ms.to_string()),
            ("bucket_s".to_owned(), self.bucket_s.to_string()),
            ("full_from_s".to_owned(), full_from_s.to_string()),
            ("full_to_s".to_owned(), full_to_s.to_string()),
            ("q_from_s".to_owned(), quarters.0.to_string()),
            ("q_to_s".to_owned(), quarters.1.to_string()),
            ("h_from_s".to_owned(), hours.0.to_string()),
            ("h_to_s".to_owned(), hours.1.to_string()),
            ("series_q_from_s".to_owned(), series_quarters.0.to_string()),
            ("series_q_to_s".to_owned(), series_quarters.1.to_string()),
        ]
    }

    /// Start times (Unix seconds) of every `step_s` bucket that overlaps the window.
    pub fn buckets(&self, step_s: i64) -> impl Iterator<Item = i64> {
        // The window is open at its start: an event exactly at start_ms is outside it.
        let first = (self.start_ms + 1).div_euclid(1000).div_euclid(step_s) * step_s;
        let last = self.end_ms.div_euclid(1000).div_euclid(step_s) * step_s;
        (first..=last).step_by(step_s as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_are_the_whole_aligned_stretch_inside() {
        // 10:01 to 11:47 holds the quarters 10:15 to 11:45.
        let (from, to) = (36_060, 42_420);
        assert_eq!(within(from, to, QUARTER_S), (36_900, 42_300));
        // Less than a whole quarter: empty, so the minute tables read everything.
        assert_eq!(within(36_060, 36_840, QUARTER_S), (36_060, 36_060));
        assert_eq!(within(36_000, 36_900, QUARTER_S), (36_000, 36_900));
    }

    #[test]
    fn only_the_24h_sparkline_reads_quarters() {
        let end = DateTime::parse_from_rfc3339("2026-11-24T11:47:30Z")
            .unwrap()
            .with_timezone(&Utc);
        let param = |range, name| {
            let params = Window::new(range, end).params();
            let value = &params.iter().find(|(n, _)| *n == name).unwrap().1;
            value.parse::<i64>().unwrap()
        };
        for range in Range::ALL {
            assert!(param(range, "q_from_s") < param(range, "q_to_s"));
        }
        assert!(param(Range::H24, "series_q_from_s") < param(Range::H24, "series_q_to_s"));
        for range in [Range::H1, Range::H6] {
            assert_eq!(
                param(range, "series_q_from_s"),
                param(range, "series_q_to_s")
            );
        }
    }
}
