//! What a rule's metric is over its trailing window: one query per rule (`sql/alerts/`), and
//! for a funnel's conversion the funnel's own query besides.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::rule::{Metric, Rule};
use super::state::Measure;
use crate::questions::funnels::{FunnelError, Funnels};
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
}

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
    funnels: &Funnels,
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
        Metric::FunnelConversionPct(id) => funnels.conversion(id, &window, &rule.filters).await?,
        Metric::FunnelStepPct(id, n) => funnels.step_pct(id, *n, &window, &rule.filters).await?,
    };
    Ok(Measure {
        events: c.events,
        value,
    })
}
