//! The rules the panels share: their constants, percentages rounded as the contract says, and
//! times written as RFC 3339 UTC.

use chrono::{SecondsFormat, TimeZone, Utc};
use serde::Serializer;

/// The error-rate alert line, in percent.
pub const ERROR_THRESHOLD_PCT: f64 = 1.0;
/// The headline "active now" window.
pub const ACTIVE_WINDOW_S: i64 = 300;

/// `round(completed / started * 100, 1)`, null when nothing started.
pub fn conversion_pct(started: u64, completed: u64) -> Option<f64> {
    (started > 0).then(|| round(completed as f64 / started as f64 * 100.0, 1))
}

/// `errors / total * 100`, to two decimals.
pub fn error_rate_pct(errors: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    round(errors as f64 / total as f64 * 100.0, 2)
}

fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// Formats Unix seconds as RFC 3339 UTC (`2026-11-23T19:00:00Z`).
pub fn format_time(secs: i64) -> String {
    Utc.timestamp_opt(secs, 0)
        .single()
        .map_or_else(String::new, |t| {
            t.to_rfc3339_opts(SecondsFormat::Secs, true)
        })
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds.
pub fn format_time_ms(ms: i64) -> String {
    let t = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Serialises Unix seconds with [`format_time`] (`#[serde(serialize_with = "rfc3339")]`).
pub fn rfc3339<S: Serializer>(secs: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_follow_the_definitions() {
        assert_eq!(conversion_pct(0, 0), None);
        assert_eq!(conversion_pct(10, 6), Some(60.0));
        assert_eq!(conversion_pct(3, 2), Some(66.7));
        assert_eq!(error_rate_pct(1, 120), 0.83);
        assert_eq!(error_rate_pct(0, 5), 0.0);
    }
}
