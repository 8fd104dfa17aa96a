//! `/api/properties` and `/api/values`: the keys and values the events carry, for the filter
//! bar's suggestions.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::panels::{parse_scope, Pairs};
use super::{ingest, ApiError};
use crate::engine::Engine;
use crate::questions::filters::FilterError;
use crate::questions::properties::{check_search, dimension};

/// `GET /api/properties?range=&filters`: `{"keys": [{"key", "events"}]}`.
pub(super) async fn keys(
    State(engine): State<Arc<Engine>>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let scope = parse_scope(query, ingest::time_bounds(&engine), &[])?.scope;
    Ok(Json(engine.properties.keys(&scope).await?).into_response())
}

/// `GET /api/values?key=&range=&search=&filters`: `{"key", "values": [{"value", "events"}]}`.
pub(super) async fn values(
    State(engine): State<Arc<Engine>>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let asked = parse_scope(query, ingest::time_bounds(&engine), &["key", "search"])?;
    let key = asked.own("key").ok_or_else(|| {
        FilterError::new("key", "required: country, device, event_name or prop.KEY")
    })?;
    let dimension = dimension(key)?;
    let search = asked.own("search").unwrap_or_default().to_owned();
    check_search(&search)?;
    let values = engine
        .properties
        .values(&asked.scope, dimension, search)
        .await?;
    Ok(Json(values).into_response())
}
