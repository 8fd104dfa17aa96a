//! `/api/settings/…`: settings the engine keeps in its data directory.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::Json;

use super::ApiError;
use crate::engine::Engine;

/// `GET /api/settings/aliases`: `{"signed_up": "signup_completed", …}`.
pub(super) async fn get_aliases(
    State(engine): State<Arc<Engine>>,
) -> Json<BTreeMap<String, String>> {
    Json(engine.aliases.get().as_ref().clone())
}

/// `PUT /api/settings/aliases`: replaces every alias; answers the aliases now in force.
pub(super) async fn put_aliases(
    State(engine): State<Arc<Engine>>,
    body: Result<Json<BTreeMap<String, String>>, JsonRejection>,
) -> Result<Json<BTreeMap<String, String>>, ApiError> {
    let Json(aliases) = body.map_err(|e| {
        ApiError::BadSetting(format!(
            "aliases: a JSON object of event name to event name ({})",
            e.body_text()
        ))
    })?;
    engine
        .aliases
        .set(aliases)
        .map_err(|e| ApiError::BadSetting(e.to_string()))?;
    Ok(Json(engine.aliases.get().as_ref().clone()))
}
