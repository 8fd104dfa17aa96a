//! Every way an HTTP request can fail, and the status each one answers with: the HTTP contract
//! in one match.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::delivery::alerts::AlertError;
use crate::delivery::annotations::AnnotationError;
use crate::delivery::charts::ChartError;
use crate::delivery::live::TooManyStreams;
use crate::ingest::event::{BodyError, Rejection};
use crate::questions::filters::FilterError;
use crate::questions::funnels::FunnelError;
use crate::questions::insights::InsightError;
use crate::questions::panels::{PanelError, PanelName, Range};
use crate::questions::retention::RetentionError;
use crate::questions::shelf::ShelfError;
use crate::questions::sql::SqlError;
use crate::storage::journal::JournalError;
use crate::storage::store::StoreError;

/// Seconds a client should wait before retrying when the journal is full or the store is down.
pub const RETRY_AFTER_S: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Body(#[from] BodyError),
    #[error("body is over the limit of {limit} bytes; send smaller batches")]
    TooLarge { limit: usize },
    #[error("every event was rejected")]
    AllRejected(Vec<Rejection>),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("unknown panel {0:?}; panels are {names}", names = PanelName::names())]
    UnknownPanel(String),
    /// What was sent, and the presets the route takes.
    #[error("range must be {presets}, or give from and to (RFC 3339, up to 30 days apart) (got {0:?})", presets = Range::names(.1))]
    BadRange(String, &'static [Range]),
    #[error("source must be views or raw (got {0:?})")]
    BadSource(String),
    /// `at=`, `from=`, `to=`: the rule, and what was sent.
    #[error("{0} (got {1:?})")]
    BadTime(String, String),
    #[error(transparent)]
    Panel(#[from] PanelError),
    #[error(transparent)]
    Funnel(#[from] FunnelError),
    #[error(transparent)]
    Insight(#[from] InsightError),
    /// The arranged dashboard's tiles, or their file.
    #[error(transparent)]
    Layout(#[from] ShelfError),
    #[error("missing or wrong ingest token: send `Authorization: Bearer <token>`")]
    Unauthorized,
    /// An SDK route whose own key is not the ingest token.
    #[error("missing or wrong key: set {0} to this Pulseboard's ingest token")]
    WrongKey(&'static str),
    #[error(
        "Host {0:?} is not this machine: Pulseboard on the loopback answers requests for \
         localhost, 127.0.0.1 and [::1] (add a proxy's name with --allowed-hosts)"
    )]
    WrongHost(String),
    #[error(
        "pages on origin {0:?} may not call Pulseboard: add it to --cors-origins to let a \
         browser SDK there send events"
    )]
    ForeignOrigin(String),
    #[error("the body did not arrive within 30 s; send it at once")]
    BodyTimeout,
    #[error("the request body ended early")]
    BodyIncomplete,
    #[error(
        "Content-Encoding {0:?} is not supported: send the body gzip-compressed or uncompressed"
    )]
    Encoding(String),
    #[error("{0}")]
    Undecodable(String),
    #[error("bad query: {0}")]
    BadQuery(String),
    #[error("query parameter {0}")]
    BadFilter(#[from] FilterError),
    /// A setting refused: the message names it and its rule.
    #[error("{0}")]
    BadSetting(String),
    /// A setting that could not be kept (the data directory refused the file): the cause.
    #[error("{0}")]
    Setting(String),
    #[error(transparent)]
    Alert(#[from] AlertError),
    #[error(transparent)]
    Annotation(#[from] AnnotationError),
    #[error("no route {method} {path}: the API is POST /v1/events (and Segment's /v1/batch, /v1/track…, PostHog's /batch/, /e/, /capture/…), GET /health, GET /api/panels[/NAME[.svg|.csv]], GET|PUT /api/dashboard, GET /api/dashboard.png, GET /api/funnels, GET|PUT|DELETE /api/funnels/ID, GET /api/funnels/ID.svg, GET /api/funnels/ID/trend, GET /api/insights, GET|PUT|DELETE /api/insights/ID[.svg|.csv], POST /api/insights/query, GET /api/event_names, GET /api/properties, GET /api/values, GET|PUT /api/settings/aliases, GET /api/alerts, PUT|DELETE /api/alerts/ID, GET /api/alerts/ID/preview, GET|POST /api/annotations, DELETE /api/annotations/ID, GET /api/retention[.csv], GET /api/people, GET /api/people/ACTOR/events, GET /api/funnels/ID/actors, GET /api/events/live, POST /api/sql, /clickhouse (ClickHouse's HTTP interface)")]
    NoRoute { method: String, path: String },
    #[error(transparent)]
    Chart(#[from] ChartError),
    /// A user's SQL: refused by the read-only rule or by ClickHouse (400), or the store down.
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error(transparent)]
    Retention(#[from] RetentionError),
    #[error(transparent)]
    Streams(#[from] TooManyStreams),
    #[error("query failed: {0}")]
    Store(#[from] StoreError),
}

/// 503 with `Retry-After`: the client should come back, and the header says when.
fn unavailable(error: impl FnOnce(StatusCode) -> Response) -> Response {
    let mut response = error(StatusCode::SERVICE_UNAVAILABLE);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, RETRY_AFTER_S.into());
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let error =
            |status: StatusCode| (status, Json(json!({ "error": message }))).into_response();
        match self {
            ApiError::Body(BodyError::TooMany(_)) | ApiError::TooLarge { .. } => {
                error(StatusCode::PAYLOAD_TOO_LARGE)
            }
            ApiError::Body(_)
            | ApiError::BadRange(..)
            | ApiError::BadSource(_)
            | ApiError::BadTime(..)
            | ApiError::BadQuery(_)
            | ApiError::BadFilter(_)
            | ApiError::Undecodable(_)
            | ApiError::BadSetting(_)
            | ApiError::BodyIncomplete
            | ApiError::Sql(SqlError::Refused(_) | SqlError::Engine(_))
            | ApiError::Retention(RetentionError::Invalid(_))
            | ApiError::Alert(AlertError::BadRule(_) | AlertError::LongPreview(_))
            | ApiError::Annotation(AnnotationError::Bad(..)) => error(StatusCode::BAD_REQUEST),
            ApiError::Annotation(AnnotationError::NotFound(_)) => error(StatusCode::NOT_FOUND),
            ApiError::Annotation(AnnotationError::TooMany) => error(StatusCode::CONFLICT),
            ApiError::WrongHost(_) => error(StatusCode::MISDIRECTED_REQUEST),
            ApiError::ForeignOrigin(_) => error(StatusCode::FORBIDDEN),
            ApiError::BodyTimeout => error(StatusCode::REQUEST_TIMEOUT),
            ApiError::Encoding(_) => error(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ApiError::AllRejected(rejected) => (
                StatusCode::BAD_REQUEST,
                Json(json!({ "accepted": 0, "rejected": rejected })),
            )
                .into_response(),
            ApiError::Journal(JournalError::Full { .. }) | ApiError::Streams(_) => {
                unavailable(error)
            }
            ApiError::Panel(e) if e.is_retryable() => unavailable(error),
            ApiError::Funnel(FunnelError::Shelf(e))
            | ApiError::Insight(InsightError::Shelf(e))
            | ApiError::Layout(e) => error(shelf_status(&e)),
            ApiError::Insight(e) if e.is_retryable() => unavailable(error),
            ApiError::Retention(e) if e.is_retryable() => unavailable(error),
            ApiError::Alert(AlertError::TooMany(_)) => error(StatusCode::CONFLICT),
            ApiError::Funnel(e) if e.is_retryable() => unavailable(error),
            ApiError::Store(e) | ApiError::Sql(SqlError::Store(e)) if e.is_retryable() => {
                unavailable(error)
            }
            ApiError::UnknownPanel(_)
            | ApiError::NoRoute { .. }
            | ApiError::Alert(AlertError::NotFound(_)) => error(StatusCode::NOT_FOUND),
            // The store refuses the query itself, or the data dir a file: a retry gets the same.
            ApiError::Journal(_)
            | ApiError::Panel(_)
            | ApiError::Funnel(_)
            | ApiError::Insight(_)
            | ApiError::Alert(_)
            | ApiError::Annotation(_)
            | ApiError::Setting(_)
            | ApiError::Store(_)
            | ApiError::Sql(_)
            | ApiError::Retention(_)
            | ApiError::Chart(_) => error(StatusCode::INTERNAL_SERVER_ERROR),
            ApiError::WrongKey(_) => error(StatusCode::UNAUTHORIZED),
            ApiError::Unauthorized => {
                let mut response = error(StatusCode::UNAUTHORIZED);
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, "Bearer".parse().unwrap());
                response
            }
        }
    }
}

/// A saved question's failure: its definition (400), a missing (404) or broken stored one (409),
/// or its file (500).
fn shelf_status(error: &ShelfError) -> StatusCode {
    match error {
        ShelfError::Invalid(_) => StatusCode::BAD_REQUEST,
        ShelfError::Unknown { .. } => StatusCode::NOT_FOUND,
        ShelfError::Stored { .. } => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::shelf::DefinitionError;

    fn unreachable() -> StoreError {
        StoreError::Unreachable {
            url: "http://ch:8123".into(),
            reason: "connection refused".into(),
        }
    }

    /// The status of every kind of failure, and whether it tells the client when to retry.
    #[test]
    fn each_error_has_its_status() {
        let cases: Vec<(ApiError, u16, Option<&str>)> = vec![
            (ApiError::Body(BodyError::Empty), 400, None),
            (ApiError::Body(BodyError::TooMany(501)), 413, None),
            (ApiError::TooLarge { limit: 10 }, 413, None),
            (ApiError::AllRejected(Vec::new()), 400, None),
            (ApiError::BadRange("2h".into(), &Range::ALL), 400, None),
            (ApiError::UnknownPanel("x".into()), 404, None),
            (
                ApiError::Setting("aliases.json: disk full".into()),
                500,
                None,
            ),
            (ApiError::Unauthorized, 401, None),
            (ApiError::WrongHost("evil.example".into()), 421, None),
            (
                ApiError::ForeignOrigin("https://evil.example".into()),
                403,
                None,
            ),
            (ApiError::BodyTimeout, 408, None),
            (ApiError::Encoding("br".into()), 415, None),
            (
                ApiError::BadQuery("duplicate field `range`".into()),
                400,
                None,
            ),
            (
                ApiError::Journal(JournalError::Full { held: 2, cap: 1 }),
                503,
                Some("5"),
            ),
            (ApiError::Journal(JournalError::Stopped), 500, None),
            (
                ApiError::Panel(PanelError::Store(unreachable())),
                503,
                Some("5"),
            ),
            (
                ApiError::Funnel(DefinitionError::new("window", "1m..=7d").into()),
                400,
                None,
            ),
            (
                ApiError::Funnel(FunnelError::Shelf(ShelfError::Stored {
                    kind: "funnel",
                    id: "x".into(),
                    error: "name: must not contain control characters".into(),
                })),
                409,
                None,
            ),
            (
                ApiError::Funnel(FunnelError::Shelf(ShelfError::Unknown {
                    kind: "funnel",
                    route: "/api/funnels",
                    id: "x".into(),
                })),
                404,
                None,
            ),
            (
                ApiError::Funnel(FunnelError::Store(unreachable())),
                503,
                Some("5"),
            ),
            (
                ApiError::Funnel(FunnelError::Store(StoreError::Statement("Code: 62".into()))),
                500,
                None,
            ),
            // A query the store refuses for good: retrying cannot help, so no Retry-After.
            (
                ApiError::Panel(PanelError::Store(StoreError::Statement("Code: 62".into()))),
                500,
                None,
            ),
            (
                ApiError::Alert(AlertError::BadRule(crate::delivery::alerts::RuleError {
                    field: "op".into(),
                    rule: "above or below".into(),
                })),
                400,
                None,
            ),
            (
                ApiError::Alert(AlertError::TooMany("spike".into())),
                409,
                None,
            ),
            (
                ApiError::Alert(AlertError::NotFound("spike".into())),
                404,
                None,
            ),
            (
                ApiError::Alert(AlertError::Save {
                    path: "alerts.json".into(),
                    source: std::io::ErrorKind::StorageFull.into(),
                }),
                500,
                None,
            ),
        ];
        for (error, status, retry_after) in cases {
            let name = format!("{error:?}");
            let response = error.into_response();
            assert_eq!(response.status().as_u16(), status, "{name}");
            let header = response.headers().get(header::RETRY_AFTER);
            assert_eq!(header.map(|v| v.to_str().unwrap()), retry_after, "{name}");
        }
    }
}
