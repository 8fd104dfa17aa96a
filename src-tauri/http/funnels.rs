//! `/api/funnels…` (define, list, delete, compute, draw) and `/api/event_names` (what a funnel
//! editor offers as steps).

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::body::Document;
use super::panels::{parse_scope, Format, Pairs};
use super::{ingest, saved, ApiError};

use crate::engine::Engine;
use crate::questions::funnels::{self, Breakdown, FunnelError, Interval, Outcome, Who};
use crate::questions::people::{parse_limit, MAX_PEOPLE};
use crate::questions::shelf::DefinitionError;

/// `GET /api/funnels`: `{"funnels": [...]}`, by id; with `"invalid": [{"id", "error",
/// "definition"}]` when stored definitions break a rule.
pub(super) async fn list(State(engine): State<Arc<Engine>>) -> Json<Value> {
    saved::listed("funnels", engine.funnels.list(), engine.funnels.invalid())
}

/// `PUT /api/funnels/{id}`: defines or replaces it; answers the stored funnel.
pub(super) async fn put(
    State(engine): State<Arc<Engine>>,
    id: Result<Path<String>, PathRejection>,
    Document(body): Document,
) -> Result<Response, ApiError> {
    let id = saved::id(id)?;
    let body =
        saved::json_body(&body, "a JSON object defining the funnel").map_err(FunnelError::from)?;
    let funnel = engine.funnels.put(&id, &body)?;
    Ok(Json(funnel).into_response())
}

/// `DELETE /api/funnels/{id}`: 204, or 404 when there is no such funnel.
pub(super) async fn delete(
    State(engine): State<Arc<Engine>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    engine.funnels.delete(&saved::id(id)?)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/funnels/{id}?range=&filters&breakdown=`: the counts; `GET /api/funnels/{id}.svg`
/// the steps drawn (with each group's line); `.csv` (or `Accept: text/csv`) the steps of the
/// total and of each group.
pub(super) async fn get(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let name = saved::id(id)?;
    let (id, format) = Format::of(&name, &headers);
    let asked = parse_scope(query, ingest::time_bounds(&engine), &["breakdown"])?;
    let breakdown = asked
        .own("breakdown")
        .map(Breakdown::of_funnel)
        .transpose()
        .map_err(FunnelError::from)?;
    let report = engine.funnels.report(id, &asked.scope, breakdown).await?;
    Ok(match format {
        Format::Svg => {
            let funnel = engine.funnels.get(id)?;
            super::panels::svg(funnels::chart::svg(&funnel.name, &report))
        }
        Format::Csv => super::panels::csv(id, &report.csv()),
        Format::Json => Json(report).into_response(),
    })
}

/// `GET /api/funnels/{id}/trend?range=&interval=&filters&breakdown=`: conversion over time.
pub(super) async fn trend(
    State(engine): State<Arc<Engine>>,
    id: Result<Path<String>, PathRejection>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let id = saved::id(id)?;
    let asked = parse_scope(
        query,
        ingest::time_bounds(&engine),
        &["breakdown", "interval"],
    )?;
    let breakdown = asked.own("breakdown").map(Breakdown::of_funnel).transpose();
    let interval = asked
        .own("interval")
        .map_or(Ok(Interval::Auto), Interval::parse);
    let (breakdown, interval) = (
        breakdown.map_err(FunnelError::from)?,
        interval.map_err(FunnelError::from)?,
    );
    let trend = engine
        .funnels
        .trend(&id, &asked.scope, breakdown, interval)
        .await?;
    Ok(Json(trend).into_response())
}

/// `GET /api/funnels/{id}/actors?range=&step=K&outcome=reached|dropped[&filters][&breakdown=
/// &value=]&limit=100`: `{"total", "actors": [{"actor", "reached_step", "entered"}]}`.
pub(super) async fn actors(
    State(engine): State<Arc<Engine>>,
    id: Result<Path<String>, PathRejection>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let id = saved::id(id)?;
    let own = ["step", "outcome", "breakdown", "value", "limit"];
    let asked = parse_scope(query, ingest::time_bounds(&engine), &own)?;
    let breakdown = asked.own("breakdown").map(Breakdown::of_funnel).transpose();
    let who = who(|name| asked.own(name));
    let (breakdown, who) = (
        breakdown.map_err(FunnelError::from)?,
        who.map_err(FunnelError::from)?,
    );
    let actors = engine
        .funnels
        .actors(&id, &asked.scope, breakdown, who)
        .await?;
    Ok(Json(actors).into_response())
}

fn who<'a>(param: impl Fn(&str) -> Option<&'a str>) -> Result<Who, DefinitionError> {
    let step = param("step").unwrap_or_default();
    let step = step.parse().map_err(|_| {
        DefinitionError::new(
            "step",
            format!("required, a step number from 1 (got {step:?})"),
        )
    })?;
    let outcome = param("outcome").unwrap_or("reached");
    let outcome = Outcome::parse(outcome).ok_or_else(|| {
        DefinitionError::new("outcome", format!("reached or dropped (got {outcome:?})"))
    })?;
    let limit = parse_limit(param("limit"), 100, MAX_PEOPLE)
        .map_err(|e| DefinitionError::new("limit", e.rule))?;
    Ok(Who {
        step,
        outcome,
        value: param("value").map(str::to_owned),
        limit,
    })
}

/// `GET /api/event_names?range=24h`: the names seen, with counts, most frequent first.
pub(super) async fn event_names(
    State(engine): State<Arc<Engine>>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let scope = parse_scope(query, ingest::time_bounds(&engine), &[])?.scope;
    Ok(Json(engine.funnels.event_names(&scope).await?).into_response())
}
