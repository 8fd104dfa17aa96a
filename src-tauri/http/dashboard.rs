//! `/api/dashboard`: the tiles the team arranged, in order (the chart of them all is
//! `/api/dashboard.png`).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;

use super::body::Document;
use super::{saved, ApiError};
use crate::engine::Engine;
use crate::questions::layout::Tiles;
use crate::questions::shelf::ShelfError;

/// `GET /api/dashboard`.
pub(super) async fn get(State(engine): State<Arc<Engine>>) -> Json<Tiles> {
    Json(engine.tiles())
}

/// `PUT /api/dashboard` `{"tiles": [{"kind": "panel", "id": "active_users"}, …]}`.
pub(super) async fn put(
    State(engine): State<Arc<Engine>>,
    Document(body): Document,
) -> Result<Json<Tiles>, ApiError> {
    let body = saved::json_body(
        &body,
        r#"a JSON object such as {"tiles": [{"kind": "panel", "id": "active_users"}]}"#,
    )
    .map_err(ShelfError::from)?;
    Ok(Json(engine.arrange(&body)?))
}
