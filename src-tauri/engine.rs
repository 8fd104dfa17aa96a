//! The engine: journal, store, batcher and panels wired together. `serve`, the window and the
//! benchmarks all run this same engine.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::batcher::{self, FlushError, FlushPolicy, Status};
use crate::ingest::Access;
use crate::journal::{Journal, JournalError};
use crate::panels::Panels;
use crate::store::{Embedded, Schema, Server, ServerConfig, Store, StoreError};

/// Everything the engine needs to start.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub data_dir: PathBuf,
    pub flush: FlushPolicy,
    /// The journal refuses new events (503) above this many bytes held.
    pub journal_cap_bytes: u64,
    /// The largest request body `/v1/events` reads.
    pub body_limit: usize,
    /// ClickHouse database for the embedded store.
    pub database: String,
    /// The connection profile in use (`embedded` or a server profile's name).
    pub profile: String,
    /// A team's ClickHouse server to use instead of the embedded store (from the profile).
    pub server: Option<ServerConfig>,
    /// Finds another profile's server (`None`: the embedded store), for events the journal
    /// still holds from a run with that profile.
    pub resolve_profile: ProfileResolver,
    /// Raw events older than this are dropped by ClickHouse (TTL).
    pub retention_days: u32,
}

impl EngineConfig {
    /// The defaults of `pulseboard serve`, on `data_dir`.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            flush: FlushPolicy {
                flush_size: 1000,
                flush_interval: Duration::from_secs(2),
                max_flush_events: 200_000,
            },
            journal_cap_bytes: 1 << 30,
            body_limit: 1 << 20,
            database: "pulseboard".into(),
            profile: crate::profiles::EMBEDDED.into(),
            server: None,
            resolve_profile: ProfileResolver(Arc::new(embedded_only)),
            retention_days: 90,
        }
    }
}

/// Looks up a profile's server by name (see [`EngineConfig::resolve_profile`]).
#[derive(Clone)]
pub struct ProfileResolver(pub Arc<ResolveFn>);

/// A profile name → its server (`None`: the embedded store), or why not.
pub type ResolveFn = dyn Fn(&str) -> Result<Option<ServerConfig>, String> + Send + Sync;

impl std::fmt::Debug for ProfileResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProfileResolver")
    }
}

/// The resolver that knows only the built-in embedded store.
fn embedded_only(name: &str) -> Result<Option<ServerConfig>, String> {
    if name == crate::profiles::EMBEDDED {
        return Ok(None);
    }
    Err(format!("unknown profile {name:?}"))
}

/// Errors starting the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Access(#[from] crate::ingest::AccessError),
    #[error(
        "the journal holds {events} events accepted for profile {profile:?}, which cannot take \
         them now ({reason}). They stay in the journal: start with --profile {profile} until they \
         are delivered, then switch"
    )]
    Undelivered {
        profile: String,
        events: u64,
        reason: String,
    },
    #[error(
        "cannot listen on {addr}: {source}. Is another Pulseboard running? Pick another --port"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// `server`, or else the embedded engine in the data directory.
async fn open_store(
    server: &Option<ServerConfig>,
    config: &EngineConfig,
) -> Result<Store, StoreError> {
    Ok(match server {
        // No I/O yet: a server that is down must not keep the engine from starting.
        Some(server) => Store::Server(Server::offline(server)?),
        None => Store::Embedded(Embedded::open(&config.data_dir, &config.database).await?),
    })
}

/// After a profile switch, sends what the journal still holds to the store it was accepted
/// for, before any event is accepted for the new one: nothing lands in the wrong store.
async fn deliver_leftovers(config: &EngineConfig, journal: &Journal) -> Result<(), EngineError> {
    let owner = match journal.owner()? {
        Some(owner) if owner != config.profile && journal.held_events() > 0 => owner,
        _ => return Ok(()),
    };
    let events = journal.held_events();
    let undelivered = |reason: String| EngineError::Undelivered {
        profile: owner.clone(),
        events,
        reason,
    };
    tracing::info!(profile = %owner, events, "delivering events accepted for the previous profile");
    let server = (config.resolve_profile.0)(&owner).map_err(undelivered)?;
    let store = open_store(&server, config)
        .await
        .map_err(|e| undelivered(e.to_string()))?;
    let schema = Schema::new(config.retention_days);
    let delivered = batcher::drain(journal, &store, &schema, &config.flush, &Status::default())
        .await
        .map_err(|e| e.to_string());
    store.close().await;
    delivered.map_err(undelivered)
}

/// A running engine.
pub struct Engine {
    pub config: EngineConfig,
    pub journal: Arc<Journal>,
    pub store: Arc<Store>,
    pub status: Arc<Status>,
    pub panels: Arc<Panels>,
    shutdown: watch::Sender<bool>,
    batcher: Mutex<Option<JoinHandle<()>>>,
}

impl Engine {
    /// Opens the journal and the store, migrates the schema and starts the batcher.
    pub async fn start(config: EngineConfig) -> Result<Arc<Self>, EngineError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| EngineError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let journal = Arc::new(Journal::open(&config.data_dir, config.journal_cap_bytes)?);
        deliver_leftovers(&config, &journal).await?;
        journal.set_owner(&config.profile)?;
        let store = Arc::new(open_store(&config.server, &config).await?);
        let schema = Arc::new(Schema::new(config.retention_days));
        let status = Arc::new(Status::default());
        match schema.ensure(&store).await {
            Ok(()) => {}
            // A team server that is down: start anyway, events wait in the journal.
            Err(error) if error.is_retryable() && matches!(*store, Store::Server(_)) => {
                tracing::warn!(%error, "starting with the store unreachable; events wait in the journal");
                status.failed(&FlushError::Store(error), 0);
            }
            Err(error) => return Err(error.into()),
        }
        let panels = Arc::new(Panels::new(store.clone(), status.clone()));
        let (shutdown, stop) = watch::channel(false);
        let batcher = tokio::spawn(batcher::run(
            journal.clone(),
            store.clone(),
            schema,
            status.clone(),
            config.flush.clone(),
            stop,
        ));
        Ok(Arc::new(Self {
            config,
            journal,
            store,
            status,
            panels,
            shutdown,
            batcher: Mutex::new(Some(batcher)),
        }))
    }

    /// Serves the HTTP API on `addr` until `stop` resolves. Calls `ready` with the bound address.
    pub async fn serve(
        self: &Arc<Self>,
        addr: SocketAddr,
        access: &Access,
        ready: impl FnOnce(SocketAddr),
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), EngineError> {
        access.check(addr.ip())?;
        let app = crate::ingest::router(self.clone(), access)?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| EngineError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| EngineError::Bind { addr, source })?;
        ready(bound);
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
            .map_err(|source| EngineError::Bind { addr, source })
    }

    /// `GET /health`.
    pub fn health(&self) -> serde_json::Value {
        let state = self.status.snapshot();
        let held = self.journal.held_events();
        json!({
            "status": if state.reachable { "ok" } else { "degraded" },
            "buffer_size": held,
            "last_flush": state.last_flush.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            "spilled": if state.reachable { 0 } else { held },
            "store": self.store.kind(),
            "store_reachable": state.reachable,
            "unreachable_since": state.unreachable_since.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            "last_error": state.last_error,
            "needs_action": state.needs_action,
            "journal_bytes": self.journal.held_bytes(),
            "replay": state.backlog.map(|(sent, total)| json!({ "sent": sent, "total": total })),
            "flushes": self.status.flush_count(),
            "panel_queries": self.panels.queries_run(),
        })
    }

    /// Stops the batcher (after a last flush) and closes the store.
    pub async fn shutdown(&self) {
        let _ = self.shutdown.send(true);
        let batcher = self
            .batcher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(batcher) = batcher {
            let _ = batcher.await;
        }
        self.store.close().await;
    }
}
