//! Panel shapes, exactly as the HTTP contract and the window see them.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize, Serializer};

use super::{Scope, Window};
use crate::filters::Filters;

/// The error-rate alert line, in percent.
pub const ERROR_THRESHOLD_PCT: f64 = 1.0;
/// The headline "active now" window.
pub const ACTIVE_WINDOW_S: i64 = 300;

/// A dashboard time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Range {
    #[serde(rename = "1h")]
    #[default]
    H1,
    #[serde(rename = "6h")]
    H6,
    #[serde(rename = "24h")]
    H24,
}

impl Range {
    pub const ALL: [Range; 3] = [Range::H1, Range::H6, Range::H24];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Range::H1 => "1h",
            Range::H6 => "6h",
            Range::H24 => "24h",
        }
    }

    pub fn seconds(self) -> i64 {
        match self {
            Range::H1 => 3600,
            Range::H6 => 6 * 3600,
            Range::H24 => 24 * 3600,
        }
    }

    /// The active-users sparkline's bucket: 1 min for 1h, 5 min for 6h, 15 min for 24h.
    pub fn bucket_seconds(self) -> i64 {
        match self {
            Range::H1 => 60,
            Range::H6 => 300,
            Range::H24 => 900,
        }
    }
}

/// The four panels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PanelName {
    ActiveUsers,
    SignupFunnel,
    TopFeatures,
    ErrorRate,
}

impl PanelName {
    pub const ALL: [PanelName; 4] = [
        Self::ActiveUsers,
        Self::SignupFunnel,
        Self::TopFeatures,
        Self::ErrorRate,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ActiveUsers => "active_users",
            Self::SignupFunnel => "signup_funnel",
            Self::TopFeatures => "top_features",
            Self::ErrorRate => "error_rate",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::ActiveUsers => "Active users",
            Self::SignupFunnel => "Signup funnel",
            Self::TopFeatures => "Top features",
            Self::ErrorRate => "Error rate",
        }
    }
}

/// One panel's data.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Panel {
    ActiveUsers(ActiveUsers),
    SignupFunnel(Vec<FunnelHour>),
    TopFeatures(Vec<FeatureRow>),
    ErrorRate(ErrorRate),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveUsers {
    pub value: u64,
    pub series: Vec<SessionsPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionsPoint {
    #[serde(serialize_with = "rfc3339")]
    pub t: i64,
    pub sessions: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelHour {
    #[serde(serialize_with = "rfc3339")]
    pub hour: i64,
    pub started: u64,
    pub completed: u64,
    pub conversion_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRow {
    pub feature: String,
    pub users: u64,
    pub events: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorRate {
    pub threshold_pct: f64,
    pub series: Vec<ErrorMinute>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorMinute {
    #[serde(serialize_with = "rfc3339")]
    pub minute: i64,
    pub errors: u64,
    pub total: u64,
    pub rate_pct: f64,
}

/// All four panels, as `GET /api/panels` returns them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    pub range: Range,
    #[serde(serialize_with = "rfc3339_ms")]
    pub generated_at: i64,
    /// Confirmed flushes the snapshot reflects.
    pub as_of_flush: u64,
    /// The filters applied, as the request gave them (normalised).
    pub filters: Filters,
    pub active_users: ActiveUsers,
    pub signup_funnel: Vec<FunnelHour>,
    pub top_features: Vec<FeatureRow>,
    pub error_rate: ErrorRate,
}

// Rows as the panel queries return them (times as Unix seconds).
#[derive(Debug, Deserialize)]
pub(super) struct SessionsRow {
    t: i64,
    sessions: u64,
}

#[derive(Debug, Deserialize)]
pub(super) struct FunnelRow {
    hour: i64,
    started: u64,
    completed: u64,
}

#[derive(Debug, Deserialize)]
pub(super) struct ErrorRow {
    minute: i64,
    errors: u64,
    total: u64,
}

impl ActiveUsers {
    /// Every bucket of the window, zero where no session was seen.
    pub(super) fn build(window: &Window, value: u64, rows: &[SessionsRow]) -> Self {
        let series = window
            .buckets(window.bucket_s)
            .map(|t| SessionsPoint {
                t,
                sessions: rows.iter().find(|r| r.t == t).map_or(0, |r| r.sessions),
            })
            .collect();
        Self { value, series }
    }
}

impl FunnelHour {
    /// Every hour of the window; conversion is null where nothing started.
    pub(super) fn build(window: &Window, rows: &[FunnelRow]) -> Vec<Self> {
        window
            .buckets(3600)
            .map(|hour| {
                let (started, completed) = rows
                    .iter()
                    .find(|r| r.hour == hour)
                    .map_or((0, 0), |r| (r.started, r.completed));
                FunnelHour {
                    hour,
                    started,
                    completed,
                    conversion_pct: conversion_pct(started, completed),
                }
            })
            .collect()
    }
}

impl ErrorRate {
    /// Minutes that saw events, in order.
    pub(super) fn build(rows: &[ErrorRow]) -> Self {
        let series = rows
            .iter()
            .map(|r| ErrorMinute {
                minute: r.minute,
                errors: r.errors,
                total: r.total,
                rate_pct: error_rate_pct(r.errors, r.total),
            })
            .collect();
        Self {
            threshold_pct: ERROR_THRESHOLD_PCT,
            series,
        }
    }
}

impl Dashboard {
    /// Puts the four panels (in `PanelName::ALL` order) of one snapshot together.
    pub fn assemble(
        scope: &Scope,
        end: DateTime<Utc>,
        as_of_flush: u64,
        panels: Vec<Panel>,
    ) -> Self {
        let mut d = Dashboard {
            range: scope.range,
            generated_at: end.timestamp_millis(),
            as_of_flush,
            filters: scope.filters.clone(),
            active_users: ActiveUsers {
                value: 0,
                series: Vec::new(),
            },
            signup_funnel: Vec::new(),
            top_features: Vec::new(),
            error_rate: ErrorRate {
                threshold_pct: ERROR_THRESHOLD_PCT,
                series: Vec::new(),
            },
        };
        for panel in panels {
            match panel {
                Panel::ActiveUsers(p) => d.active_users = p,
                Panel::SignupFunnel(p) => d.signup_funnel = p,
                Panel::TopFeatures(p) => d.top_features = p,
                Panel::ErrorRate(p) => d.error_rate = p,
            }
        }
        d
    }

    /// One panel by name.
    pub fn panel(&self, name: PanelName) -> Panel {
        match name {
            PanelName::ActiveUsers => Panel::ActiveUsers(self.active_users.clone()),
            PanelName::SignupFunnel => Panel::SignupFunnel(self.signup_funnel.clone()),
            PanelName::TopFeatures => Panel::TopFeatures(self.top_features.clone()),
            PanelName::ErrorRate => Panel::ErrorRate(self.error_rate.clone()),
        }
    }

    /// The four panels by name, in `PanelName::ALL` order (what the charts draw).
    pub fn panels(&self) -> [(PanelName, Panel); 4] {
        PanelName::ALL.map(|name| (name, self.panel(name)))
    }

    /// True when the range holds no events at all.
    pub fn is_empty(&self) -> bool {
        self.error_rate.series.is_empty()
    }
}

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

fn rfc3339<S: Serializer>(secs: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*secs))
}

fn rfc3339_ms<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    let t = Utc.timestamp_millis_opt(*ms).single().unwrap_or_default();
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
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
}
