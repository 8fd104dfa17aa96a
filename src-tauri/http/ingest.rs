//! What every ingest route shares, whatever its wire format: the journal's room checked before
//! the body is read, the body read and decoded, aliases applied, the accepted events made
//! durable.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Uri};

use super::{body, ApiError};
use crate::delivery::live::{Landed, Source};
use crate::engine::Engine;
use crate::ingest::event::{Parsed, Rejection, TimeBounds};
use crate::ingest::DEMO_HEADER;

/// The request's body, once the journal has room for it (a full journal answers 503 after
/// reading and discarding the body, so the client hears it).
pub(super) async fn read_body(
    engine: &Engine,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, ApiError> {
    if let Err(full) = engine.journal.check_capacity() {
        body::discard(body).await;
        return Err(full.into());
    }
    body::read(headers, uri.query(), body, engine.config.body_limit).await
}

/// Where event times may lie now (and panels may be asked about).
pub(super) fn time_bounds(engine: &Engine) -> TimeBounds {
    TimeBounds::new(engine.config.clock.now_ms(), engine.config.retention_days)
}

/// What an ingest request achieved.
pub(super) struct Outcome {
    /// Events acknowledged (a client's re-send of an event already taken counts here too).
    pub accepted: usize,
    pub rejected: Vec<Rejection>,
}

/// Makes the accepted events durable, their names mapped by the aliases, then shows them and
/// the refused items to the live streams; the first request without the demo's header tells
/// the alerts the product is sending.
pub(super) async fn store(
    engine: &Engine,
    headers: &HeaderMap,
    parsed: Parsed,
    source: Source,
) -> Result<Outcome, ApiError> {
    let Parsed {
        mut accepted,
        rejected,
    } = parsed;
    if !accepted.is_empty() {
        engine.aliases.apply(&mut accepted);
        engine.journal.append(&accepted).await?;
        if !headers.contains_key(DEMO_HEADER) {
            engine.alerts.product_event();
        }
    }
    let outcome = Outcome {
        accepted: accepted.len(),
        rejected: rejected.clone(),
    };
    if engine.live.streams() > 0 {
        engine.live.publish(Landed {
            source,
            received_ms: engine.config.clock.now_ms(),
            accepted,
            rejected,
        });
    }
    Ok(outcome)
}
