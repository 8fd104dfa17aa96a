//! Reading request bodies: within a limit and a time; every wire variant the SDKs send (gzip by
//! header, by `?compression=gzip-js` or by its magic bytes; PostHog's `data=<base64>` forms)
//! undone here, in one step, before anything looks at events; and — when the answer is decided
//! before the body is read — the rest read anyway, so that ordinary clients (Python `requests`,
//! Node `fetch`) hear the answer instead of a broken pipe.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};
use http_body_util::BodyExt;

use super::ApiError;
use crate::engine::Engine;

/// The most a refused request may still send before the connection is closed on it.
pub const DISCARD_LIMIT: usize = 16 << 20;
/// The whole body must arrive within this long (a 1-byte-per-second client is cut off).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads a body of at most `limit` bytes (before and after decompression) and undoes its
/// encoding. Over the limit: 413, after discarding the rest.
pub async fn read(
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let gzipped = content_gzipped(headers)?;
    let raw = read_raw(headers, body, limit).await?;
    decode(headers, query, raw, gzipped, limit)
}

/// A definition a route is sent (a funnel, an alert rule, the aliases): read whole within
/// `--body-limit` and [`BODY_TIMEOUT`], gzip undone when the header says so. Every refusal is
/// an [`ApiError`], so it answers JSON like every other (413, 408, 415).
pub struct Document(pub Bytes);

impl FromRequest<Arc<Engine>> for Document {
    type Rejection = ApiError;

    async fn from_request(request: Request, engine: &Arc<Engine>) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let limit = engine.config.body_limit;
        let gzipped = content_gzipped(&parts.headers)?;
        let raw = read_raw(&parts.headers, body, limit).await?;
        match gzipped {
            true => gunzip(&raw, limit).map(Document),
            false => Ok(Document(raw)),
        }
    }
}

async fn read_raw(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if let Some(declared) = declared.filter(|n| *n > limit) {
        // Past the discard bound the client hears the answer while still sending, as before.
        if declared <= DISCARD_LIMIT {
            discard(body).await;
        }
        return Err(ApiError::TooLarge { limit });
    }
    let mut body = body;
    let mut bytes = Vec::new();
    let read_all = async {
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map_err(|_| None)?.into_data() else {
                continue;
            };
            if bytes.len() + data.len() > limit {
                return Err(Some(ApiError::TooLarge { limit }));
            }
            bytes.extend_from_slice(&data);
        }
        Ok::<_, Option<ApiError>>(())
    };
    match tokio::time::timeout(BODY_TIMEOUT, read_all).await {
        Ok(Ok(())) => Ok(Bytes::from(bytes)),
        Ok(Err(Some(too_large))) => {
            discard(body).await;
            Err(too_large)
        }
        // The client went away mid-body: nobody reads the answer.
        Ok(Err(None)) => Err(ApiError::BodyIncomplete),
        Err(_) => Err(ApiError::BodyTimeout),
    }
}

/// Reads and drops what is left of `body`, up to [`DISCARD_LIMIT`] and [`BODY_TIMEOUT`].
pub async fn discard(mut body: Body) {
    let drain = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len());
            if seen > DISCARD_LIMIT {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(BODY_TIMEOUT, drain).await;
}

/// Whether `Content-Encoding` says gzip; any other encoding is refused (it would read as
/// garbage).
fn content_gzipped(headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers.get(header::CONTENT_ENCODING) {
        None => Ok(false),
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"identity") => Ok(false),
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"gzip") => Ok(true),
        Some(v) => Err(ApiError::Encoding(
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        )),
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Undoes gzip (by header, query flag or magic bytes) and `data=<base64>` forms.
fn decode(
    headers: &HeaderMap,
    query: Option<&str>,
    raw: Bytes,
    gzipped: bool,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let flagged = query.is_some_and(|q| q.split('&').any(|p| p == "compression=gzip-js"));
    let mut bytes = raw;
    if is_form(headers) {
        // `curl -d` labels any body a form: only a `data` field makes it PostHog's.
        if let Some(data) = form_data(&bytes)? {
            bytes = data;
        }
    }
    if gzipped || flagged || bytes.starts_with(&GZIP_MAGIC) {
        bytes = gunzip(&bytes, limit)?;
    }
    Ok(bytes)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

/// The base64 `data` field of a form body (what PostHog's browser library may send), if any.
fn form_data(form: &[u8]) -> Result<Option<Bytes>, ApiError> {
    use base64::Engine;
    let Some(data) = url::form_urlencoded::parse(form)
        .find(|(k, _)| k == "data")
        .map(|(_, v)| v.into_owned())
    else {
        return Ok(None);
    };
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ];
    let trimmed = data.trim().trim_end_matches('=');
    engines
        .iter()
        .find_map(|e| {
            e.decode(trimmed)
                .ok()
                .or_else(|| e.decode(data.trim()).ok())
        })
        .map(|bytes| Some(Bytes::from(bytes)))
        .ok_or_else(|| ApiError::Undecodable("the form's `data` field is not base64".into()))
}

/// Decompresses at most `limit` bytes: a small body must not expand without bound.
fn gunzip(bytes: &[u8], limit: usize) -> Result<Bytes, ApiError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::Undecodable(format!("the gzip body does not decompress: {e}")))?;
    if out.len() > limit {
        return Err(ApiError::TooLarge { limit });
    }
    Ok(Bytes::from(out))
}
