//! The HTTP surface: event ingest, health, and the panels for headless use.

mod access;
mod error;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::charts;
use crate::engine::Engine;
use crate::event::{self, Parsed};
use crate::panels::{PanelName, Range, Source};
use crate::store::rowbinary;

pub use access::{Access, AccessError};
pub use error::{ApiError, RETRY_AFTER_S};

/// The router for an engine: `/v1/events`, `/api/panels…` (behind the token when one is set),
/// `/health` (open, for load balancers), all behind the CORS allow-list.
pub fn router(engine: Arc<Engine>, access: &Access) -> Result<Router, AccessError> {
    let guarded = Router::new()
        .route("/v1/events", post(post_events))
        .route("/api/panels", get(all_panels))
        .route("/api/panels/{name}", get(one_panel))
        .route("/api/dashboard.png", get(dashboard_png));
    #[cfg(feature = "fault-injection")]
    let guarded = guarded.route("/debug/store", post(set_store_fault));
    let guarded = guarded.layer(axum::middleware::from_fn_with_state(
        access.token.clone(),
        access::require_token,
    ));
    let router = guarded.route("/health", get(health)).with_state(engine);
    Ok(match access.cors()? {
        Some(cors) => router.layer(cors),
        None => router,
    })
}

/// A first event to send to the instance at `url`, as a shell command people can paste.
pub fn curl_example(url: &str) -> String {
    format!(
        "curl -X POST {url}/v1/events -H 'Content-Type: application/json' \\\n  -d '[{{\"event_name\":\"page_view\",\"session_id\":\"s1\"}}]'"
    )
}

async fn post_events(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Refuse before reading the body: a full journal must push back, not buffer more.
    engine.journal.check_capacity()?;
    let limit = engine.config.body_limit;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge { limit });
    }
    // A read error here is the limit (or a client that went away and will not read the answer).
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::TooLarge { limit })?;
    let now_ms = Utc::now().timestamp_millis();
    let parsed = if is_ndjson(&headers) {
        event::parse_ndjson(&bytes, now_ms)?
    } else {
        event::parse_json_array(&bytes, now_ms)?
    };
    let Parsed { accepted, rejected } = parsed;
    if accepted.is_empty() {
        return Err(ApiError::AllRejected(rejected));
    }
    let count = accepted.len() as u64;
    engine
        .journal
        .append(count, rowbinary::encode_all(&accepted))
        .await?;
    let body = json!({ "accepted": count, "rejected": rejected });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

fn is_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-ndjson"))
}

async fn health(State(engine): State<Arc<Engine>>) -> Json<serde_json::Value> {
    Json(engine.health())
}

#[derive(Deserialize)]
struct PanelQuery {
    range: Option<String>,
    /// Panels as of this instant instead of now (RFC 3339).
    at: Option<String>,
    /// `views` (default) or `raw`: read raw events only, to check the views against.
    source: Option<String>,
}

impl PanelQuery {
    fn parse(&self) -> Result<(Range, Source, Option<DateTime<Utc>>), ApiError> {
        let range = match &self.range {
            None => Range::default(),
            Some(r) => Range::parse(r).ok_or_else(|| ApiError::BadRange(r.clone()))?,
        };
        let at = match &self.at {
            None => None,
            Some(t) => Some(
                DateTime::parse_from_rfc3339(t)
                    .map_err(|_| ApiError::BadTime(t.clone()))?
                    .with_timezone(&Utc),
            ),
        };
        let source = match &self.source {
            None => Source::default(),
            Some(s) => Source::parse(s).ok_or_else(|| ApiError::BadSource(s.clone()))?,
        };
        Ok((range, source, at))
    }
}

async fn all_panels(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<PanelQuery>,
) -> Result<Response, ApiError> {
    let (range, source, at) = query.parse()?;
    Ok(Json(engine.panels.dashboard(range, source, at).await?).into_response())
}

/// The whole dashboard as one PNG (what `pulseboard export` and the window's "Save as PNG" write).
async fn dashboard_png(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<PanelQuery>,
) -> Result<Response, ApiError> {
    let (range, source, at) = query.parse()?;
    let dashboard = engine.panels.dashboard(range, source, at).await?;
    let png = charts::dashboard_png(&dashboard, range)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

async fn one_panel(
    State(engine): State<Arc<Engine>>,
    Path(name): Path<String>,
    Query(query): Query<PanelQuery>,
) -> Result<Response, ApiError> {
    let (range, source, at) = query.parse()?;
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

#[cfg(feature = "fault-injection")]
#[derive(Deserialize)]
struct SetFault {
    mode: crate::store::faults::Fault,
}

#[cfg(feature = "fault-injection")]
async fn set_store_fault(Json(fault): Json<SetFault>) -> StatusCode {
    crate::store::faults::set(fault.mode);
    StatusCode::NO_CONTENT
}
