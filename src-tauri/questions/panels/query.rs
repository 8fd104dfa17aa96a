//! What a panel's queries read: the window `(end - range, end]` with its buckets and the
//! stretches the rollups can answer, the filters, and which rows (rollups or raw events).

use serde::de::DeserializeOwned;

use crate::questions::filters::Filters;
use crate::questions::range::Range;
use crate::questions::shelf::DefinitionError;
use crate::storage::store::{Params, Store, StoreError};

/// A panel query in both forms: over the rollups (`{by_dims}` picks their rows per country and
/// device, or for all together) and over raw events. `{filter}` stands for the filters.
pub struct Sql {
    pub rollups: &'static str,
    pub raw: &'static str,
}

/// Which form of the SQL answers a scope (`Scope::read`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The rollups: their rows per country and device (`by_dims = 1`) or for all (`0`).
    Rollups { by_dims: u8 },
    /// Raw events: property filters, and the reference the rollups are checked against.
    Raw,
}

/// One panel's queries over one window, read one way.
pub struct Query<'a> {
    pub(super) store: &'a Store,
    pub window: Window,
    pub(super) filters: &'a Filters,
    pub(super) read: Read,
}

impl Query<'_> {
    /// Runs `sql` in the form this query reads, with the window's and the filters' parameters.
    pub async fn rows<T: DeserializeOwned>(&self, sql: &Sql) -> Result<Vec<T>, StoreError> {
        let (text, by_dims) = match self.read {
            Read::Rollups { by_dims } => (sql.rollups, by_dims),
            // Raw events have no rollup rows to choose.
            Read::Raw => (sql.raw, 0),
        };
        let (condition, mut params) = self.filters.condition("f_");
        params.extend(self.window.params());
        params.push(("by_dims".to_owned(), by_dims.to_string()));
        let text = text.replace("{filter}", &condition);
        self.store.query(&text, params).await
    }
}

/// The most points a time series may have: past it a chart is a smear.
pub const MAX_POINTS: i64 = 2_000;

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
    pub fn new(range: Range, end: chrono::DateTime<chrono::Utc>) -> Self {
        let end_ms = end.timestamp_millis();
        Self {
            start_ms: end_ms - range.seconds() * 1000,
            end_ms,
            bucket_s: range.bucket_seconds(),
        }
    }

    /// The buckets of `interval_s` (indices: time / interval) over the window, the first
    /// holding its first instant; refused past [`MAX_POINTS`].
    pub fn bucket_indices(
        &self,
        interval_s: i64,
    ) -> Result<std::ops::RangeInclusive<i64>, DefinitionError> {
        let interval_ms = interval_s * 1000;
        let buckets =
            (self.start_ms + 1).div_euclid(interval_ms)..=self.end_ms.div_euclid(interval_ms);
        let count = buckets.end() - buckets.start() + 1;
        if count > MAX_POINTS {
            let rule = format!(
                "{count} points over this range; at most {MAX_POINTS}: pick a longer interval"
            );
            return Err(DefinitionError::new("interval", rule));
        }
        Ok(buckets)
    }

    /// The query parameters. Whole minutes `[full_from_s, full_to_s)` lie entirely inside the
    /// window and can be read from the per-minute views, whole quarter-hours `[q_from_s,
    /// q_to_s)` among them from the quarter rollups, whole hours `[h_from_s, h_to_s)` among
    /// those from the hourly ones; the rest comes from raw events. The
    /// sparkline reads quarters only when its buckets are made of whole quarters (24h).
    pub fn params(&self) -> Params {
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
    use chrono::{DateTime, TimeZone, Utc};

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

    #[test]
    fn window_buckets_cover_the_open_closed_range() {
        let end = Utc.with_ymd_and_hms(2026, 1, 1, 12, 30, 0).unwrap();
        let w = Window::new(Range::H1, end);
        let buckets: Vec<_> = w.buckets(60).collect();
        // (11:30, 12:30]: the 11:30 bucket holds 11:30:00.001 on, the 12:30 bucket holds 12:30:00.
        assert_eq!(buckets.len(), 61);
        assert_eq!(buckets[0], end.timestamp() - 3600);
        let hours: Vec<_> = w.buckets(3600).collect();
        assert_eq!(hours, vec![end.timestamp() - 5400, end.timestamp() - 1800]);
    }

    #[test]
    fn too_many_points_name_the_interval() {
        let window = Window {
            start_ms: 0,
            end_ms: 3_000 * 60_000,
            bucket_s: 60,
        };
        let refused = window.bucket_indices(60).unwrap_err();
        assert_eq!(
            (refused.field.as_str(), refused.rule.as_str()),
            (
                "interval",
                "3001 points over this range; at most 2000: pick a longer interval"
            )
        );
    }
}
