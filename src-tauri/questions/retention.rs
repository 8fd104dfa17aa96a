//! Retention (DESIGN.md "Retention"): the actors (user, else session) whose first `start_event`
//! in the range falls in a period (a UTC day or hour) form that period's cohort; `returned[k]`
//! counts those who did `return_event` (or anything) in the k-th period after it. One query
//! (`sql/retention/cohorts.sql`), one snapshot; with a breakdown, a table per group (the 10
//! largest) beside the total.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ingest::event::{is_event_name, EVENT_NAME_RULE};
use crate::questions::breakdown::Breakdown;
use crate::questions::filters::Filters;
use crate::questions::panels::{
    format_time, rfc3339, Range, Scope, Snapshot, SnapshotCache, Window,
};
use crate::questions::shelf::DefinitionError;
use crate::storage::batcher::Status;
use crate::storage::store::{Params, Store, StoreError};
use crate::support::clock::Clock;
use crate::support::csv::{Cell, Csv};

const COHORTS_SQL: &str = include_str!("../../sql/retention/cohorts.sql");
/// The groups a breakdown answers with.
const MAX_GROUPS: usize = 10;
const MAX_PERIODS: u32 = 30;
/// Cohorts in one answer: a month of hours.
const MAX_COHORTS: i64 = 31 * 24;

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error(transparent)]
    Invalid(#[from] DefinitionError),
    #[error("retention query failed: {0}")]
    Store(#[from] StoreError),
}

impl RetentionError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, RetentionError::Store(e) if e.is_retryable())
    }
}

/// The length of a cohort's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Hour,
}

impl Period {
    fn seconds(self) -> i64 {
        match self {
            Period::Day => 86_400,
            Period::Hour => 3_600,
        }
    }
}

/// What is asked: who starts, what counts as returning, by which period, for how many.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Question {
    pub start_event: String,
    /// None: any event counts as a return.
    pub return_event: Option<String>,
    pub period: Period,
    pub periods: u32,
    pub breakdown: Option<Breakdown>,
}

impl Question {
    /// The question from a route's parameters (`start_event` required; `return_event` a name
    /// or `any` (default), `period` `day` (default) or `hour`, `periods` 1..=30 (default 7),
    /// `breakdown`).
    pub fn parse<'a>(param: impl Fn(&str) -> Option<&'a str>) -> Result<Self, DefinitionError> {
        let event = |field: &str, value: &str| match is_event_name(value) {
            true => Ok(value.to_owned()),
            false => Err(DefinitionError::new(field, EVENT_NAME_RULE)),
        };
        let start_event = event("start_event", param("start_event").unwrap_or_default())?;
        let return_event = match param("return_event") {
            None | Some("any") => None,
            Some(name) => Some(event("return_event", name)?),
        };
        let period = match param("period") {
            None | Some("day") => Period::Day,
            Some("hour") => Period::Hour,
            Some(other) => {
                let rule = format!("day or hour (got {other:?})");
                return Err(DefinitionError::new("period", rule));
            }
        };
        let periods = match param("periods") {
            None => 7,
            Some(text) => text
                .parse()
                .ok()
                .filter(|n| (1..=MAX_PERIODS).contains(n))
                .ok_or_else(|| {
                    let rule = format!("a whole number from 1 to {MAX_PERIODS} (got {text:?})");
                    DefinitionError::new("periods", rule)
                })?,
        };
        let breakdown = param("breakdown").map(Breakdown::parse).transpose()?;
        Ok(Self {
            start_event,
            return_event,
            period,
            periods,
            breakdown,
        })
    }
}

/// A cohort: its period's start, its size, and `returned` (`[size, n1, n2, …]`, the periods
/// that have begun).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    #[serde(serialize_with = "rfc3339")]
    pub start: i64,
    pub size: u64,
    pub returned: Vec<u64>,
}

/// A group's cohorts (with a breakdown).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub group: String,
    pub cohorts: Vec<Cohort>,
}

/// `GET /api/retention`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub range: Range,
    pub period: Period,
    pub start_event: String,
    /// A name, or `any`.
    pub return_event: String,
    pub periods: u32,
    pub as_of_flush: u64,
    pub filters: Filters,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Breakdown>,
    /// Every actor, whatever its group.
    pub cohorts: Vec<Cohort>,
    /// With a breakdown: the largest groups, largest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
}

impl Answer {
    /// A row per cohort (and group): its start, size, then each period after it (empty when
    /// it has not begun).
    pub fn csv(&self) -> Csv {
        let grouped = self.breakdown.is_some();
        let mut header: Vec<String> = Vec::new();
        if grouped {
            header.push("group".into());
        }
        header.extend(["start".to_owned(), "size".to_owned()]);
        header.extend((1..=self.periods).map(|k| format!("period_{k}")));
        let mut csv = Csv::with_header(header);
        let all = (grouped.then(|| "(all)".to_owned()), &self.cohorts);
        let groups = self
            .groups
            .iter()
            .map(|g| (Some(g.group.clone()), &g.cohorts));
        for (group, cohorts) in std::iter::once(all).chain(groups) {
            for cohort in cohorts {
                let mut row: Vec<Cell> = group.iter().map(|g| Cell::text(g.clone())).collect();
                row.push(Cell::text(format_time(cohort.start)));
                row.extend(cohort.returned.iter().map(Cell::number));
                row.extend((cohort.returned.len()..=self.periods as usize).map(|_| Cell::Empty));
                csv.row(row);
            }
        }
        csv
    }
}

/// One row of `cohorts.sql`.
#[derive(Debug, Deserialize)]
struct Row {
    value: String,
    cohort: i64,
    k: i64,
    actors: u64,
}

pub struct Retention {
    store: Arc<Store>,
    status: Arc<Status>,
    clock: Clock,
    answers: SnapshotCache<(Question, Scope), Answer>,
}

impl Retention {
    pub fn new(store: Arc<Store>, status: Arc<Status>, clock: Clock) -> Self {
        Self {
            store,
            status,
            clock,
            answers: SnapshotCache::default(),
        }
    }

    /// The cohorts of `question` over `scope`, as of one snapshot.
    pub async fn answer(
        &self,
        question: &Question,
        scope: &Scope,
    ) -> Result<Arc<Answer>, RetentionError> {
        let period_s = question.period.seconds();
        let cohorts = scope.range.seconds() / period_s + 1;
        if cohorts > MAX_COHORTS {
            let rule =
                format!("{cohorts} cohorts over this range; at most {MAX_COHORTS}: ask by day");
            return Err(DefinitionError::new("period", rule).into());
        }
        let key = (question.clone(), scope.clone());
        let compute = |snapshot: Snapshot| async move {
            let window = Window::new(scope.range, snapshot.end);
            let (sql, params) = query(question, &window, &scope.filters);
            let rows: Vec<Row> = self.store.query(&sql, params).await?;
            Ok::<_, RetentionError>(shape(question, scope, &window, snapshot.flushes, &rows))
        };
        self.answers
            .get(&key, scope.at, &self.status, &self.clock, compute)
            .await
    }
}

fn query(question: &Question, window: &Window, filters: &Filters) -> (String, Params) {
    let (filter, mut params) = filters.condition("f_");
    let breakdown =
        (question.breakdown.as_ref()).map_or_else(|| "''".to_owned(), |b| b.sql(&mut params));
    let returning = match &question.return_event {
        None => "1".to_owned(),
        Some(name) => {
            params.push(("return_event".to_owned(), name.clone()));
            "event_name = {return_event:String}".to_owned()
        }
    };
    params.extend([
        ("start_event".to_owned(), question.start_event.clone()),
        ("period_s".to_owned(), question.period.seconds().to_string()),
        ("periods".to_owned(), question.periods.to_string()),
        ("start_ms".to_owned(), window.start_ms.to_string()),
        ("end_ms".to_owned(), window.end_ms.to_string()),
    ]);
    let sql = COHORTS_SQL
        .replace("{actor}", "coalesce(user_id, session_id)")
        .replace("{breakdown}", &breakdown)
        .replace("{returning}", &returning)
        .replace("{filter}", &filter);
    (sql, params)
}

/// The rows as cohorts: every period of the window present (empty ones with size 0), each
/// with the periods after it that have begun by the window's end.
fn shape(
    question: &Question,
    scope: &Scope,
    window: &Window,
    flushes: u64,
    rows: &[Row],
) -> Answer {
    let period_s = question.period.seconds();
    let first = (window.start_ms + 1).div_euclid(period_s * 1000);
    let last = window.end_ms.div_euclid(period_s * 1000);
    // By (group, cohort, k), and by (cohort, k) over every group.
    let mut by_group: HashMap<(&str, i64, i64), u64> = HashMap::new();
    let mut all: HashMap<(i64, i64), u64> = HashMap::new();
    let mut sizes: BTreeMap<&str, u64> = BTreeMap::new();
    for row in rows {
        *by_group
            .entry((row.value.as_str(), row.cohort, row.k))
            .or_default() += row.actors;
        *all.entry((row.cohort, row.k)).or_default() += row.actors;
        if row.k == 0 {
            *sizes.entry(row.value.as_str()).or_default() += row.actors;
        }
    }
    let count = |group: Option<&str>, cohort: i64, k: i64| -> u64 {
        let n = match group {
            Some(g) => by_group.get(&(g, cohort, k)),
            None => all.get(&(cohort, k)),
        };
        n.copied().unwrap_or(0)
    };
    let cohorts = |group: Option<&str>| -> Vec<Cohort> {
        (first..=last)
            .map(|cohort| {
                let begun = (last - cohort).min(i64::from(question.periods));
                let returned: Vec<u64> = (0..=begun).map(|k| count(group, cohort, k)).collect();
                Cohort {
                    start: cohort * period_s,
                    size: returned[0],
                    returned,
                }
            })
            .collect()
    };
    let mut largest: Vec<(&str, u64)> = sizes.into_iter().collect();
    largest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let groups = match question.breakdown {
        None => Vec::new(),
        Some(_) => (largest.iter().take(MAX_GROUPS))
            .map(|(group, _)| Group {
                group: group.to_string(),
                cohorts: cohorts(Some(*group)),
            })
            .collect(),
    };
    Answer {
        range: scope.range,
        period: question.period,
        start_event: question.start_event.clone(),
        return_event: question
            .return_event
            .clone()
            .unwrap_or_else(|| "any".into()),
        periods: question.periods,
        as_of_flush: flushes,
        filters: scope.filters.clone(),
        breakdown: question.breakdown.clone(),
        cohorts: cohorts(None),
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(pairs: &[(&str, &str)]) -> Result<Question, DefinitionError> {
        Question::parse(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
    }

    #[test]
    fn a_question_names_its_events_period_and_periods() {
        let q = asked(&[("start_event", "signup")]).unwrap();
        assert_eq!(
            (q.return_event, q.period, q.periods),
            (None, Period::Day, 7)
        );
        let q = asked(&[
            ("start_event", "signup"),
            ("return_event", "page_view"),
            ("period", "hour"),
            ("periods", "30"),
        ])
        .unwrap();
        assert_eq!(
            (q.return_event.as_deref(), q.period, q.periods),
            (Some("page_view"), Period::Hour, 30)
        );
        for (pairs, field) in [
            (vec![], "start_event"),
            (vec![("start_event", "Sign Up")], "start_event"),
            (vec![("start_event", "s"), ("period", "week")], "period"),
            (vec![("start_event", "s"), ("periods", "31")], "periods"),
            (vec![("start_event", "s"), ("periods", "0")], "periods"),
            (vec![("start_event", "s"), ("breakdown", "os")], "breakdown"),
        ] {
            assert_eq!(asked(&pairs).unwrap_err().field, field, "{pairs:?}");
        }
    }

    #[test]
    fn cohorts_cover_the_window_and_stop_at_periods_not_begun() {
        let question = asked(&[("start_event", "s"), ("periods", "2")]).unwrap();
        let day = 86_400_000;
        // Three days ending at noon of the third: cohorts days 0..=3 (day 0 from its noon).
        let window = Window {
            start_ms: 10 * day + day / 2,
            end_ms: 13 * day + day / 2,
            bucket_s: 3600,
        };
        let rows = [
            Row {
                value: "a".into(),
                cohort: 10,
                k: 0,
                actors: 2,
            },
            Row {
                value: "b".into(),
                cohort: 10,
                k: 0,
                actors: 1,
            },
            Row {
                value: "a".into(),
                cohort: 10,
                k: 2,
                actors: 1,
            },
            Row {
                value: "b".into(),
                cohort: 12,
                k: 0,
                actors: 4,
            },
            Row {
                value: "b".into(),
                cohort: 12,
                k: 1,
                actors: 3,
            },
        ];
        let answer = shape(&question, &Scope::default(), &window, 7, &rows);
        let returned: Vec<Vec<u64>> = answer.cohorts.iter().map(|c| c.returned.clone()).collect();
        assert_eq!(
            returned,
            vec![vec![3, 0, 1], vec![0, 0, 0], vec![4, 3], vec![0]]
        );
        assert_eq!(answer.cohorts[0].start, 10 * 86_400);
        assert!(answer.groups.is_empty());
    }
}
