//! `/api/dashboard`: the tiles the team arranged, in order (the chart of them all is
//! `/api/dashboard.png`).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::Value;

use super::body::Document;
use super::ApiError;
use crate::engine::Engine;
use crate::questions::layout::Tiles;
use crate::questions::shelf::{DefinitionError, ShelfError};

/// `GET /api/dashboard`.
pub(super) async fn get(State(engine): State<Arc<Engine>>) -> Json<Tiles> {
    Json(engine.tiles())
}

/// `PUT /api/dashboard` `{"tiles": [{"kind": "panel", "id": "active_users"}, …]}`.
pub(super) async fn put(
    State(engine): State<Arc<Engine>>,
    Document(body): Document,
) -> Result<Json<Tiles>, ApiError> {
    let body: Value = serde_json::from_slice(&body).map_err(|e| {
        let rule = format!("a JSON object such as {{\"tiles\": [{{\"kind\": \"panel\", \"id\": \"active_users\"}}]}} ({e})");
        ShelfError::from(DefinitionError::new("body", rule))
    })?;
    Ok(Json(engine.arrange(&body)?))
}
