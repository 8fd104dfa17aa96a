//! `/api/people` and `/api/people/{actor}/events`: the actors behind the numbers and what each
//! did; `/api/funnels/{id}/actors` (in `funnels.rs`) lists those of a funnel's step.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::panels::{parse_scope_in, Pairs};
use super::{ingest, ApiError};
use crate::engine::Engine;
use crate::questions::filters::FilterError;
use crate::questions::panels::Range;
use crate::questions::people::{check_actor, parse_limit, MAX_EVENTS, MAX_PEOPLE};
use crate::questions::properties::check_search;

/// `GET /api/people?range=&search=PREFIX&limit=50[&filters]`.
pub(super) async fn list(
    State(engine): State<Arc<Engine>>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let own = ["search", "limit"];
    let asked = parse_scope_in(query, ingest::time_bounds(&engine), &own, &Range::LONG)?;
    let search = asked.own("search").unwrap_or_default();
    check_search(search)?;
    let limit = parse_limit(asked.own("limit"), 50, MAX_PEOPLE)?;
    let people = engine.people.list(&asked.scope, search, limit).await?;
    Ok(Json(people).into_response())
}

/// `GET /api/people/{actor}/events?range=7d&before=RFC3339&limit=100`.
pub(super) async fn events(
    State(engine): State<Arc<Engine>>,
    actor: Result<Path<String>, PathRejection>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let Path(actor) = actor.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    check_actor("actor", &actor)?;
    // A week unless asked otherwise: a person's recent history, not the dashboard's day.
    let ranged = matches!(&query, Ok(Query(pairs)) if pairs.iter().any(|(n, _)| n == "range" || n == "from"));
    let own = ["before", "limit"];
    let mut asked = parse_scope_in(query, ingest::time_bounds(&engine), &own, &Range::LONG)?;
    if !ranged {
        asked.scope.range = Range::Span(7 * 86_400);
    }
    let before = asked.own("before").map(parse_before).transpose()?;
    let limit = parse_limit(asked.own("limit"), 100, MAX_EVENTS)?;
    let timeline = engine
        .people
        .timeline(&actor, &asked.scope, before, limit)
        .await?;
    Ok(Json(timeline).into_response())
}

fn parse_before(text: &str) -> Result<i64, FilterError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| FilterError::new("before", format!("an RFC 3339 time ({e}; got {text:?})")))
}
