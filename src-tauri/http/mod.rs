//! The HTTP API: the router, its handlers, and the one error enum that decides every status
//! code (`error.rs`). Everything below this module (engine, journal, store, panels) is plain
//! Rust and knows nothing of HTTP.

mod access;
mod error;
mod events;
mod panels;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Json, Router};

use crate::engine::{Engine, Health};

pub use access::{Access, AccessError};
pub use error::{ApiError, RETRY_AFTER_S};

/// Errors serving the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(
        "cannot listen on {addr}: {source}. Is another Pulseboard running? Pick another --port"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The router for an engine: `/v1/events`, `/api/…` (behind the token when one is set),
/// `/health` (open, for load balancers), all behind the CORS allow-list.
pub fn router(engine: Arc<Engine>, access: &Access) -> Result<Router, AccessError> {
    let guarded = Router::new()
        .route("/v1/events", post(events::post_events))
        .route("/api/panels", get(panels::all_panels))
        .route("/api/panels/{name}", get(panels::one_panel))
        .route("/api/dashboard.png", get(panels::dashboard_png));
    #[cfg(feature = "fault-injection")]
    let guarded = guarded.route("/debug/store", post(set_store_fault));
    let guarded = guarded.layer(axum::middleware::from_fn_with_state(
        access.token.clone(),
        access::require_token,
    ));
    let router = guarded.route("/health", get(health)).with_state(engine);
    Ok(match access.cors()? {
        Some(cors) => router.layer(cors),
        None => router,
    })
}

/// Serves `engine`'s API on `addr` until `stop` resolves. Calls `ready` with the bound address.
pub async fn serve(
    engine: Arc<Engine>,
    addr: SocketAddr,
    access: Access,
    ready: impl FnOnce(SocketAddr),
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    access.check(addr.ip())?;
    let app = router(engine, &access)?;
    let bind_error = |source| ServeError::Bind { addr, source };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(bind_error)?;
    ready(listener.local_addr().map_err(bind_error)?);
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
        .map_err(bind_error)
}

/// A first event to send to the instance at `url`, as a shell command people can paste.
pub fn curl_example(url: &str) -> String {
    format!(
        "curl -X POST {url}/v1/events -H 'Content-Type: application/json' \\\n  -d '[{{\"event_name\":\"page_view\",\"session_id\":\"s1\"}}]'"
    )
}

async fn health(axum::extract::State(engine): axum::extract::State<Arc<Engine>>) -> Json<Health> {
    Json(engine.health())
}

#[cfg(feature = "fault-injection")]
#[derive(serde::Deserialize)]
struct SetFault {
    mode: crate::store::faults::Fault,
}

#[cfg(feature = "fault-injection")]
async fn set_store_fault(Json(fault): Json<SetFault>) -> axum::http::StatusCode {
    crate::store::faults::set(fault.mode);
    axum::http::StatusCode::NO_CONTENT
}
