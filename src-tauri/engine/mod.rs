//! The engine: journal, store, batcher and panels wired together. `serve`, the window and the
//! benchmarks all run this same engine.

mod config;
mod health;
pub mod instance;

use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::delivery::alerts::{AlertError, Alerts, Questions, Saved};
use crate::delivery::annotations::{AnnotationError, Annotations};
use crate::delivery::live::Live;
use crate::questions::funnels::{self, Funnels};
use crate::questions::insights::{self, Insights};
use crate::questions::layout::{Layout, Tile, TileKind, Tiles};
use crate::questions::panels::Panels;
use crate::questions::people::People;
use crate::questions::properties::Properties;
use crate::questions::retention::Retention;
use crate::questions::shelf::ShelfError;
use crate::questions::sql::Sql;
use crate::storage::batcher::{self, FlushError, Status};
use crate::storage::journal::{self, Journal, JournalError};
use crate::storage::store::{Embedded, Schema, Server, ServerConfig, Store, StoreError};

pub use config::{ConfigError, EngineConfig, ProfileResolver, ResolveFn};
pub use health::{Condition, Health, Replay, Signs, LAG_LIMIT};

/// Errors starting the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    DataDir(#[from] crate::support::datadir::DataDirError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Aliases(#[from] crate::ingest::aliases::AliasError),
    #[error(transparent)]
    Alerts(#[from] AlertError),
    #[error(transparent)]
    Definitions(#[from] ShelfError),
    #[error(transparent)]
    Annotations(#[from] AnnotationError),
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
    let server = (config.resolve_profile.0)(&owner).map_err(|e| undelivered(e.to_string()))?;
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
    /// Event names mapped onto the panels' names at ingest.
    pub aliases: crate::ingest::aliases::Aliases,
    pub journal: Arc<Journal>,
    pub store: Arc<Store>,
    pub status: Arc<Status>,
    pub panels: Arc<Panels>,
    /// Alert rules, judged after every flush.
    pub alerts: Arc<Alerts>,
    pub funnels: Arc<Funnels>,
    /// Trends of any event, defined by the team.
    pub insights: Arc<Insights>,
    /// The dashboard the team arranged: its tiles in order (read them with [`Engine::tiles`]).
    layout: Layout,
    /// Notes at instants, marked on every time chart.
    pub annotations: Arc<Annotations>,
    /// The keys and values the events carry (the filter bar's suggestions).
    pub properties: Arc<Properties>,
    /// A user's own read-only SQL (`/api/sql`, `/clickhouse`, the SQL view).
    pub sql: Arc<Sql>,
    /// Cohorts: who came back after their first event of a kind.
    pub retention: Arc<Retention>,
    /// The actors behind the numbers, and what each did.
    pub people: Arc<People>,
    /// What each ingest request brought, for whoever watches (`/api/events/live`, Live view).
    pub live: Arc<Live>,
    /// When it started: the flush lag counts from here until the first flush.
    started: chrono::DateTime<chrono::Utc>,
    shutdown: watch::Sender<bool>,
    /// The batcher and the alerts' evaluation, awaited at shutdown.
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Engine {
    /// Opens the journal and the store, migrates the schema and starts the batcher.
    pub async fn start(config: EngineConfig) -> Result<Arc<Self>, EngineError> {
        config.validate()?;
        crate::support::datadir::create_private(&config.data_dir)?;
        crate::support::files::remove_stale_temps(&config.data_dir);
        let journal = Journal::open(
            &config.data_dir,
            journal::Options {
                cap_bytes: config.journal_cap_bytes,
                dedup_window: config.dedup_window,
                clock: config.clock.clone(),
            },
        )?;
        let journal = Arc::new(journal);
        let aliases = crate::ingest::aliases::Aliases::load(&config.data_dir)?;
        let alert_rules = Saved::load(&config.data_dir)?;
        let funnel_definitions = funnels::definitions(&config.data_dir)?;
        let insight_definitions = insights::definitions(&config.data_dir)?;
        let layout = Layout::load(&config.data_dir)?;
        let annotations = Arc::new(Annotations::load(&config.data_dir)?);
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
                status.failed(&FlushError::Store(error));
            }
            Err(error) => return Err(error.into()),
        }
        let panels = Arc::new(Panels::new(
            store.clone(),
            status.clone(),
            config.clock.clone(),
        ));
        let funnels = Arc::new(Funnels::new(
            funnel_definitions,
            store.clone(),
            status.clone(),
            config.clock.clone(),
        ));
        let insights = Arc::new(Insights::new(
            insight_definitions,
            store.clone(),
            status.clone(),
            config.clock.clone(),
        ));
        let properties = Arc::new(Properties::new(
            store.clone(),
            status.clone(),
            config.clock.clone(),
        ));
        let retention = Arc::new(Retention::new(
            store.clone(),
            status.clone(),
            config.clock.clone(),
        ));
        let people = Arc::new(People::new(
            store.clone(),
            status.clone(),
            config.clock.clone(),
        ));
        let database = match &config.server {
            Some(server) => server.database.clone(),
            None => config.database.clone(),
        };
        let sql = Arc::new(Sql::new(
            store.clone(),
            database,
            config.sql,
            crate::questions::sql::saved::shelf(&config.data_dir)?,
        ));
        let (shutdown, stop) = watch::channel(false);
        let (alerts, judging) = Alerts::start(
            alert_rules,
            store.clone(),
            Questions {
                funnels: funnels.clone(),
                insights: insights.clone(),
            },
            status.clone(),
            config.clock.clone(),
            &config.alert_channels,
            stop.clone(),
        );
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
            aliases,
            journal,
            store,
            status,
            panels,
            alerts,
            funnels,
            insights,
            layout,
            annotations,
            properties,
            sql,
            retention,
            people,
            live: Arc::default(),
            started: chrono::Utc::now(),
            shutdown,
            tasks: Mutex::new(vec![batcher, judging]),
        }))
    }

    /// The arranged dashboard's tiles whose insight or funnel still exists: one deleted since
    /// leaves the dashboard (its tile comes back if it is defined again).
    pub fn tiles(&self) -> Tiles {
        let mut tiles = self.layout.tiles();
        tiles.tiles.retain(|t| self.exists(t.kind, &t.id));
        tiles
    }

    /// Arranges the dashboard: `body`'s tiles, each naming a panel or a saved insight or funnel.
    pub fn arrange(&self, body: &serde_json::Value) -> Result<Tiles, ShelfError> {
        self.layout.put(body, |kind, id| self.exists(kind, id))
    }

    /// Adds `tile` at the end of the dashboard unless it is on it already.
    pub fn pin(&self, tile: Tile) -> Result<Tiles, ShelfError> {
        let mut tiles = self.tiles();
        if tiles.tiles.contains(&tile) {
            return Ok(tiles);
        }
        tiles.tiles.push(tile);
        self.arrange(&serde_json::json!(tiles))
    }

    fn exists(&self, kind: TileKind, id: &str) -> bool {
        match kind {
            TileKind::Panel => true,
            TileKind::Insight => self.insights.get(id).is_ok(),
            TileKind::Funnel => self.funnels.get(id).is_ok(),
        }
    }

    /// The engine's state now.
    pub fn health(&self) -> Health {
        let state = self.status.snapshot();
        let held = self.journal.held_events();
        // Flush times are the system's (`Status`), whatever the engine's clock says.
        let since_flush = (chrono::Utc::now() - state.last_flush.unwrap_or(self.started))
            .to_std()
            .unwrap_or_default();
        let (status, reason) = Health::condition(&Signs {
            reachable: state.reachable,
            last_error: state.last_error.clone(),
            held,
            max_flush: self.config.flush.max_flush_events,
            since_flush,
        });
        Health {
            status,
            reason,
            buffer_size: held,
            last_flush: state.last_flush,
            spilled: Health::spilled(state.reachable, held),
            store: self.store.kind(),
            profile: self.config.profile.clone(),
            store_reachable: state.reachable,
            unreachable_since: state.unreachable_since,
            last_error: state.last_error,
            needs_action: state.needs_action,
            journal_bytes: self.journal.held_bytes(),
            replay: state.backlog.map(|(sent, total)| Replay { sent, total }),
            flushes: self.status.flush_count(),
            failed_flushes: state.failed_flushes,
            panel_queries: self.panels.queries_run(),
        }
    }

    /// Stops judging alerts and the batcher (after a last flush), then closes the store.
    pub async fn shutdown(&self) {
        let _ = self.shutdown.send(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for task in tasks {
            let _ = task.await;
        }
        self.store.close().await;
    }
}
