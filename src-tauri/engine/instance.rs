//! A running Pulseboard: the engine and its HTTP API on one address — what `serve`, the window
//! and the benchmarks run — and the move of that instance to another connection profile.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::engine::{Engine, EngineConfig, EngineError};
use crate::http::{self, Access, Limits, ServeError};
use crate::storage::profiles::{self, ProfileError};
use crate::storage::store::StoreError;
use crate::support::datadir::{DataDir, DataDirError};

/// Errors starting, switching or stopping an instance.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstanceError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The profile's server did not pass the connection test: nothing was switched.
    #[error("{profile}: {source}")]
    Unreachable { profile: String, source: StoreError },
    #[error("the HTTP server on {0} stopped before listening")]
    NotListening(SocketAddr),
    #[error("{0} is in use: switch to another profile first")]
    InUse(String),
}

/// Where and how an instance serves its API.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub addr: SocketAddr,
    pub access: Access,
    pub limits: Limits,
}

/// The engine serving the API now, and how to stop it.
struct Running {
    engine: Arc<Engine>,
    bound: SocketAddr,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), ServeError>>,
}

impl Running {
    async fn start(config: EngineConfig, endpoint: &Endpoint) -> Result<Self, InstanceError> {
        let Endpoint {
            addr,
            access,
            limits,
        } = endpoint.clone();
        // Before opening anything: a refused bind should not wait for the store.
        access.check(addr.ip()).map_err(ServeError::from)?;
        let engine = Engine::start(config).await?;
        let (bound_tx, bound_rx) = oneshot::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(http::serve(
            engine.clone(),
            addr,
            access,
            limits,
            |bound| {
                let _ = bound_tx.send(bound);
            },
            async move {
                let _ = stopped.await;
            },
        ));
        match bound_rx.await {
            Ok(bound) => Ok(Self {
                engine,
                bound,
                stop,
                server,
            }),
            // The server ended before listening: its error says why (a taken port, a refused
            // bind). Release the store before reporting it.
            Err(_) => {
                engine.shutdown().await;
                Err(match server.await {
                    Ok(Err(error)) => error.into(),
                    _ => InstanceError::NotListening(addr),
                })
            }
        }
    }

    /// Stops taking requests, then stops the engine after a last flush to its store; what the
    /// store cannot take stays in the journal for the next start.
    async fn stop(self) {
        // Live streams never end by themselves: end them, or the server waits for them.
        self.engine.live.close();
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.engine.shutdown().await;
    }
}

/// An engine serving its API, replaceable by one on another profile.
pub struct Instance {
    /// How the engine was started, to start it again on another profile.
    config: EngineConfig,
    /// Where it serves: a switch restarts on the port actually bound, which `--port 0` left
    /// to the OS.
    endpoint: Endpoint,
    bound: SocketAddr,
    /// This process's hold on the data directory, across profile switches.
    _data_dir: DataDir,
    /// The engine serving now, for readers that must not wait behind a switch.
    engine: Mutex<Arc<Engine>>,
    /// One start, switch or stop at a time.
    running: tokio::sync::Mutex<Option<Running>>,
}

impl Instance {
    /// Claims the data directory, starts the engine on `config` and serves its API.
    pub async fn start(config: EngineConfig, endpoint: Endpoint) -> Result<Self, InstanceError> {
        let mut data_dir = DataDir::claim(&config.data_dir)?;
        let running = Running::start(config.clone(), &endpoint).await?;
        data_dir.announce(&format!("listening on http://{}", running.bound));
        Ok(Self {
            config,
            endpoint: Endpoint {
                addr: running.bound,
                ..endpoint
            },
            bound: running.bound,
            _data_dir: data_dir,
            engine: Mutex::new(running.engine.clone()),
            running: tokio::sync::Mutex::new(Some(running)),
        })
    }

    pub fn engine(&self) -> Arc<Engine> {
        self.engine
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The address the API listens on.
    pub fn bound(&self) -> SocketAddr {
        self.bound
    }

    /// `http://<bound address>`, what clients send to.
    pub fn url(&self) -> String {
        format!("http://{}", self.bound)
    }

    /// Makes `name` the active profile and moves the engine to its store. The server is tested
    /// first, so a profile that cannot connect leaves everything as it was; if the new engine
    /// fails to start, the previous profile comes back (active and running). The stopped engine
    /// makes a last flush to its store; what it cannot take, the journal delivers there on a
    /// later start with that profile, before taking events for another.
    pub async fn switch_profile(&self, name: &str) -> Result<(), InstanceError> {
        test_profile(name).await?;
        let mut running = self.running.lock().await;
        let previous = self.engine().config.profile.clone();
        set_active(name).await?;
        if let Some(old) = running.take() {
            old.stop().await;
        }
        let (started, outcome) = match self.start_on(name).await {
            Ok(started) => (started, Ok(())),
            Err(error) => {
                set_active(&previous).await?;
                (self.start_on(&previous).await?, Err(error))
            }
        };
        *self.engine.lock().unwrap_or_else(|p| p.into_inner()) = started.engine.clone();
        *running = Some(started);
        outcome
    }

    async fn start_on(&self, profile: &str) -> Result<Running, InstanceError> {
        let mut config = self.config.clone();
        config
            .use_profile(Some(profile))
            .map_err(EngineError::from)?;
        Running::start(config, &self.endpoint).await
    }

    /// Refuses to delete the profile the engine runs on.
    pub fn check_not_running(&self, profile: &str) -> Result<(), InstanceError> {
        if self.engine().config.profile == profile {
            return Err(InstanceError::InUse(profile.to_string()));
        }
        Ok(())
    }

    /// Stops serving and stops the engine after a last flush.
    pub async fn stop(&self) {
        if let Some(running) = self.running.lock().await.take() {
            running.stop().await;
        }
    }
}

/// Connects to `name`'s server as its profile says; says in words what answered.
pub async fn test_profile(name: &str) -> Result<String, InstanceError> {
    let owned = name.to_string();
    let store = blocking(move || profiles::open()?.store_for(&owned)).await?;
    profiles::test_connection(name, &store, profiles::TEST_TIMEOUT)
        .await
        .map_err(|source| InstanceError::Unreachable {
            profile: name.to_string(),
            source,
        })
}

async fn set_active(name: &str) -> Result<(), ProfileError> {
    let name = name.to_string();
    blocking(move || profiles::open()?.set_active(&name)).await
}

/// Keychain calls (D-Bus round trips) and file writes block: keep them off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ProfileError> + Send + 'static,
) -> Result<T, ProfileError> {
    tokio::task::spawn_blocking(f)
        .await
        .expect("a profiles call panicked")
}
