//! The window's engine and its HTTP server as one unit that can be restarted on another
//! connection profile.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::cli::EngineArgs;
use crate::engine::{Engine, EngineError};
use crate::ingest::Access;

/// A started engine serving the HTTP API on its address.
pub struct Running {
    pub engine: Arc<Engine>,
    pub bound: SocketAddr,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), EngineError>>,
}

impl Running {
    /// Starts the engine for `args` (its profile) and serves the API on `addr`.
    pub async fn start(
        args: &EngineArgs,
        addr: SocketAddr,
        access: &Access,
    ) -> Result<Self, String> {
        let config = args.config()?;
        let engine = Engine::start(config).await.map_err(|e| e.to_string())?;
        let (bound_tx, bound_rx) = oneshot::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = {
            let (engine, access) = (engine.clone(), access.clone());
            tokio::spawn(async move {
                let ready = |bound| {
                    let _ = bound_tx.send(bound);
                };
                let stopped = async {
                    let _ = stopped.await;
                };
                engine.serve(addr, &access, ready, stopped).await
            })
        };
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
                    Ok(Err(error)) => error.to_string(),
                    _ => format!("the HTTP server on {addr} stopped before listening"),
                })
            }
        }
    }

    /// Stops taking requests, then stops the engine after a last flush to its store; what the
    /// store cannot take stays in the journal for the next start.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.engine.shutdown().await;
    }
}
