//! A funnel's answer: the SQL of `sql/funnels/` (`actors.sql` inside `funnel.sql` or
//! `trend.sql`) filled in for a definition, a window, filters and a breakdown, and its rows
//! shaped as the HTTP contract shows them.

use serde::{Deserialize, Serialize};

pub use crate::questions::breakdown::Breakdown;

use super::definition::{CountBy, Funnel};
use crate::questions::filters::Filters;
use crate::questions::panels::{conversion_pct, Range, Window};
use crate::storage::store::Params;
use crate::support::csv::{Cell, Csv};

const ACTORS_SQL: &str = include_str!("../../../sql/funnels/actors.sql");
const FUNNEL_SQL: &str = include_str!("../../../sql/funnels/funnel.sql");
const TREND_SQL: &str = include_str!("../../../sql/funnels/trend.sql");
const WHO_SQL: &str = include_str!("../../../sql/funnels/who.sql");
/// The groups a breakdown answers with.
pub const MAX_GROUPS: usize = 10;

/// A step's count, as the answer shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepCount {
    pub event_name: String,
    /// Actors that reached at least this step.
    pub count: u64,
    pub pct_of_first: Option<f64>,
    pub pct_of_previous: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub value: String,
    pub steps: Vec<StepCount>,
}

/// `GET /api/funnels/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelReport {
    pub id: String,
    pub range: Range,
    pub window_s: u64,
    pub count_by: CountBy,
    pub as_of_flush: u64,
    pub filters: Filters,
    pub steps: Vec<StepCount>,
    pub breakdown: Option<Breakdown>,
    /// Empty without a breakdown.
    pub groups: Vec<Group>,
}

/// The group whose conversion is furthest below the total's, by at least a point: the one a
/// chart or a table singles out. `groups`: each group's value and conversion.
pub fn lagging<'a>(
    total: Option<f64>,
    groups: impl Iterator<Item = (&'a str, Option<f64>)>,
) -> Option<&'a str> {
    let total = total?;
    groups
        .filter_map(|(group, conversion)| Some((group, conversion?)))
        .filter(|(_, c)| *c <= total - 1.0)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(group, _)| group)
}

impl FunnelReport {
    /// The group lagging furthest behind the total (see [`lagging`]).
    pub fn lagging(&self) -> Option<&str> {
        let conversion = |steps: &[StepCount]| steps.last()?.pct_of_first;
        let groups = self
            .groups
            .iter()
            .map(|g| (g.value.as_str(), conversion(&g.steps)));
        lagging(conversion(&self.steps), groups)
    }

    /// `/api/funnels/{id}.csv`: every step of the total (`group` empty), then of each group,
    /// with its conversion's 95 % interval at the group's last step.
    pub fn csv(&self) -> Csv {
        let mut csv = Csv::new(&[
            "group",
            "step",
            "event_name",
            "count",
            "pct_of_first",
            "pct_of_previous",
            "conversion_low_95",
            "conversion_high_95",
        ]);
        let total = std::iter::once(("", &self.steps));
        let groups = self.groups.iter().map(|g| (g.value.as_str(), &g.steps));
        for (group, steps) in total.chain(groups) {
            let last = steps.len();
            let entered = steps.first().map_or(0, |s| s.count);
            for (n, step) in (1..).zip(steps) {
                let interval = (n == last)
                    .then(|| wilson_95(step.count, entered))
                    .flatten();
                csv.row(vec![
                    Cell::text(group),
                    Cell::number(n),
                    Cell::text(&step.event_name),
                    Cell::number(step.count),
                    Cell::maybe(step.pct_of_first),
                    Cell::maybe(step.pct_of_previous),
                    Cell::maybe(interval.map(|(low, _)| (low * 10.0).round() / 10.0)),
                    Cell::maybe(interval.map(|(_, high)| (high * 10.0).round() / 10.0)),
                ]);
            }
        }
        csv
    }
}

/// The counts of one funnel over one window, before they are dressed as a report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Counts {
    /// Actors that reached at least step k (k from 1), one per step.
    pub total: Vec<u64>,
    /// The largest groups, largest first (empty without a breakdown).
    pub groups: Vec<(String, Vec<u64>)>,
}

impl Counts {
    /// Last step over first step, in percent (1 decimal), null when nobody entered.
    pub fn conversion_pct(&self) -> Option<f64> {
        let first = self.total.first().copied().unwrap_or(0);
        conversion_pct(first, self.total.last().copied().unwrap_or(0))
    }
}

/// A row of `funnel.sql`.
#[derive(Debug, Deserialize)]
pub(super) struct Row {
    value: String,
    total: u8,
    counts: Vec<u64>,
}

/// The query for `funnel` over `window`, narrowed by `filters`, grouped by `breakdown`.
pub(super) fn query(
    funnel: &Funnel,
    window: &Window,
    filters: &Filters,
    breakdown: Option<&Breakdown>,
) -> (String, Params) {
    let (actors, params) = actors(funnel, window, filters, breakdown);
    (FUNNEL_SQL.replace("{actors}", &actors), params)
}

/// A row of `trend.sql`.
#[derive(Debug, Deserialize)]
pub(super) struct TrendRow {
    pub value: String,
    pub total: u8,
    /// Entry time / interval.
    pub bucket: i64,
    pub counts: Vec<u64>,
}

/// The trend query: [`query`]'s actors per bucket of `interval_s`, in total and for `groups`.
pub(super) fn trend_query(
    funnel: &Funnel,
    window: &Window,
    filters: &Filters,
    breakdown: Option<&Breakdown>,
    groups: &[String],
    interval_s: i64,
) -> (String, Params) {
    let (actors, mut params) = actors(funnel, window, filters, breakdown);
    let mut names = Vec::new();
    for (i, group) in groups.iter().enumerate() {
        names.push(format!("{{g{i}:String}}"));
        params.push((format!("g{i}"), group.clone()));
    }
    let grouped = match names.is_empty() {
        true => "0".to_owned(),
        false => format!("value IN ({})", names.join(", ")),
    };
    params.push(("interval_ms".to_owned(), (interval_s * 1000).to_string()));
    let sql = TREND_SQL
        .replace("{actors}", &actors)
        .replace("{grouped}", &grouped);
    (sql, params)
}

/// Whom `GET /api/funnels/{id}/actors` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Who {
    /// From 1.
    pub step: usize,
    pub outcome: Outcome,
    /// With a breakdown: the group's value.
    pub value: Option<String>,
    pub limit: u32,
}

/// Reached at least the step, or reached it and not the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Reached,
    Dropped,
}

impl Outcome {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reached" => Some(Self::Reached),
            "dropped" => Some(Self::Dropped),
            _ => None,
        }
    }
}

/// A row of `who.sql`: one actor, as the answer lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub actor: String,
    /// The furthest step reached (from 1).
    #[serde(rename(serialize = "reached_step"))]
    pub level: u8,
    /// When the actor entered the funnel (its step-1 event).
    #[serde(
        rename(serialize = "entered"),
        serialize_with = "crate::questions::people::rfc3339_ms"
    )]
    pub entered_ms: i64,
    #[serde(skip_serializing)]
    pub value: String,
    #[serde(skip_serializing)]
    pub total: u64,
}

/// The query for those `who` names among `funnel`'s actors over `window`.
pub(super) fn who_query(
    funnel: &Funnel,
    window: &Window,
    filters: &Filters,
    breakdown: Option<&Breakdown>,
    who: &Who,
) -> (String, Params) {
    let (actors, mut params) = actors(funnel, window, filters, breakdown);
    let outcome = match who.outcome {
        Outcome::Reached => "1",
        Outcome::Dropped => "level = {step:UInt8}",
    };
    let grouped = match &who.value {
        Some(value) => {
            params.push(("value".to_owned(), value.clone()));
            "value = {value:String}"
        }
        None => "1",
    };
    params.extend([
        ("step".to_owned(), who.step.to_string()),
        ("limit".to_owned(), who.limit.to_string()),
    ]);
    let sql = WHO_SQL
        .replace("{actors}", &actors)
        .replace("{outcome}", outcome)
        .replace("{grouped}", grouped);
    (sql, params)
}

/// `actors.sql` for these arguments, with every parameter the outer queries use.
fn actors(
    funnel: &Funnel,
    window: &Window,
    filters: &Filters,
    breakdown: Option<&Breakdown>,
) -> (String, Params) {
    let (filter, mut params) = filters.condition("f_");
    let mut names = Vec::new();
    let mut steps = Vec::new();
    for (i, step) in funnel.steps.iter().enumerate() {
        let name = format!("s{i}");
        names.push(format!("{{{name}:String}}"));
        params.push((name.clone(), step.event_name.clone()));
        let (condition, step_params) = step.filters.condition(&format!("w{i}_"));
        params.extend(step_params);
        steps.push(format!("(event_name = {{{name}:String}} AND {condition})"));
    }
    let actor = match funnel.count_by {
        CountBy::User => "coalesce(user_id, session_id)",
        CountBy::Session => "session_id",
    };
    let breakdown = breakdown.map_or_else(|| "''".to_owned(), |b| b.sql(&mut params));
    params.extend([
        ("window_ms".to_owned(), (funnel.window_s * 1000).to_string()),
        ("step_count".to_owned(), funnel.steps.len().to_string()),
        ("start_ms".to_owned(), window.start_ms.to_string()),
        ("end_ms".to_owned(), window.end_ms.to_string()),
    ]);
    let sql = ACTORS_SQL
        .replace("{actor}", actor)
        .replace("{steps}", &steps.join(", "))
        .replace("{first}", &steps[0])
        .replace("{names}", &names.join(", "))
        .replace("{breakdown}", &breakdown)
        .replace("{filter}", &filter);
    (sql, params)
}

/// The query's rows as counts: the total row, then the groups when `grouped`.
pub(super) fn counts(rows: Vec<Row>, steps: usize, grouped: bool) -> Counts {
    let mut counts = Counts {
        // No actor entered: no rows at all.
        total: vec![0; steps],
        groups: Vec::new(),
    };
    for mut row in rows {
        // sumForEach over no actors is an empty array.
        row.counts.resize(steps, 0);
        if row.total == 1 {
            counts.total = row.counts;
        } else if grouped && counts.groups.len() < MAX_GROUPS {
            counts.groups.push((row.value, row.counts));
        }
    }
    counts
}

/// The 95 % Wilson score interval of `converted` out of `entered`, in percent (1 decimal):
/// honest at small counts and near 0 or 100 %, where the normal approximation is not.
pub fn wilson_95(converted: u64, entered: u64) -> Option<(f64, f64)> {
    if entered == 0 {
        return None;
    }
    const Z: f64 = 1.959_964;
    let (n, p) = (entered as f64, converted as f64 / entered as f64);
    let centre = p + Z * Z / (2.0 * n);
    let spread = Z * (p * (1.0 - p) / n + Z * Z / (4.0 * n * n)).sqrt();
    let scale = 1.0 + Z * Z / n;
    let pct = |v: f64| ((v / scale).clamp(0.0, 1.0) * 1000.0).round() / 10.0;
    Some((pct(centre - spread), pct(centre + spread)))
}

/// The steps of `funnel` with their counts and percentages.
pub fn step_counts(funnel: &Funnel, counts: &[u64]) -> Vec<StepCount> {
    let first = counts.first().copied().unwrap_or(0);
    funnel
        .steps
        .iter()
        .zip(counts)
        .enumerate()
        .map(|(i, (step, &count))| StepCount {
            event_name: step.event_name.clone(),
            count,
            pct_of_first: conversion_pct(first, count),
            pct_of_previous: i
                .checked_sub(1)
                .and_then(|p| conversion_pct(counts[p], count)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_to_one_decimal_and_are_null_on_an_empty_base() {
        let funnel = Funnel {
            steps: [0, 1, 2]
                .map(|_| Funnel::builtin_signup().steps[0].clone())
                .to_vec(),
            ..Funnel::builtin_signup()
        };
        let steps = step_counts(&funnel, &[3, 2, 0]);
        let pcts: Vec<_> = steps
            .iter()
            .map(|s| (s.count, s.pct_of_first, s.pct_of_previous))
            .collect();
        assert_eq!(
            pcts,
            [
                (3, Some(100.0), None),
                (2, Some(66.7), Some(66.7)),
                (0, Some(0.0), Some(0.0))
            ]
        );
        let empty = step_counts(&funnel, &[0, 0, 0]);
        assert!(empty
            .iter()
            .all(|s| s.pct_of_first.is_none() && s.pct_of_previous.is_none()));
    }

    #[test]
    fn wilson_intervals_match_the_textbook() {
        // Wilson (1927) as tabulated: 0 of 10 → 0–27.8 %, 5 of 10 → 23.7–76.3 %, and a
        // large sample narrows around its share.
        assert_eq!(wilson_95(0, 10), Some((0.0, 27.8)));
        assert_eq!(wilson_95(5, 10), Some((23.7, 76.3)));
        assert_eq!(wilson_95(457, 1000), Some((42.6, 48.8)));
        assert_eq!(wilson_95(10, 10), Some((72.2, 100.0)));
        assert_eq!(wilson_95(0, 0), None);
    }
}
