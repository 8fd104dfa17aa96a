//! Reading request bodies: within a limit and a time, undoing nothing we cannot decode, and —
//! when the answer is decided before the body is read — reading the rest anyway, so that
//! ordinary clients (Python `requests`, Node `fetch`) hear the answer instead of a broken pipe.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use http_body_util::BodyExt;

use super::ApiError;

/// The most a refused request may still send before the connection is closed on it.
pub const DISCARD_LIMIT: usize = 16 << 20;
/// The whole body must arrive within this long (a 1-byte-per-second client is cut off).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads a body of at most `limit` bytes. Over the limit: 413, after discarding the rest.
pub async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    check_encoding(headers)?;
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
        Ok(Ok(())) => Ok(refuse_gzip(Bytes::from(bytes))?),
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

/// We decode no content encoding yet: a compressed body would read as garbage.
fn check_encoding(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(header::CONTENT_ENCODING) {
        None => Ok(()),
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"identity") => Ok(()),
        Some(v) => Err(ApiError::Encoding(
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        )),
    }
}

/// A gzip body sent without `Content-Encoding` (its magic bytes give it away).
fn refuse_gzip(bytes: Bytes) -> Result<Bytes, ApiError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(ApiError::Encoding("gzip".into()));
    }
    Ok(bytes)
}
