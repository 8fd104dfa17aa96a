//! `GET /api/retention`: cohorts by day or hour, as JSON, or CSV (`/api/retention.csv` or
//! `Accept: text/csv`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::panels::{parse_scope_in, Format, Pairs};
use super::{ingest, ApiError};
use crate::engine::Engine;
use crate::questions::panels::Range;
use crate::questions::retention::{Answer, Question, RetentionError};

const OWN: [&str; 5] = [
    "start_event",
    "return_event",
    "period",
    "periods",
    "breakdown",
];

async fn answer(engine: &Engine, query: Pairs) -> Result<Arc<Answer>, ApiError> {
    let asked = parse_scope_in(query, ingest::time_bounds(engine), &OWN, &Range::LONG)?;
    let question = Question::parse(|name| asked.own(name)).map_err(RetentionError::from)?;
    Ok(engine.retention.answer(&question, &asked.scope).await?)
}

/// `GET /api/retention?range=&start_event=&return_event=&period=&periods=[&filters][&breakdown=]`.
pub(super) async fn get(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    query: Pairs,
) -> Result<Response, ApiError> {
    let answer = answer(&engine, query).await?;
    Ok(match Format::of("retention", &headers).1 {
        Format::Csv => csv_of(&answer),
        _ => Json(answer).into_response(),
    })
}

/// `GET /api/retention.csv?…`: the same, as CSV.
pub(super) async fn csv(
    State(engine): State<Arc<Engine>>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let answer = answer(&engine, query).await?;
    Ok(csv_of(&answer))
}

fn csv_of(answer: &Answer) -> Response {
    super::panels::csv("retention", &answer.csv())
}
