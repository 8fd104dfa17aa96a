//! `/api/annotations`: notes at instants, marked on every time chart.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::body::Document;
use super::panels::{parse_scope, Pairs};
use super::{ingest, ApiError};
use crate::delivery::annotations::{Annotation, AnnotationError};
use crate::engine::Engine;
use crate::questions::panels::Window;

/// `POST /api/annotations` `{"text", "at"?}`: 201 with the annotation as stored.
pub(super) async fn add(
    State(engine): State<Arc<Engine>>,
    Document(body): Document,
) -> Result<(StatusCode, Json<Annotation>), ApiError> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| AnnotationError::Bad("body".into(), format!("a JSON object ({e})")))?;
    let time = ingest::time_bounds(&engine);
    let inside = |at: chrono::DateTime<chrono::Utc>| match time.contains(at.timestamp_millis()) {
        true => Ok(()),
        false => Err(format!("must be an RFC 3339 time {}", time.span())),
    };
    let now = engine.config.clock.now();
    let added = engine.annotations.add(&body, now, inside)?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// `GET /api/annotations?range=` (or `at`, `from`/`to`): `{"range", "annotations": [{"id",
/// "at", "text"}]}`, oldest first, those in the range.
pub(super) async fn list(
    State(engine): State<Arc<Engine>>,
    query: Pairs,
) -> Result<Json<Value>, ApiError> {
    let scope = parse_scope(query, ingest::time_bounds(&engine), &[])?.scope;
    let window = Window::new(
        scope.range,
        scope.at.unwrap_or_else(|| engine.config.clock.now()),
    );
    let annotations = engine.annotations.within(window.start_ms, window.end_ms);
    Ok(Json(
        json!({ "range": scope.range, "annotations": annotations }),
    ))
}

/// `DELETE /api/annotations/{id}`: 204.
pub(super) async fn delete(
    State(engine): State<Arc<Engine>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    engine.annotations.delete(&id)?;
    Ok(StatusCode::NO_CONTENT)
}
