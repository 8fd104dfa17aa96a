//! An insight's SQL (`sql/insights/`): which rows it reads (the count rollups when it counts
//! events by name, country or device, raw events otherwise), what it keeps, and its measure.

use serde::Deserialize;

use super::definition::{Aggregate, Insight, Measure};
use crate::questions::breakdown::Breakdown;
use crate::questions::filters::{array_literal, prop_text, Filters};
use crate::questions::panels::{Source, Window};
use crate::storage::store::Params;

const RAW_SQL: &str = include_str!("../../../sql/insights/raw.sql");
const COUNTS_SQL: &str = include_str!("../../../sql/insights/counts.sql");
/// The groups a breakdown answers with.
pub const MAX_GROUPS: usize = 10;

/// One row: a group's measure in a bucket (or, asked for totals, over the range).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Row {
    pub value: String,
    pub bucket: i64,
    pub m: Option<f64>,
}

/// What one query asks.
pub enum Ask {
    /// The measure over the whole range per group, the largest [`MAX_GROUPS`] first (ties by
    /// value).
    Totals,
    /// The measure per bucket of `interval_s`.
    Buckets { interval_s: i64 },
}

/// Whether `insight` under `filters` can be read from the count rollups, and by which rows.
pub fn rollup_rows(insight: &Insight, filters: &Filters, source: Source) -> Option<u8> {
    let counts = insight.measure == Measure::Count && source == Source::Views;
    let props = insight.filters.has_props()
        || filters.has_props()
        || matches!(insight.breakdown, Some(Breakdown::Prop(_)));
    if !counts || props {
        return None;
    }
    let dims = !insight.filters.is_empty()
        || !filters.is_empty()
        || matches!(
            insight.breakdown,
            Some(Breakdown::Country | Breakdown::Device)
        );
    Some(u8::from(dims))
}

/// The SQL and parameters of `ask` for `insight` over `window` under `filters`, for the
/// breakdown's `groups` only when given.
pub fn query(
    insight: &Insight,
    window: &Window,
    filters: &Filters,
    source: Source,
    ask: &Ask,
    groups: Option<&[String]>,
) -> (String, Params) {
    let (filter, mut params) = filters.condition("f_");
    let (narrow, where_params) = insight.filters.condition("w_");
    params.extend(where_params);
    params.extend(window.params());
    let mut keep = vec![filter, narrow];
    if !insight.events.is_empty() {
        params.push(("events".to_owned(), array_literal(&insight.events)));
        keep.push("has({events:Array(String)}, event_name)".to_owned());
    }
    let group = match &insight.breakdown {
        Some(breakdown) => breakdown.sql(&mut params),
        None => "''".to_owned(),
    };
    if let (Some(groups), Some(_)) = (groups, &insight.breakdown) {
        params.push(("groups".to_owned(), array_literal(groups)));
        keep.push(format!("has({{groups:Array(String)}}, {group})"));
    }
    let rollups = rollup_rows(insight, filters, source);
    let measure = match rollups {
        Some(_) => String::new(),
        None => measure(&insight.measure, &mut params, &mut keep),
    };
    let (bucket, rollup_bucket, limit) = match ask {
        Ask::Totals => (
            "0".to_owned(),
            "0".to_owned(),
            format!("ORDER BY m DESC, value LIMIT {MAX_GROUPS}"),
        ),
        Ask::Buckets { interval_s } => {
            params.push(("interval_ms".to_owned(), (interval_s * 1000).to_string()));
            (
                "intDiv(toUnixTimestamp64Milli(timestamp), {interval_ms:Int64})".to_owned(),
                "intDiv(toUnixTimestamp(minute) * 1000, {interval_ms:Int64})".to_owned(),
                String::new(),
            )
        }
    };
    let sql = match rollups {
        Some(by_dims) => {
            params.push(("by_dims".to_owned(), by_dims.to_string()));
            COUNTS_SQL.replace("{rollup_bucket}", &rollup_bucket)
        }
        None => RAW_SQL.replace("{measure}", &measure),
    };
    let sql = sql
        .replace("{group}", &group)
        .replace("{bucket}", &bucket)
        .replace("{keep}", &keep.join(" AND "))
        .replace("{limit}", &limit);
    (sql, params)
}

/// The aggregate of `measure` over raw events; a property measure keeps only the events whose
/// property is a finite number.
fn measure(measure: &Measure, params: &mut Params, keep: &mut Vec<String>) -> String {
    let (aggregate, key) = match measure {
        Measure::Count => return "count()".to_owned(),
        // Distinct 64-bit hashes: 3-4× faster than distinct strings at 10M events, and a
        // collision among a million actors has a chance of about 3e-8.
        Measure::Users => return "uniqExact(cityHash64(coalesce(user_id, session_id)))".to_owned(),
        Measure::Sessions => return "uniqExact(cityHash64(session_id))".to_owned(),
        Measure::Property { aggregate, key } => (aggregate, key),
    };
    params.push(("m_key".to_owned(), key.clone()));
    let number = format!("toFloat64OrNull({})", prop_text("{m_key:String}"));
    keep.push(format!("isFinite(ifNull({number}, nan))"));
    let n = format!("assumeNotNull({number})");
    match aggregate {
        Aggregate::Sum => format!("sum({n})"),
        Aggregate::Avg => format!("avg({n})"),
        Aggregate::Min => format!("min({n})"),
        Aggregate::Max => format!("max({n})"),
        // Linear between the two nearest values, as numpy's default and Excel's PERCENTILE.INC.
        Aggregate::P50 => format!("quantileExactInclusive(0.5)({n})"),
        Aggregate::P95 => format!("quantileExactInclusive(0.95)({n})"),
    }
}
