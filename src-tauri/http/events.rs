//! `POST /v1/events`: Pulseboard's own JSON array or NDJSON of events.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{body, ApiError};
use crate::engine::Engine;
use crate::event::{self, Parsed, TimeBounds};

pub(super) async fn post_events(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Refuse before parsing: a full journal must push back, not buffer more.
    if let Err(full) = engine.journal.check_capacity() {
        body::discard(body).await;
        return Err(full.into());
    }
    let bytes = body::read(&headers, body, engine.config.body_limit).await?;
    let time = TimeBounds::new(engine.config.clock.now_ms(), engine.config.retention_days);
    let parsed = if is_ndjson(&headers) {
        event::parse_ndjson(&bytes, time)?
    } else {
        event::parse_json_array(&bytes, time)?
    };
    let Parsed { accepted, rejected } = parsed;
    if accepted.is_empty() {
        return Err(ApiError::AllRejected(rejected));
    }
    engine.journal.append(&accepted).await?;
    let body = json!({ "accepted": accepted.len(), "rejected": rejected });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

fn is_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-ndjson"))
}
