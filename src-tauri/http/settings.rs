//! `/api/settings/…`: settings the engine keeps in its data directory.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::Json;

use super::body::Document;
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
    Document(body): Document,
) -> Result<Json<BTreeMap<String, String>>, ApiError> {
    let aliases: BTreeMap<String, String> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadSetting(format!(
            "aliases: a JSON object of event name to event name ({e})"
        ))
    })?;
    engine
        .aliases
        .set(aliases)
        .map_err(|e| match e.is_bad_input() {
            true => ApiError::BadSetting(e.to_string()),
            false => ApiError::Setting(e.to_string()),
        })?;
    Ok(Json(engine.aliases.get().as_ref().clone()))
}
