//! Insights: a trend of any event (DESIGN.md "Insights"). Definitions (`definition.rs`) kept in
//! `insights.json` in the data directory; answers computed by `query.rs`'s SQL over the count
//! rollups or raw events, one snapshot per answer, cached per flush like the panels; drawn by
//! `chart.rs`.

pub mod chart;
mod definition;
mod query;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::questions::breakdown::Breakdown;
use crate::questions::filters::Filters;
use crate::questions::panels::{
    format_time, rfc3339, Range, Scope, Snapshot, SnapshotCache, Source, Window,
};
use crate::questions::shelf::{self, DefinitionError, Invalid, Shelf, ShelfError};
use crate::storage::batcher::Status;
use crate::storage::store::{Store, StoreError};
use crate::support::clock::Clock;
use crate::support::csv::{Cell, Csv};

pub use definition::{Aggregate, Chart, Insight, Measure, MAX_EVENTS};
pub use query::MAX_GROUPS;
use query::{Ask, Row};

const FILE: &str = "insights.json";

/// Errors defining, storing or computing insights.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InsightError {
    /// A definition or query parameter that breaks its rule, or the file they are kept in.
    #[error(transparent)]
    Shelf(#[from] ShelfError),
    #[error("insight query failed: {0}")]
    Store(#[from] StoreError),
}

impl From<DefinitionError> for InsightError {
    fn from(error: DefinitionError) -> Self {
        Self::Shelf(error.into())
    }
}

impl InsightError {
    /// Whether asking again later may succeed (the store is down or busy).
    pub fn is_retryable(&self) -> bool {
        matches!(self, InsightError::Store(e) if e.is_retryable())
    }
}

impl shelf::Definition for Insight {
    const KIND: &'static str = "insight";
    const ROUTE: &'static str = "/api/insights";

    fn parse(id: &str, body: &Value) -> Result<Self, DefinitionError> {
        Insight::parse(id, body)
    }
}

/// Whether `insight` under `filters` is answered from the count rollups (else raw events).
pub fn reads_rollups(insight: &Insight, filters: &Filters) -> bool {
    query::rollup_rows(insight, filters, Source::Views).is_some()
}

/// The insights a data directory defines (`insights.json`; none at first).
pub fn definitions(data_dir: &Path) -> Result<Shelf<Insight>, ShelfError> {
    Shelf::load(data_dir, FILE, Vec::new)
}

/// An insight's answer (`GET /api/insights/{id}`, `POST /api/insights/query`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// None for a question asked without storing it.
    pub id: Option<String>,
    pub name: String,
    pub range: Range,
    pub interval_s: i64,
    pub measure: Measure,
    pub as_of_flush: u64,
    pub filters: Filters,
    pub breakdown: Option<Breakdown>,
    /// One series (`group` null) without a breakdown; with one, the largest groups.
    pub series: Vec<Series>,
    /// `compare=previous`: the same groups one range earlier, `t` shifted into this range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Vec<Series>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub group: Option<String>,
    /// The measure over the whole range (users: distinct over it, not a sum of points).
    #[serde(serialize_with = "number")]
    pub total: Option<f64>,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// The bucket's start, Unix seconds.
    #[serde(serialize_with = "rfc3339")]
    pub t: i64,
    #[serde(serialize_with = "number")]
    pub value: Option<f64>,
}

impl Answer {
    /// `t,group,value`: every point of every series (group empty without a breakdown).
    pub fn csv(&self) -> Csv {
        let mut csv = Csv::new(&["t", "group", "value"]);
        for series in &self.series {
            for point in &series.points {
                csv.row([
                    Cell::text(format_time(point.t)),
                    Cell::text(series.group.clone().unwrap_or_default()),
                    Cell::maybe(point.value),
                ]);
            }
        }
        csv
    }
}

/// A count stays a whole number in JSON (`12`, not `12.0`).
fn number<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) if v.fract() == 0.0 && v.abs() < 9e15 => s.serialize_i64(*v as i64),
        Some(v) => s.serialize_f64(*v),
        None => s.serialize_none(),
    }
}

/// What an answer is cached for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Question {
    insight: Insight,
    scope: Scope,
    compare: bool,
}

/// The insights of an instance: definitions, their file, and their answers.
pub struct Insights {
    defined: Shelf<Insight>,
    store: Arc<Store>,
    status: Arc<Status>,
    clock: Clock,
    answers: SnapshotCache<Question, Answer>,
}

impl Insights {
    pub fn new(
        defined: Shelf<Insight>,
        store: Arc<Store>,
        status: Arc<Status>,
        clock: Clock,
    ) -> Self {
        Self {
            defined,
            store,
            status,
            clock,
            answers: SnapshotCache::default(),
        }
    }

    pub fn list(&self) -> Vec<Arc<Insight>> {
        self.defined.list()
    }

    pub fn invalid(&self) -> Vec<Invalid> {
        self.defined.invalid()
    }

    pub fn get(&self, id: &str) -> Result<Arc<Insight>, InsightError> {
        Ok(self.defined.get(id)?)
    }

    pub fn put(&self, id: &str, body: &Value) -> Result<Arc<Insight>, InsightError> {
        Ok(self.defined.put(id, body)?)
    }

    pub fn delete(&self, id: &str) -> Result<(), InsightError> {
        Ok(self.defined.delete(id)?)
    }

    /// Stored insight `id` over `scope`.
    pub async fn answer(
        &self,
        id: &str,
        scope: &Scope,
        compare: bool,
    ) -> Result<Arc<Answer>, InsightError> {
        let insight = self.get(id)?;
        self.ask(Some(id), &insight, scope, compare).await
    }

    /// `insight` over `scope` (`id` when it is stored): from the cache when no flush landed
    /// (and, for "now", no minute passed) since it was computed.
    pub async fn ask(
        &self,
        id: Option<&str>,
        insight: &Insight,
        scope: &Scope,
        compare: bool,
    ) -> Result<Arc<Answer>, InsightError> {
        let interval_s = insight.interval.seconds(scope.range);
        // Refused before anything is read: too many points for any range end.
        Window::new(scope.range, self.clock.now()).bucket_indices(interval_s)?;
        let question = Question {
            insight: insight.clone(),
            scope: scope.clone(),
            compare,
        };
        let q = &question;
        let compute = move |snapshot: Snapshot| async move {
            let window = Window::new(q.scope.range, snapshot.end);
            let series = self.series(&q.insight, &q.scope, &window, None).await?;
            let previous = match q.compare {
                false => None,
                true => {
                    let shift_ms = q.scope.range.seconds() * 1000;
                    let before = Window {
                        start_ms: window.start_ms - shift_ms,
                        end_ms: window.end_ms - shift_ms,
                        ..window
                    };
                    let groups: Vec<String> = series
                        .iter()
                        .map(|s| s.group.clone().unwrap_or_default())
                        .collect();
                    let mut earlier = self
                        .series(&q.insight, &q.scope, &before, Some(&groups))
                        .await?;
                    for point in earlier.iter_mut().flat_map(|s| &mut s.points) {
                        point.t += q.scope.range.seconds();
                    }
                    Some(earlier)
                }
            };
            Ok::<_, InsightError>(Answer {
                id: id.map(str::to_owned),
                name: q.insight.name.clone(),
                range: q.scope.range,
                interval_s,
                measure: q.insight.measure.clone(),
                as_of_flush: snapshot.flushes,
                filters: q.scope.filters.clone(),
                breakdown: q.insight.breakdown.clone(),
                series,
                previous,
            })
        };
        self.answers
            .get(&question, scope.at, &self.status, &self.clock, compute)
            .await
    }

    /// Insight `id`'s measure over `window` under `filters`, all groups together: what an alert
    /// rule on it watches. Read from the store as it stands (the caller holds it still).
    pub async fn total(
        &self,
        id: &str,
        window: &Window,
        filters: &Filters,
    ) -> Result<Option<f64>, InsightError> {
        let insight = Insight {
            breakdown: None,
            ..(*self.get(id)?).clone()
        };
        let (sql, params) =
            query::query(&insight, window, filters, Source::Views, &Ask::Totals, None);
        let rows = self.store.query::<Row>(&sql, params).await?;
        let empty = insight.measure.zero_when_empty().then_some(0.0);
        Ok(rows.first().map_or(empty, |row| row.m))
    }

    /// The series of `insight` over `window`: the largest groups (or `groups` when given),
    /// each with a point for every bucket.
    async fn series(
        &self,
        insight: &Insight,
        scope: &Scope,
        window: &Window,
        groups: Option<&[String]>,
    ) -> Result<Vec<Series>, InsightError> {
        let interval_s = insight.interval.seconds(scope.range);
        let buckets = window.bucket_indices(interval_s)?;
        let read = |ask: Ask, groups: Option<&[String]>| {
            let (sql, params) =
                query::query(insight, window, &scope.filters, scope.source, &ask, groups);
            async move { self.store.query::<Row>(&sql, params).await }
        };
        let totals = read(Ask::Totals, groups).await?;
        let chosen: Vec<String> = match (groups, &insight.breakdown) {
            (Some(groups), _) => groups.to_vec(),
            (None, Some(_)) => totals.iter().map(|r| r.value.clone()).collect(),
            (None, None) => vec![String::new()],
        };
        if chosen.is_empty() {
            return Ok(Vec::new());
        }
        let rows = read(Ask::Buckets { interval_s }, Some(&chosen)).await?;
        let empty = insight.measure.zero_when_empty().then_some(0.0);
        let total: HashMap<&str, Option<f64>> =
            totals.iter().map(|r| (r.value.as_str(), r.m)).collect();
        let at: HashMap<(&str, i64), Option<f64>> = rows
            .iter()
            .map(|r| ((r.value.as_str(), r.bucket), r.m))
            .collect();
        Ok(chosen
            .iter()
            .map(|group| Series {
                group: insight.breakdown.as_ref().map(|_| group.clone()),
                total: total.get(group.as_str()).copied().unwrap_or(empty),
                points: buckets
                    .clone()
                    .map(|bucket| Point {
                        t: bucket * interval_s,
                        value: at.get(&(group.as_str(), bucket)).copied().unwrap_or(empty),
                    })
                    .collect(),
            })
            .collect())
    }
}
