//! `/api/alerts`: alert rules with their states (`alerts/` judges them).

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use super::body::Document;
use super::panels::{parse_scope, Pairs};
use super::{ingest, saved, ApiError};
use crate::delivery::alerts::{AlertError, AlertView, Preview, RuleError};
use crate::engine::Engine;

/// `GET /api/alerts`: `{"alerts": [rule with state, …]}`, by id; with `"invalid": [{"id",
/// "error", "definition"}]` when stored rules break a rule (they are not judged).
pub(super) async fn list(State(engine): State<Arc<Engine>>) -> Json<Value> {
    saved::listed("alerts", engine.alerts.list(), engine.alerts.invalid())
}

/// `PUT /api/alerts/{id}`: stores the rule; answers it as stored, with its state.
pub(super) async fn put(
    State(engine): State<Arc<Engine>>,
    id: Result<Path<String>, PathRejection>,
    Document(body): Document,
) -> Result<Json<AlertView>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| {
        let rule = format!("a JSON object ({e})");
        AlertError::BadRule(RuleError {
            field: "rule".into(),
            rule,
        })
    })?;
    Ok(Json(engine.alerts.put(&id, &body)?))
}

/// `GET /api/alerts/{id}/preview?range=6h` (or `from`/`to`, up to 24h): what the rule would
/// have done over the range.
pub(super) async fn preview(
    State(engine): State<Arc<Engine>>,
    id: Result<Path<String>, PathRejection>,
    query: Pairs,
) -> Result<Json<Preview>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let asked = parse_scope(query, ingest::time_bounds(&engine), &[])?;
    let scope = asked.scope;
    Ok(Json(
        engine.alerts.preview(&id, scope.range, scope.at).await?,
    ))
}

/// `DELETE /api/alerts/{id}`: 204.
pub(super) async fn delete(
    State(engine): State<Arc<Engine>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    engine.alerts.delete(&id)?;
    Ok(StatusCode::NO_CONTENT)
}
