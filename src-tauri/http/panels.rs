//! `GET /api/panels…` and `/api/dashboard.png`: the dashboard for headless use.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::{ingest, ApiError};
use crate::charts;
use crate::engine::Engine;
use crate::event::TimeBounds;
use crate::panels::{PanelName, Range, Source};

#[derive(Deserialize)]
pub(super) struct PanelQuery {
    range: Option<String>,
    /// Panels as of this instant instead of now (RFC 3339).
    at: Option<String>,
    /// `views` (default) or `raw`: read raw events only, to check the views against.
    source: Option<String>,
}

impl PanelQuery {
    /// The range, source and instant asked for; `at` must lie where events may (`time`).
    fn parse(&self, time: TimeBounds) -> Result<(Range, Source, Option<DateTime<Utc>>), ApiError> {
        let range = match &self.range {
            None => Range::default(),
            Some(r) => Range::parse(r).ok_or_else(|| ApiError::BadRange(r.clone()))?,
        };
        let at = match &self.at {
            None => None,
            Some(t) => {
                let rule = format!("at: must be an RFC 3339 time {}", time.span());
                let bad = || ApiError::BadTime(rule.clone(), t.clone());
                let at = DateTime::parse_from_rfc3339(t).map_err(|_| bad())?;
                if !time.contains(at.timestamp_millis()) {
                    return Err(bad());
                }
                Some(at.with_timezone(&Utc))
            }
        };
        let source = match &self.source {
            None => Source::default(),
            Some(s) => Source::parse(s).ok_or_else(|| ApiError::BadSource(s.clone()))?,
        };
        Ok((range, source, at))
    }
}

pub(super) async fn all_panels(
    State(engine): State<Arc<Engine>>,
    query: Result<Query<PanelQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (range, source, at) = parse_query(query)?.parse(ingest::time_bounds(&engine))?;
    Ok(Json(engine.panels.dashboard(range, source, at).await?).into_response())
}

/// The whole dashboard as one PNG (what `pulseboard export` and the window's "Save as PNG" write).
pub(super) async fn dashboard_png(
    State(engine): State<Arc<Engine>>,
    query: Result<Query<PanelQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (range, source, at) = parse_query(query)?.parse(ingest::time_bounds(&engine))?;
    let dashboard = engine.panels.dashboard(range, source, at).await?;
    let png = charts::dashboard_png(&dashboard, range)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

pub(super) async fn one_panel(
    State(engine): State<Arc<Engine>>,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<PanelQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path(name) = name.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let (range, source, at) = parse_query(query)?.parse(ingest::time_bounds(&engine))?;
    let (panel_name, svg) = match name.strip_suffix(".svg") {
        Some(stem) => (stem, true),
        None => (name.as_str(), false),
    };
    let panel_name =
        PanelName::parse(panel_name).ok_or_else(|| ApiError::UnknownPanel(name.clone()))?;
    let panel = engine.panels.panel(panel_name, range, source, at).await?;
    if svg {
        let chart = charts::svg(&panel, range);
        return Ok(([(header::CONTENT_TYPE, "image/svg+xml")], chart).into_response());
    }
    Ok(Json(json!({ panel_name.as_str(): panel.as_ref() })).into_response())
}

/// The query string, or a 400 in JSON that says what is wrong with it (a repeated parameter).
fn parse_query(query: Result<Query<PanelQuery>, QueryRejection>) -> Result<PanelQuery, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::BadQuery(e.body_text()))
}
