//! `POST /v1/events`: Pulseboard's own JSON array or NDJSON of events.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{ingest, ApiError};
use crate::delivery::live::Source;
use crate::engine::Engine;
use crate::ingest::event;

pub(super) async fn post_events(
    State(engine): State<Arc<Engine>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = ingest::read_body(&engine, &uri, &headers, body).await?;
    let time = ingest::time_bounds(&engine);
    let parsed = if is_ndjson(&headers) {
        event::parse_ndjson(&bytes, time)?
    } else {
        event::parse_json_array(&bytes, time)?
    };
    let outcome = ingest::store(&engine, &headers, parsed, Source::Events).await?;
    if outcome.accepted == 0 {
        return Err(ApiError::AllRejected(outcome.rejected));
    }
    let body = json!({ "accepted": outcome.accepted, "rejected": outcome.rejected });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

fn is_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-ndjson"))
}
