//! What the routes of saved definitions (funnels, insights, alert rules) share: the id from the
//! path, and a list with the stored definitions that break a rule beside it.

use axum::extract::rejection::PathRejection;
use axum::extract::Path;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::ApiError;
use crate::questions::shelf::DefinitionError;
use crate::support::files::Invalid;

/// The `{id}` of the path (a 400 when it cannot be read).
pub(super) fn id(id: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    id.map(|Path(id)| id)
        .map_err(|e| ApiError::BadQuery(e.body_text()))
}

/// A `PUT`'s body as JSON, whatever its Content-Type (curl -d sends a form type); `what` says
/// what it must be (`a JSON object defining the funnel`), the parser's complaint follows.
pub(super) fn json_body(body: &[u8], what: &str) -> Result<Value, DefinitionError> {
    serde_json::from_slice(body).map_err(|e| DefinitionError::new("body", format!("{what} ({e})")))
}

/// `{"<name>": [...]}`, with `"invalid": [{"id", "error", "definition"}]` when stored
/// definitions break a rule.
pub(super) fn listed(name: &str, items: impl Serialize, invalid: Vec<Invalid>) -> Json<Value> {
    let mut body = json!({ name: items });
    if !invalid.is_empty() {
        body["invalid"] = json!(invalid);
    }
    Json(body)
}
