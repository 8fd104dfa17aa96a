//! `/clickhouse`: ClickHouse's own HTTP interface, so that its clients and BI tools
//! (clickhouse-connect, @clickhouse/client, Grafana) connect to Pulseboard as to a server
//! with `/clickhouse` as their path. Read-only, under the same rule and limits as `/api/sql`
//! (`questions::sql`); failures answer as ClickHouse does (`Code: N. DB::Exception: …` and
//! `X-ClickHouse-Exception-Code`), which the clients turn into their own error types.

use std::sync::Arc;

use axum::extract::{Extension, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::body::Document;
use super::Authorized;
use crate::engine::Engine;
use crate::questions::sql::{is_client_setting, SqlError};
use crate::storage::store::{exception_code, refusal, Params, Refusal};

/// URL parameters of the interface that are not settings, and settings that only steer
/// ClickHouse's HTTP transport (sessions, progress headers, compression): Pulseboard answers
/// each request on its own, uncompressed, at once.
const TRANSPORT: &[&str] = &[
    "query",
    "database",
    "default_format",
    "query_id",
    "user",
    "password",
    "session_id",
    "session_timeout",
    "session_check",
    "compress",
    "decompress",
    "buffer_size",
    "wait_end_of_query",
    "quota_key",
    "client_protocol_version",
    "send_progress_in_http_headers",
    "http_headers_progress_interval_ms",
    "enable_http_compression",
    "cancel_http_readonly_queries_on_client_close",
    "add_http_cors_header",
];

/// A failure as ClickHouse writes it.
struct Failure {
    status: StatusCode,
    code: u32,
    text: String,
}

impl Failure {
    fn new(status: StatusCode, code: u32, name: &str, message: &str) -> Self {
        Self {
            status,
            code,
            text: format!("Code: {code}. DB::Exception: {message}. ({name})"),
        }
    }

    fn read_only(message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, 164, "READONLY", message)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = (self.status, format!("{}\n", self.text)).into_response();
        let headers = response.headers_mut();
        headers.insert("X-ClickHouse-Exception-Code", self.code.into());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=UTF-8"),
        );
        response
    }
}

impl From<SqlError> for Failure {
    fn from(error: SqlError) -> Self {
        match error {
            SqlError::Refused(refusal) => Failure::read_only(&refusal.0),
            SqlError::Engine(text) => {
                let code = exception_code(&text);
                let status = match (code, refusal(&text)) {
                    (Some(164), _) => StatusCode::FORBIDDEN,
                    (Some(60 | 81), _) => StatusCode::NOT_FOUND,
                    (_, Some(Refusal::Statement)) => StatusCode::BAD_REQUEST,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                Failure {
                    status,
                    code: code.unwrap_or(1002),
                    text,
                }
            }
            SqlError::Store(error) => Failure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                210,
                "NETWORK_ERROR",
                &error.to_string(),
            ),
        }
    }
}

/// `GET /clickhouse/ping`: what a ClickHouse server answers.
pub(super) async fn ping() -> &'static str {
    "Ok.\n"
}

/// One request of the interface, taken apart.
struct Request {
    text: String,
    format: String,
    query_id: String,
    params: Params,
    settings: Vec<(String, String)>,
}

impl Request {
    fn parse(url: &str, body: &[u8], database: &str) -> Result<Self, Failure> {
        let mut request = Request {
            text: String::new(),
            format: "TabSeparated".into(),
            query_id: uuid::Uuid::new_v4().to_string(),
            params: Vec::new(),
            settings: Vec::new(),
        };
        for (name, value) in url::form_urlencoded::parse(url.as_bytes()) {
            let (name, value) = (name.into_owned(), value.into_owned());
            match name.as_str() {
                "query" => request.text = value,
                "default_format" => request.format = value,
                "query_id" if !value.is_empty() => request.query_id = value,
                "database" if !["", "default", database].contains(&value.as_str()) => {
                    return Err(Failure::new(
                        StatusCode::NOT_FOUND,
                        81,
                        "UNKNOWN_DATABASE",
                        &format!("Database {value} does not exist: Pulseboard's is {database}"),
                    ))
                }
                _ if name.starts_with("param_") => request
                    .params
                    .push((name["param_".len()..].to_string(), value)),
                _ if TRANSPORT.contains(&name.as_str()) || name.starts_with("http_") => {}
                _ if is_client_setting(&name) => request.settings.push((name, value)),
                _ => {
                    return Err(Failure::read_only(&format!(
                        "Cannot modify '{name}' setting in readonly mode: Pulseboard passes \
                         only settings that shape the answer's format (output_format_*, \
                         date_time_*, session_timezone, join_use_nulls, …); its limits are set \
                         with --sql-timeout and --sql-max-rows"
                    )))
                }
            }
        }
        let body = std::str::from_utf8(body).map_err(|_| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                27,
                "CANNOT_PARSE_INPUT",
                "the body is not UTF-8 text",
            )
        })?;
        // As ClickHouse does: the URL's query, then the body (an INSERT's data, refused later).
        if !body.trim().is_empty() {
            request.text = match request.text.is_empty() {
                true => body.to_string(),
                false => format!("{}\n{body}", request.text),
            };
        }
        Ok(request)
    }
}

/// The password a ClickHouse client sends: `X-ClickHouse-Key`, HTTP Basic, or `password=`.
fn password(headers: &HeaderMap, url: &str) -> Option<String> {
    if let Some(key) = headers
        .get("X-ClickHouse-Key")
        .and_then(|v| v.to_str().ok())
    {
        return Some(key.to_string());
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|b| b.split_once(':').map(|(_, p)| p.to_string()));
    basic.or_else(|| {
        url::form_urlencoded::parse(url.as_bytes())
            .find(|(name, _)| name == "password")
            .map(|(_, value)| value.into_owned())
    })
}

/// `GET|POST /clickhouse`: the statement from `query=` and/or the body, answered in
/// `default_format` (or its own `FORMAT`).
pub(super) async fn query(
    State(engine): State<Arc<Engine>>,
    Extension(authorized): Extension<Authorized>,
    headers: HeaderMap,
    RawQuery(url): RawQuery,
    body: Result<Document, super::ApiError>,
) -> Response {
    let url = url.unwrap_or_default();
    if !authorized.accepts(password(&headers, &url).as_deref()) {
        let message =
            "pulseboard: Authentication failed: the password is Pulseboard's ingest token";
        return Failure::new(
            StatusCode::UNAUTHORIZED,
            516,
            "AUTHENTICATION_FAILED",
            message,
        )
        .into_response();
    }
    let body = match body {
        Ok(Document(body)) => body,
        // An INSERT's data compressed as ClickHouse's clients do (lz4, zstd): the statement in
        // the URL is refused for what it is, before its data would matter.
        Err(error) => return unreadable_body(&engine, &url, error).await.into_response(),
    };
    match answer(&engine, &url, &body).await {
        Ok((request, format, output)) => {
            let mut response = output.into_response();
            let headers = response.headers_mut();
            let value = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
            headers.insert(header::CONTENT_TYPE, value(content_type(&format)));
            headers.insert("X-ClickHouse-Format", value(&format));
            headers.insert("X-ClickHouse-Query-Id", value(&request.query_id));
            headers.insert("X-ClickHouse-Timezone", HeaderValue::from_static("UTC"));
            headers.insert(
                "X-ClickHouse-Server-Display-Name",
                HeaderValue::from_static("pulseboard"),
            );
            response
        }
        Err(failure) => failure.into_response(),
    }
}

async fn unreadable_body(engine: &Engine, url: &str, error: super::ApiError) -> Failure {
    if let Ok(request) = Request::parse(url, b"", engine.sql.database()) {
        if let Err(refused) = engine.sql.check(&request.text, &request.params).await {
            return refused.into();
        }
    }
    Failure::new(
        StatusCode::BAD_REQUEST,
        1002,
        "UNKNOWN_EXCEPTION",
        &error.to_string(),
    )
}

async fn answer(
    engine: &Engine,
    url: &str,
    body: &[u8],
) -> Result<(Request, String, Vec<u8>), Failure> {
    let request = Request::parse(url, body, engine.sql.database())?;
    let checked = engine.sql.check(&request.text, &request.params).await?;
    let format = checked.format.clone().unwrap_or(request.format.clone());
    let output = engine
        .sql
        .output(&checked, &format, &request.params, &request.settings)
        .await?;
    Ok((request, format, output))
}

/// The Content-Type ClickHouse gives a format's output.
fn content_type(format: &str) -> &'static str {
    match format {
        f if f.starts_with("JSON") && !f.contains("EachRow") => "application/json; charset=UTF-8",
        f if f.starts_with("JSON") => "application/x-ndjson; charset=UTF-8",
        f if f.starts_with("TabSeparated") || f.starts_with("TSV") => {
            "text/tab-separated-values; charset=UTF-8"
        }
        f if f.starts_with("CSV") => "text/csv; charset=UTF-8",
        "Native"
        | "RowBinary"
        | "RowBinaryWithNamesAndTypes"
        | "Parquet"
        | "Arrow"
        | "ArrowStream"
        | "ORC"
        | "Avro" => "application/octet-stream",
        _ => "text/plain; charset=UTF-8",
    }
}
