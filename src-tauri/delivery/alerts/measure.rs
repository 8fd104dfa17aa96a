//! What a rule's metric is over its trailing window: one query per rule (`sql/alerts/`), and
//! for a funnel or an insight that question's own query besides. A rule on a change measures
//! the window it compares against the same way, as it would have been measured at its end.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::rule::{Metric, Rule};
use super::state::Measure;
use crate::questions::funnels::{FunnelError, Funnels};
use crate::questions::insights::{InsightError, Insights};
use crate::questions::panels::{error_rate_pct, Window};
use crate::storage::store::{Store, StoreError};

const WINDOW_SQL: &str = include_str!("../../../sql/alerts/window.sql");

/// Why a rule could not be measured: the store failed, or its funnel did (or is gone).
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Funnel(#[from] FunnelError),
    #[error(transparent)]
    Insight(#[from] InsightError),
}

/// The saved questions a rule's metric may name.
pub struct Questions {
    pub funnels: Arc<Funnels>,
    pub insights: Arc<Insights>,
}

/// The window's counts, as the query answers them.
#[derive(Debug, Clone, Copy, Deserialize)]
struct Counts {
    events: u64,
    errors: u64,
    sessions: u64,
}

/// Measures `rule` over `(end - for, end]`, and for a change the window it compares against
/// too: `value` is then the change in percent, and `events` the fewer of the two windows' (so
/// `min_events` applies to both). The caller holds the store still (a stable view).
pub async fn measure(
    store: &Store,
    questions: &Questions,
    rule: &Rule,
    end: DateTime<Utc>,
) -> Result<Measure, MeasureError> {
    let now = measure_window(store, questions, rule, end).await?;
    let Some(compare_to) = rule.compare_to.filter(|_| rule.op.is_change()) else {
        return Ok(now);
    };
    let shift = Duration::seconds(compare_to.shift_s(rule.window_s));
    let before = measure_window(store, questions, rule, end - shift).await?;
    Ok(Measure {
        events: now.events.min(before.events),
        value: change_pct(before.value, now.value),
    })
}

/// `(now - before) / before × 100`, two decimals; none without both values or from zero.
fn change_pct(before: Option<f64>, now: Option<f64>) -> Option<f64> {
    let (before, now) = (before?, now?);
    (before != 0.0).then(|| ((now - before) / before * 10_000.0).round() / 100.0)
}

/// The metric of `rule` over `(end - for, end]`.
async fn measure_window(
    store: &Store,
    questions: &Questions,
    rule: &Rule,
    end: DateTime<Utc>,
) -> Result<Measure, MeasureError> {
    let end_ms = end.timestamp_millis();
    let window = Window {
        start_ms: end_ms - i64::from(rule.window_s) * 1000,
        end_ms,
        bucket_s: 60,
    };
    let (condition, mut params) = rule.filters.condition("f_");
    params.push(("start_ms".into(), window.start_ms.to_string()));
    params.push(("end_ms".into(), window.end_ms.to_string()));
    let sessions = match rule.metric {
        Metric::ActiveUsers => "uniqExact(session_id)",
        _ => "toUInt64(0)",
    };
    let sql = WINDOW_SQL
        .replace("{filter}", &condition)
        .replace("{sessions}", sessions);
    let rows: Vec<Counts> = store.query(&sql, params).await?;
    let c = rows.first().copied().unwrap_or(Counts {
        events: 0,
        errors: 0,
        sessions: 0,
    });
    let value = match &rule.metric {
        Metric::ErrorRatePct => (c.events > 0).then(|| error_rate_pct(c.errors, c.events)),
        Metric::Events => Some(c.events as f64),
        Metric::ActiveUsers => Some(c.sessions as f64),
        Metric::FunnelConversionPct(id) => {
            (questions.funnels)
                .conversion(id, &window, &rule.filters)
                .await?
        }
        Metric::FunnelStepPct(id, n) => {
            (questions.funnels)
                .step_pct(id, *n, &window, &rule.filters)
                .await?
        }
        Metric::Insight(id) => {
            (questions.insights)
                .total(id, &window, &rule.filters)
                .await?
        }
    };
    Ok(Measure {
        events: c.events,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_against_the_earlier_value_in_percent() {
        assert_eq!(change_pct(Some(50.0), Some(30.0)), Some(-40.0));
        assert_eq!(change_pct(Some(3.0), Some(4.0)), Some(33.33));
        assert_eq!(change_pct(Some(0.0), Some(4.0)), None);
        assert_eq!(change_pct(None, Some(4.0)), None);
        assert_eq!(change_pct(Some(4.0), None), None);
    }
}
