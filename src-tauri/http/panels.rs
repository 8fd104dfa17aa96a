//! `GET /api/panels…` and `/api/dashboard.png`: the dashboard for headless use.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::{ingest, ApiError};
use crate::engine::Engine;
use crate::ingest::event::TimeBounds;
use crate::questions::filters::Filters;
use crate::questions::panels::{PanelName, Range, Scope, Source};
use crate::support::csv::Csv;

/// A query string as its `(name, value)` pairs, in order.
pub(super) type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// What a query string asks of a dashboard-like answer.
pub(super) struct Asked {
    pub scope: Scope,
    /// The route's own parameters, by name.
    own: Vec<(&'static str, String)>,
}

impl Asked {
    /// The value of the route's own parameter `name`, when given.
    pub fn own(&self, name: &str) -> Option<&str> {
        self.own
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a query string asks of a dashboard-like answer: the scope (`range`, `at`, `source` and
/// the filters) and the route's own parameters among `own`, by name. Anything else, or a
/// parameter given twice, is a 400 naming it.
pub(super) fn parse_scope(
    pairs: Pairs,
    time: TimeBounds,
    own: &[&'static str],
) -> Result<Asked, ApiError> {
    parse_scope_in(pairs, time, own, &Range::ALL)
}

/// As [`parse_scope`], `range` one of `presets`.
pub(super) fn parse_scope_in(
    pairs: Pairs,
    time: TimeBounds,
    own: &[&'static str],
    presets: &'static [Range],
) -> Result<Asked, ApiError> {
    let Query(pairs) = pairs.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let mut scope = Scope::default();
    let mut filters = Vec::new();
    let mut extra = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let (mut from, mut to) = (None, None);
    for (name, value) in &pairs {
        if Filters::is_filter_param(name) {
            filters.push((name.as_str(), value.as_str()));
            continue;
        }
        if seen.contains(&name.as_str()) {
            return Err(ApiError::BadQuery(format!("{name} is given twice")));
        }
        seen.push(name);
        match name.as_str() {
            "range" => {
                scope.range = Range::parse_in(value, presets)
                    .ok_or_else(|| ApiError::BadRange(value.clone(), presets))?
            }
            "source" => {
                scope.source =
                    Source::parse(value).ok_or_else(|| ApiError::BadSource(value.clone()))?
            }
            "at" => scope.at = Some(parse_at("at", value, time)?),
            "from" => from = Some(parse_at("from", value, time)?),
            "to" => to = Some(parse_at("to", value, time)?),
            _ => match own.iter().find(|o| **o == name) {
                Some(own) => extra.push((*own, value.clone())),
                None => {
                    let mut known = vec!["range", "from", "to", "at", "source"];
                    known.extend(own);
                    return Err(ApiError::BadQuery(format!(
                        "unknown parameter {name:?}: this route takes {}, and the filters country, device and prop.KEY",
                        known.join(", ")
                    )));
                }
            },
        }
    }
    if from.is_some() || to.is_some() {
        let given = |name| seen.contains(&name);
        let (from, to) = match (from, to) {
            _ if given("range") || given("at") => {
                return Err(ApiError::BadQuery(
                    "from and to replace range and at: give range (and at), or from and to".into(),
                ))
            }
            (Some(from), Some(to)) => (from, to),
            _ => {
                return Err(ApiError::BadQuery(
                    "from and to go together: give both (RFC 3339), or range".into(),
                ))
            }
        };
        let millis = |t: DateTime<Utc>| t.timestamp_millis();
        scope.range = Range::span(millis(from), millis(to))
            .map_err(|rule| ApiError::BadTime(rule, format!("{from} to {to}")))?;
        scope.at = Some(to);
    }
    scope.filters = Filters::parse(filters)?;
    Ok(Asked { scope, own: extra })
}

/// `at=`, `from=`, `to=`: an RFC 3339 instant where events may lie (`time`).
fn parse_at(name: &str, value: &str, time: TimeBounds) -> Result<DateTime<Utc>, ApiError> {
    let rule = format!("{name}: must be an RFC 3339 time {}", time.span());
    let bad = || ApiError::BadTime(rule.clone(), value.to_owned());
    let at = DateTime::parse_from_rfc3339(value).map_err(|_| bad())?;
    if !time.contains(at.timestamp_millis()) {
        return Err(bad());
    }
    Ok(at.with_timezone(&Utc))
}

pub(super) async fn all_panels(
    State(engine): State<Arc<Engine>>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let scope = parse_scope(query, ingest::time_bounds(&engine), &[])?.scope;
    Ok(Json(engine.panels.dashboard(&scope).await?).into_response())
}

/// The whole dashboard as one PNG (what `pulseboard export` and the window's "Save as PNG" write).
pub(super) async fn dashboard_png(
    State(engine): State<Arc<Engine>>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let scope = parse_scope(query, ingest::time_bounds(&engine), &[])?.scope;
    let png = engine
        .panels
        .dashboard(&scope)
        .await?
        .png(&engine.annotations.marks(), None)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

pub(super) async fn one_panel(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let Path(name) = name.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let scope = parse_scope(query, ingest::time_bounds(&engine), &[])?.scope;
    let (stem, format) = Format::of(&name, &headers);
    let panel_name = PanelName::parse(stem).ok_or_else(|| ApiError::UnknownPanel(name.clone()))?;
    let dashboard = engine.panels.dashboard(&scope).await?;
    let panel = dashboard.panel(panel_name);
    Ok(match format {
        Format::Svg => svg(dashboard.svg(panel_name, &engine.annotations.marks())),
        Format::Csv => csv(panel_name.as_str(), &panel.csv()),
        Format::Json => Json(json!({ panel_name.as_str(): panel })).into_response(),
    })
}

/// How an answer is asked for: `name.svg`, `name.csv` (or `Accept: text/csv`), else JSON.
pub(super) enum Format {
    Json,
    Svg,
    Csv,
}

impl Format {
    /// The name without its suffix, and the format asked for.
    pub(super) fn of<'a>(name: &'a str, headers: &HeaderMap) -> (&'a str, Format) {
        if let Some(stem) = name.strip_suffix(".svg") {
            return (stem, Format::Svg);
        }
        if let Some(stem) = name.strip_suffix(".csv") {
            return (stem, Format::Csv);
        }
        let accepts_csv = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().starts_with("text/csv")));
        match accepts_csv {
            true => (name, Format::Csv),
            false => (name, Format::Json),
        }
    }
}

pub(super) fn svg(chart: String) -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml")], chart).into_response()
}

/// A CSV download named `name.csv`.
pub(super) fn csv(name: &str, table: &Csv) -> Response {
    let disposition = format!("attachment; filename=\"{name}.csv\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        table.render(),
    )
        .into_response()
}
