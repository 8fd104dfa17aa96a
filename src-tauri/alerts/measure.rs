//! What a rule's metric is over its trailing window: one query per rule (`sql/alerts/`).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::rule::{Metric, Rule};
use super::state::Measure;
use crate::panels::error_rate_pct;
use crate::store::{Store, StoreError};

const WINDOW_SQL: &str = include_str!("../../sql/alerts/window.sql");

/// The window's counts, as the query answers them.
#[derive(Debug, Clone, Copy, Deserialize)]
struct Counts {
    events: u64,
    errors: u64,
    sessions: u64,
}

/// Measures `rule` over `(end - for, end]`. The caller holds the store still (a stable view).
pub async fn measure(
    store: &Store,
    rule: &Rule,
    end: DateTime<Utc>,
) -> Result<Measure, StoreError> {
    let end_ms = end.timestamp_millis();
    let (condition, mut params) = rule.filters.condition("f_");
    params.push((
        "start_ms".into(),
        (end_ms - i64::from(rule.window_s) * 1000).to_string(),
    ));
    params.push(("end_ms".into(), end_ms.to_string()));
    let sql = WINDOW_SQL.replace("{filter}", &condition);
    let rows: Vec<Counts> = store.query(&sql, params).await?;
    let counts = rows.first().copied().unwrap_or(Counts {
        events: 0,
        errors: 0,
        sessions: 0,
    });
    Ok(Measure {
        events: counts.events,
        value: value(&rule.metric, counts),
    })
}

fn value(metric: &Metric, c: Counts) -> Option<f64> {
    match metric {
        Metric::ErrorRatePct => (c.events > 0).then(|| error_rate_pct(c.errors, c.events)),
        Metric::Events => Some(c.events as f64),
        Metric::ActiveUsers => Some(c.sessions as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_metric_reads_its_count() {
        let c = Counts {
            events: 40,
            errors: 3,
            sessions: 7,
        };
        assert_eq!(value(&Metric::ErrorRatePct, c), Some(7.5));
        assert_eq!(value(&Metric::Events, c), Some(40.0));
        assert_eq!(value(&Metric::ActiveUsers, c), Some(7.0));
        let none = Counts { events: 0, ..c };
        assert_eq!(value(&Metric::ErrorRatePct, none), None);
        assert_eq!(value(&Metric::Events, none), Some(0.0));
    }
}
