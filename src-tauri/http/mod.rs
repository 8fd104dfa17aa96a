//! The HTTP API: the router, its handlers, the server loop, and the one error enum that decides
//! every status code (`error.rs`). Everything below this module (engine, journal, store,
//! panels) is plain Rust and knows nothing of HTTP.

mod access;
mod alerts;
mod annotations;
mod body;
mod clickhouse;
mod dashboard;
mod error;
mod events;
mod funnels;
mod ingest;
mod insights;
mod live;
mod panels;
mod people;
mod properties;
mod retention;
mod saved;
mod sdk;
mod server;
mod settings;
mod sql;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::engine::Engine;

pub use access::{Access, AccessError, Authorized};
pub use error::{ApiError, RETRY_AFTER_S};
pub use server::{Limits, ServeError};

/// The router for an engine bound to `bind`: `/v1/events`, `/api/…`, `/health`, every route
/// behind the access rules (Host, Origin, token) and the CORS allow-list.
pub fn router(engine: Arc<Engine>, access: &Access, bind: IpAddr) -> Result<Router, AccessError> {
    let routes = Router::new()
        .route("/v1/events", post(events::post_events))
        .route("/api/panels", get(panels::all_panels))
        .route("/api/panels/{name}", get(panels::one_panel))
        .route("/api/dashboard", get(dashboard::get).put(dashboard::put))
        .route("/api/dashboard.png", get(panels::dashboard_png))
        .route("/api/funnels", get(funnels::list))
        .route(
            "/api/funnels/{id}",
            get(funnels::get).put(funnels::put).delete(funnels::delete),
        )
        .route("/api/funnels/{id}/trend", get(funnels::trend))
        .route("/api/funnels/{id}/actors", get(funnels::actors))
        .route("/api/events/live", get(live::stream))
        .route("/api/people", get(people::list))
        .route("/api/people/{actor}/events", get(people::events))
        .route("/api/event_names", get(funnels::event_names))
        .route("/api/insights", get(insights::list))
        .route("/api/insights/query", post(insights::query))
        .route(
            "/api/insights/{id}",
            get(insights::get)
                .put(insights::put)
                .delete(insights::delete),
        )
        .route("/api/retention", get(retention::get))
        .route("/api/retention.csv", get(retention::csv))
        .route("/api/sql", post(sql::run))
        .route(
            "/clickhouse",
            get(clickhouse::query).post(clickhouse::query),
        )
        .route(
            "/clickhouse/",
            get(clickhouse::query).post(clickhouse::query),
        )
        .route("/clickhouse/ping", get(clickhouse::ping))
        .route("/api/properties", get(properties::keys))
        .route("/api/values", get(properties::values))
        .route("/health", get(health))
        .route("/api/alerts", get(alerts::list))
        .route(
            "/api/alerts/{id}",
            axum::routing::put(alerts::put).delete(alerts::delete),
        )
        .route("/api/alerts/{id}/preview", get(alerts::preview))
        .route(
            "/api/annotations",
            get(annotations::list).post(annotations::add),
        )
        .route(
            "/api/annotations/{id}",
            axum::routing::delete(annotations::delete),
        )
        .route(
            "/api/settings/aliases",
            get(settings::get_aliases).put(settings::put_aliases),
        );
    let routes = sdk::routes()
        .into_iter()
        .fold(routes, |routes, (path, handler)| {
            routes.route(&path, handler)
        });
    #[cfg(feature = "fault-injection")]
    let routes = routes.route("/debug/store", post(set_store_fault));
    let router = routes
        .fallback(no_route)
        .method_not_allowed_fallback(no_route)
        .layer(axum::middleware::from_fn_with_state(
            access.guard(bind),
            access::guard,
        ))
        .with_state(engine);
    Ok(match access.cors()? {
        // Outermost: a listed origin's preflight is answered before the guard sees it.
        Some(cors) => router.layer(cors),
        None => router,
    })
}

/// Serves `engine`'s API on `addr` until `stop` resolves. Calls `ready` with the bound address.
pub async fn serve(
    engine: Arc<Engine>,
    addr: SocketAddr,
    access: Access,
    limits: Limits,
    ready: impl FnOnce(SocketAddr),
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    access.check(addr.ip())?;
    let app = router(engine, &access, addr.ip())?;
    server::run(app, addr, limits, ready, stop).await
}

/// ClickHouse's HTTP interface, whose clients send the ingest token as their password.
fn is_clickhouse_route(path: &str) -> bool {
    path == "/clickhouse" || path.starts_with("/clickhouse/")
}

/// A first event to send to the instance at `url`, as a shell command people can paste.
pub fn curl_example(url: &str) -> String {
    format!(
        "curl -X POST {url}/v1/events -H 'Content-Type: application/json' \\\n  -d '[{{\"event_name\":\"page_view\",\"session_id\":\"s1\"}}]'"
    )
}

/// `GET /health`: everything for those who may see it; only the status for others when an
/// ingest token is set (`last_error` can name the ClickHouse server).
async fn health(
    State(engine): State<Arc<Engine>>,
    Extension(authorized): Extension<Authorized>,
) -> Response {
    let health = engine.health();
    if authorized.shown {
        Json(health).into_response()
    } else {
        Json(json!({ "status": health.status })).into_response()
    }
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NoRoute {
        method: method.to_string(),
        path: uri.path().to_string(),
    }
}

#[cfg(feature = "fault-injection")]
#[derive(serde::Deserialize)]
struct SetFault {
    mode: crate::storage::store::faults::Fault,
}

#[cfg(feature = "fault-injection")]
async fn set_store_fault(Json(fault): Json<SetFault>) -> axum::http::StatusCode {
    crate::storage::store::faults::set(fault.mode);
    axum::http::StatusCode::NO_CONTENT
}
