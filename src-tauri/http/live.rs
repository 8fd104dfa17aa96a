//! `GET /api/events/live[?filters][&event=NAME]`: what each ingest request brings, as
//! server-sent events (`accepted`, `rejected`, `skipped`), with keep-alive comments.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

use super::panels::Pairs;
use super::ApiError;
use crate::delivery::live::Interest;
use crate::engine::Engine;
use crate::ingest::event::{is_event_name, EVENT_NAME_RULE};
use crate::questions::filters::{unknown_param, FilterError, Filters};

/// A comment this often keeps proxies and clients from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(5);

pub(super) async fn stream(
    State(engine): State<Arc<Engine>>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let Query(pairs) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let interest = interest(&pairs)?;
    let stream = engine.live.subscribe(interest)?;
    let events = futures_util::stream::unfold(stream, |mut stream| async move {
        let item = stream.next().await?;
        let event = Event::default()
            .event(item.kind())
            .data(item.data().to_string());
        Some((Ok::<_, Infallible>(event), stream))
    });
    let keep_alive = KeepAlive::new().interval(KEEP_ALIVE);
    Ok(Sse::new(events).keep_alive(keep_alive).into_response())
}

/// The filters and `event=`; any other parameter is a 400 naming it.
fn interest(pairs: &[(String, String)]) -> Result<Interest, FilterError> {
    let mut event = None;
    let mut filters = Vec::new();
    for (name, value) in pairs {
        match name.as_str() {
            "event" if event.is_some() => {
                return Err(FilterError::new("event", "given twice: one event name"))
            }
            "event" if !is_event_name(value) => {
                return Err(FilterError::new("event", EVENT_NAME_RULE))
            }
            "event" => event = Some(value.clone()),
            _ if Filters::is_filter_param(name) => filters.push((name.as_str(), value.as_str())),
            _ => return Err(unknown_param(name)),
        }
    }
    Ok(Interest {
        filters: Filters::parse(filters)?,
        event,
    })
}
