//! The SDK routes: Segment's HTTP Tracking API and PostHog's capture API, answered the way
//! their clients expect. The mapping itself is in `crate::ingest::formats`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use axum::Json;
use serde_json::{json, Value};

use super::{ingest, ApiError, Authorized};
use crate::delivery::live::Source;
use crate::engine::Engine;
use crate::ingest::event::{self, BodyError};
use crate::ingest::formats::{posthog, segment, Item};

/// Segment's routes and the message type each implies (`None`: a batch of typed messages).
/// The one-letter ones are what analytics.js (the browser library) posts to.
const SEGMENT: [(&str, Option<&str>); 13] = [
    ("/v1/batch", None),
    ("/v1/track", Some("track")),
    ("/v1/page", Some("page")),
    ("/v1/screen", Some("screen")),
    ("/v1/identify", Some("identify")),
    ("/v1/group", Some("group")),
    ("/v1/alias", Some("alias")),
    ("/v1/t", Some("track")),
    ("/v1/p", Some("page")),
    ("/v1/s", Some("screen")),
    ("/v1/i", Some("identify")),
    ("/v1/g", Some("group")),
    ("/v1/a", Some("alias")),
];

/// PostHog's capture routes, each with and without the final slash.
const POSTHOG: [&str; 5] = ["/batch", "/e", "/capture", "/i/v0/e", "/track"];

/// Every SDK route: `(path, handler)`.
pub(super) fn routes() -> Vec<(String, MethodRouter<Arc<Engine>>)> {
    let segment = SEGMENT.iter().map(|&(path, kind)| {
        let handler = post(move |state, ext, uri, headers, body| {
            segment_route(state, ext, uri, headers, body, kind)
        });
        (path.to_string(), handler)
    });
    let posthog = POSTHOG
        .iter()
        .flat_map(|path| [path.to_string(), format!("{path}/")].map(|p| (p, post(posthog_route))));
    segment.chain(posthog).collect()
}

/// Whether `path` is an SDK route: those carry their key their own way (checked here, not by
/// the bearer-token guard).
pub(super) fn is_sdk_route(path: &str) -> bool {
    let path = path.strip_suffix('/').unwrap_or(path);
    SEGMENT.iter().any(|(p, _)| *p == path) || POSTHOG.contains(&path)
}

async fn segment_route(
    State(engine): State<Arc<Engine>>,
    Extension(authorized): Extension<Authorized>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    kind: Option<&'static str>,
) -> Result<Response, ApiError> {
    let basic = basic_user(&headers);
    let request = Request {
        engine: &engine,
        uri: &uri,
        headers: &headers,
        authorized: &authorized,
        key_name: "Segment's write key (HTTP Basic user or `writeKey`)",
        source: Source::Segment,
    };
    let outcome = request
        .ingest(body, |value, now_ms| {
            let r = segment::request(value, kind, now_ms).map_err(|e| e.to_string())?;
            Ok((r.items, r.messages, basic.or(r.write_key)))
        })
        .await?;
    Ok(answer(outcome, |ok| json!({ "success": ok })))
}

async fn posthog_route(
    State(engine): State<Arc<Engine>>,
    Extension(authorized): Extension<Authorized>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let request = Request {
        engine: &engine,
        uri: &uri,
        headers: &headers,
        authorized: &authorized,
        key_name: "PostHog's project key (`api_key` or `token`)",
        source: Source::Posthog,
    };
    let outcome = request
        .ingest(body, |value, now_ms| {
            let r = posthog::request(value, now_ms).map_err(|e| e.to_string())?;
            Ok((r.items, r.events, r.api_key))
        })
        .await?;
    Ok(answer(
        outcome,
        |ok| json!({ "status": if ok { "Ok" } else { "Error" } }),
    ))
}

/// What every SDK request goes through: body, mapping, key, count, then the shared store.
struct Request<'a> {
    engine: &'a Engine,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    authorized: &'a Authorized,
    /// Where this format carries its key, for the 401's message.
    key_name: &'static str,
    source: Source,
}

impl Request<'_> {
    /// `map` turns the JSON body into events (or why not), the messages as sent, and the key
    /// it carries.
    async fn ingest(
        &self,
        body: Body,
        map: impl FnOnce(Value, i64) -> Result<(Vec<Item>, Vec<Value>, Option<String>), String>,
    ) -> Result<ingest::Outcome, ApiError> {
        let bytes = ingest::read_body(self.engine, self.uri, self.headers, body).await?;
        let time = ingest::time_bounds(self.engine);
        let (items, sent, key) = map(json_body(&bytes)?, time.now_ms)
            .map_err(|e| ApiError::Body(BodyError::Shape(e)))?;
        if !self.authorized.accepts(key.as_deref()) {
            return Err(ApiError::WrongKey(self.key_name));
        }
        event::check_count(items.len())?;
        let parsed =
            event::validate_all(items.into_iter(), time, |index, _| sent[index].to_string());
        ingest::store(self.engine, self.headers, parsed, self.source).await
    }
}

fn json_body(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::Body(BodyError::Malformed(e.to_string())))
}

/// 200 with the format's success body (and the rejected messages, if any); 400 when every
/// message was rejected. PostHog's Python client takes nothing but 200 as success.
fn answer(outcome: ingest::Outcome, body: impl Fn(bool) -> Value) -> Response {
    let ok = outcome.accepted > 0;
    let mut json = body(ok);
    if !outcome.rejected.is_empty() {
        json["rejected"] = json!(outcome.rejected);
    }
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, Json(json)).into_response()
}

/// The user of `Authorization: Basic base64(user:password)`: Segment's write key.
fn basic_user(headers: &HeaderMap) -> Option<String> {
    use base64::Engine;
    let encoded = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let user = text.split(':').next().unwrap_or_default();
    (!user.is_empty()).then(|| user.to_string())
}
