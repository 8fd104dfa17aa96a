//! Funnels: their definitions (`definition.rs`), kept in `funnels.json` in the data directory,
//! and their computation over raw events with ClickHouse's `windowFunnel` (`compute.rs`,
//! `sql/funnels/funnel.sql`), cached like the panels: one computation per (definition, scope,
//! breakdown) per flush, however many viewers ask.

pub mod chart;
mod compute;
mod definition;
mod trend;
pub mod trend_chart;

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::questions::filters::Filters;
use crate::questions::panels::{Range, Scope, Snapshot, SnapshotCache, Window};
use crate::questions::shelf::{self, Shelf, ShelfError};
pub use crate::questions::shelf::{check_id, DefinitionError, Invalid};
use crate::storage::batcher::Status;
use crate::storage::store::{Store, StoreError};
use crate::support::clock::Clock;

pub use crate::questions::range::Interval;
pub use compute::{
    lagging, step_counts, wilson_95, Actor, Breakdown, Counts, FunnelReport, Group, Outcome,
    StepCount, Who, MAX_GROUPS,
};
pub use definition::{CountBy, Funnel, Step, MAX_STEPS, MIN_STEPS};
pub use trend::{FunnelTrend, Point, Series};

const FILE: &str = "funnels.json";
const EVENT_NAMES_SQL: &str = include_str!("../../../sql/funnels/event_names.sql");

/// Errors defining, storing or computing funnels.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FunnelError {
    /// A definition or query parameter that breaks its rule, or the file they are kept in.
    #[error(transparent)]
    Shelf(#[from] ShelfError),
    #[error("funnel query failed: {0}")]
    Store(#[from] StoreError),
}

impl From<DefinitionError> for FunnelError {
    fn from(error: DefinitionError) -> Self {
        Self::Shelf(error.into())
    }
}

impl FunnelError {
    /// Whether asking again later may succeed (the store is down or busy).
    pub fn is_retryable(&self) -> bool {
        matches!(self, FunnelError::Store(e) if e.is_retryable())
    }
}

/// An event name seen in a range, with how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventName {
    pub event_name: String,
    pub count: u64,
}

/// `GET /api/event_names`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventNames {
    pub range: Range,
    pub as_of_flush: u64,
    pub filters: Filters,
    pub event_names: Vec<EventName>,
}

impl shelf::Definition for Funnel {
    const KIND: &'static str = "funnel";
    const ROUTE: &'static str = "/api/funnels";

    fn parse(id: &str, body: &Value) -> Result<Self, DefinitionError> {
        Funnel::parse(id, body)
    }
}

/// The funnels a data directory defines (`funnels.json`; without one, the built-in `signup`
/// funnel alone), read before the engine opens its store.
pub fn definitions(data_dir: &Path) -> Result<Shelf<Funnel>, ShelfError> {
    Shelf::load(data_dir, FILE, || {
        let signup = Funnel::builtin_signup();
        vec![(signup.id.clone(), signup)]
    })
}

/// `GET /api/funnels/{id}/actors`: those who reached a step, or dropped after it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelActors {
    pub id: String,
    pub range: Range,
    pub as_of_flush: u64,
    pub filters: Filters,
    pub step: usize,
    pub event_name: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Breakdown>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// All of them; `actors` holds the first `limit`, the latest to enter first.
    pub total: u64,
    pub actors: Vec<Actor>,
}

/// The question a funnel answer is cached for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Question {
    funnel: Arc<Funnel>,
    scope: Scope,
    breakdown: Option<Breakdown>,
}

/// The funnels of an instance: definitions, their file, and their answers.
pub struct Funnels {
    defined: Shelf<Funnel>,
    store: Arc<Store>,
    status: Arc<Status>,
    clock: Clock,
    reports: SnapshotCache<Question, FunnelReport>,
    trends: SnapshotCache<(Question, Interval), FunnelTrend>,
    names: SnapshotCache<Scope, EventNames>,
    who: SnapshotCache<(Question, Who), FunnelActors>,
}

impl Funnels {
    /// The funnels of `definitions`, computed over `store`.
    pub fn new(
        defined: Shelf<Funnel>,
        store: Arc<Store>,
        status: Arc<Status>,
        clock: Clock,
    ) -> Self {
        Self {
            defined,
            store,
            status,
            clock,
            reports: SnapshotCache::default(),
            trends: SnapshotCache::default(),
            names: SnapshotCache::default(),
            who: SnapshotCache::default(),
        }
    }

    /// Every funnel, by id.
    pub fn list(&self) -> Vec<Arc<Funnel>> {
        self.defined.list()
    }

    /// The stored definitions that break a rule, by id.
    pub fn invalid(&self) -> Vec<Invalid> {
        self.defined.invalid()
    }

    pub fn get(&self, id: &str) -> Result<Arc<Funnel>, FunnelError> {
        Ok(self.defined.get(id)?)
    }

    /// Defines (or redefines) funnel `id` from `body`; saved before it takes effect.
    pub fn put(&self, id: &str, body: &Value) -> Result<Arc<Funnel>, FunnelError> {
        Ok(self.defined.put(id, body)?)
    }

    /// Deletes funnel `id` (the built-in one too: it stays deleted).
    pub fn delete(&self, id: &str) -> Result<(), FunnelError> {
        Ok(self.defined.delete(id)?)
    }

    /// Funnel `id` over `scope`, optionally broken down: from the cache when no flush landed
    /// (and, for "now", no minute passed) since it was computed.
    pub async fn report(
        &self,
        id: &str,
        scope: &Scope,
        breakdown: Option<Breakdown>,
    ) -> Result<Arc<FunnelReport>, FunnelError> {
        let question = Question {
            funnel: self.get(id)?,
            scope: scope.clone(),
            breakdown,
        };
        let q = &question;
        let compute = move |snapshot: Snapshot| async move {
            let window = Window::new(q.scope.range, snapshot.end);
            let counts = self
                .counts(&q.funnel, &window, &q.scope.filters, q.breakdown.as_ref())
                .await?;
            Ok::<_, FunnelError>(FunnelReport {
                id: q.funnel.id.clone(),
                range: q.scope.range,
                window_s: q.funnel.window_s,
                count_by: q.funnel.count_by,
                as_of_flush: snapshot.flushes,
                filters: q.scope.filters.clone(),
                steps: step_counts(&q.funnel, &counts.total),
                breakdown: q.breakdown.clone(),
                groups: counts
                    .groups
                    .iter()
                    .map(|(value, c)| Group {
                        value: value.clone(),
                        steps: step_counts(&q.funnel, c),
                    })
                    .collect(),
            })
        };
        self.reports
            .get(q, scope.at, &self.status, &self.clock, compute)
            .await
    }

    /// Funnel `id`'s conversion over time in `scope`, by `interval`, in total and (with a
    /// breakdown) for the groups its report shows; cached like [`Funnels::report`].
    pub async fn trend(
        &self,
        id: &str,
        scope: &Scope,
        breakdown: Option<Breakdown>,
        interval: Interval,
    ) -> Result<Arc<FunnelTrend>, FunnelError> {
        let question = (
            Question {
                funnel: self.get(id)?,
                scope: scope.clone(),
                breakdown,
            },
            interval,
        );
        let interval_s = interval.seconds(scope.range);
        // Refused before anything is read: too many points for any range end.
        Window::new(scope.range, self.clock.now()).bucket_indices(interval_s)?;
        let (q, _) = &question;
        let compute = move |snapshot: Snapshot| async move {
            let window = Window::new(q.scope.range, snapshot.end);
            let (funnel, filters, breakdown) = (&q.funnel, &q.scope.filters, q.breakdown.as_ref());
            let groups: Vec<String> = match breakdown {
                None => Vec::new(),
                Some(_) => {
                    let counts = self.counts(funnel, &window, filters, breakdown).await?;
                    counts.groups.into_iter().map(|(value, _)| value).collect()
                }
            };
            let (sql, params) =
                compute::trend_query(funnel, &window, filters, breakdown, &groups, interval_s);
            let rows: Vec<compute::TrendRow> = self.store.query(&sql, params).await?;
            let buckets = window.bucket_indices(interval_s)?;
            Ok::<_, FunnelError>(FunnelTrend {
                id: funnel.id.clone(),
                range: q.scope.range,
                interval_s,
                as_of_flush: snapshot.flushes,
                filters: filters.clone(),
                breakdown: q.breakdown.clone(),
                series: trend::series(&rows, buckets, interval_s, funnel.steps.len(), &groups),
            })
        };
        self.trends
            .get(&question, scope.at, &self.status, &self.clock, compute)
            .await
    }

    /// The actors of funnel `id` over `scope` that `who` names: from the same snapshot and
    /// window as [`Funnels::report`] for the same scope, so `total` for `dropped` at step K is
    /// the report's count at K less its count at K + 1.
    pub async fn actors(
        &self,
        id: &str,
        scope: &Scope,
        breakdown: Option<Breakdown>,
        who: Who,
    ) -> Result<Arc<FunnelActors>, FunnelError> {
        let funnel = self.get(id)?;
        check_who(&funnel, breakdown.as_ref(), &who)?;
        let question = (
            Question {
                funnel,
                scope: scope.clone(),
                breakdown,
            },
            who,
        );
        let (q, who) = &question;
        let compute = move |snapshot: Snapshot| async move {
            let window = Window::new(q.scope.range, snapshot.end);
            let (sql, params) = compute::who_query(
                &q.funnel,
                &window,
                &q.scope.filters,
                q.breakdown.as_ref(),
                who,
            );
            let actors: Vec<Actor> = self.store.query(&sql, params).await?;
            Ok::<_, FunnelError>(FunnelActors {
                id: q.funnel.id.clone(),
                range: q.scope.range,
                as_of_flush: snapshot.flushes,
                filters: q.scope.filters.clone(),
                step: who.step,
                event_name: q.funnel.steps[who.step - 1].event_name.clone(),
                outcome: who.outcome,
                breakdown: q.breakdown.clone(),
                value: who.value.clone(),
                total: actors.first().map_or(0, |a| a.total),
                actors,
            })
        };
        self.who
            .get(&question, scope.at, &self.status, &self.clock, compute)
            .await
    }

    /// `funnel_conversion_pct:<id>` for alerts: last step over first step (percent, 1 decimal)
    /// for actors entering in `window` under `filters`; `None` when nobody entered. Not
    /// cached, and not held still against flushes: one query, one snapshot.
    pub async fn conversion(
        &self,
        id: &str,
        window: &Window,
        filters: &Filters,
    ) -> Result<Option<f64>, FunnelError> {
        let funnel = self.get(id)?;
        let counts = self.counts(&funnel, window, filters, None).await?;
        Ok(counts.conversion_pct())
    }

    /// Step `n` (from 2) over step `n - 1` of funnel `id` in percent (1 decimal), for actors
    /// entering in `window`; null when none reached step `n - 1` (or the funnel is shorter).
    pub async fn step_pct(
        &self,
        id: &str,
        n: usize,
        window: &Window,
        filters: &Filters,
    ) -> Result<Option<f64>, FunnelError> {
        let funnel = self.get(id)?;
        let counts = self.counts(&funnel, window, filters, None).await?;
        let step = |k: usize| counts.total.get(k.checked_sub(1)?).copied();
        Ok(step(n - 1)
            .zip(step(n))
            .and_then(|(from, to)| crate::questions::panels::conversion_pct(from, to)))
    }

    /// The step counts of `funnel` over `window` (and the largest groups of `breakdown`).
    pub async fn counts(
        &self,
        funnel: &Funnel,
        window: &Window,
        filters: &Filters,
        breakdown: Option<&Breakdown>,
    ) -> Result<Counts, FunnelError> {
        let (sql, params) = compute::query(funnel, window, filters, breakdown);
        let rows = self.store.query(&sql, params).await?;
        Ok(compute::counts(
            rows,
            funnel.steps.len(),
            breakdown.is_some(),
        ))
    }

    /// The event names seen in `scope`, most frequent first (what a funnel editor offers).
    pub async fn event_names(&self, scope: &Scope) -> Result<Arc<EventNames>, FunnelError> {
        let compute = |snapshot: Snapshot| async move {
            let window = Window::new(scope.range, snapshot.end);
            let (filter, mut params) = scope.filters.condition("f_");
            params.extend([
                ("start_ms".to_owned(), window.start_ms.to_string()),
                ("end_ms".to_owned(), window.end_ms.to_string()),
            ]);
            let sql = EVENT_NAMES_SQL.replace("{filter}", &filter);
            Ok::<_, FunnelError>(EventNames {
                range: scope.range,
                as_of_flush: snapshot.flushes,
                filters: scope.filters.clone(),
                event_names: self.store.query(&sql, params).await?,
            })
        };
        self.names
            .get(scope, scope.at, &self.status, &self.clock, compute)
            .await
    }
}

/// `step` within the funnel (and before its last for `dropped`: nobody drops after the last),
/// `value` with a breakdown and only then.
fn check_who(
    funnel: &Funnel,
    breakdown: Option<&Breakdown>,
    who: &Who,
) -> Result<(), DefinitionError> {
    let steps = funnel.steps.len();
    let last = match who.outcome {
        Outcome::Reached => steps,
        Outcome::Dropped => steps - 1,
    };
    if !(1..=last).contains(&who.step) {
        let rule = match who.outcome {
            Outcome::Reached => format!("1 to {steps}: the funnel has {steps} steps"),
            Outcome::Dropped => format!(
                "1 to {last} for dropped: the funnel has {steps} steps and nobody drops after the last"
            ),
        };
        return Err(DefinitionError::new(
            "step",
            format!("{rule} (got {})", who.step),
        ));
    }
    match (breakdown, &who.value) {
        (Some(_), None) => Err(DefinitionError::new(
            "value",
            "required with a breakdown: the group whose actors to list",
        )),
        (None, Some(_)) => Err(DefinitionError::new(
            "value",
            "only with a breakdown (breakdown=country, device or prop.KEY)",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn funnels(dir: &Path) -> Funnels {
        // Definitions never reach the store: one that is never called will do.
        let config = crate::storage::store::ServerConfig {
            url: "http://127.0.0.1:9".to_owned(),
            user: "default".to_owned(),
            password: None,
            database: "pulseboard".to_owned(),
            timeout: std::time::Duration::from_secs(1),
        };
        let store = Arc::new(Store::Server(
            crate::storage::store::Server::offline(&config).unwrap(),
        ));
        Funnels::new(
            definitions(dir).unwrap(),
            store,
            Arc::default(),
            Clock::system(),
        )
    }

    #[test]
    fn definitions_persist_and_the_builtin_stays_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let f = funnels(dir.path());
        let ids = |f: &Funnels| f.list().iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&f), ["signup"]);
        let body = json!({"steps": [{"event_name": "a"}, {"event_name": "b"}]});
        f.put("checkout", &body).unwrap();
        f.delete("signup").unwrap();
        assert!(matches!(
            f.delete("signup"),
            Err(FunnelError::Shelf(ShelfError::Unknown { .. }))
        ));
        let again = funnels(dir.path());
        assert_eq!(ids(&again), ["checkout"]);
        assert_eq!(again.get("checkout").unwrap(), f.get("checkout").unwrap());
        // A refused definition changes nothing.
        assert!(again.put("checkout", &json!({"steps": []})).is_err());
        assert_eq!(funnels(dir.path()).get("checkout").unwrap().steps.len(), 2);
    }
}
