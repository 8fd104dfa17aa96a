//! `/api/insights…`: define, list, delete, answer (JSON, `.svg`, `.csv`), and ask without
//! storing (`POST /api/insights/query`).

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::body::Document;
use super::panels::{parse_scope_in, Asked, Format, Pairs};
use super::{ingest, saved, ApiError};
use crate::engine::Engine;
use crate::questions::insights::{chart, Answer, Chart, Insight, InsightError};
use crate::questions::panels::Range;
use crate::questions::shelf::DefinitionError;

/// The body as JSON, whatever its Content-Type (curl -d sends a form type).
fn definition(body: &[u8]) -> Result<Value, ApiError> {
    saved::json_body(body, "a JSON object defining the insight")
        .map_err(|e| InsightError::from(e).into())
}

/// `range` (up to 30d), `at` or `from`/`to`, the filters, and `compare=previous`.
fn scope(engine: &Engine, query: Pairs) -> Result<(Asked, bool), ApiError> {
    let asked = parse_scope_in(
        query,
        ingest::time_bounds(engine),
        &["compare"],
        &Range::LONG,
    )?;
    let compare = match asked.own("compare") {
        None => false,
        Some("previous") => true,
        Some(other) => {
            let rule = format!("previous, or leave it out (got {other:?})");
            return Err(InsightError::from(DefinitionError::new("compare", rule)).into());
        }
    };
    Ok((asked, compare))
}

/// `GET /api/insights`: `{"insights": [...]}`, by id; with `"invalid"` when stored definitions
/// break a rule.
pub(super) async fn list(State(engine): State<Arc<Engine>>) -> Json<Value> {
    saved::listed(
        "insights",
        engine.insights.list(),
        engine.insights.invalid(),
    )
}

/// `PUT /api/insights/{id}`: defines or replaces it; answers the stored insight.
pub(super) async fn put(
    State(engine): State<Arc<Engine>>,
    id: Result<Path<String>, PathRejection>,
    Document(body): Document,
) -> Result<Response, ApiError> {
    let id = saved::id(id)?;
    let insight = engine.insights.put(&id, &definition(&body)?)?;
    Ok(Json(insight).into_response())
}

/// `DELETE /api/insights/{id}`: 204, or 404 when there is no such insight.
pub(super) async fn delete(
    State(engine): State<Arc<Engine>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    engine.insights.delete(&saved::id(id)?)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/insights/{id}?range=&filters&compare=previous`: the answer; `.svg` drawn as its
/// chart type, `.csv` (or `Accept: text/csv`) its points.
pub(super) async fn get(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let name = saved::id(id)?;
    let (id, format) = Format::of(&name, &headers);
    let insight = engine.insights.get(id)?;
    let (asked, compare) = scope(&engine, query)?;
    let answer = engine.insights.answer(id, &asked.scope, compare).await?;
    Ok(respond(&engine, &answer, insight.chart, format, id))
}

/// `POST /api/insights/query?range=…` with a definition in the body: answered, not stored.
pub(super) async fn query(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    query: Pairs,
    Document(body): Document,
) -> Result<Response, ApiError> {
    let mut body = definition(&body)?;
    // A stored insight sent back as it was read is a question too.
    if let Some(fields) = body.as_object_mut() {
        fields.remove("id");
    }
    let insight = Insight::parse("query", &body).map_err(InsightError::from)?;
    let (asked, compare) = scope(&engine, query)?;
    let answer = engine
        .insights
        .ask(None, &insight, &asked.scope, compare)
        .await?;
    let (_, format) = Format::of("query", &headers);
    Ok(respond(&engine, &answer, insight.chart, format, "insight"))
}

fn respond(engine: &Engine, answer: &Answer, kind: Chart, format: Format, name: &str) -> Response {
    match format {
        Format::Svg => super::panels::svg(chart::svg(answer, kind, &engine.annotations.marks())),
        Format::Csv => super::panels::csv(name, &answer.csv()),
        Format::Json => Json(answer).into_response(),
    }
}
