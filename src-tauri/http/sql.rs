//! `POST /api/sql`: one read-only statement (`{"query", "format"?}` or a `text/plain` body),
//! answered as JSON or CSV.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::body::Document;
use super::panels::{self, Format};
use super::ApiError;
use crate::engine::Engine;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Asked {
    query: String,
    #[serde(default)]
    format: Option<String>,
}

/// The statement and whether CSV was asked for: a JSON body when it is one (whatever the
/// Content-Type: curl -d sends a form type), else the body is the statement.
fn asked(headers: &HeaderMap, body: &[u8]) -> Result<(String, bool), ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::BadQuery("the body is not UTF-8 text".into()))?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
        || text.trim_start().starts_with('{');
    let accepts_csv = matches!(Format::of("", headers).1, Format::Csv);
    if !is_json {
        return Ok((text.to_string(), accepts_csv));
    }
    let asked: Asked = serde_json::from_str(text).map_err(|e| {
        ApiError::BadQuery(format!(
            "{e}: send {{\"query\": \"SELECT …\", \"format\": \"json\" or \"csv\"}} or the \
             statement as text/plain"
        ))
    })?;
    let csv = match asked.format.as_deref() {
        None => accepts_csv,
        Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::BadQuery(format!(
                "format must be json or csv (got {other:?})"
            )))
        }
    };
    Ok((asked.query, csv))
}

/// `POST /api/sql`: `{"columns", "rows", "rows_read", "elapsed_ms", "truncated"}`, or the
/// rows as CSV; 400 with the reason (the read-only rule's, or ClickHouse's own text).
pub(super) async fn run(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    Document(body): Document,
) -> Result<Response, ApiError> {
    let (query, csv) = asked(&headers, &body)?;
    let answer = engine.sql.answer(&query).await?;
    Ok(match csv {
        true => panels::csv("query", &answer.csv()),
        false => Json(answer).into_response(),
    })
}
